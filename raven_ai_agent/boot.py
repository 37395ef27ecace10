"""Boot hook: tells the frontend where to connect, without a port baked in at build time.

Registered as `extend_bootinfo`, which Frappe runs on every page load after the per-user boot
cache (`boot_session` output is cached until a clear-cache): a changed host_name, port or
setting reaches the next page load, never a stale context.
"""

import frappe

from raven_ai_agent.config import field_reports_enabled, get_frontend_context
from raven_ai_agent.error_log import log_error_rate_limited

BOOT_KEY = "raven_realtime"
# 1 when Raven Realtime Settings lets browsers send field reports; raven_realtime_desk.js sends
# nothing (and opens nothing) unless it is 1. Read on every page load: no cache clear needed.
FIELD_REPORTS_KEY = "raven_realtime_field_reports"


def extend_bootinfo(bootinfo) -> None:
	"""Put the realtime context under `frappe.boot.raven_realtime`, and whether this page may
	send field reports under `frappe.boot.raven_realtime_field_reports`, on every page load.

	Costs one cached-document read (and a memoised resolution) and no network call. Must never
	break login: any failure is logged (rate-limited); the context is then left out, so the
	frontend falls back to the REST endpoint or its defaults, and field reports count as off.
	"""
	try:
		bootinfo[BOOT_KEY] = get_frontend_context()
	except Exception:  # noqa: BLE001 - the boot hook must never break login
		bootinfo.pop(BOOT_KEY, None)
		_log_failure("Raven realtime: boot context failed")
	try:
		bootinfo[FIELD_REPORTS_KEY] = 1 if field_reports_enabled() else 0
	except Exception:  # noqa: BLE001 - nor may the field-report flag
		bootinfo[FIELD_REPORTS_KEY] = 0
		_log_failure("Raven realtime: field-report setting unreadable")


def _log_failure(title: str) -> None:
	try:
		log_error_rate_limited(title, frappe.get_traceback())
	except Exception:  # noqa: BLE001 - nor may logging that it failed
		pass
