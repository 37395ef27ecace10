"""Boot hook cost per call, on the Frappe v15 stand-in: CPU time, DB queries, cache round trips.

Two cases: warm within a request (the settings document is in the request-local cache, as
for every boot after the first `get_cached_doc`), and a fresh request per call (one cache
round trip to fetch the document).
"""

import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "frappe_standin")]

import frappe  # noqa: E402  (the stand-in)
from frappe import standin  # noqa: E402

from raven_ai_agent.boot import extend_bootinfo  # noqa: E402
from raven_ai_agent.install import after_install  # noqa: E402

SITE = "erp.example.com"
USER = "staff@example.com"


def _setup() -> None:
	standin.reset(
		site=SITE,
		site_config={"host_name": "https://erp.example.com"},
		common_site_config={"socketio_port": 9000, "webserver_port": 8000},
	)
	after_install()
	frappe.db.commit()
	standin.create_user(USER, roles=["Sales User"])


def _cpu_us_per_call(calls: int) -> float:
	bootinfo = frappe._dict()
	start = time.process_time()
	for _ in range(calls):
		extend_bootinfo(bootinfo)
	return (time.process_time() - start) / calls * 1e6


def run(calls: int = 20_000) -> dict:
	_setup()
	with standin.request("GET", user=USER):
		extend_bootinfo(frappe._dict())  # warm
		standin.reset_counters()
		warm_us = min(_cpu_us_per_call(calls) for _ in range(3))
		warm_queries = standin.query_count() / (3 * calls)
		warm_round_trips = standin.cache_round_trips() / (3 * calls)
	fresh, queries, round_trips, cpu = 500, 0, 0, 0.0
	for _ in range(fresh):
		with standin.request("GET", user=USER):
			standin.reset_counters()
			start = time.process_time()
			extend_bootinfo(frappe._dict())
			cpu += time.process_time() - start
			queries += standin.query_count()
			round_trips += standin.cache_round_trips()
	fresh_us = cpu / fresh * 1e6
	fresh_queries = queries / fresh
	fresh_round_trips = round_trips / fresh
	frappe.destroy()
	return {
		"boot_warm_cpu_us": round(warm_us, 2),
		"boot_warm_queries_per_call": warm_queries,
		"boot_warm_cache_round_trips_per_call": warm_round_trips,
		"boot_fresh_request_cpu_us": round(fresh_us, 1),
		"boot_fresh_queries_per_call": fresh_queries,
		"boot_fresh_cache_round_trips_per_call": fresh_round_trips,
	}


if __name__ == "__main__":
	r = run()
	print(
		f"boot hook: warm {r['boot_warm_cpu_us']} µs CPU/call, "
		f"{r['boot_warm_queries_per_call']} queries, {r['boot_warm_cache_round_trips_per_call']} cache round trips; "
		f"fresh request: {r['boot_fresh_queries_per_call']} queries, "
		f"{r['boot_fresh_cache_round_trips_per_call']} cache round trips per call"
	)
	print(json.dumps(r))
