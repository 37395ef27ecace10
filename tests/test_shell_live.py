"""The Frappe shell against the live stack: the diagnosis end to end through Frappe's own publish.

A real bench once showed `end_to_end` failing on every run: the checks ran in threads of their
own, and `frappe.publish_realtime` there finds no `frappe.local` (`AttributeError: site` in a
web worker, `RuntimeError: object is not bound` under a bench command). These tests run the
shell paths operators use (the form's POST, the bench command, `diagnose_realtime`) against real
Redis and the realtime service, so that path is exercised, not only a dead port.
"""

import json
import threading

import frappe
import pytest
from frappe import standin

from raven_ai_agent.config import SETTINGS_DOCTYPE, diagnose_realtime
from raven_ai_agent.install import after_install
from raven_ai_agent.realtime import probe
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.checks.delivery import PROBE_EVENT
from raven_ai_agent.realtime.probe import Deadline
from tests.stack import ADMIN_SID, Stack

API = "/api/method/raven_ai_agent.api.realtime."
MANAGER = "manager@example.com"


def checks(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


def assert_all_passed(report: dict) -> None:
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"] and not failing, failing
	assert checks(report)["end_to_end"]["ok"] is True, checks(report)["end_to_end"]


def install_site_on(stack) -> None:
	"""A stand-in site wired to `stack` as a bench's site is: its common config, its web port,
	the app installed, and the web process's DEV_SERVER on, as `bench start` runs a local site."""
	frappe._dev_server = 1  # read by frappe.init() into frappe.local.dev_server
	standin.reset(
		site=stack.site,
		apps=("raven_ai_agent",),
		site_config={"host_name": stack.web_url},
		common_site_config=dict(stack.common),
	)
	after_install()
	frappe.db.commit()


@pytest.fixture(autouse=True)
def _restore_dev_server():
	"""install_site_on turns DEV_SERVER on; other modules get the process's own value back."""
	dev_server = frappe._dev_server
	yield
	frappe._dev_server = dev_server


@pytest.fixture
def live_site(stack):
	install_site_on(stack)
	standin.create_user(MANAGER, roles=["System Manager"])
	standin.create_session(ADMIN_SID, "Administrator")  # Administrator logged in on this site
	yield stack
	frappe.destroy()


def test_in_a_web_request_without_dev_server_the_desk_row_fails_and_names_the_desk(live_site):
	"""As on a real bench served by gunicorn without DEV_SERVER (window.dev_server = 0 on /app):
	a local site's desk polls its own origin and gets Frappe's 404. In a web request the desk's
	value is this process's own, whatever another process says."""
	frappe._dev_server = 0  # this web process; the stack's web stand-in runs with DEV_SERVER=1
	with standin.request("GET", user="Administrator"):
		report = diagnose_realtime(timeout=3)
	rows = {r["client"]: r for r in report["clients"]}
	desk = rows["Frappe desk"]
	assert desk["url"] == f"{live_site.web_url}/socket.io/" and desk["ok"] is False
	assert (
		desk["why"]
		== "dev_server is off (frappe.local.dev_server = 0 in this web process): the page's own origin"
	)
	assert rows["raven_ai_agent context"]["ok"] is True
	assert [c["name"] for c in report["checks"] if c["ok"] is False] == ["client_paths"]
	assert report["hint"].startswith("Frappe desk") and "DEV_SERVER" in report["hint"]


def test_outside_a_web_request_the_running_site_says_dev_server(tmp_path):
	"""A bench command or a job is not the web process: its own DEV_SERVER says nothing about the
	desk. Measured on the real bench: `bench --site realtime.test raven-realtime diagnose` read
	frappe.local.dev_server = 0 from its own process whatever the web process ran with."""
	with Stack(tmp_path=tmp_path, web_dev_server=False) as gunicorn_like:
		install_site_on(gunicorn_like)  # this process: DEV_SERVER on
		try:
			report = diagnose_realtime(timeout=3)
		finally:
			frappe.destroy()
	desk = {r["client"]: r for r in report["clients"]}["Frappe desk"]
	assert desk["why"].startswith("dev_server is off (window.dev_server = 0 on http://127.0.0.1:")
	assert desk["url"] == f"{gunicorn_like.web_url}/socket.io/" and desk["ok"] is False
	assert report["hint"].startswith("Frappe desk")


def test_diagnose_realtime_passes_end_to_end_through_frappe(live_site):
	report = diagnose_realtime(timeout=3, sid=ADMIN_SID, user="Administrator")
	assert_all_passed(report)
	assert "user:Administrator" in checks(report)["end_to_end"]["detail"]
	published = [p["message"] for p in standin.published() if p["message"]["event"] == "raven_ai_agent_probe"]
	assert any(m["room"] == "user:Administrator" and m["namespace"] == live_site.site for m in published)
	assert ADMIN_SID not in json.dumps(report)


def test_diagnose_realtime_learns_whose_session_it_is_from_the_sites_own_store(live_site):
	report = diagnose_realtime(timeout=3, sid=ADMIN_SID)
	assert_all_passed(report)


def test_a_session_the_sites_store_does_not_know_never_passes(live_site):
	"""The web server (here the stand-in, which knows every test session) may accept it; the
	site's own session store decides: another site's session is not one of this site."""
	live_site.web.add_session("other-site-sid", "Administrator", "System User")
	report = diagnose_realtime(timeout=3, sid="other-site-sid")
	assert not report["ok"]
	found = checks(report)["namespace"]
	assert found["ok"] is False and f"is not one of {live_site.site}" in found["detail"]
	assert checks(report)["end_to_end"]["ok"] is None
	assert "Pass a session of" in report["hint"]
	assert "other-site-sid" not in json.dumps(report)


def in_a_new_thread(calls: dict) -> dict:
	"""Each call's (exception type, text) when run in a thread of its own, or "ok"."""
	out = {}

	def run():
		for name, fn in calls.items():
			try:
				fn()
				out[name] = "ok"
			except Exception as e:
				out[name] = (type(e).__name__, str(e))

	thread = threading.Thread(target=run)
	thread.start()
	thread.join()
	return out


THREAD_CALLS = {
	"publish_realtime": lambda: frappe.publish_realtime("x", {}, user="Administrator"),
	"conf": lambda: frappe.conf.get("redis_queue"),
	"db": lambda: frappe.db.sql("select 1"),
	"cache": lambda: frappe.cache.get_value("x"),
}
UNBOUND = ("RuntimeError", "object is not bound")


def test_frappe_in_a_new_thread_fails_as_on_a_real_bench_cli(live_site):
	"""Measured on Frappe 15.41 (a script after frappe.init + connect, nothing published yet):
	all four raise RuntimeError('object is not bound') in a new thread."""
	from frappe.utils import background_jobs

	background_jobs._reset_connection()  # a fresh process: no Redis connection made yet
	assert in_a_new_thread(THREAD_CALLS) == dict.fromkeys(THREAD_CALLS, UNBOUND)


def test_frappe_in_a_new_thread_fails_as_in_a_real_web_worker(live_site):
	"""A web worker has published before: the Redis connection is process-wide, so
	publish_realtime gets as far as `frappe.local.site` (AttributeError: site, as seen on the bench)."""
	frappe.publish_realtime("warm", {}, user="Administrator")
	out = in_a_new_thread(THREAD_CALLS)
	assert out["publish_realtime"] == ("AttributeError", "site")
	assert out["conf"] == out["db"] == out["cache"] == UNBOUND


def test_run_diagnosis_button_passes_end_to_end(live_site):
	"""The form's POST, with the manager's own session (the web stand-in knows it)."""
	live_site.web.add_session("manager-sid-0123456789", MANAGER, "System User")
	standin.create_session("manager-sid-0123456789", MANAGER)
	status, body, exc = standin.call_api(
		API + "run_diagnosis", "POST", user=MANAGER, sid="manager-sid-0123456789"
	)
	assert status == 200, exc
	result = body["message"]
	assert_all_passed(result)
	values = standin.single_values(SETTINGS_DOCTYPE)
	assert values["last_diagnosis_hint"] == "All checks passed."
	standin.flush_deferred_inserts()
	everything = json.dumps([body, values, standin.error_logs(), [str(r) for r in standin.log_records()]])
	assert "manager-sid-0123456789" not in everything


def test_bench_diagnose_command_passes_end_to_end(live_site):
	from raven_ai_agent.commands import commands

	[group] = commands
	result = standin.invoke_command(
		group, ["diagnose", "--json", "--sid", ADMIN_SID, "--timeout", "3"], site=live_site.site
	)
	assert result.exit_code == 0, result.output
	report = json.loads(result.output)
	assert_all_passed(report)
	assert ADMIN_SID not in result.output


def test_bench_diagnose_command_human_output_hides_the_sid(live_site, monkeypatch):
	from raven_ai_agent.commands import commands

	[group] = commands
	monkeypatch.setenv("RAVEN_REALTIME_SID", ADMIN_SID)
	result = standin.invoke_command(group, ["diagnose", "--timeout", "3"], site=live_site.site)
	assert result.exit_code == 0, result.output
	assert "end_to_end" in result.output and ADMIN_SID not in result.output


def test_with_the_realtime_service_stopped_the_hint_names_it_not_redis(tmp_path):
	"""Stopped realtime service: the most upstream failure is the realtime port, and the hint says so."""
	from raven_ai_agent.commands import commands
	from tests.stack import Stack

	with Stack(tmp_path=tmp_path) as private:
		install_site_on(private)
		private.realtime.stop()
		[group] = commands
		result = standin.invoke_command(
			group, ["diagnose", "--json", "--sid", ADMIN_SID, "--timeout", "2"], site=private.site
		)
		frappe.destroy()
	assert result.exit_code == 1, result.output
	report = json.loads(result.output)
	assert [c["name"] for c in report["checks"] if c["ok"] is False][0] == "local_handshake"
	assert "realtime service" in report["hint"] and "Redis" not in report["hint"].split(".")[0]
	assert ADMIN_SID not in result.output


def test_run_diagnosis_tells_a_stale_page_from_a_current_one(live_site):
	"""The form sends its tab's boot context; a page loaded before a change is told to reload."""
	live_site.web.add_session("manager-sid-boot", MANAGER, "System User")
	standin.create_session("manager-sid-boot", MANAGER)
	current = boot_context_of(MANAGER)
	for sent, expected in ((current, True), ({**current, "socketio_path": "/old/"}, False), (None, False)):
		status, body, exc = standin.call_api(
			API + "run_diagnosis", "POST", user=MANAGER, sid="manager-sid-boot", boot_context=json.dumps(sent)
		)
		assert status == 200, exc
		check = checks(body["message"])["boot_context"]
		assert check["ok"] is expected, check


def boot_context_of(user: str) -> dict:
	import frappe.sessions

	with standin.request("GET", user=user):
		return frappe.sessions.get()["raven_realtime"]


def test_send_probe_event_reaches_the_callers_own_socket(live_site):
	"""The tab's delivery probe: a socket with the caller's session hears the event the endpoint
	publishes, carrying the tab's token, in the caller's user room."""
	token = "5eed0123abcd4567"

	def publish(room: str) -> bool:
		status, body, exc = standin.call_api(
			API + "send_probe_event", "POST", user="Administrator", sid=ADMIN_SID, token=token
		)
		assert status == 200, exc
		assert body["message"]["room"] == room
		return body["message"]["published"]

	deadline = Deadline(3)
	headers = {"Origin": live_site.web_url, "Cookie": f"sid={ADMIN_SID}"}
	listener = polling.Listener(
		probe.Http(deadline, 3),
		live_site.realtime_url,
		"/socket.io/",
		f"/{live_site.site}",
		headers,
		["user:Administrator"],
	)
	[delivery] = polling.probe_deliveries([listener], PROBE_EVENT, token, publish, deadline=deadline)
	assert delivery.connect is not None and delivery.connect.ok
	assert "user:Administrator" in delivery.received
