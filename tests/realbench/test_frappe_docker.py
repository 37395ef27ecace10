"""The real bench in frappe_docker's split layout (split.py), diagnosed and monitored from the
backend container: Run Diagnosis green with delivery when the Realtime Address names the
websocket container, "not on this host" (never "start it") without it; the scheduled check's
rows healthy, failing with the websocket container stopped (with its frappe_docker fix), and
recovered. The outputs are printed (-s) and written to OUTPUT for the issue's note.

The layout replaces the session's processes only while this module runs; its fixture puts the
session's layout back (and the settings it touched as they were) whatever happened, and removes
every namespace.
"""

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pytest
import requests

from raven_ai_agent.cli import echo_diagnosis
from raven_ai_agent.config import SETTINGS_DOCTYPE
from raven_ai_agent.realtime.model import Source
from tests.stack.netns import PREFIX

from .desk import Desk
from .inputs import ADMIN_PASSWORD
from .split import SOCKETIO_PORT, SplitLayout

# Settings this module changes (directly or through its checks), put back afterwards.
KEPT_SETTINGS = ("realtime_address", "alert_state", "failure_alert_on", "last_check_on")
OUTPUT = Path("/tmp/frappe_docker_realbench.txt")
ADDRESS = f"websocket:{SOCKETIO_PORT}"
START_IT = ("Start the realtime service", "run `bench start`", "supervisorctl start")  # advice for one host


def our_namespaces() -> set[str]:
	listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
	return {line.split()[0] for line in listed.splitlines() if line.startswith(PREFIX)}


def note(title: str, body: str) -> None:
	"""Printed (pytest -s) and appended to OUTPUT, for the issue's note."""
	text = f"\n== {title}\n{body.rstrip()}\n"
	print(text)
	with OUTPUT.open("a") as f:
		f.write(text)


def as_text(report: dict) -> str:
	"""The report as `bench ... raven-realtime diagnose` prints it without --json."""
	out = io.StringIO()
	with contextlib.redirect_stdout(out):
		echo_diagnosis(report, as_json=False)
	return out.getvalue()


def checks_of(report: dict) -> dict[str, dict]:
	return {c["name"]: c for c in report["checks"]}


def set_address(layout: SplitLayout, value: str) -> None:
	"""Realtime Address in Raven Realtime Settings, saved as the form saves it (validated)."""
	kwargs = {
		"doctype": SETTINGS_DOCTYPE,
		"name": SETTINGS_DOCTYPE,
		"fieldname": "realtime_address",
		"value": value,
	}
	result = layout.bench_cmd("execute", "frappe.client.set_value", "--kwargs", json.dumps(kwargs))
	assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def diagnose(layout: SplitLayout, *args: str) -> dict:
	"""`bench --site ... raven-realtime diagnose --json --user Administrator` in the backend."""
	result = layout.bench_cmd("raven-realtime", "diagnose", "--json", "--user", "Administrator", *args)
	assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
	return json.loads(result.stdout[result.stdout.index("{") :])


def run_check(layout: SplitLayout) -> dict:
	"""One scheduled check as the worker runs it, from the backend's namespace: its row."""
	result = layout.bench_cmd("execute", "raven_ai_agent.monitor.run_check")
	assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
	row = json.loads(result.stdout.strip().splitlines()[-1])
	assert row is not None, "another check held the lock"
	return row


def show_row(row: dict) -> str:
	return json.dumps({k: row.get(k) for k in ("ok", "failing_check", "alert", "hint", "total_ms")}, indent=1)


@pytest.fixture(scope="module")
def layout(real_bench):
	OUTPUT.write_text(f"frappe_docker's split layout on the real bench ({real_bench.site})\n")
	settings = real_bench.execute("frappe.db.get_singles_dict", doctype=SETTINGS_DOCTYPE)
	split = SplitLayout(real_bench)
	try:
		with split:
			note(
				"namespaces",
				"\n".join(f"{name}: {split.spaces.addresses[name]}" for name in split.spaces.services),
			)
			yield split
	finally:
		# The address and what the operators were last told, as before: this module's alerts
		# must not quiet the next test's (alerting's flapping guard). "" for unset: bench execute
		# evals its --kwargs as Python, where JSON's null and false are no names.
		real_bench.execute(
			"frappe.db.set_single_value",
			doctype=SETTINGS_DOCTYPE,
			fieldname={field: settings.get(field) or "" for field in KEPT_SETTINGS},
			update_modified=0,
		)
		left = {ns for ns in our_namespaces() if ns.startswith(split.spaces.tag)}
		assert not left, f"namespaces of the split layout left behind: {left}"
		back = real_bench.login().get(real_bench.url("/api/method/ping"), timeout=30)
		assert back.ok, "the session's web process is not back"  # later tests need it


def test_without_the_address_the_realtime_service_is_not_on_this_host(layout):
	set_address(layout, "")
	report = diagnose(layout)
	note("diagnose from the backend, no Realtime Address", as_text(report))
	checks = checks_of(report)
	assert report["ok"] is True, as_text(report)
	local = checks["local_handshake"]
	assert local["ok"] is None and "not on this host" in local["detail"]
	assert ADDRESS in local["detail"]
	assert not any(advice in local["detail"] for advice in START_IT)
	assert checks["end_to_end"]["ok"] is True


def test_run_diagnosis_with_the_address_is_green_and_delivers(layout):
	set_address(layout, ADDRESS)
	report = diagnose(layout)
	note(f"diagnose from the backend, Realtime Address {ADDRESS}", as_text(report))
	checks = checks_of(report)
	assert report["ok"] is True and report["hint"] is None, as_text(report)
	assert checks["local_handshake"]["ok"] is True
	assert checks["local_handshake"]["detail"].startswith(f"http://{ADDRESS}/socket.io/")
	assert checks["end_to_end"]["ok"] is True and "deliver" in checks["end_to_end"]["detail"]
	assert report["config"]["sources"]["realtime_address"] == Source.SETTINGS.value

	# The Run Diagnosis button: the desk through the frontend, the diagnosis in gunicorn (backend).
	site = layout.bench.site

	def from_the_desk() -> dict:
		with requests.Session() as s:
			s.trust_env = False
			s.headers["Host"] = site
			login = s.post(
				layout.public_url("/api/method/login"),
				data={"usr": "Administrator", "pwd": ADMIN_PASSWORD},
				timeout=60,
			)
			login.raise_for_status()
			desk = Desk(s, layout.public_url("/app"))
			response = desk.call(
				"raven_ai_agent.api.realtime.run_diagnosis",
				boot_context=json.dumps(desk.boot["raven_realtime"]),
			)
			assert response.status_code == 200, response.text[-2000:]
			return response.json()["message"]

	desk_report = layout.call_in("frontend", from_the_desk)
	note("Run Diagnosis (desk through the frontend; runs in the backend)", as_text(desk_report))
	assert desk_report["ok"] is True, as_text(desk_report)
	assert checks_of(desk_report)["end_to_end"]["ok"] is True


def test_scheduled_check_healthy_then_websocket_stopped_then_back(layout):
	set_address(layout, ADDRESS)
	healthy = run_check(layout)
	note("scheduled check row, healthy", show_row(healthy))
	assert healthy["ok"] == 1 and healthy["failing_check"] is None

	layout.stop("websocket")
	failing = run_check(layout)
	note("scheduled check row, websocket stopped", show_row(failing))
	assert failing["ok"] == 0 and failing["failing_check"] == "local_handshake"
	assert "docker compose up -d websocket" in failing["hint"]
	assert not any(advice in failing["hint"] for advice in START_IT)
	assert failing["alert"]

	down = diagnose(layout)
	note(f"diagnose from the backend, websocket stopped, Realtime Address {ADDRESS}", as_text(down))
	assert down["ok"] is False and checks_of(down)["local_handshake"]["ok"] is False
	assert "docker compose up -d websocket" in down["hint"]
	# Without the address the public path fails too (nginx: 502): never "not on this host", nor "start it".
	set_address(layout, "")
	blind = diagnose(layout)
	note("diagnose from the backend, websocket stopped, no Realtime Address", as_text(blind))
	local = checks_of(blind)["local_handshake"]
	assert blind["ok"] is False and local["ok"] is False and "not on this host" not in local["detail"]
	assert "docker compose up -d websocket" in blind["hint"]
	assert not any(advice in blind["hint"] for advice in START_IT)
	set_address(layout, ADDRESS)

	layout.start_websocket()
	back = run_check(layout)
	note("scheduled check row, websocket started again", show_row(back))
	assert back["ok"] == 1 and back["alert"]  # the recovery notice: the alert state is healthy again
