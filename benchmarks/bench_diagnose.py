"""Diagnosis wall time: on a healthy stack (behind nginx), and against an endpoint that never answers.

The second number is the guarantee that matters: a diagnosis returns within its timeout
(plus 0.5 s) however the network misbehaves.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.exists("/usr/sbin/nginx"):
	os.environ["PATH"] = "/usr/sbin:" + os.environ.get("PATH", "")

from raven_ai_agent.realtime.clients import DevServer, RavenBuild, describe_clients  # noqa: E402
from raven_ai_agent.realtime.diagnose import diagnose  # noqa: E402
from raven_ai_agent.realtime.resolve import resolve  # noqa: E402
from tests.stack import ADMIN_SID, BlackHole, Stack  # noqa: E402

RUNS = 15
BLACKHOLE_RUNS = 3
TIMEOUT = 1.0


def timed_ms(fn) -> float:
	start = time.perf_counter()
	fn()
	return (time.perf_counter() - start) * 1000


def run(runs: int = RUNS) -> dict:
	"""Median wall time of `runs` healthy diagnoses (end-to-end included), and of the black-hole case."""
	with Stack() as stack:
		front = stack.front("healthy")
		healthy = resolve(
			stack.site, {}, stack.common, {"base_url": front.url, "deployment_type": "vps_prod"}
		)
		# Two distinct client URLs: the desk through the proxy, Raven's page straight to the port.
		raven = RavenBuild(installed=True, baked_port=stack.socketio_port, source="benchmark")
		clients, notes = describe_clients(healthy, DevServer(False, "benchmark"), raven)
		kw = {"timeout": 3, "sid": ADMIN_SID, "clients": clients, "client_notes": notes}
		report = diagnose(healthy, **kw)
		if not report["ok"]:
			raise RuntimeError(f"the healthy stack did not pass: {report['hint']}")
		healthy_ms = statistics.median(timed_ms(lambda: diagnose(healthy, **kw)) for _ in range(runs))
		with BlackHole() as hole:
			dead = resolve(
				stack.site, {}, stack.common, {"base_url": hole.url, "deployment_type": "vps_prod"}
			)
			blackhole_ms = max(
				timed_ms(lambda: diagnose(dead, timeout=TIMEOUT)) for _ in range(BLACKHOLE_RUNS)
			)
	return {
		"diagnosis_healthy_ms": round(healthy_ms, 1),
		"diagnosis_blackhole_ms": round(blackhole_ms, 1),
		"timeout_ms": TIMEOUT * 1000,
	}


if __name__ == "__main__":
	result = run()
	print(
		f"diagnosis, healthy stack (every check, end-to-end and delivery to 2 client URLs included): median {result['diagnosis_healthy_ms']} ms "
		f"over {RUNS} runs"
	)
	print(
		f"diagnosis, endpoint that never answers: worst {result['diagnosis_blackhole_ms']} ms of {BLACKHOLE_RUNS} "
		f"(timeout {result['timeout_ms']:.0f} ms, bound {result['timeout_ms'] + 500:.0f} ms)"
	)
	print(json.dumps(result))
