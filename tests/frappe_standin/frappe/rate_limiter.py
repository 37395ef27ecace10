"""`frappe.rate_limiter.rate_limit` (v15): a per-endpoint request counter in the Redis cache.

Behaviour held to v15: applies only inside a request (and only to `methods` unless "ALL");
identity = the client IP (`ip_based`, default), or `<ip>:<form_dict[key]>` with a key; cache key
`rl:<cmd>:<identity>` (made site-specific); GET the counter, SETEX it to 0 for `seconds` when
missing, INCRBY 1, and past `limit` throw RateLimitExceededError (HTTP 429) before the endpoint
runs. A refused request still counts.
"""

from collections.abc import Callable
from functools import wraps

import frappe
from frappe import _


def rate_limit(
	key: str | None = None,
	limit: int | Callable = 5,
	seconds: int = 24 * 60 * 60,
	methods: str | list = "ALL",
	ip_based: bool = True,
):
	def ratelimit_decorator(fn):
		@wraps(fn)
		def wrapper(*args, **kwargs):
			if not frappe.request or (
				methods != "ALL" and frappe.request.method and frappe.request.method.upper() not in methods
			):
				return fn(*args, **kwargs)
			allowed = limit() if callable(limit) else limit
			ip = frappe.local.request_ip if ip_based is True else None
			user_key = frappe.form_dict.get(key, "")
			identity = ":".join([ip, user_key]) if key and ip_based else None
			identity = identity or ip or user_key
			if not identity:
				frappe.throw(_("Either key or IP flag is required."))
			cache_key = frappe.cache.make_key(f"rl:{frappe.form_dict.cmd}:{identity}")
			if not (frappe.cache.get(cache_key) or 0):
				frappe.cache.setex(cache_key, seconds, 0)
			if frappe.cache.incrby(cache_key, 1) > allowed:
				frappe.throw(
					_("You hit the rate limit because of too many requests. Please try after sometime."),
					frappe.RateLimitExceededError,
				)
			return fn(*args, **kwargs)

		return wrapper

	return ratelimit_decorator
