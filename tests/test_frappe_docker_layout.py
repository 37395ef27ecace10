"""frappe_docker's split layout in network namespaces (tests/stack/frappe_docker.py), diagnosed
from the backend container: healthy green, and each failure its users hit named with the fix in
frappe_docker's own terms. Namespaces that cannot be made fail these tests (NetnsError), never
skip them; every namespace is removed when a test ends, passed or failed."""

import socket
import subprocess
import threading

import pytest

from tests.stack.frappe_docker import SITE, FrappeDockerLayout
from tests.stack.netns import PREFIX, Namespaces, Relay, require_netns

ADDRESS_ENV = {"RAVEN_REALTIME_INTERNAL_URL": "websocket:9000"}


def checks_of(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


def our_namespaces() -> list[str]:
	listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
	return [line.split()[0] for line in listed.splitlines() if line.startswith(PREFIX)]


@pytest.fixture(autouse=True)
def no_namespace_left():
	"""Every namespace a test made is gone after it, whatever the test did."""
	before = set(our_namespaces())
	yield
	assert set(our_namespaces()) <= before


def test_namespaces_can_be_made_here():
	require_netns()  # raises NetnsError (a failure, not a skip) on a machine without them


def test_namespaces_are_removed_when_the_body_fails():
	with pytest.raises(RuntimeError, match="boom"):
		with Namespaces(["a", "b"]) as spaces:
			assert spaces.accepts("a", "b", 1) is False  # b is reachable, nothing listens on port 1
			made = [spaces.ns("a"), spaces.ns("b"), spaces.switch]
			assert set(made) <= set(our_namespaces())
			raise RuntimeError("boom")
	assert not set(made) & set(our_namespaces())


def test_names_resolve_per_namespace_and_nothing_reaches_the_host():
	with Namespaces(["a", "b"], hosts={"a": {"site.test": "b"}}) as spaces:
		resolved = spaces.run("a", ["getent", "hosts", "site.test"])
		assert resolved.stdout.split()[0] == spaces.addresses["b"]
		assert spaces.run("b", ["getent", "hosts", "site.test"]).returncode != 0
		routes = spaces.run("a", ["ip", "route"]).stdout
		assert "default" not in routes  # only the namespaces' own /24


def test_relay_reaches_a_service_of_the_tests_namespace_by_name():
	"""The real bench's MariaDB listens on the suite's loopback; containers reach it as `db`."""
	with socket.create_server(("127.0.0.1", 0)) as upstream:

		def answer_once():
			conn, _ = upstream.accept()
			with conn:
				conn.sendall(conn.recv(64).upper())

		threading.Thread(target=answer_once, daemon=True).start()
		with Namespaces(["db", "backend"]) as spaces, Relay(spaces, "db", 3306, upstream.getsockname()):
			code = "import socket; s = socket.create_connection(('db', 3306), timeout=5); s.sendall(b'ping'); print(s.recv(64).decode())"
			relayed = spaces.run("backend", ["python3", "-c", code])
			assert relayed.stdout.strip() == "PING", relayed.stderr
			assert not spaces.accepts("backend", "db", 3307)  # only the relayed port


def test_healthy_split_layout_is_green_from_the_backend_without_an_address():
	with FrappeDockerLayout() as layout:
		code, report = layout.diagnose()
	checks = checks_of(report)
	assert code == 0 and report["ok"] is True, report["hint"]
	assert checks["end_to_end"]["ok"] is True
	local = checks["local_handshake"]
	assert local["ok"] is None
	assert "The realtime service is not on this host" in local["detail"]
	assert "an event was delivered" in local["detail"]
	assert "websocket:9000" in local["detail"] and "RAVEN_REALTIME_INTERNAL_URL" in local["detail"]
	assert "run `bench start`" not in local["detail"]


def test_healthy_split_layout_with_the_address_probes_the_websocket_container():
	with FrappeDockerLayout() as layout:
		code, report = layout.diagnose(env=ADDRESS_ENV)
		_, by_option = layout.diagnose("--realtime-address", "websocket:9000")
	assert code == 0 and report["ok"] is True, report["hint"]
	local = checks_of(report)["local_handshake"]
	assert local["ok"] is True and local["detail"].startswith("http://websocket:9000/socket.io/")
	assert report["config"]["sources"]["realtime_address"] == "environment"
	assert by_option["ok"] is True
	assert by_option["config"]["sources"]["realtime_address"] == "command line"


def test_websocket_container_down():
	with FrappeDockerLayout() as layout:
		layout.stop("websocket")
		code, report = layout.diagnose(env=ADDRESS_ENV)
		_, without_address = layout.diagnose()
	checks = checks_of(report)
	assert code == 1
	assert checks["local_handshake"]["ok"] is False
	assert "docker compose up -d websocket" in report["hint"]
	assert "502" in checks["external_handshake"]["detail"]
	assert "docker compose up -d websocket" in checks["external_handshake"]["hint"]
	# Without the address the public path fails too: not "not on this host", still the compose fix.
	assert without_address["ok"] is False
	local = checks_of(without_address)["local_handshake"]
	assert local["ok"] is False and "docker compose up -d websocket" in local["hint"]
	assert (
		"run `bench start`" not in without_address["hint"]
		and "Start the realtime" not in without_address["hint"]
	)


def test_frontend_upstream_wrong():
	with FrappeDockerLayout(frontend_env={"SOCKETIO": "websocket:9001"}) as layout:
		code, report = layout.diagnose(env=ADDRESS_ENV)
	checks = checks_of(report)
	assert code == 1
	assert checks["local_handshake"]["ok"] is True
	assert checks["external_handshake"]["ok"] is False
	assert "SOCKETIO: websocket:9000" in report["hint"] and "frontend" in report["hint"]


def test_frontend_sends_the_socket_to_the_backend():
	with FrappeDockerLayout(frontend_env={"SOCKETIO": "backend:8000"}) as layout:
		_, report = layout.diagnose(env=ADDRESS_ENV)
	assert checks_of(report)["external_handshake"]["ok"] is False
	assert "SOCKETIO: websocket:9000" in report["hint"] and "names the backend" in report["hint"]


def test_site_name_header_wrong():
	with FrappeDockerLayout(frontend_env={"FRAPPE_SITE_NAME_HEADER": "other.test"}) as layout:
		code, report = layout.diagnose(env=ADDRESS_ENV)
	assert code == 1
	assert f"FRAPPE_SITE_NAME_HEADER: {SITE}" in report["hint"]
	failing = [c["name"] for c in report["checks"] if c["ok"] is False]
	assert "web_site" in failing or "namespace" in failing


def test_callback_name_unresolvable_in_the_websocket_container():
	with FrappeDockerLayout(callback_resolves=False) as layout:
		assert layout.spaces.run("websocket", ["getent", "hosts", SITE]).returncode != 0
		assert layout.spaces.run("backend", ["getent", "hosts", SITE]).returncode == 0
		code, report = layout.diagnose(env=ADDRESS_ENV)
	checks = checks_of(report)
	assert code == 1
	assert checks["namespace"]["ok"] is False and "Unauthorized" in checks["namespace"]["detail"]
	assert "extra_hosts" in report["hint"] and f"{SITE}:host-gateway" in report["hint"]
	assert "websocket" in report["hint"]


def test_scheduled_check_in_the_split_layout_never_alerts_when_healthy():
	"""The scheduled check (as a worker container runs it): healthy without an address (not on this host) and with
	it, no alert; the websocket container stopped: a failing row and one alert."""
	with FrappeDockerLayout() as layout:
		healthy = layout.scheduled_check()
		addressed = layout.scheduled_check(env=ADDRESS_ENV)
		layout.stop("websocket")
		down = layout.scheduled_check(env=ADDRESS_ENV)
		still_down = layout.scheduled_check(env=ADDRESS_ENV, told="failing")
	assert healthy["row"]["ok"] == 1 and healthy["alert"] is None, healthy["row"]
	assert checks_of(healthy["report"])["end_to_end"]["ok"] is True  # delivered as Guest, site-wide
	assert addressed["row"]["ok"] == 1 and addressed["alert"] is None
	assert down["row"]["ok"] == 0 and down["alert"] == "failing"
	assert "docker compose up -d websocket" in down["row"]["hint"]
	assert still_down["alert"] is None  # told once, not every interval
