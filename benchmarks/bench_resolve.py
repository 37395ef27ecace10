"""Config resolution cost per call: warm (memoised) and cold (full resolution)."""

import json
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from raven_ai_agent.realtime import resolve as resolve_module  # noqa: E402

SITE = "erp.example.com"
SITE_CONFIG = {"host_name": "https://erp.example.com", "db_name": "_erp", "db_password": "x"}
COMMON = {"socketio_port": 9000, "webserver_port": 8000, "redis_queue": "redis://127.0.0.1:11000"}
SETTINGS = {"deployment_type": "Auto", "base_url": "", "socketio_path": "/socket.io/"}


def per_call_us(fn, number: int) -> float:
	"""Best of 5 repeats, in microseconds per call (best-of filters scheduler noise)."""
	return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def run() -> dict:
	resolve = resolve_module.resolve
	resolve(SITE, SITE_CONFIG, COMMON, SETTINGS)
	warm = per_call_us(lambda: resolve(SITE, SITE_CONFIG, COMMON, SETTINGS), 50_000)
	cold = per_call_us(
		lambda: resolve_module._resolve(SITE, SITE_CONFIG, COMMON, SETTINGS, resolve_module.Source.SETTINGS),
		5_000,
	)
	return {"resolve_warm_us": round(warm, 2), "resolve_cold_us": round(cold, 2)}


if __name__ == "__main__":
	result = run()
	print(
		f"config resolution: warm {result['resolve_warm_us']} µs/call, cold {result['resolve_cold_us']} µs/call"
	)
	print(json.dumps(result))
