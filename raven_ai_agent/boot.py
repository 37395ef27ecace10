"""Boot hook: tells the Raven frontend where to connect, without a port baked in at build time."""

import frappe

from raven_ai_agent.config import get_frontend_context
from raven_ai_agent.error_log import log_error_rate_limited

BOOT_KEY = "raven_realtime"


def boot_session(bootinfo) -> None:
	"""Put the realtime context under `frappe.boot.raven_realtime`.

	Frappe caches the boot per user; the settings controller drops that cache on save.
	Costs one cached-document read and no network call. Must never break login: any
	failure is logged (rate-limited) and the key is left out, so the frontend falls back
	to the REST endpoint or its defaults.
	"""
	try:
		bootinfo[BOOT_KEY] = get_frontend_context()
	except Exception:  # noqa: BLE001 - the boot hook must never break login
		bootinfo.pop(BOOT_KEY, None)
		try:
			log_error_rate_limited("Raven realtime: boot context failed", frappe.get_traceback())
		except Exception:  # noqa: BLE001 - nor may logging that it failed
			pass
