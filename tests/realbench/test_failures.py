"""Failures injected on the real processes, each named by the diagnosis with the hint the
stand-in tests expect (tests/test_diagnose.py): the stand-ins are held to the real thing here.

Every test puts the bench back as it found it (config and processes), even when it fails.
"""

import contextlib
import json

import pytest

from tests.stack import topologies
from tests.stack.services import Nginx

from .session import RealBench

FRONT_PORT = 80  # free in the suite's own network namespace


def diagnose(bench: RealBench, *args: str, **env) -> dict:
	"""`bench --site ... raven-realtime diagnose --json`: the report (exit 0 healthy, 1 a problem)."""
	result = bench.bench(bench.site, "raven-realtime", "diagnose", "--json", *args, check=False, **env)
	assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
	return json.loads(result.stdout[result.stdout.index("{") :])


def first_failure(report: dict) -> str | None:
	return next((c["name"] for c in report["checks"] if c["ok"] is False), None)


def check(report: dict, name: str) -> dict:
	return next(c for c in report["checks"] if c["name"] == name)


@contextlib.contextmanager
def restored(bench: RealBench):
	"""Whatever a test changes, the next one starts from the healthy bench-start layout."""
	try:
		yield
	finally:
		bench.write_config(socketio_port=bench.socketio_port)
		for site in (bench.site, bench.other_site):
			bench.host.update_json(bench.host.site_config_path(site), {"host_name": bench.url(site=site)})
		if not bench.redis_queue.running:
			bench.redis_queue.start()
		bench.ensure_running()


@pytest.fixture
def healthy(real_bench):
	with restored(real_bench):
		yield real_bench


def test_the_healthy_bench_start_layout_passes(healthy):
	report = diagnose(healthy)
	assert report["ok"] is True, json.dumps(report, indent=1)[-3000:]


def test_realtime_stopped(healthy):
	healthy.stop("realtime")
	report = diagnose(healthy)
	assert first_failure(report) == "local_handshake"
	assert "connection refused" in check(report, "local_handshake")["detail"]
	assert (
		report["hint"].startswith("Start the realtime service")
		and str(healthy.socketio_port) in report["hint"]
	)


def test_wrong_socketio_port(healthy):
	"""common_site_config says 9100 while the realtime service still listens on 9000 (not restarted)."""
	healthy.write_config(socketio_port=9100)
	report = diagnose(healthy)
	assert first_failure(report) == "local_handshake"
	assert "9100" in report["hint"]


def test_redis_for_events_stopped(healthy):
	healthy.redis_queue.stop()
	report = diagnose(healthy)
	assert first_failure(report) == "redis_bridge"
	assert "unreachable" in check(report, "redis_bridge")["detail"]
	assert "drops every realtime event" in report["hint"]


def test_nginx_in_front_without_the_upgrade_headers(healthy):
	conf = topologies.render(
		"no_upgrade", FRONT_PORT, healthy.web_port, healthy.socketio_port, site=healthy.site
	)
	with Nginx(conf):
		healthy.host.update_json(
			healthy.host.site_config_path(healthy.site), {"host_name": f"http://{healthy.site}"}
		)
		report = diagnose(healthy)
	assert first_failure(report) == "external_websocket"
	assert "Bad request" in check(report, "external_websocket")["detail"]
	assert "Upgrade" in report["hint"] and "proxy_http_version 1.1" in report["hint"]


def test_dev_server_off_on_a_local_config(healthy):
	"""gunicorn without DEV_SERVER (as supervisor runs it) and no proxy: the desk opens its own
	origin's /socket.io/, which Frappe's web server answers with its 404 page."""
	healthy.start_web(dev_server=False)
	report = diagnose(healthy)
	assert first_failure(report) == "client_paths"
	assert "DEV_SERVER" in report["hint"]
