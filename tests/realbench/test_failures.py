"""Failures injected on the real processes, each named by the diagnosis with the hint the
stand-in tests expect (tests/test_diagnose.py): the stand-ins are held to the real thing here.

Every test puts the bench back as it found it (config and processes), even when it fails.
"""

import json

import pytest

from tests.stack import topologies
from tests.stack.services import Nginx

from .report import check, diagnose, first_failure

FRONT_PORT = 80  # free in the suite's own network namespace


@pytest.fixture
def healthy(real_bench):
	with real_bench.changes():
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
	"""The real service exits with its Redis (the stand-in does not): the hint says Redis first."""
	healthy.redis_queue.stop()
	realtime = healthy.procs["realtime"]
	realtime.proc.wait(timeout=30)
	report = diagnose(healthy)
	assert first_failure(report) == "local_handshake"
	assert "unreachable" in check(report, "redis_bridge")["detail"]
	assert (
		report["hint"].startswith(f"Start Redis at {healthy.redis_queue.url}")
		and "drops every realtime event" in report["hint"]
	)


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
