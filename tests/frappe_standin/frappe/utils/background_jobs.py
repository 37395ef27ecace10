"""The Redis queue connection of frappe/utils/background_jobs.py (v15), used by realtime."""

from __future__ import annotations

import redis

import frappe

_redis_queue_conn = None


def get_redis_connection_without_auth():
	"""Process-wide connection to `conf.redis_queue`, made (and PINGed) on first use and kept;
	a failed PING raises redis ConnectionError and nothing is kept, so the next call retries."""
	global _redis_queue_conn
	if not _redis_queue_conn:
		_redis_queue_conn = RedisQueue.get_connection()
	return _redis_queue_conn


class RedisQueue:
	@classmethod
	def get_connection(cls, username=None, password=None):
		"""v15.41 frappe/utils/redis_queue.py: reads `frappe.conf` (so a thread without a site
		fails here with RuntimeError 'object is not bound', as on a real bench)."""
		if frappe.conf.redis_queue_sentinel_enabled:
			raise NotImplementedError("frappe stand-in: Redis Sentinel is not modelled")
		conn = redis.from_url(frappe.conf.redis_queue, username=username, password=password)
		conn.ping()
		return conn


def _reset_connection() -> None:
	"""Stand-in control: forget the cached connection (a new worker process)."""
	global _redis_queue_conn
	if _redis_queue_conn is not None:
		try:
			_redis_queue_conn.close()
		except Exception:
			pass
	_redis_queue_conn = None
