"""The history charts: hourly series (pure), the endpoint (System Manager, bounded cost), and the
charts drawn by frappe-charts in headless Chromium from a real history."""

import json
from datetime import datetime, timedelta

import frappe
import pytest
from frappe import standin

from raven_ai_agent.realtime.history import RANGES, check_series, field_series, history, hour_starts
from tests.stack.stack import Stack
from tests.test_browser import OUTPUT, Driver, require_browser
from tests.test_monitor_live import CLERK, MANAGER, restart_realtime, rows, scheduler_tick, set_settings
from tests.test_shell_live import install_site_on

END = datetime(2026, 11, 30, 14, 25)


def test_hour_starts_and_labels():
	starts = hour_starts(END, 3)
	assert starts == [datetime(2026, 11, 30, h) for h in (12, 13, 14)]
	assert history([], [{}, {}, {}], starts)["labels"] == ["12:00", "13:00", "14:00"]
	week = hour_starts(END, RANGES["7d"])
	assert len(week) == 168 and history([], [{}] * 168, week)["labels"][-1] == "Mon 14h"


def test_checks_per_hour():
	starts = hour_starts(END, 3)
	rows = [
		{"checked_on": datetime(2026, 11, 30, 12, 5), "ok": 1, "total_ms": 100},
		{"checked_on": datetime(2026, 11, 30, 12, 35), "ok": 0, "total_ms": 300},
		{"checked_on": datetime(2026, 11, 30, 14, 5), "ok": 1, "total_ms": 50},
		{"checked_on": datetime(2026, 11, 29, 14, 5), "ok": 0, "total_ms": 50},  # out of range
	]
	assert check_series(rows, starts) == {
		"runs": [2, 0, 1],
		"failed": [1, 0, 0],
		"passed": [1, 0, 1],
		"latency_ms": [200.0, None, 50.0],
	}


def test_field_per_hour():
	series = field_series(
		[
			{b"page|connected": b"1", b"page|failed": b"1", b"desk|transport|polling": b"2"},
			{},
			{b"desk|disconnect|transport close": b"3", b"app|transport|websocket": b"1"},
		]
	)
	assert series["connected_share"] == [0.5, None, None]
	assert series["transports"] == {"polling": [2, 0, 0], "websocket": [0, 0, 1]}
	assert series["disconnects"] == {"transport close": [0, 0, 3]}


API = "/api/method/raven_ai_agent.api.history.get_realtime_history"


@pytest.fixture(scope="module")
def history_stack(tmp_path_factory):
	with Stack(tmp_path=tmp_path_factory.mktemp("history")) as stack:
		yield stack


@pytest.fixture
def real_history(history_stack):
	"""A site with real history: checks that passed, failed (realtime stopped) and passed again,
	and field reports from a browser's page loads and disconnects."""
	dev_server = frappe._dev_server
	install_site_on(history_stack)
	standin.create_user(MANAGER, roles=["System Manager"])
	standin.create_user(CLERK, roles=["Sales User"])
	standin.enable_scheduler(True)
	set_settings(check_interval="5 minutes", probe_timeout=3, field_reports=1)
	scheduler_tick()
	history_stack.realtime.stop()
	try:
		scheduler_tick(minutes_later=5)
		scheduler_tick(minutes_later=5)
	finally:
		restart_realtime(history_stack)
	scheduler_tick(minutes_later=5)
	report = "/api/method/raven_ai_agent.api.field.report_connection"
	for form in (
		{"socket": "desk", "event": "page", "connected": "1", "browser": "chrome"},
		{"socket": "desk", "event": "page", "connected": "0", "browser": "firefox"},
		{"socket": "desk", "event": "connect", "transport": "polling"},
		{"socket": "desk", "event": "upgrade", "transport": "websocket"},
		{"socket": "app", "event": "disconnect", "reason": "transport close"},
		{"socket": "app", "event": "disconnect", "reason": "ping timeout"},
	):
		assert standin.call_api(report, "POST", user=CLERK, **form).status_code == 200
	yield history_stack
	frappe.destroy()
	frappe._dev_server = dev_server


def test_the_endpoint_is_for_system_managers_and_costs_one_query_and_one_round_trip(real_history):
	assert standin.call_api(API, "GET", user=CLERK).status_code == 403
	assert standin.call_api(API, "GET", user=MANAGER, period="1y").status_code == 417
	standin.reset_counters()
	status, body, _exc = standin.call_api(API, "GET", user=MANAGER, period="24h")
	assert status == 200
	queries = [q for q in standin.queries() if "Raven Realtime Check" in q]
	assert len(queries) == 1
	assert len([c for c in standin.cache_commands() if c[0] == "PIPELINE"]) == 1
	data = body["message"]
	assert data["field_reports"] is True
	assert len(data["labels"]) == 24
	assert sum(data["checks"]["failed"]) == 2 and sum(data["checks"]["passed"]) == 2
	assert sum(data["field"]["page_loads"]) == 2
	assert sum(data["field"]["disconnects"]["transport close"]) == 1
	assert [r["ok"] for r in rows()] == [1, 0, 0, 1]


def test_the_charts_render_in_chromium_with_real_history(real_history, tmp_path):
	require_browser()
	data = standin.call_api(API, "GET", user=MANAGER, period="24h").body["message"]
	out = OUTPUT / "history.png"
	out.unlink(missing_ok=True)
	with Driver(
		{"mode": "history", "history": json.loads(json.dumps(data)), "out": str(out)}, tmp_path
	) as driver:
		result = driver.read("RESULT")
	assert result["errors"] == []
	charts = {c["key"]: c for c in result["charts"]}
	assert result["drawn"] == 5 and all(c["svg"] for c in charts.values())
	assert charts["checks"]["bars"] >= 2  # a passed and a failed bar in the current hour
	assert charts["disconnects"]["bars"] >= 2 and "Disconnect reasons" in charts["disconnects"]["text"]
	assert out.stat().st_size > 10_000, "a real screenshot"


def test_empty_history_says_so_instead_of_drawing(tmp_path):
	require_browser()
	starts = hour_starts(datetime.now() - timedelta(days=1), 24)
	data = history([], [{}] * 24, starts)
	with Driver({"mode": "history", "history": data, "out": str(tmp_path / "empty.png")}, tmp_path) as driver:
		result = driver.read("RESULT")
	assert result["drawn"] == 0
	texts = " ".join(c["text"] for c in result["charts"])
	assert "No scheduled checks in this period." in texts and "No reports from browsers" in texts
