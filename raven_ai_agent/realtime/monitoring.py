"""Scheduled checks: when one is due, how long its lock lives, and the row a diagnosis becomes.

The Frappe shell (raven_ai_agent/monitor.py) runs from a cron tick every few minutes; whether a
check is due is decided here from the interval the operator chose and the last check's time,
so the tick itself costs nothing when monitoring is Off. No frappe import.
"""

import math
from datetime import datetime, timedelta

from raven_ai_agent.realtime.constants import DEFAULT_PROBE_TIMEOUT

OFF = "Off"
# The Select options of Raven Realtime Settings' Check Interval, and their minutes.
INTERVALS = {OFF: 0, "5 minutes": 5, "15 minutes": 15, "60 minutes": 60}
DEFAULT_INTERVAL = "15 minutes"
# Cron ticks drift by the scheduler's own tick (60 s in Frappe v15) and by the queue's wait: a
# check that ran a little late must not make the next tick skip a whole interval.
DUE_SLACK = timedelta(seconds=90)
# Past the diagnosis' own bound (timeout + its grace and join time), how long the lock may
# outlive a worker that died without releasing it (killed by RQ or the OOM killer).
LOCK_MARGIN_SECONDS = 30
# Names of the rows' failing check when the diagnosis itself could not report.
JOB_FAILED = "scheduled_job"


def interval_minutes(value: str | None) -> int:
	"""Minutes between checks for a stored Check Interval (unknown or empty: the default)."""
	return INTERVALS.get(value or DEFAULT_INTERVAL, INTERVALS[DEFAULT_INTERVAL])


def is_due(interval: str | None, last_check: datetime | None, now: datetime) -> bool:
	"""Whether a scheduled check should run now: never when Off, else once per interval."""
	minutes = interval_minutes(interval)
	if not minutes:
		return False
	if last_check is None:
		return True
	return now - last_check >= timedelta(minutes=minutes) - DUE_SLACK


def lock_seconds(timeout: float | None) -> int:
	"""How long the run lock lives: the diagnosis is bounded by its timeout plus well under a
	second, so a lock older than this belongs to a worker that died."""
	return math.ceil((timeout or DEFAULT_PROBE_TIMEOUT) + 1) + LOCK_MARGIN_SECONDS


def check_row(report: dict) -> dict:
	"""The fields of one Raven Realtime Check row, from a diagnosis report.

	Per-check milliseconds keep only checks that ran (skipped ones have no time worth a chart).
	"""
	failing = next((c for c in report.get("checks", ()) if c.get("ok") is False), None)
	per_check = {
		c["name"]: round(float(c.get("elapsed_ms") or 0.0), 1)
		for c in report.get("checks", ())
		if c.get("ok") is not None
	}
	return {
		"ok": 1 if report.get("ok") else 0,
		"failing_check": failing["name"] if failing else None,
		"hint": report.get("hint") if failing else None,
		"total_ms": round(float(report.get("elapsed_ms") or 0.0), 1),
		"check_ms": per_check,
	}


def failed_run_row(error: BaseException, elapsed_ms: float) -> dict:
	"""The row of a check that raised instead of reporting (a job timeout, a crash): failing,
	named, so the history shows the gap instead of hiding it."""
	text = f"{type(error).__name__}: {error}".strip().rstrip(":")
	return {
		"ok": 0,
		"failing_check": JOB_FAILED,
		"hint": f"The scheduled check did not finish ({text}); see the Error Log.",
		"total_ms": round(elapsed_ms, 1),
		"check_ms": {},
	}
