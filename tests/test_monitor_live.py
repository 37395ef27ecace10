"""Scheduled checks on the real stack (Redis, the realtime service, the web stand-in): rows, the
lock, alerts on change, and nothing done when monitoring is Off or the scheduler is disabled."""

import json
from datetime import timedelta

import frappe
import pytest
from frappe import standin

from raven_ai_agent import monitor
from raven_ai_agent.config import SETTINGS_DOCTYPE
from raven_ai_agent.monitor import CHECK_DOCTYPE, LOCK_KEY, run_check, run_scheduled_check
from raven_ai_agent.raven_ai_agent.doctype.raven_realtime_check.raven_realtime_check import (
	RavenRealtimeCheck,
)
from tests.stack.procs import wait_for_port
from tests.stack.services import BlackHole
from tests.stack.stack import Stack
from tests.test_shell_live import install_site_on

MANAGER = "manager@example.com"
CLERK = "clerk@example.com"


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
	"""A private stack: these tests stop and start its realtime service."""
	with Stack(tmp_path=tmp_path_factory.mktemp("monitor")) as stack:
		yield stack


@pytest.fixture
def site(own_stack):
	dev_server = frappe._dev_server
	install_site_on(own_stack)
	standin.create_user(MANAGER, roles=["System Manager"])
	standin.create_user(CLERK, roles=["Sales User"])
	standin.enable_scheduler(True)
	set_settings(check_interval="5 minutes", probe_timeout=3)
	yield own_stack
	frappe.destroy()
	frappe._dev_server = dev_server
	if own_stack.realtime.proc.poll() is not None:
		restart_realtime(own_stack)


def restart_realtime(stack) -> None:
	"""Start the stopped realtime service again and wait until its port accepts (its READY
	line was already seen once, so the process object alone cannot tell)."""
	stack.realtime.start()
	wait_for_port(stack.socketio_port, timeout=10, proc=stack.realtime.proc)


def set_settings(**values) -> None:
	doc = frappe.get_single(SETTINGS_DOCTYPE)
	doc.update(values)
	doc.save(ignore_permissions=True)
	frappe.db.commit()


def rows() -> list[dict]:
	return sorted(standin.rows(CHECK_DOCTYPE), key=lambda r: r["creation"])


def alerts() -> list[dict]:
	return standin.rows("Notification Log")


def scheduler_tick(minutes_later: float = 0) -> None:
	"""One cron tick as a background job of its own, `minutes_later` after the last check."""
	with standin.background():
		if minutes_later:
			last = frappe.db.get_single_value(SETTINGS_DOCTYPE, "last_check_on")
			frappe.db.set_single_value(
				SETTINGS_DOCTYPE,
				"last_check_on",
				last - timedelta(minutes=minutes_later),
				update_modified=False,
			)
		run_scheduled_check()
		frappe.db.commit()


def test_a_healthy_run_is_one_ok_row_with_versions_and_no_alert(site):
	scheduler_tick()
	(row,) = rows()
	assert row["ok"] == 1 and row["failing_check"] is None and row["alert"] is None, row["hint"]
	assert row["frappe_version"] == frappe.__version__ and row["raven_version"] == ""
	per_check = json.loads(row["check_ms"])
	assert {"local_handshake", "namespace", "redis_bridge", "end_to_end"} <= set(per_check)
	assert 0 < row["total_ms"] < 3500
	assert alerts() == []
	published = [p["message"] for p in standin.published() if p["message"]["event"] == "raven_ai_agent_probe"]
	assert [m["room"] for m in published if m["message"].get("probe") == "raven_ai_agent scheduled"]
	assert {m["room"] for m in published} == {"website"}  # nobody's room: no session was made


def test_the_worker_judges_client_paths_by_the_web_process_not_its_own_dev_server(site):
	"""A worker runs without DEV_SERVER even where the web process has it (and the reverse): the
	desk's socket URL comes from the site's own page, so the worker's value changes nothing."""
	frappe._dev_server = 0  # the worker; the stack's web process runs with DEV_SERVER=1
	scheduler_tick()
	(row,) = rows()
	assert row["ok"] == 1, row["hint"]
	assert "client_paths" in json.loads(row["check_ms"])


def test_a_desk_the_web_process_sends_elsewhere_fails_the_scheduled_check(tmp_path):
	"""The web process without DEV_SERVER on a local site (as on the real bench, gunicorn by
	hand): desk polls the web port and gets a 404, and the scheduled check says so."""
	with Stack(tmp_path=tmp_path, web_dev_server=False) as gunicorn_like:
		install_site_on(gunicorn_like)  # the worker's own DEV_SERVER is on: it must not count
		try:
			standin.enable_scheduler(True)
			set_settings(check_interval="5 minutes", probe_timeout=3)
			scheduler_tick()
			(row,) = rows()
		finally:
			frappe.destroy()
	assert row["ok"] == 0 and row["failing_check"] == "client_paths"
	assert row["hint"].startswith("Frappe desk") and "window.dev_server = 0" in row["hint"]


def test_a_client_that_hears_nothing_raises_the_alert(site, tmp_path):
	"""An operator-added client URL answered by another bench's realtime service (another Redis):
	it connects, hears none of this site's events, and the scheduled check fails and alerts."""
	with Stack(tmp_path=tmp_path) as other:
		foreign = f"http://127.0.0.1:{other.socketio_port}/socket.io/"
		set_settings(extra_client_urls=foreign)
		try:
			scheduler_tick()
		finally:
			set_settings(extra_client_urls="")
	(row,) = rows()
	assert row["ok"] == 0 and row["failing_check"] == "client_delivery", row["hint"]
	assert row["hint"].startswith(f"operator-added client connects to {foreign}: reachable, but")
	assert row["alert"] == "failing"
	assert {log["subject"] for log in alerts()} == {"Realtime is failing: client_delivery"}


def test_not_due_yet_then_due(site):
	scheduler_tick()
	scheduler_tick()  # the same minute: not due
	assert len(rows()) == 1
	scheduler_tick(minutes_later=5)
	assert len(rows()) == 2


def test_off_does_nothing_at_all(site):
	set_settings(check_interval="Off")
	with standin.background():
		frappe.get_cached_doc(SETTINGS_DOCTYPE)  # warm, as every tick after the first finds it
		standin.reset_counters()
		run_scheduled_check()
		assert standin.query_count() == 0 and standin.cache_round_trips() == 0
	assert rows() == []


def test_a_site_whose_scheduler_is_disabled_is_never_checked(site):
	standin.enable_scheduler(False)
	scheduler_tick()
	assert rows() == []


def test_a_path_that_breaks_between_two_runs_alerts_once_and_recovers_once(site):
	scheduler_tick()
	site.realtime.stop()
	scheduler_tick(minutes_later=5)
	scheduler_tick(minutes_later=5)
	restart_realtime(site)
	scheduler_tick(minutes_later=5)
	scheduler_tick(minutes_later=5)
	assert [r["ok"] for r in rows()] == [1, 0, 0, 1, 1]
	assert [r["alert"] for r in rows()] == [None, "failing", None, "recovered", None]
	failing = rows()[1]
	assert failing["failing_check"] == "local_handshake" and failing["hint"]
	by_user = {}
	for log in alerts():
		by_user.setdefault(log["for_user"], []).append(log["subject"])
	assert set(by_user) == {"Administrator", MANAGER}  # System Managers only
	for subjects in by_user.values():
		assert subjects == ["Realtime is failing: local_handshake", "Realtime works again"]
	log = alerts()[0]
	# No hard-coded desk route (v16 moved desk to /desk): the bell links the document itself.
	assert log["type"] == "Alert" and not log.get("link")
	assert (log["document_type"], log["document_name"]) == (
		"Raven Realtime Settings",
		"Raven Realtime Settings",
	)
	assert log["email_content"] == failing["hint"]
	assert standin.sent_mail() == []  # email only when asked for
	bells = [p for p in standin.published() if p["message"]["event"] == "notification"]
	assert {p["message"]["room"] for p in bells} == {"user:Administrator", f"user:{MANAGER}"}


def test_alert_by_email_mails_every_system_manager(site):
	set_settings(alert_by_email=1)
	site.realtime.stop()
	scheduler_tick()
	(mail,) = standin.sent_mail()
	assert sorted(mail["recipients"]) == ["admin@example.com", MANAGER]
	assert mail["subject"] == "Realtime is failing: local_handshake"
	# Frappe's own get_url_to_form makes the link, so it follows the release's desk route.
	assert (
		'href="http://' in mail["message"]
		and '/raven-realtime-settings/Raven%20Realtime%20Settings"' in mail["message"]
	)


def test_a_check_that_hangs_leaves_a_failing_row_and_no_lock(site):
	"""The realtime port accepts and never answers: the diagnosis ends at its timeout."""
	with BlackHole() as hole:
		common = dict(site.common, socketio_port=hole.port)
		standin.reset(
			site=site.site,
			site_config={"host_name": site.web_url},
			common_site_config=common,
		)
		from raven_ai_agent.install import after_install

		after_install()
		frappe.db.commit()
		standin.enable_scheduler(True)
		set_settings(check_interval="5 minutes", probe_timeout=1)
		scheduler_tick()
		assert hole.accepted > 0, (standin.error_logs(), rows())
	(row,) = rows()
	assert row["ok"] == 0 and row["total_ms"] < 2000
	assert frappe.cache.get(frappe.cache.make_key(LOCK_KEY)) is None
	scheduler_tick(minutes_later=5)
	assert len(rows()) == 2  # the next tick is not blocked


def test_a_job_killed_by_its_timeout_leaves_a_failing_row_and_no_lock(site, monkeypatch):
	"""RQ raises JobTimeoutException inside the job when it runs past its timeout."""

	class JobTimeoutException(Exception):
		pass

	def times_out(**kwargs):
		raise JobTimeoutException("Task exceeded maximum timeout value (300 seconds)")

	monkeypatch.setattr(monitor, "diagnose_realtime", times_out)
	scheduler_tick()
	(row,) = rows()
	assert row["ok"] == 0 and row["failing_check"] == "scheduled_job"
	assert "JobTimeoutException: Task exceeded" in row["hint"]
	assert frappe.cache.get(frappe.cache.make_key(LOCK_KEY)) is None
	assert [a["subject"] for a in alerts() if a["for_user"] == MANAGER] == [
		"Realtime is failing: scheduled_job"
	]


def test_never_two_at_once(site):
	with standin.background():
		frappe.cache.set(frappe.cache.make_key(LOCK_KEY), "another-worker", nx=True, ex=60)
		assert run_check() is None
		frappe.cache.delete(frappe.cache.make_key(LOCK_KEY))
		assert run_check()["ok"] == 1
	assert len(rows()) == 1


def test_nothing_raises_into_the_scheduler(site, monkeypatch):
	def broken(*args, **kwargs):
		raise RuntimeError("the database went away")

	monkeypatch.setattr(monitor, "run_check", broken)
	scheduler_tick()
	assert [e["method"] for e in standin.error_logs()] == ["Raven realtime: the scheduled check failed"]


def test_the_history_is_cleared_by_log_settings_days(site):
	scheduler_tick()
	scheduler_tick(minutes_later=5)
	old = frappe.utils.now_datetime() - timedelta(days=40)
	with standin.background():
		first = frappe.get_all(CHECK_DOCTYPE, order_by="creation asc", pluck="name")[0]
		table = frappe.db._tables(write=True)[CHECK_DOCTYPE]
		next(r for r in table if r["name"] == first)["creation"] = old
		frappe.db.commit()
		RavenRealtimeCheck.clear_old_logs(days=30)
		frappe.db.commit()
	assert [r["name"] for r in rows()] != [first] and len(rows()) == 1
	hooks = frappe.get_hooks("default_log_clearing_doctypes")
	assert hooks[CHECK_DOCTYPE] == [30]


def test_the_history_is_for_system_managers_only(site):
	assert frappe.has_permission(CHECK_DOCTYPE, "read", user=MANAGER)
	assert not frappe.has_permission(CHECK_DOCTYPE, "read", user=CLERK)
	meta = frappe.get_meta(CHECK_DOCTYPE)
	assert [p.role for p in meta.permissions] == ["System Manager"]


def test_field_data_is_folded_into_the_row_and_its_hint(site):
	"""#8 seen from browsers: the server's check passes, the sockets keep being cut."""
	api = "/api/method/raven_ai_agent.api.field.report_connection"
	set_settings(field_reports=1)  # off by default
	sent = [
		standin.call_api(api, "POST", user=CLERK, socket="desk", event="disconnect", reason="transport close")
		for _ in range(4)
	]
	sent.append(
		standin.call_api(
			api, "POST", user=CLERK, socket="desk", event="page", connected="1", browser="chrome"
		)
	)
	assert [r.status_code for r in sent] == [200] * 5
	scheduler_tick()
	(row,) = rows()
	assert row["ok"] == 1 and row["failing_check"] is None
	assert 'with "transport close" 4 times' in row["hint"]
	summary = json.loads(row["field_summary"])
	assert summary["disconnects"] == {"transport close": 4} and summary["connected_share"] == 1.0
	assert alerts() == []  # field data explains; only the server's check changes the state
