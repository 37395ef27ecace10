"""The Frappe shell against the live stack, for what the real 15.41 bench suite (tests/realbench/)
does not show: a bench command's own DEV_SERVER, a session this site's store does not know, a
page loaded before a settings change. The paths it does show (Run Diagnosis, the bench command,
Frappe in a new thread, a stopped realtime service) run there, not on the stand-in.
"""

import json

import frappe
import pytest
from frappe import standin

from raven_ai_agent.config import diagnose_realtime
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
