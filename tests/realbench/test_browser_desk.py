"""The settings form and the desk page in headless Chromium, on the real bench."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from raven_ai_agent.config import SETTINGS_DOCTYPE
from tests.stack.procs import require_tool

DRIVER = Path(__file__).with_name("desk_browser.js")
SCREENSHOTS = Path(os.environ.get("RAVEN_BENCH_SCREENSHOTS", "/tmp/raven-realbench-screenshots"))


def drive(bench, mode: str, tmp_path: Path, **spec) -> dict:
	"""desk_browser.js with Administrator's session; its RESULT."""
	session = bench.login()
	SCREENSHOTS.mkdir(parents=True, exist_ok=True)
	spec = {"base": bench.url(), "sid": session.cookies["sid"], "mode": mode, "timeout_ms": 60000, **spec}
	path = tmp_path / "spec.json"
	path.write_text(json.dumps(spec))
	result = subprocess.run(
		[require_tool("node"), str(DRIVER), str(path)], capture_output=True, text=True, timeout=180
	)
	lines = [line for line in result.stdout.splitlines() if line.startswith(("RESULT ", "ERROR "))]
	if not lines or lines[-1].startswith("ERROR"):
		pytest.fail(f"desk_browser.js: {result.stdout[-3000:]}\n{result.stderr[-3000:]}")
	return json.loads(lines[-1][len("RESULT ") :])


def test_the_settings_form_runs_the_diagnosis_and_shows_every_client(real_bench, tmp_path):
	real_bench.execute("raven_ai_agent.monitor.run_check")  # one scheduled check: history to draw
	out = SCREENSHOTS / "settings-form.png"
	result = drive(real_bench, "form", tmp_path, out=str(out))
	assert result["last_diagnosis_hint"] == "All checks passed."
	rows = [row for table in result["tables"] for row in table]
	text = "\n".join(" | ".join(row) for row in rows)
	for client in ("Frappe desk", "Raven"):
		assert client in text, text
	assert out.stat().st_size > 10_000
	print(f"screenshot: {out}")
	# The history charts, drawn with the desk's own frappe.Chart: the check's chart has a picture;
	# field charts say "Not collected" (field reports are off by default).
	history = {chart["key"]: chart for chart in result["history"]}
	assert any(chart["drawn"] for chart in history.values()), result["history"]
	assert any("Not collected" in chart["text"] for chart in history.values()), result["history"]


APP_ASSETS = "/assets/raven_ai_agent/"


def _app_requests(result: dict) -> list[str]:
	return [r["url"] for r in result["requests"] if APP_ASSETS in r["url"] or "raven_ai_agent" in r["url"]]


def _set_field_reports(bench, on: bool) -> None:
	admin = bench.login()
	saved = admin.put(
		bench.url(f"/api/resource/{SETTINGS_DOCTYPE}/{SETTINGS_DOCTYPE}"),
		json={"field_reports": 1 if on else 0},
		timeout=60,
	)
	assert saved.status_code == 200, saved.text[-2000:]


def test_a_desk_page_load_with_everything_off_adds_one_small_script_and_nothing_else(real_bench, tmp_path):
	"""Field reporting off (the default): the page loads the app's one desk script, sends no
	report and opens no socket of the app's own (desk's is the only one)."""
	result = drive(real_bench, "page", tmp_path)
	print("desk page, everything off:", json.dumps(result["requests"], indent=1))
	assert _app_requests(result) == [real_bench.url(APP_ASSETS + "js/raven_realtime_desk.js")]
	# desk's own socket (bench-start layout: on socketio_port) and no other
	assert len(result["sockets"]) <= 1, result["sockets"]
	assert all(f":{real_bench.socketio_port}/socket.io/" in s for s in result["sockets"]), result["sockets"]
	assert result["boot_context"]["socketio_namespace"] == f"/{real_bench.site}"


def test_turning_field_reports_on_starts_reports_on_the_next_page_load(real_bench, tmp_path):
	"""No cache clear: the setting reaches the next page load through extend_bootinfo."""
	_set_field_reports(real_bench, True)
	try:
		result = drive(real_bench, "page", tmp_path, settle_ms=4000)
	finally:
		_set_field_reports(real_bench, False)
	reports = [r for r in result["requests"] if "report_connection" in r["url"]]
	assert reports and all(r["method"] == "POST" for r in reports), result["requests"]
	assert len(result["sockets"]) <= 1, result["sockets"]
