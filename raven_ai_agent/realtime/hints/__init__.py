"""Every operator-facing sentence of the diagnosis: what a finding means, and what to change.

The checks (checks/) state facts in each check's `detail`; the `hint` (one sentence naming
the cause and the fix) comes from this package, so all advice can be read and reworded in
one place: route.py (the realtime port, the public URL, the WebSocket upgrade), field.py (what
browsers reported), session.py
(the namespace, the session, Redis and delivery), and here what any check may need. Plain
functions of plain values: the config, a probe's outcome (its kind, detail, status, ...),
the timeout. No I/O, no frappe import.
"""

from raven_ai_agent.realtime.hints.field import field_no_cookie_hint, field_transport_close_hint
from raven_ai_agent.realtime.hints.route import (
	SOCKETIO_REQUIREMENT,
	external_hint,
	is_other_version,
	local_hint,
	local_upgrade_hint,
	redirect_hint,
	upgrade_hint,
)
from raven_ai_agent.realtime.hints.session import (
	CONNECT_NAMESPACE,
	CONNECT_NO_AUTH,
	CONNECT_ORIGIN,
	CONNECT_OTHER,
	CONNECT_UNAUTHORIZED,
	FOREIGN_SERVICE,
	GUEST_SESSION_HINT,
	NO_RESULT_HINT,
	PUBLISH_FAILED_HINT,
	classify_connect_error,
	connect_hint,
	connect_reply_hint,
	cookie_dropped_hint,
	doc_subscribe_hint,
	fixed_site_header_hint,
	foreign_service_hint,
	foreign_session_hint,
	guest_socket_hint,
	is_certificate_error,
	missing_origin_hint,
	publish_raised_hint,
	realtime_and_redis_down_hint,
	redis_unheard_hint,
	redis_unreachable_hint,
	sticky_hint,
	undelivered_hint,
	unknown_user_hint,
	websocket_first_hint,
	wrong_site_hint,
)

__all__ = [
	"field_no_cookie_hint",
	"field_transport_close_hint",
	"BOOT_MISSING_HINT",
	"stale_boot_hint",
	"CONNECT_NAMESPACE",
	"CONNECT_NO_AUTH",
	"CONNECT_ORIGIN",
	"CONNECT_OTHER",
	"CONNECT_UNAUTHORIZED",
	"GUEST_SESSION_HINT",
	"NO_RESULT_HINT",
	"PUBLISH_FAILED_HINT",
	"SOCKETIO_REQUIREMENT",
	"classify_connect_error",
	"config_hint",
	"connect_hint",
	"connect_reply_hint",
	"cookie_dropped_hint",
	"doc_subscribe_hint",
	"fixed_site_header_hint",
	"FOREIGN_SERVICE",
	"foreign_service_hint",
	"foreign_session_hint",
	"guest_socket_hint",
	"is_certificate_error",
	"wrong_site_hint",
	"crashed_hint",
	"external_hint",
	"is_other_version",
	"local_hint",
	"local_upgrade_hint",
	"missing_origin_hint",
	"publish_raised_hint",
	"redirect_hint",
	"redis_unheard_hint",
	"realtime_and_redis_down_hint",
	"redis_unreachable_hint",
	"sticky_hint",
	"undelivered_hint",
	"unfinished_hint",
	"unknown_user_hint",
	"upgrade_hint",
	"websocket_first_hint",
]


# ---- any check -------------------------------------------------------------------------------


BOOT_MISSING_HINT = (
	"The page has no frappe.boot.raven_realtime: the boot hook failed (see the Error Log, title "
	"'Raven realtime: boot context failed') or the app is not installed on this site."
)


def stale_boot_hint(site_name: str) -> str:
	"""The page runs on a context the site no longer resolves."""
	return (
		"This page was loaded before the realtime config changed: reload it (the context is rebuilt on "
		"every page load). If a reload keeps the old context, something caches it in the boot: run "
		f"`bench --site {site_name} clear-cache`."
	)


def config_hint(problem: str) -> str:
	return f"Fix the config: {problem}."


def crashed_hint(name: str, error: str) -> str:
	return f"The {name} check crashed ({error}); report it with this output."


def unfinished_hint(name: str, timeout: float) -> str:
	"""A check that had no verdict when the diagnosis' time was up."""
	return (
		f"The {name} check got no answer within {timeout:g} s: something on its path accepts "
		"connections but never answers (a hung proxy, a DNS server that does not reply); "
		"see its detail and retry with a longer --timeout."
	)
