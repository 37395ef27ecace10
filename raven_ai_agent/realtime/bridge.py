"""The Redis side of the realtime path: Frappe's workers publish, the realtime service relays.

frappe.publish_realtime PUBLISHes JSON on Redis' `events` channel and the realtime service
SUBSCRIBEs to it; PUBLISH answers how many subscribers got the message, so one call tells
"Redis down" from "nobody listens". Here: that bounded PUBLISH, Frappe's event JSON, and the
Redis URL without its password for output. No frappe import.
"""

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from raven_ai_agent.realtime.probe import NETWORK, Deadline, classify_error


@dataclass
class RedisPublish:
	"""A PUBLISH: how many subscribers got it, or why it could not be sent."""

	subscribers: int | None = None
	error: str | None = None
	error_text: str = ""
	elapsed_ms: float = 0.0


def redis_publish(
	redis_url: str, channel: str, message: str, deadline: Deadline, timeout: float
) -> RedisPublish:
	"""PUBLISH once, no retries, within the deadline; the reply counts the listening subscribers."""
	outcome = RedisPublish()
	reply, outcome.error, outcome.error_text, outcome.elapsed_ms = _bounded(
		redis_url, deadline, timeout, lambda client: client.publish(channel, message)
	)
	if outcome.error is None:
		outcome.subscribers = int(reply)
	return outcome


def _bounded(
	redis_url: str, deadline: Deadline, timeout: float, command
) -> tuple[object, str | None, str, float]:
	"""One Redis command, no retries, cut at the deadline: (reply, error kind, error text, ms)."""
	start = time.monotonic()
	client = None
	reply, error, error_text = None, None, ""

	def cut() -> None:
		if client is None:
			return
		try:
			client.connection_pool.disconnect()
		except (redis.exceptions.RedisError, OSError):
			pass  # already gone: the probe's reader wakes either way, its verdict is not awaited

	try:
		with deadline.cutting(cut):
			budget = deadline.budget(timeout)
			client = redis.Redis.from_url(
				redis_url,
				socket_timeout=budget,
				socket_connect_timeout=budget,
				retry=Retry(NoBackoff(), 0),
				retry_on_timeout=False,
			)
			reply = command(client)
	except (redis.RedisError, OSError, ValueError) as e:  # ValueError: a malformed Redis URL
		error, error_text = classify_error(e)
		if error == NETWORK:
			error_text = f"{type(e).__name__}: {e}"
	finally:
		if client is not None:
			client.close()
	return reply, error, error_text, (time.monotonic() - start) * 1000


def frappe_event(event: str, message: object, site_name: str, room: str | None) -> str:
	"""The JSON `frappe.publish_realtime` puts on the `events` channel."""
	return json.dumps({"event": event, "message": message, "namespace": site_name, "room": room})


def safe_redis_url(url: str) -> str:
	"""The Redis URL without its password, for output."""
	try:
		parts = urlsplit(url)
		if parts.password is None:
			return url
		netloc = parts.hostname or ""
		if parts.port:
			netloc += f":{parts.port}"
		user = f"{parts.username}:***@" if parts.username else ":***@"
		return urlunsplit((parts.scheme, user + netloc, parts.path, parts.query, parts.fragment))
	except ValueError:
		return "(unparsable Redis URL)"
