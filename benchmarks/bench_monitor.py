"""Realtime health over time, on the Frappe v15 stand-in and the real-services stack:

- the field-report endpoint (field reports on): server time per report (p50, p99) with Frappe's
  rate limiter, and the Redis cache round trips of one report (the limiter's and ours; the
  setting is re-read at most every ENABLED_MEMO_SECONDS per worker, not per report);
- the scheduled check: CPU time of one run on a healthy stack (probes, row, state);
- a cron tick with monitoring Off: CPU, DB queries and cache round trips.

The stand-in's cache is in memory: round trips are counted, not timed; server time excludes the
network hop to Redis (about 0.1 ms each on loopback).
"""

import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "frappe_standin")]

import frappe  # noqa: E402  (the stand-in)
from frappe import standin  # noqa: E402

from raven_ai_agent.api.field import report_connection  # noqa: E402
from raven_ai_agent.config import SETTINGS_DOCTYPE  # noqa: E402
from raven_ai_agent.install import after_install  # noqa: E402
from raven_ai_agent.monitor import run_check, run_scheduled_check  # noqa: E402
from tests.stack.stack import Stack  # noqa: E402
from tests.test_shell_live import install_site_on  # noqa: E402

USER = "staff@example.com"
CMD = "raven_ai_agent.api.field.report_connection"
FORM = {"socket": "desk", "event": "disconnect", "reason": "transport close"}


def _report_once(ip: str) -> tuple[float, int, int]:
	"""Server time (s), cache round trips, and those of Frappe's rate limiter, of one report in
	a request of its own."""
	with standin.request(
		"POST",
		user=USER,
		path=f"/api/method/{CMD}",
		form={**FORM, "cmd": CMD},
		headers={"X-Forwarded-For": ip},
	):
		standin.reset_counters()
		start = time.perf_counter()
		report_connection(**FORM)
		elapsed = time.perf_counter() - start
		commands = standin.cache_commands()
	limiter = sum(1 for c in commands if c[0] != "PIPELINE" and b"|rl:" in c[1])
	return elapsed, len(commands), limiter


def bench_report(calls: int = 3000) -> dict:
	standin.reset(apps=("raven_ai_agent",))
	after_install()
	settings = frappe.get_single(SETTINGS_DOCTYPE)
	settings.field_reports = 1  # off by default: the endpoint would refuse every report
	settings.save(ignore_permissions=True)
	frappe.db.commit()
	standin.create_user(USER, roles=["Sales User"])
	for i in range(50):  # warm imports and caches
		_report_once(f"10.1.{i}.1")
	first = _report_once("10.9.9.9")[1]  # the limiter's first request of a window also SETEXes
	times, trips, limiter = [], [], []
	for i in range(calls):
		elapsed, n, by_limiter = _report_once(f"10.2.{i // 100}.1")  # 100 per address: within the limit
		times.append(elapsed * 1000)
		trips.append(n)
		limiter.append(by_limiter)
	times.sort()
	frappe.destroy()
	return {
		"report_p50_ms": round(statistics.median(times), 3),
		"report_p99_ms": round(times[int(len(times) * 0.99)], 3),
		"report_round_trips": statistics.mode(trips),
		"report_round_trips_limiter": statistics.mode(limiter),
		"report_round_trips_own": statistics.mode(t - n for t, n in zip(trips, limiter, strict=True)),
		"report_round_trips_first_in_window": first,
	}


def bench_check(runs: int = 5) -> dict:
	with Stack() as stack:
		install_site_on(stack)  # a local site served by `bench start`: desk connects to the port
		cpu, wall = [], []
		for _ in range(runs):
			with standin.background():
				c0, w0 = time.process_time(), time.perf_counter()
				row = run_check()
				cpu.append((time.process_time() - c0) * 1000)
				wall.append((time.perf_counter() - w0) * 1000)
				assert row and row["ok"] == 1, row
		with standin.background():
			doc = frappe.get_single(SETTINGS_DOCTYPE)
			doc.check_interval = "Off"
			doc.save(ignore_permissions=True)
			frappe.db.commit()
		with standin.background():
			frappe.get_cached_doc(SETTINGS_DOCTYPE)  # every tick after the first finds it cached
			standin.reset_counters()
			c0 = time.process_time()
			for _ in range(1000):
				run_scheduled_check()
			off_us = (time.process_time() - c0) / 1000 * 1e6
			off_queries, off_trips = standin.query_count() / 1000, standin.cache_round_trips() / 1000
		frappe.destroy()
	return {
		"check_cpu_ms": round(statistics.median(cpu), 1),
		"check_wall_ms": round(statistics.median(wall), 1),
		"off_tick_cpu_us": round(off_us, 1),
		"off_tick_queries": off_queries,
		"off_tick_round_trips": off_trips,
	}


def run() -> dict:
	return {**bench_report(), **bench_check()}


if __name__ == "__main__":
	print(json.dumps(run(), indent=1))
