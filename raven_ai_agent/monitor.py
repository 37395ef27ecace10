"""Scheduled realtime checks (the Frappe shell): run the diagnosis, keep a row, alert on change.

The cron hook ticks every 5 minutes; `raven_ai_agent.realtime.monitoring` decides whether a check
is due (Off costs one cached read), `raven_ai_agent.realtime.alerting` whether the result is news.
A check runs with nobody's session: delivery is checked as Guest in the `website` room, which
every socket of the site joins, so nothing is created that could outlive the check.
"""

import importlib
import secrets
import time
from datetime import datetime

import frappe
from frappe import _
from frappe.utils import get_datetime, get_url_to_form, now_datetime

from raven_ai_agent.api.field import field_summary
from raven_ai_agent.config import SETTINGS_DOCTYPE, diagnose_realtime
from raven_ai_agent.realtime.alerting import FAILING, RECOVERED, decide
from raven_ai_agent.realtime.field_reports import field_hint
from raven_ai_agent.realtime.monitoring import check_row, failed_run_row, is_due, lock_seconds

CHECK_DOCTYPE = "Raven Realtime Check"
SYSTEM_MANAGER = "System Manager"
LOCK_KEY = "raven_realtime_check_lock"
FIELD_HOURS = 2  # the current clock hour and the one before: at least the last full hour


def run_scheduled_check() -> None:
	"""Scheduler entry (cron): one check when it is due. Never raises into the scheduler: a
	failure is an Error Log entry, and the next tick tries again."""
	try:
		settings = frappe.get_cached_doc(SETTINGS_DOCTYPE)
		if not is_due(settings.get("check_interval"), _when(settings.get("last_check_on")), now_datetime()):
			return
		from frappe.utils.scheduler import is_scheduler_inactive

		if is_scheduler_inactive(verbose=False):
			return  # enqueued by hand on a site whose scheduler is off: not ours to run
		run_check()
	except Exception:  # noqa: BLE001 - the scheduler must never see it: logged, next tick retries
		frappe.log_error(title=_("Raven realtime: the scheduled check failed"))


def run_check() -> dict | None:
	"""One check now, unless another one is running (the lock): its row as a dict, or None.

	The lock expires by itself (monitoring.lock_seconds) if the worker dies holding it; a check
	that raises (RQ's job timeout, a crash) still leaves a failing row and frees the lock.
	"""
	settings = frappe.get_single(SETTINGS_DOCTYPE)
	token = _acquire_lock(lock_seconds(settings.probe_timeout))
	if token is None:
		return None
	try:
		started = time.monotonic()
		try:
			# With the client paths: the worker is not the web process, so the desk's dev_server
			# comes from the site's own page (config.client_paths), as browsers get it.
			report = diagnose_realtime(site_wide=True, timeout=settings.probe_timeout)
			row = check_row(report)
		except Exception as e:  # noqa: BLE001 - a job timeout or crash becomes a failing row
			frappe.log_error(title=_("Raven realtime: the scheduled check raised"))
			row = failed_run_row(e, (time.monotonic() - started) * 1000)
		row.update(_field_data(row.get("hint")))
		now = now_datetime()
		decision = decide(settings.alert_state, bool(row["ok"]), _when(settings.failure_alert_on), now)
		doc = _insert_row(row, now, decision.alert)
		settings.db_set(
			{
				"last_check_on": now,
				"alert_state": decision.state,
				"failure_alert_on": decision.failure_alert_on,
			},
			update_modified=False,
		)
		if decision.alert:
			notify_system_managers(decision.alert, doc, bool(settings.alert_by_email))
		frappe.db.commit()  # the row and the state are kept even if the job fails after this
		return doc.as_dict()
	finally:
		_release_lock(token)


def _field_data(hint: str | None) -> dict:
	"""What browsers reported this hour and the one before, and the row's hint with what that
	shows (periodic "transport close", sockets without the session cookie) added."""
	try:
		summary = field_summary(FIELD_HOURS)
	except Exception:  # noqa: BLE001 - field data is an addition: the check's own row still counts
		frappe.log_error(title=_("Raven realtime: reading field data failed"))
		return {}
	note = field_hint(summary)
	return {
		"field_summary": frappe.as_json(summary),
		"hint": " ".join(h for h in (hint, note) if h) or None,
	}


def _when(value) -> datetime | None:
	"""A Single's Datetime as a datetime: Singles hand their values back as text."""
	return get_datetime(value) if value else None


def _insert_row(row: dict, now, alert: str | None):
	return frappe.get_doc(
		{
			"doctype": CHECK_DOCTYPE,
			"checked_on": now,
			"alert": alert,
			"frappe_version": frappe.__version__,
			"raven_version": app_version("raven"),
			**row,
			"check_ms": frappe.as_json(row["check_ms"]),
		}
	).insert(ignore_permissions=True)


def app_version(app: str) -> str:
	"""An installed app's `__version__` ("" when the app is not installed on this site)."""
	if app not in frappe.get_installed_apps():
		return ""
	return getattr(importlib.import_module(app), "__version__", "")


def system_managers() -> list[str]:
	"""Every enabled System Manager; Administrator too (Frappe's helper leaves it out, and on
	many sites it is the only one)."""
	from frappe.utils.user import get_users_with_role

	return ["Administrator", *sorted(set(get_users_with_role(SYSTEM_MANAGER)) - {"Administrator"})]


def notify_system_managers(alert: str, check, by_email: bool = False) -> None:
	"""A Notification Log (the desk's bell) for each System Manager, linking to the settings
	form; and an email when the settings ask for one."""
	if alert == FAILING:
		subject = _("Realtime is failing: {0}").format(check.failing_check or _("unknown check"))
	elif alert == RECOVERED:
		subject = _("Realtime works again")
	else:
		return
	content = check.hint or _("All checks passed.")
	users = system_managers()
	for user in users:
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"subject": subject,
				"email_content": content,
				# No `link`: the desk builds the form's route from these (/app on v15, /desk on v16).
				"document_type": SETTINGS_DOCTYPE,
				"document_name": SETTINGS_DOCTYPE,
			}
		).insert(ignore_permissions=True)
	if by_email:
		recipients = [e for e in (frappe.db.get_value("User", u, "email") for u in users) if e]
		if recipients:
			frappe.sendmail(
				recipients=recipients,
				subject=subject,
				message=f"{frappe.utils.escape_html(content)}<br><br>"
				f'<a href="{get_url_to_form(SETTINGS_DOCTYPE, SETTINGS_DOCTYPE)}">{_("Raven Realtime Settings")}</a>',
			)


def _acquire_lock(seconds: int) -> str | None:
	"""A token when this process now holds the lock (SET NX EX: one round trip), else None."""
	token = secrets.token_hex(8)
	if frappe.cache.set(frappe.cache.make_key(LOCK_KEY), token, nx=True, ex=seconds):
		return token
	return None


def _release_lock(token: str) -> None:
	"""Free the lock if it is still ours (an expired one may have been taken by the next check)."""
	key = frappe.cache.make_key(LOCK_KEY)
	held = frappe.cache.get(key)
	if held is not None and (held.decode() if isinstance(held, bytes) else held) == token:
		frappe.cache.delete(key)
