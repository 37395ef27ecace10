"""Publish through Frappe, and know whether the event reached Redis.

`frappe.publish_realtime` swallows Redis connection errors, so a dead Redis loses events
without a trace. After a publish we check the same Redis: a PING at most once a second, and
in between a zero-wait poll of our idle connection to it, which turns readable the moment
Redis closes it (stopped, restarted, killed). A busy publisher pays about a microsecond per
event instead of a round trip, and still learns of a dead Redis at the next event.
"""

import os
import select
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
	"""One idle connection to a Redis URL: PINGed at most every HEALTH_TTL_SECONDS, polled in between."""

	__slots__ = ("checked_at", "conn", "ok", "poller")

	def __init__(self, url: str):
		self.conn = redis.ConnectionPool.from_url(
			url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
		).make_connection()
		self.poller = None
		self.checked_at = float("-inf")
		self.ok = False

	def reachable(self, now: float) -> bool:
		# Nothing is ever pending on an idle PING connection: readable means Redis closed it
		# (down, or restarted: then the PING below reconnects instead of failing on a dead socket).
		if self.poller is not None and self.poller.poll(0):
			self.conn.disconnect()
			self.poller = None
			self.checked_at = float("-inf")
		if now - self.checked_at >= HEALTH_TTL_SECONDS:
			self.ok = self._ping()
			self.checked_at = now
		return self.ok

	def _ping(self) -> bool:
		self.poller = None
		try:
			self.conn.send_command("PING")
			self.conn.read_response()
		except (redis.RedisError, OSError, ValueError):
			self.conn.disconnect()
			return False
		# redis-py has kept its socket in `_sock` since 2.x; without it we rely on the PING alone.
		sock = getattr(self.conn, "_sock", None)
		if sock is not None:
			self.poller = select.poll()
			self.poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
		return True


_probes: dict[str, _RedisProbe] = {}
# A forked worker must not share the parent's sockets: it opens its own on first use.
os.register_at_fork(after_in_child=_probes.clear)


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
			probe = _probes[url] = _RedisProbe(url)
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
