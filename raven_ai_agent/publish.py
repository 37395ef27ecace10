"""Publish through Frappe, and know whether the event reached Redis.

`frappe.publish_realtime` swallows Redis connection errors, so a dead Redis loses events
without a trace. After a publish we ask the same Redis, at most once per HEALTH_TTL_SECONDS,
with a PING over a connection of our own (redis-py's public Connection API); in between the
last answer stands. A busy publisher pays a clock read per event (a PING costs a round trip:
on a real bench, as much as the publish itself), and a dead Redis is noticed at the first
event after the interval, then logged.

A PING on a connection the previous Redis closed (a restart) fails without saying anything
about the Redis now listening: the probe reconnects and asks once more before it reports.
One probe per Redis URL is shared by the threads of a worker (gthread workers publish from
several at once); a lock keeps its connection to one thread at a time.
"""

import os
import threading
import time

import frappe
import redis

from raven_ai_agent.error_log import log_error_rate_limited
from raven_ai_agent.realtime.constants import KEY_REDIS_QUEUE, KEY_REDIS_SOCKETIO

HEALTH_TTL_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 0.5
LOST_TITLE = "Raven realtime: event not delivered to Redis"
_CHECK_PENDING = "raven_ai_agent_publish_check_pending"  # frappe.local flag: one check per commit


class _RedisProbe:
	"""One connection to a Redis URL, PINGed at most every HEALTH_TTL_SECONDS."""

	__slots__ = ("checked_at", "conn", "lock", "ok")

	def __init__(self, url: str):
		self.conn = redis.ConnectionPool.from_url(
			url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
		).make_connection()
		self.checked_at = float("-inf")
		self.ok = False
		self.lock = threading.Lock()

	def reachable(self, now: float) -> bool:
		if now - self.checked_at < HEALTH_TTL_SECONDS:
			return self.ok  # the hot path: no lock, no I/O
		with self.lock:
			if now - self.checked_at >= HEALTH_TTL_SECONDS:  # another thread may have just asked
				self.ok = self._ping() or self._ping()  # the second on a fresh connection
				self.checked_at = now
			return self.ok

	def _ping(self) -> bool:
		try:
			self.conn.send_command("PING")
			self.conn.read_response()
		except (redis.RedisError, OSError, ValueError):
			self.conn.disconnect()  # the next PING opens a new connection
			return False
		return True


_probes: dict[str, _RedisProbe] = {}
_probes_lock = threading.Lock()


def _forget_probes_after_fork() -> None:
	"""A forked worker must not share the parent's sockets (nor a lock a parent thread held)."""
	global _probes_lock
	_probes.clear()
	_probes_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_probes_after_fork)


def realtime_redis_url() -> str | None:
	"""The Redis Frappe publishes realtime events on (v15+: redis_queue; v14: redis_socketio)."""
	conf = frappe.local.conf
	return conf.get(KEY_REDIS_QUEUE) or conf.get(KEY_REDIS_SOCKETIO)


def redis_reachable(url: str | None, now: float | None = None) -> bool:
	"""Whether `url` answers, checked as described above; bounded and never raising."""
	if not url:
		return False
	probe = _probes.get(url)
	if probe is None:
		try:
			with _probes_lock:
				probe = _probes.get(url) or _probes.setdefault(url, _RedisProbe(url))
		except (redis.RedisError, ValueError):
			return False
	return probe.reachable(time.monotonic() if now is None else now)


def publish(event: str, message: dict, *, after_commit: bool, **target) -> bool:
	"""`frappe.publish_realtime(event, message, after_commit=..., **target)`, plus the truth.

	Returns whether the event was handed to Redis (with after_commit: whether it is queued
	for the commit; the check then runs once at commit time). A loss is logged,
	rate-limited, with a pointer to the diagnosis.
	"""
	frappe.publish_realtime(event, message, after_commit=after_commit, **target)
	if after_commit:
		local = frappe.local
		if not getattr(local, _CHECK_PENDING, False):
			setattr(local, _CHECK_PENDING, True)
			frappe.db.after_commit.add(_check_after_commit)
			frappe.db.after_rollback.add(_forget_check)
		return True
	return _check(event)


def _check(event: str) -> bool:
	url = realtime_redis_url()
	if redis_reachable(url):
		return True
	log_error_rate_limited(
		LOST_TITLE,
		f"Event {event!r} was not delivered: the realtime Redis "
		f"({'not configured' if not url else 'unreachable'}) did not answer. Frappe drops such events "
		"silently. Run the diagnosis in Raven Realtime Settings (or `bench --site <site> raven-realtime "
		"diagnose`) to see why.",
	)
	return False


def _check_after_commit() -> None:
	_forget_check()
	_check("after commit")


def _forget_check() -> None:
	setattr(frappe.local, _CHECK_PENDING, False)
