"""The history the settings form charts: scheduled checks and field data, by hour (System Manager)."""

import frappe
from frappe import _
from frappe.utils import now_datetime

from raven_ai_agent.api.field import read_buckets
from raven_ai_agent.api.realtime import _require_system_manager
from raven_ai_agent.config import field_reports_enabled
from raven_ai_agent.monitor import CHECK_DOCTYPE
from raven_ai_agent.realtime.history import RANGES, history, hour_starts


@frappe.whitelist(methods=["GET"])
def get_realtime_history(period: str = "24h") -> dict:
	"""Hourly series for the last 24 hours ("24h") or 7 days ("7d"): one query, one Redis round
	trip for the counters (plus the cached settings: are field reports collected at all?)."""
	_require_system_manager()
	if period not in RANGES:
		frappe.throw(_("Period must be one of: {0}").format(", ".join(RANGES)))
	end = now_datetime()
	starts = hour_starts(end, RANGES[period])
	rows = frappe.get_all(
		CHECK_DOCTYPE,
		filters={"checked_on": (">=", starts[0])},
		fields=["checked_on", "ok", "total_ms"],
		order_by="checked_on asc",
	)
	buckets = [raw for _key, raw in read_buckets(len(starts), end)]
	# the field charts say "not collected" rather than "no reports" when browsers were told not to
	return {"period": period, "field_reports": field_reports_enabled(), **history(rows, buckets, starts)}
