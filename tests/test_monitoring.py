"""The pure rules of scheduled checks: when one is due, the row a report becomes, when to alert."""

from datetime import datetime, timedelta

import pytest

from raven_ai_agent.realtime.alerting import FAILING, HEALTHY, QUIET, RECOVERED, decide
from raven_ai_agent.realtime.monitoring import (
	DEFAULT_INTERVAL,
	INTERVALS,
	JOB_FAILED,
	check_row,
	failed_run_row,
	interval_minutes,
	is_due,
	lock_seconds,
)

NOW = datetime(2026, 11, 30, 12, 0, 0)


def test_off_is_never_due_and_unknown_values_mean_the_default():
	assert not is_due("Off", None, NOW)
	assert interval_minutes(None) == interval_minutes("") == interval_minutes("7 minutes") == 15
	assert DEFAULT_INTERVAL == "15 minutes" and list(INTERVALS) == [
		"Off",
		"5 minutes",
		"15 minutes",
		"60 minutes",
	]


@pytest.mark.parametrize(
	"interval, minutes_ago, due",
	[
		("5 minutes", None, True),
		("5 minutes", 5, True),
		("5 minutes", 3.6, True),  # a tick that ran a little late must not skip a whole interval
		("5 minutes", 2, False),
		("15 minutes", 10, False),
		("15 minutes", 14, True),
		("60 minutes", 55, False),
		("60 minutes", 60, True),
	],
)
def test_due_once_per_interval(interval, minutes_ago, due):
	last = None if minutes_ago is None else NOW - timedelta(minutes=minutes_ago)
	assert is_due(interval, last, NOW) is due


def test_the_lock_outlives_the_bounded_diagnosis_but_not_by_much():
	assert lock_seconds(3) == 34
	assert lock_seconds(None) == lock_seconds(3.0)
	assert lock_seconds(30) == 61


def test_a_report_becomes_a_row_with_the_first_failing_check_and_per_check_times():
	report = {
		"ok": False,
		"hint": "Start the realtime service.",
		"elapsed_ms": 812.34,
		"checks": [
			{"name": "config", "ok": True, "elapsed_ms": 1.04},
			{"name": "local_handshake", "ok": False, "elapsed_ms": 3.0},
			{"name": "end_to_end", "ok": None, "elapsed_ms": 0.0},
		],
	}
	assert check_row(report) == {
		"ok": 0,
		"failing_check": "local_handshake",
		"hint": "Start the realtime service.",
		"total_ms": 812.3,
		"check_ms": {"config": 1.0, "local_handshake": 3.0},
	}
	healthy = check_row({"ok": True, "hint": None, "elapsed_ms": 5, "checks": []})
	assert healthy["ok"] == 1 and healthy["failing_check"] is None and healthy["hint"] is None


def test_a_check_that_raised_is_a_failing_row_naming_the_job():
	row = failed_run_row(TimeoutError("Task exceeded maximum timeout value (300 seconds)"), 300000.04)
	assert row["ok"] == 0 and row["failing_check"] == JOB_FAILED and row["total_ms"] == 300000.0
	assert "did not finish (TimeoutError: Task exceeded" in row["hint"]


def test_alerts_only_on_changes():
	first = decide(None, True, None, NOW)
	assert first.alert is None and first.state == HEALTHY
	broke = decide(HEALTHY, False, None, NOW)
	assert broke.alert == FAILING and broke.state == FAILING and broke.failure_alert_on == NOW
	still = decide(FAILING, False, NOW, NOW + timedelta(minutes=5))
	assert still.alert is None and still.state == FAILING
	back = decide(FAILING, True, NOW, NOW + timedelta(minutes=10))
	assert back.alert == RECOVERED and back.state == HEALTHY


def test_a_flapping_path_alerts_at_most_once_per_quiet_period():
	told, alert_on, alerts = None, None, []
	for minute in range(0, 120, 5):  # fails and recovers on every other check for two hours
		decision = decide(told, minute % 10 != 0, alert_on, NOW + timedelta(minutes=minute))
		told, alert_on = decision.state, decision.failure_alert_on
		if decision.alert:
			alerts.append((minute, decision.alert))
	failures = [m for m, a in alerts if a == FAILING]
	assert failures == [0, 60] and QUIET == timedelta(minutes=60)
	assert [a for _m, a in alerts] == [FAILING, RECOVERED, FAILING, RECOVERED]


def test_a_failure_that_outlasts_a_suppressed_flap_is_still_told():
	alert_on = NOW
	late = decide(HEALTHY, False, alert_on, NOW + timedelta(minutes=30))
	assert late.alert is None and late.state == HEALTHY
	later = decide(late.state, False, alert_on, NOW + timedelta(minutes=60))
	assert later.alert == FAILING
