"""Field data: browsers report what their sockets did; the server counts it per hour in Redis.

Only when a System Manager has turned Collect Field Reports from Browsers on (off by default):
desk pages then send reports (the boot says so), and this endpoint refuses them otherwise.
One report costs one Redis round trip of ours (a pipeline: HINCRBY per counter and EXPIRE),
on top of Frappe's rate limiter; no database row, no address, no user agent. What a report may
say is decided in `raven_ai_agent.realtime.field_reports`.
"""

import time

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit
from frappe.utils import now_datetime

from raven_ai_agent.realtime.field_reports import (
	BUCKET_TTL_SECONDS,
	ReportRefused,
	bucket_key,
	bucket_keys,
	summarize,
	validate_report,
)

# Per client address: a desk page sends a handful of reports per page load and one per socket
# event after that; 120 a minute leaves room for a busy office behind one NAT, and stops a
# flood (a script, a reconnect loop) within a minute.
REPORTS_PER_WINDOW = 120
WINDOW_SECONDS = 60

# "On" is remembered per site for this long in each worker process, so that a report costs no
# settings read (3 round trips: the limiter's 2 and our pipeline); "off" is never remembered, so
# turning reports on takes effect at once, and turning them off within this many seconds here
# (browsers stop at their next page load; saving the settings forgets it in the saving process).
ENABLED_MEMO_SECONDS = 10
_enabled_until: dict[str, float] = {}


def reports_enabled() -> bool:
	"""Whether the settings let browsers report, read at most once per ENABLED_MEMO_SECONDS while on."""
	from raven_ai_agent.config import field_reports_enabled

	site = frappe.local.site
	now = time.monotonic()
	if _enabled_until.get(site, 0.0) > now:
		return True
	if not field_reports_enabled():
		_enabled_until.pop(site, None)
		return False
	_enabled_until[site] = now + ENABLED_MEMO_SECONDS
	return True


def forget_enabled() -> None:
	"""Re-read the setting at the next report (the settings were saved)."""
	_enabled_until.pop(frappe.local.site, None)


@frappe.whitelist(methods=["POST"])
@rate_limit(limit=REPORTS_PER_WINDOW, seconds=WINDOW_SECONDS)
def report_connection(
	socket: str | None = None,
	event: str | None = None,
	transport: str | None = None,
	reason: str | None = None,
	error: str | None = None,
	browser: str | None = None,
	connected: str | None = None,
) -> None:
	"""Count one socket event of a logged-in user's page. Refused reports count nothing."""
	if frappe.session.user == "Guest":
		frappe.throw(_("Log in to report realtime connections."), frappe.PermissionError)
	if not reports_enabled():
		frappe.throw(
			_("Field reports are off on this site (Raven Realtime Settings)."), frappe.PermissionError
		)
	values = {
		"socket": socket,
		"event": event,
		"transport": transport,
		"reason": reason,
		"error": error,
		"browser": browser,
		"connected": connected,
	}
	try:
		report = validate_report(values)
	except ReportRefused as e:
		frappe.throw(_("Not a realtime report: {0}").format(str(e)))
	key = frappe.cache.make_key(bucket_key(now_datetime()))
	pipe = frappe.cache.pipeline()
	for name in report.counters():
		pipe.hincrby(key, name, 1)
	pipe.expire(key, BUCKET_TTL_SECONDS)
	pipe.execute()


def read_buckets(hours: int, end=None) -> list[tuple[str, dict]]:
	"""(bucket key, raw counters) of the last `hours` hours, oldest first: one round trip."""
	keys = bucket_keys(end or now_datetime(), hours)
	pipe = frappe.cache.pipeline()
	for key in keys:
		pipe.hgetall(frappe.cache.make_key(key))
	return list(zip(keys, pipe.execute(), strict=True))


def field_summary(hours: int = 1) -> dict:
	"""What browsers reported in the last `hours` hours (this hour included)."""
	return summarize(raw for _key, raw in read_buckets(hours))
