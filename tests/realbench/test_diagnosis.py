"""Run Diagnosis on the real bench, as the desk calls it and as the bench command runs it."""

import json

from raven_ai_agent.cli import SID_ENV

from .desk import Desk
from .report import checks


def test_run_diagnosis_from_the_desk_is_green_with_delivery(real_bench):
	"""Login, the desk page's CSRF token and boot context, `POST run_diagnosis`: every check passes,
	and end_to_end says the event this site published arrived."""
	desk = Desk(real_bench.login(), real_bench.url("/app"))
	response = desk.call(
		"raven_ai_agent.api.realtime.run_diagnosis", boot_context=json.dumps(desk.boot["raven_realtime"])
	)
	assert response.status_code == 200, response.text[-2000:]
	report = response.json()["message"]
	by_name = checks(report)
	assert report["ok"] is True, json.dumps(report, indent=1)[-4000:]
	assert report["hint"] is None
	assert by_name["end_to_end"]["ok"] is True and "deliver" in by_name["end_to_end"]["detail"]
	assert by_name["boot_context"]["ok"] is True
	# The result is stored for the form, without the session id.
	stored = real_bench.execute(
		"frappe.db.get_single_value", doctype="Raven Realtime Settings", fieldname="last_diagnosis"
	)
	sid = desk.session.cookies["sid"]
	assert json.loads(stored)["ok"] is True and sid not in stored


def test_bench_command_with_a_session_delivers_and_never_prints_the_sid(real_bench):
	session = real_bench.login()
	sid = session.cookies["sid"]
	result = real_bench.bench(
		real_bench.site, "raven-realtime", "diagnose", "--json", check=False, **{SID_ENV: sid}
	)
	assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
	report = json.loads(result.stdout[result.stdout.index("{") :])
	assert checks(report)["end_to_end"]["ok"] is True
	assert sid not in result.stdout and sid not in result.stderr
	text = real_bench.bench(real_bench.site, "raven-realtime", "diagnose", check=False, **{SID_ENV: sid})
	assert "all checks passed" in text.stdout and sid not in text.stdout + text.stderr


def test_bench_command_with_user_makes_and_removes_its_own_session(real_bench):
	"""`diagnose --user`: delivery checked with a session the command creates and deletes itself."""

	def sessions() -> int:
		return real_bench.execute("frappe.db.count", dt="Sessions", filters={"user": "Administrator"})

	before = sessions()
	result = real_bench.bench(
		real_bench.site, "raven-realtime", "diagnose", "--json", "--user", "Administrator", check=False
	)
	assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
	report = json.loads(result.stdout[result.stdout.index("{") :])
	assert checks(report)["end_to_end"]["ok"] is True
	assert sessions() == before  # nothing left behind


def test_run_diagnosis_is_green_every_time_on_an_unchanged_healthy_bench(real_bench):
	"""Issue 23's flaky verdicts: 16 runs in a row on gunicorn, each a fresh desk call."""
	desk = Desk(real_bench.login(), real_bench.url("/app"))
	verdicts = []
	for _ in range(16):
		report = desk.call(
			"raven_ai_agent.api.realtime.run_diagnosis", boot_context=json.dumps(desk.boot["raven_realtime"])
		).json()["message"]
		verdicts.append((report["ok"], report["hint"], round(report["elapsed_ms"])))
	print("16 runs (ok, hint, ms):", verdicts)
	assert [ok for ok, _hint, _ms in verdicts] == [True] * 16, verdicts
