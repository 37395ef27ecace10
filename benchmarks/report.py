"""Run every benchmark and print one Markdown table, with the targets beside the numbers.

Numbers come from this run on this machine; nothing is hard-coded but the targets.
"""

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

# (module, key, label, unit, target, comparison)
ROWS = [
	("bench_resolve", "resolve_warm_us", "config resolution, warm", "µs/call", 10, "<"),
	("bench_resolve", "resolve_cold_us", "config resolution, cold", "µs/call", None, None),
	("bench_boot", "boot_warm_cpu_us", "boot hook, cache answering from memory", "µs CPU/call", 50, "<"),
	("bench_boot", "boot_warm_queries_per_call", "boot hook, DB queries", "per call", 0, "=="),
	(
		"bench_boot",
		"boot_fresh_cache_round_trips_per_call",
		"boot hook, cache round trips (new request)",
		"per call",
		1,
		"<=",
	),
	("bench_diagnose", "diagnosis_healthy_ms", "diagnosis, healthy loopback stack", "ms", 150, "<"),
	(
		"bench_diagnose",
		"diagnosis_blackhole_ms",
		"diagnosis, never-answering endpoint",
		"ms",
		"timeout_ms+500",
		"<=",
	),
	("bench_diagnose", "timeout_ms", "diagnosis timeout used", "ms", None, None),
	(
		"bench_publish",
		"publish_overhead_ratio",
		"publish_message_created_event vs bare publish",
		"ratio",
		1.10,
		"<",
	),
	("bench_publish", "delivery_p50_ms", "delivery p50 at 500 msg/s", "ms", None, None),
	("bench_publish", "delivery_p99_ms", "delivery p99 at 500 msg/s", "ms", 20, "<"),
	("bench_publish", "max_sustained_per_s", "max sustained delivery rate", "msg/s", None, None),
	("bench_publish", "redis_publish_ceiling_per_s", "bare Redis PUBLISH (ceiling)", "msg/s", None, None),
	("bench_monitor", "report_p50_ms", "field report, server time p50 (stand-in cache)", "ms", 2, "<"),
	("bench_monitor", "report_p99_ms", "field report, server time p99 (stand-in cache)", "ms", None, None),
	(
		"bench_monitor",
		"report_round_trips",
		"field report, cache round trips (Frappe's limiter + ours)",
		"per report",
		3,
		"<=",
	),
	(
		"bench_monitor",
		"report_round_trips_limiter",
		"field report, round trips of Frappe's rate_limit",
		"per report",
		None,
		None,
	),
	(
		"bench_monitor",
		"report_round_trips_own",
		"field report, round trips of the endpoint itself",
		"per report",
		None,
		None,
	),
	(
		"bench_monitor",
		"report_round_trips_first_in_window",
		"field report, round trips, first in a limiter window",
		"per report",
		None,
		None,
	),
	(
		"bench_page",
		"page_off_gzip_bytes",
		"desk page, the app's scripts, field reports off (gzip)",
		"bytes",
		5120,
		"<=",
	),
	(
		"bench_page",
		"page_off_raw_bytes",
		"desk page, the app's scripts, field reports off (raw)",
		"bytes",
		None,
		None,
	),
	(
		"bench_page",
		"page_off_script_requests",
		"desk page, the app's script requests (cold cache)",
		"per load",
		1,
		"<=",
	),
	(
		"bench_page",
		"page_off_other_requests",
		"desk page, other requests of the app, field reports off",
		"per load",
		0,
		"==",
	),
	(
		"bench_page",
		"page_off_websockets",
		"desk page, sockets of the app, field reports off",
		"per load",
		0,
		"==",
	),
	(
		"bench_page",
		"page_on_gzip_bytes",
		"desk page, the app's scripts, field reports on (gzip)",
		"bytes",
		None,
		None,
	),
	(
		"bench_page",
		"page_on_other_requests",
		"desk page, other requests of the app, field reports on (reports)",
		"per load",
		None,
		None,
	),
	(
		"bench_page",
		"page_on_websockets",
		"desk page, sockets of the app, field reports on",
		"per load",
		0,
		"==",
	),
	(
		"bench_page",
		"form_on_demand_gzip_bytes",
		"settings form, loaded on demand (gzip, not on other pages)",
		"bytes",
		None,
		None,
	),
	("bench_monitor", "check_cpu_ms", "scheduled check, CPU, healthy stack", "ms", 200, "<"),
	("bench_monitor", "check_wall_ms", "scheduled check, wall time, healthy stack", "ms", None, None),
	("bench_monitor", "off_tick_cpu_us", "cron tick with monitoring Off, CPU", "µs", None, None),
	("bench_monitor", "off_tick_queries", "cron tick with monitoring Off, DB queries", "per tick", 0, "=="),
	(
		"bench_monitor",
		"off_tick_round_trips",
		"cron tick with monitoring Off, cache round trips",
		"per tick",
		0,
		"==",
	),
]


def _meets(value, target, op, results) -> str:
	if target is None or value is None:
		return ""
	if isinstance(target, str):  # an expression over other results, e.g. "timeout_ms+500"
		name, _, extra = target.partition("+")
		target = results.get(name, 0) + float(extra or 0)
	ok = {"<": value < target, "<=": value <= target, "==": value == target}[op]
	return ("yes" if ok else "**no**") + f" ({op} {target:g})"


def main() -> int:
	results: dict = {}
	errors: dict = {}
	for module in dict.fromkeys(row[0] for row in ROWS):
		started = time.perf_counter()
		try:
			results.update(importlib.import_module(module).run())
		except Exception as e:  # one broken benchmark must not hide the others
			errors[module] = f"{type(e).__name__}: {e}"
		print(f"ran {module} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
	cores = os.cpu_count()
	print(
		f"# raven_ai_agent benchmarks\n\n{platform.node()} · {cores} cores · Python {platform.python_version()}\n"
	)
	print("| measure | value | unit | target met |")
	print("|---|---:|---|---|")
	for module, key, label, unit, target, op in ROWS:
		value = results.get(key)
		shown = "error" if module in errors else ("—" if value is None else f"{value:g}")
		print(f"| {label} | {shown} | {unit} | {_meets(value, target, op, results)} |")
	for module, error in errors.items():
		print(f"\n{module} failed: {error}")
	out = HERE / "output"
	out.mkdir(exist_ok=True)
	(out / "report.json").write_text(
		json.dumps({"cores": cores, "results": results, "errors": errors}, indent=1)
	)
	return 1 if errors else 0


if __name__ == "__main__":
	sys.exit(main())
