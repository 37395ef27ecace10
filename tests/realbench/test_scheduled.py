"""Scheduled checks on the real bench: the cron tick as the scheduler calls it, a row per due tick,
one alert when the realtime service stops, one recovery when it is back."""

import pytest

from raven_ai_agent.config import SETTINGS_DOCTYPE
from raven_ai_agent.monitor import CHECK_DOCTYPE

TICK = "raven_ai_agent.monitor.run_scheduled_check"


def rows(bench) -> list[dict]:
	return bench.execute(
		"frappe.get_all",
		doctype=CHECK_DOCTYPE,
		fields=["ok", "failing_check", "alert"],
		order_by="creation asc",
	)


def alerts(bench) -> list[dict]:
	return bench.execute(
		"frappe.get_all",
		doctype="Notification Log",
		filters={"document_type": SETTINGS_DOCTYPE, "for_user": "Administrator"},
		fields=["subject"],
		order_by="creation asc",
	)


def due_tick(bench) -> None:
	bench.execute("raven_bench_probe.api.backdate_last_check", minutes=6)
	bench.execute(TICK)


@pytest.fixture
def monitored(real_bench):
	real_bench.bench(real_bench.site, "enable-scheduler")
	admin = real_bench.login()
	saved = admin.put(
		real_bench.url(f"/api/resource/{SETTINGS_DOCTYPE}/{SETTINGS_DOCTYPE}"),
		json={"check_interval": "5 minutes"},
		timeout=60,
	)
	assert saved.status_code == 200, saved.text[-2000:]
	try:
		yield real_bench
	finally:
		real_bench.ensure_running()
		real_bench.bench(real_bench.site, "disable-scheduler")


def test_a_row_per_due_tick_one_alert_on_failure_one_on_recovery(monitored):
	before_rows, before_alerts = len(rows(monitored)), len(alerts(monitored))

	due_tick(monitored)
	monitored.execute(TICK)  # not due again yet: no row
	assert [r["ok"] for r in rows(monitored)[before_rows:]] == [1]

	monitored.stop("realtime")
	due_tick(monitored)
	due_tick(monitored)  # still failing: a row, no second alert
	monitored.start_realtime()
	due_tick(monitored)

	new = rows(monitored)[before_rows:]
	assert [r["ok"] for r in new] == [1, 0, 0, 1]
	assert new[1]["failing_check"] == "local_handshake"
	sent = alerts(monitored)[before_alerts:]
	assert len(sent) == 2, sent
	assert [bool(r["alert"]) for r in new] == [False, True, False, True]
