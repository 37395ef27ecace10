"""Realtime endpoints: where to connect (any logged-in user) and the diagnosis (System Manager)."""

import json

import frappe
from frappe import _
from frappe.utils import now_datetime

from raven_ai_agent.config import SETTINGS_DOCTYPE, diagnose_realtime, get_config, get_frontend_context
from raven_ai_agent.publish import publish
from raven_ai_agent.realtime.checks.delivery import PROBE_EVENT
from raven_ai_agent.realtime.constants import user_room
from raven_ai_agent.realtime.validate import check_probe_token

SYSTEM_MANAGER = "System Manager"
NOT_SENT = None


def _require_system_manager() -> None:
	"""Checked by role, not `frappe.only_for`, which returns early under tests."""
	if frappe.session.user == "Guest" or SYSTEM_MANAGER not in frappe.get_roles():
		frappe.throw(_("Only a System Manager can do this."), frappe.PermissionError)


@frappe.whitelist()
def get_raven_realtime_context() -> dict:
	"""The boot context again, for pages that were built without it. Nothing internal."""
	if frappe.session.user == "Guest":
		frappe.throw(_("Log in to connect to realtime updates."), frappe.PermissionError)
	return get_frontend_context()


@frappe.whitelist(allow_guest=True, methods=["GET"])
def get_site_name() -> str:
	"""Which site answered: the diagnosis asks it to find a web server that answers every Host
	as one site (`bench serve` pinned to the default site), which would check another site's
	sessions. The site name is what a browser's address already shows."""
	return frappe.local.site


@frappe.whitelist()
def get_effective_config() -> dict:
	"""Every resolved value with its source, and the warnings, for the settings form."""
	_require_system_manager()
	return get_config().as_dict()


@frappe.whitelist(methods=["POST"])
def run_diagnosis(boot_context: str | None = None) -> dict:
	"""Diagnose with the caller's own session (end to end), store the result, return it.

	`boot_context` is the caller's page's `frappe.boot.raven_realtime` (JSON), compared with
	what the site resolves now. POST only: Frappe rolls back GET requests, and this stores the
	result. The session id is used for the probe and never stored.
	"""
	_require_system_manager()
	result = diagnose_realtime(
		sid=frappe.session.sid,
		user=frappe.session.user,
		user_type=frappe.session.data.get("user_type"),
		handed_context=_page_context(boot_context),
	)
	settings = frappe.get_single(SETTINGS_DOCTYPE)
	settings.db_set(
		{
			"last_diagnosis": json.dumps(result, indent=1, sort_keys=True, default=str),
			"last_diagnosis_on": now_datetime(),
			"last_diagnosis_hint": result.get("hint") or _("All checks passed."),
		},
		update_modified=False,
	)
	return result


@frappe.whitelist(methods=["POST"])
def send_probe_event(token: str) -> dict:
	"""Publish the diagnosis' probe event, carrying `token`, to the caller's own user room: the
	tab's probe (raven_realtime.probe with `delivery`) says whether its socket hears this site.
	A socket on another bench's realtime service connects fine and never hears it."""
	_require_system_manager()
	try:
		token = check_probe_token(token)
	except ValueError as e:
		frappe.throw(_("send_probe_event: {0}").format(str(e)), frappe.ValidationError)
	room = user_room(frappe.session.user)
	message = {"token": token, "room": room, "probe": "raven_ai_agent tab"}
	return {"published": publish(PROBE_EVENT, message, room=room, after_commit=False), "room": room}


def _page_context(boot_context: str | None) -> object:
	"""The page's context as sent: None when not sent at all; False when the page had none (it
	sent `null`, or something unreadable), which the diagnosis reports as a missing context."""
	if boot_context in (None, ""):
		return NOT_SENT
	try:
		value = json.loads(boot_context)
	except ValueError:
		return False
	return value if isinstance(value, dict) else False
