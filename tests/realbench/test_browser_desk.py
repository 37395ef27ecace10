"""The settings form and the desk page in headless Chromium, on the real bench."""

import json
import os
import subprocess
from pathlib import Path

import pytest

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
	out = SCREENSHOTS / "settings-form.png"
	result = drive(real_bench, "form", tmp_path, out=str(out))
	assert result["last_diagnosis_hint"] == "All checks passed."
	rows = [row for table in result["tables"] for row in table]
	text = "\n".join(" | ".join(row) for row in rows)
	for client in ("Frappe desk", "Raven"):
		assert client in text, text
	assert out.stat().st_size > 10_000
	print(f"screenshot: {out}")


def test_a_desk_page_load_opens_one_socket_and_sends_no_report(real_bench, tmp_path):
	"""With everything off (the default), the app adds no request and no socket to a desk page."""
	result = drive(real_bench, "page", tmp_path)
	reports = [r for r in result["requests"] if "report_connection" in r["url"]]
	assert reports == []
	assert len([s for s in result["sockets"] if "/socket.io/" in s]) == 1, result["sockets"]
	assert result["boot_context"]["socketio_namespace"] == f"/{real_bench.site}"
