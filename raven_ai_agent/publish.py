"""Publish through Frappe, and know whether the event reached Redis.

`frappe.publish_realtime` swallows Redis connection errors, so a dead Redis loses events
without a trace. A publish is followed by a reachability check of the same Redis, cached
for a second so that a busy publisher pays for one PING per second, not one per event.
"""

import time

import frappe
import redis

from raven_ai_agent.error_log import log_error_rate_limited
from raven_ai_agent.realtime.constants import KEY_REDIS_QUEUE, KEY_REDIS_SOCKETIO

HEALTH_TTL_SECONDS = 1.0
REDIS_TIMEOUT_SECONDS = 0.5
LOST_TITLE = "Raven realtime: event not delivered to Redis"

_clients: dict[str, redis.Redis] = {}
_health: dict[str, tuple[float, bool]] = {}


def realtime_redis_url() -> str | None:
	"""The Redis Frappe publishes realtime events on (v15+: redis_queue; v14: redis_socketio)."""
	return frappe.conf.get(KEY_REDIS_QUEUE) or frappe.conf.get(KEY_REDIS_SOCKETIO)


def redis_reachable(url: str | None, now: float | None = None) -> bool:
	"""PING `url` at most once per HEALTH_TTL_SECONDS; a bounded, never-raising check."""
	if not url:
		return False
	now = time.monotonic() if now is None else now
	cached = _health.get(url)
	if cached and now - cached[0] < HEALTH_TTL_SECONDS:
		return cached[1]
	try:
		client = _clients.get(url)
		if client is None:
			client = _clients[url] = redis.Redis.from_url(
				url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
			)
		ok = bool(client.ping())
	except (redis.RedisError, OSError, ValueError):
		ok = False
	_health[url] = (now, ok)
	return ok


def publish(event: str, message: dict, *, after_commit: bool, **target) -> bool:
	"""`frappe.publish_realtime(event, message, after_commit=..., **target)`, plus the truth.

	Returns whether the event was handed to Redis (with after_commit: whether it is queued
	for the commit; the check then runs at commit time). A loss is logged, rate-limited,
	with a pointer to the diagnosis.
	"""
	frappe.publish_realtime(event, message, after_commit=after_commit, **target)
	if after_commit:
		frappe.db.after_commit.add(_check_after_commit)
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
	_check("after commit")
