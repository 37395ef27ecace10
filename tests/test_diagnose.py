"""diagnose() on the real stack: one test per failure class, each built for real.

Every test asserts which check fails first and that the hint names the cause. One stack
(Redis, web stand-in, realtime stand-in) serves the module; nginx fronts are per test.
"""

import json
import threading
import time

import pytest

from raven_ai_agent.realtime import upgrade
from raven_ai_agent.realtime.checks.delivery import PROBE_EVENT
from raven_ai_agent.realtime.diagnose import CHECKS, diagnose
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import ADMIN_SID, BlackHole, Stack, free_port

TIMEOUT = 2.0


def config_for(
	stack, deployment: str, base_url: str, *, site: str | None = None, common=None, site_config=None
):
	"""The stack's bench config with the overrides an operator would set in Raven Realtime Settings."""
	return resolve(
		site or stack.site,
		site_config or {},
		{**stack.common, **(common or {})},
		{"base_url": base_url, "deployment_type": deployment},
	)


def check(report: dict, name: str) -> dict:
	return next(c for c in report["checks"] if c["name"] == name)


def first_failure(report: dict) -> str | None:
	return next((c["name"] for c in report["checks"] if c["ok"] is False), None)


def assert_healthy(report: dict) -> None:
	failing = [(c["name"], c["detail"]) for c in report["checks"] if c["ok"] is False]
	assert report["ok"] and not failing, failing
	assert report["hint"] is None
	assert report["local_socketio_ok"] is True


def assert_shape(report: dict) -> None:
	json.dumps(report)  # JSON-serialisable
	for key in (
		"deployment_type",
		"site_name",
		"socketio_port",
		"external_socketio_url",
		"local_socketio_ok",
		"external_socketio_ok",
		"websocket_ok",
		"hint",
		"ok",
		"checks",
		"elapsed_ms",
		"config",
	):
		assert key in report, key
	assert [c["name"] for c in report["checks"]] == list(CHECKS)
	for c in report["checks"]:
		assert set(c) == {"name", "ok", "detail", "hint", "elapsed_ms"}
		assert c["ok"] in (True, False, None)
		assert (c["hint"] is not None) == (c["ok"] is False), c
	assert report["ok"] == all(c["ok"] is not False for c in report["checks"])


# ---- healthy, three deployment types ---------------------------------------------------------------


def test_healthy_local(stack):
	config = config_for(stack, "local", stack.web_url)
	assert config.get_external_socketio_url() == f"http://127.0.0.1:{stack.socketio_port}"
	report = diagnose(config, timeout=TIMEOUT)
	assert_shape(report)
	assert_healthy(report)
	assert report["external_socketio_ok"] is True and report["websocket_ok"] is True
	assert "as Guest" in check(report, "namespace")["detail"]
	assert check(report, "end_to_end")["ok"] is None  # no session given


@pytest.mark.parametrize("deployment", ["vps_prod", "sandbox"])
def test_healthy_behind_the_proxy(stack, nginx_factory, deployment):
	front = nginx_factory(stack.front_conf("healthy"))
	report = diagnose(config_for(stack, deployment, front.url), timeout=TIMEOUT)
	assert_shape(report)
	assert_healthy(report)
	assert report["deployment_type"] == deployment
	assert report["external_socketio_url"] == front.url
	assert check(report, "redis_bridge")["ok"] is True


def test_healthy_without_external_checks(stack):
	config = config_for(stack, "vps_prod", "https://erp.example.com")
	report = diagnose(config, timeout=TIMEOUT, external=False)
	assert check(report, "external_handshake")["ok"] is None
	assert check(report, "external_websocket")["ok"] is None
	assert report["external_socketio_ok"] is None and report["websocket_ok"] is None
	assert check(report, "local_handshake")["ok"] is True
	assert check(report, "sticky_session")["ok"] is True
	# The namespace check went to the local port with bench nginx's headers; the realtime
	# service then calls back to the public origin, which does not exist here: an honest failure.
	assert "Unauthorized" in check(report, "namespace")["detail"]


# ---- one test per failure class -------------------------------------------------------------------


def test_proxy_routes_everything_to_the_web_port(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("all_to_web"))
	report = diagnose(config_for(stack, "sandbox", front.url), timeout=TIMEOUT)
	assert_shape(report)
	assert first_failure(report) == "external_handshake"
	assert "Frappe's web server" in check(report, "external_handshake")["detail"]
	assert "Route /socket.io/" in report["hint"] and f"127.0.0.1:{stack.socketio_port}" in report["hint"]
	assert "socketio port" in report["hint"]
	for name in ("external_websocket", "namespace", "sticky_session"):
		assert check(report, name)["detail"] == "not reached: external_handshake failed"
	assert report["external_socketio_ok"] is False and report["local_socketio_ok"] is True


def test_proxy_without_upgrade_headers(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("no_upgrade"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "external_websocket"
	assert "Bad request" in check(report, "external_websocket")["detail"]
	assert "Upgrade" in report["hint"] and "proxy_http_version 1.1" in report["hint"]
	assert report["websocket_ok"] is False and report["external_socketio_ok"] is True
	assert check(report, "namespace")["ok"] is True  # polling still works


def test_proxy_that_sets_no_origin_fails_polling_first_browsers(stack, nginx_factory):
	"""Catalog #4: same-origin polling GETs carry no Origin; a proxy must add one."""
	front = nginx_factory(stack.front_conf("no_origin"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert_shape(report)
	assert first_failure(report) == "namespace"
	assert "without Origin" in check(report, "namespace")["detail"]
	assert "sets no Origin" in report["hint"] and "proxy_set_header Origin" in report["hint"]
	assert check(report, "external_websocket")["ok"] is True  # websocket-first clients pass


def test_local_deployment_does_not_ask_for_an_origin_less_session(stack):
	"""Local browsers reach the socketio port cross-origin: they always send Origin."""
	config = config_for(stack, "local", stack.web_url)
	assert check(diagnose(config, timeout=TIMEOUT), "namespace")["ok"] is True


def test_proxy_rewrites_host(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("rewrite_host"))
	report = diagnose(config_for(stack, "sandbox", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "namespace"
	assert "Invalid origin" in check(report, "namespace")["detail"]
	assert "Host header" in report["hint"]


def test_proxy_upstream_on_a_stale_port(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("stale_port"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "external_handshake"
	assert "HTTP 502" in check(report, "external_handshake")["detail"]
	# the local port answers, so the hint blames the proxy's upstream port, not the service
	assert "upstream port" in report["hint"] and "stale" in report["hint"]
	assert f"127.0.0.1:{stack.socketio_port}" in report["hint"]


def test_proxy_strips_the_path(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("strip_path"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "external_handshake"
	assert "404" in check(report, "external_handshake")["detail"]
	assert "path" in report["hint"]


def test_two_nodes_round_robin(stack, nginx_factory):
	node = stack.add_realtime_node()
	front = nginx_factory(stack.front_conf("round_robin", ports=[stack.realtime.port, node.port]))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "sticky_session"
	assert "Session ID unknown" in check(report, "sticky_session")["detail"]
	assert check(report, "namespace")["ok"] is None
	assert "sticky" in report["hint"] and "render nginx-vps" in report["hint"]
	# the same two nodes behind ip_hash pass
	sticky = nginx_factory(stack.front_conf("sticky", ports=[stack.realtime.port, node.port]))
	assert_healthy(diagnose(config_for(stack, "vps_prod", sticky.url), timeout=TIMEOUT))


def test_realtime_service_down(stack):
	dead = free_port()
	report = diagnose(
		config_for(stack, "local", stack.web_url, common={"socketio_port": dead}), timeout=TIMEOUT
	)
	assert first_failure(report) == "local_handshake"
	assert "connection refused" in check(report, "local_handshake")["detail"]
	assert report["hint"].startswith("Start the realtime service") and str(dead) in report["hint"]
	assert report["local_socketio_ok"] is False


def test_redis_without_a_realtime_subscriber(stack, redis_server):
	config = config_for(stack, "local", stack.web_url, common={"redis_queue": redis_server.url})
	report = diagnose(config, timeout=TIMEOUT)
	assert first_failure(report) == "redis_bridge"
	assert "0 subscribers" in check(report, "redis_bridge")["detail"]
	assert "No realtime service listens" in report["hint"]


def test_redis_unreachable(stack):
	config = config_for(
		stack, "local", stack.web_url, common={"redis_queue": f"redis://127.0.0.1:{free_port()}"}
	)
	report = diagnose(config, timeout=TIMEOUT)
	assert first_failure(report) == "redis_bridge"
	assert "unreachable" in check(report, "redis_bridge")["detail"]
	assert "drops every realtime event" in report["hint"]


def test_realtime_service_gone_with_its_redis_names_redis_first(stack):
	"""Frappe's realtime service exits when its Redis goes (a real 15.41 bench does): starting it
	alone would fail again, so the hint starts with Redis."""
	dead_redis = f"redis://127.0.0.1:{free_port()}"
	config = config_for(
		stack, "local", stack.web_url, common={"socketio_port": free_port(), "redis_queue": dead_redis}
	)
	report = diagnose(config, timeout=TIMEOUT)
	assert first_failure(report) == "local_handshake"
	assert "unreachable" in check(report, "redis_bridge")["detail"]
	assert (
		report["hint"].startswith(f"Start Redis at {dead_redis} first")
		and "then the realtime service" in report["hint"]
	)


def test_endpoint_that_never_answers(stack):
	timeout = 1.0
	with BlackHole() as hole:
		start = time.monotonic()
		report = diagnose(config_for(stack, "vps_prod", hole.url), timeout=timeout)
		elapsed = time.monotonic() - start
	assert elapsed < timeout + 0.5
	assert report["elapsed_ms"] < (timeout + 0.5) * 1000
	assert first_failure(report) == "external_handshake"
	assert "timed out" in check(report, "external_handshake")["detail"]
	assert "timed out" in report["hint"]
	assert check(report, "local_handshake")["ok"] is True


def test_realtime_port_that_never_answers(stack):
	timeout = 1.0
	with BlackHole() as hole:
		start = time.monotonic()
		report = diagnose(
			config_for(stack, "local", stack.web_url, common={"socketio_port": hole.port}), timeout=timeout
		)
		elapsed = time.monotonic() - start
	assert elapsed < timeout + 0.5
	assert first_failure(report) == "local_handshake"
	assert "timed out" in check(report, "local_handshake")["detail"]


def test_a_server_that_drips_bytes_is_cut_at_the_wall(stack):
	"""Per-operation socket timeouts never fire on a server sending a byte at a time: the wall does."""
	import socket
	import threading

	server = socket.socket()
	server.bind(("127.0.0.1", 0))
	server.listen(8)
	stop = threading.Event()

	def drip():
		server.settimeout(0.1)
		conns = []
		while not stop.is_set():
			try:
				conn, _ = server.accept()
				conns.append(conn)
			except (TimeoutError, OSError):
				pass
			for conn in conns:
				try:
					conn.send(b"H")  # an endless status line, one byte per 0.1 s
				except OSError:
					pass
		for conn in conns:
			conn.close()

	thread = threading.Thread(target=drip, daemon=True)
	thread.start()
	try:
		timeout = 1.0
		url = f"http://127.0.0.1:{server.getsockname()[1]}"
		start = time.monotonic()
		report = diagnose(config_for(stack, "vps_prod", url), timeout=timeout)
		elapsed = time.monotonic() - start
	finally:
		stop.set()
		thread.join(timeout=2)
		server.close()
	assert elapsed < timeout + 0.5
	assert first_failure(report) == "external_handshake"
	assert check(report, "external_handshake")["detail"].startswith("timed out: no result within")


def test_a_site_alias_is_named_by_the_site_that_answers(stack):
	"""Diagnosing `alias.test` on a bench whose web server is realtime.test: the web server says
	which site it is, before any namespace or session is judged against the wrong one."""
	config = config_for(stack, "local", stack.web_url, site="alias.test")
	report = diagnose(config, timeout=TIMEOUT, sid=ADMIN_SID)
	assert first_failure(report) == "web_site"
	assert "answers as site 'realtime.test', not 'alias.test'" in check(report, "web_site")["detail"]
	assert check(report, "namespace")["ok"] is None and check(report, "end_to_end")["ok"] is None
	assert "answers as site realtime.test, not alias.test" in report["hint"]


def test_27_a_web_server_pinned_to_another_site_never_passes_a_foreign_session(tmp_path):
	"""Catalog #27: two sites on one bench, the web server pinned to site A (`bench start`). Site
	B's diagnosis with A's session must not pass; with a Host-routing web server it does pass."""
	with Stack(tmp_path=tmp_path / "pinned", site="realtime.test") as pinned:
		config = resolve(
			"realtime-b.test", {}, pinned.common, {"deployment_type": "local", "base_url": pinned.web_url}
		)
		report = diagnose(config, timeout=TIMEOUT, sid=ADMIN_SID)
	assert not report["ok"] and first_failure(report) == "web_site"
	assert check(report, "end_to_end")["ok"] is None  # never a pass with another site's session
	assert "not `bench serve` pinned to default_site" in report["hint"]
	with Stack(tmp_path=tmp_path / "routed", site="realtime-b.test", web_pinned=False) as routed:
		config = resolve(
			"realtime-b.test",
			{},
			routed.common,
			{"deployment_type": "vps_prod", "base_url": routed.web_url},
		)
		report = diagnose(config, timeout=TIMEOUT, external=False, sid=ADMIN_SID)
	assert check(report, "web_site")["ok"] is True, check(report, "web_site")


def test_unauthorized_callback(stack):
	# The realtime service checks sessions by calling the page's Origin: a dead web port there.
	config = config_for(stack, "local", f"http://127.0.0.1:{free_port()}")
	report = diagnose(config, timeout=TIMEOUT)
	assert first_failure(report) == "namespace"
	assert "Unauthorized" in check(report, "namespace")["detail"]
	assert "cannot call back" in report["hint"]


def test_callback_that_hangs(stack):
	with BlackHole() as hole:
		report = diagnose(config_for(stack, "local", hole.url), timeout=1.0)
	assert first_failure(report) == "namespace"
	assert "timed out" in check(report, "namespace")["detail"]
	assert "get_user_info" in report["hint"]


def test_dns_failure():
	config = resolve(
		"realtime.test", {}, {"socketio_port": free_port()}, {"base_url": "http://no-such-host.invalid"}
	)
	report = diagnose(config, timeout=TIMEOUT, external=True)
	assert check(report, "external_handshake")["ok"] is False
	assert "DNS" in check(report, "external_handshake")["detail"]


def test_redirect_to_https(stack, nginx_factory):
	port = free_port()
	front = nginx_factory(
		f"server {{\n\tlisten 127.0.0.1:{port};\n\tlocation / {{ return 301 https://$host$request_uri; }}\n}}\n"
	)
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert first_failure(report) == "external_handshake"
	assert "redirect" in check(report, "external_handshake")["detail"]
	assert "https" in report["hint"]


# ---- config -------------------------------------------------------------------------------------------


def test_config_warning_is_the_root_cause(stack):
	config = config_for(stack, "local", stack.web_url, site_config={"socketio_port": 9999})
	report = diagnose(config, timeout=TIMEOUT)
	assert first_failure(report) == "config"
	assert "socketio_port = 9999" in report["hint"]
	assert check(report, "local_handshake")["ok"] is True


def test_stale_port_in_audited_files(stack, tmp_path):
	conf = tmp_path / "raven.conf"
	conf.write_text(
		"upstream socketio {\n\tserver 127.0.0.1:9001;\n}\nlocation /socket.io {\n\tproxy_pass http://socketio;\n}\n"
	)
	report = diagnose(config_for(stack, "local", stack.web_url), timeout=TIMEOUT, audit_paths=[conf])
	assert first_failure(report) == "config"
	assert "9001" in check(report, "config")["detail"] and "raven.conf" in report["hint"]


def test_config_warnings_argument_replaces_the_resolvers(stack):
	config = config_for(stack, "local", stack.web_url)
	report = diagnose(config, timeout=TIMEOUT, config_warnings=["socketio_port is set in the site config"])
	assert first_failure(report) == "config" and "site config" in report["hint"]


# ---- end to end -------------------------------------------------------------------------------------


def test_end_to_end_delivers_and_hides_the_sid(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("healthy"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT, sid=ADMIN_SID)
	assert_healthy(report)
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is True and "user:Administrator" in e2e["detail"] and " ms" in e2e["detail"]
	assert ADMIN_SID not in json.dumps(report)


def test_end_to_end_with_a_publish_function(stack):
	calls = []

	def publish(event, message, room):
		calls.append((event, room, threading.current_thread()))
		stack.publish(event, message, room=room)
		return True

	report = diagnose(
		config_for(stack, "local", stack.web_url),
		timeout=TIMEOUT,
		sid=ADMIN_SID,
		user="Administrator",
		user_type="System User",
		publish=publish,
	)
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is True and "doc:User/Administrator after doc_subscribe" in e2e["detail"]
	# On the caller's thread: Frappe's context (frappe.local) exists only there.
	assert {(event, thread) for event, _, thread in calls} == {(PROBE_EVENT, threading.current_thread())}
	assert {"user:Administrator", "doc:User/Administrator", "website"} <= {room for _, room, _ in calls}


def test_publish_that_raises_is_not_blamed_on_redis(stack):
	"""An exception inside the publish call names itself and where it was raised; Redis was fine."""

	def publish(event, message, user):
		raise AttributeError("site")

	report = diagnose(
		config_for(stack, "local", stack.web_url), timeout=TIMEOUT, sid=ADMIN_SID, publish=publish
	)
	assert first_failure(report) == "end_to_end"
	e2e = check(report, "end_to_end")
	assert "raised AttributeError: site" in e2e["detail"] and "test_diagnose.py" in e2e["detail"]
	assert check(report, "redis_bridge")["ok"] is True
	assert "not a Redis problem" in report["hint"] and "Redis was fine" in report["hint"]
	assert "check the Redis" not in report["hint"]


def test_no_probe_thread_outlives_the_report(stack, black_hole):
	"""In a web worker a thread left running outlives the request: the report waits for them."""
	before = {t.ident for t in threading.enumerate()}
	config = config_for(stack, "vps_prod", f"http://127.0.0.1:{black_hole.port}")
	report = diagnose(config, timeout=1.0, sid=ADMIN_SID, publish=lambda *a: True)
	assert report["external_socketio_ok"] is False
	assert report["threads_left"] == []
	left = [
		t.name for t in threading.enumerate() if t.ident not in before and t.name.startswith("raven-realtime")
	]
	assert left == []


def test_end_to_end_publish_that_reaches_nobody(stack):
	report = diagnose(
		config_for(stack, "local", stack.web_url), timeout=1.0, sid=ADMIN_SID, publish=lambda *args: True
	)
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is False and "nothing arrived" in e2e["detail"]
	assert "never delivered" in report["hint"]


def test_end_to_end_with_an_expired_session(stack):
	secret = "expired-session-0123456789abcdef"
	report = diagnose(config_for(stack, "local", stack.web_url), timeout=TIMEOUT, sid=secret)
	# The namespace check already says whom the session stands for: nobody (Guest).
	assert first_failure(report) == "namespace"
	assert "but as Guest" in check(report, "namespace")["detail"]
	assert "Log in and pass the sid cookie" in report["hint"]
	assert secret not in json.dumps(report)


# ---- robustness ---------------------------------------------------------------------------------------


def test_a_crashing_check_is_a_failed_check(stack, monkeypatch):
	def boom(*args, **kwargs):
		raise RuntimeError("probe exploded")

	monkeypatch.setattr(upgrade, "probe_websocket", boom)
	report = diagnose(config_for(stack, "local", stack.web_url), timeout=TIMEOUT)
	ws = check(report, "external_websocket")
	assert ws["ok"] is False and "RuntimeError: probe exploded" in ws["detail"]
	assert check(report, "namespace")["ok"] is True


def test_a_programming_error_in_a_probe_is_a_crash_not_a_network_finding(stack, monkeypatch):
	"""Only network errors become data; a bug says it crashed (and is not called 'no answer')."""
	from raven_ai_agent.realtime import bodies

	def broken(raw, encoding):
		raise TypeError("a bug in the body decoder")

	monkeypatch.setattr(bodies, "decode_body", broken)
	report = diagnose(config_for(stack, "local", stack.web_url), timeout=TIMEOUT)
	local = check(report, "local_handshake")
	assert local["ok"] is False and "crashed: TypeError: a bug in the body decoder" in local["detail"]
	assert "report it" in local["hint"]


@pytest.mark.parametrize(
	("timeout", "used"), [(0, 0.5), (-1, 0.5), (None, 3.0), ("x", 3.0), (float("nan"), 3.0), (1000, 30.0)]
)
def test_any_timeout_is_accepted_and_a_changed_one_is_said(timeout, used):
	config = resolve("realtime.test", {}, {"socketio_port": free_port()})
	report = diagnose(config, timeout=timeout, external=False)
	assert report["timeout"] == used
	assert report["local_socketio_ok"] is False
	if timeout is None:
		assert report["timeout_note"] is None
	else:
		assert (
			"is not a valid timeout" in report["timeout_note"]
			and f"used {used:g} s" in report["timeout_note"]
		)


def test_a_timeout_in_range_is_used_as_given():
	config = resolve("realtime.test", {}, {"socketio_port": free_port()})
	report = diagnose(config, timeout=0.7, external=False)
	assert report["timeout"] == 0.7 and report["timeout_note"] is None


# ---- catalog rows once passed as healthy ----------------------------------------------------


def rendered_front(stack, nginx_factory, tmp_path):
	"""The fix as an operator applies it: `render nginx-vps` for this stack, served by nginx."""
	port = free_port()
	config = config_for(stack, "vps_prod", f"http://127.0.0.1:{port}")
	options = {
		"upstream_host": "127.0.0.1",
		"listen": f"127.0.0.1:{port}",
		"access_log": str(tmp_path / "a.log"),
	}
	nginx_factory(render("nginx-vps", config, **options))
	return config


def test_21_a_proxy_that_drops_the_cookie_fails_a_given_session_and_names_the_hop(
	stack, nginx_factory, tmp_path
):
	"""With a session given, 'No cookie transmitted.' is an authentication failure, not 'not tested'."""
	front = nginx_factory(stack.front_conf("strip_cookie"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT, sid=ADMIN_SID)
	assert first_failure(report) == "namespace"
	assert "No cookie transmitted" in check(report, "namespace")["detail"]
	assert "accepted on the realtime port itself" in report["hint"]
	assert f"the proxy at {front.url.removeprefix('http://')} drops the Cookie header" in report["hint"]
	assert ADMIN_SID not in json.dumps(report)
	# The fix (the rendered proxy passes Cookie unchanged) turns the run green.
	assert_healthy(diagnose(rendered_front(stack, nginx_factory, tmp_path), timeout=TIMEOUT, sid=ADMIN_SID))


def test_21_without_a_session_no_cookie_is_still_only_untested(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("strip_cookie"))
	report = diagnose(config_for(stack, "vps_prod", front.url), timeout=TIMEOUT)
	assert check(report, "namespace")["ok"] is True
	assert "authentication not tested" in check(report, "namespace")["detail"]


def test_20_a_socket_taken_for_guest_is_named(stack, nginx_factory, tmp_path):
	"""Connected, no error, but deaf: the session check lost the credentials, the socket is Guest's."""
	front = nginx_factory(stack.front_conf("callback_loses_sid"))
	config = config_for(stack, "vps_prod", front.url)
	report = diagnose(config, timeout=TIMEOUT, sid=ADMIN_SID, user="Administrator", user_type="System User")
	# The namespace check sees the session come back Guest through the site, while the bench's
	# own web server knows it: the path loses the session.
	assert first_failure(report) == "namespace"
	found = check(report, "namespace")["detail"]
	assert "but as Guest" in found and "knows it as Administrator" in found
	assert "took Administrator's socket for Guest" in report["hint"] and "X-Forwarded-Proto" in report["hint"]
	fixed = rendered_front(stack, nginx_factory, tmp_path)
	assert_healthy(
		diagnose(fixed, timeout=TIMEOUT, sid=ADMIN_SID, user="Administrator", user_type="System User")
	)


def test_24_a_refused_doc_subscribe_is_named_with_the_callback_and_its_answer(stack):
	"""The user room works; the doc room Raven streams to is never joined: the callback refuses."""
	stack.web.add_session("doc-denied-sid", "Administrator", "System User", deny=["User"])
	config = config_for(stack, "local", stack.web_url)
	report = diagnose(config, timeout=TIMEOUT, sid="doc-denied-sid")
	assert first_failure(report) == "end_to_end"
	e2e = check(report, "end_to_end")
	assert "none to doc:User/Administrator after doc_subscribe" in e2e["detail"]
	assert "can_subscribe_doc answered HTTP 403" in e2e["detail"]
	assert "doc_subscribe is refused" in report["hint"] and "can_subscribe_doc" in report["hint"]
	assert "doc-denied-sid" not in json.dumps(report)
	# The fix: a session the callback allows.
	report = diagnose(config, timeout=TIMEOUT, sid=ADMIN_SID)
	assert "after doc_subscribe" in check(report, "end_to_end")["detail"]
	assert_healthy(report)


@pytest.mark.parametrize(
	("common", "words"),
	[
		({}, ("hairpin NAT", "NODE_EXTRA_CA_CERTS")),  # 18: the check's URL is unreachable from the bench
		({"developer_mode": 1}, ("developer_mode is on", "<origin host>:<webserver_port>", "v16")),  # 19
		# server_ip: no supported release reads it (15.41+ call the Origin): the hairpin fix stands
		({"server_ip": "10.9.9.9"}, ("server_ip (10.9.9.9) does not help", "hairpin NAT")),
	],
)
def test_18_19_a_failing_session_check_gets_the_fix_of_where_it_goes(stack, common, words):
	"""The callback URL is unreachable (the Origin names a closed port): the hint depends on what
	the realtime service's config says about where that check goes."""
	dead = f"http://127.0.0.1:{free_port()}"
	config = resolve(
		stack.site, {}, {**stack.common, **common}, {"deployment_type": "vps_prod", "base_url": dead}
	)
	report = diagnose(config, timeout=TIMEOUT, external=False)
	assert first_failure(report) == "namespace"
	assert "Unauthorized" in check(report, "namespace")["detail"]
	for word in words:
		assert word in report["hint"], (word, report["hint"])


def test_17_a_site_header_fixed_to_a_literal_name_is_named_with_what_was_derived(
	stack, nginx_factory, tmp_path
):
	"""With the proxy's config at hand (the bench's, or --proxy-config), the hint says which line
	fixes which header to which name, instead of blaming a Host rewrite."""
	conf = stack.front_conf("literal_site")
	front = nginx_factory(conf)
	conf_file = tmp_path / "frappe-docker.conf"
	conf_file.write_text(conf)
	config = config_for(stack, "vps_prod", front.url)
	report = diagnose(config, timeout=TIMEOUT, audit_paths=[conf_file])
	assert first_failure(report) == "namespace"
	assert f"{conf_file}:" in report["hint"] and "frontend.local" in report["hint"]
	assert "the realtime service derives 'frontend.local'" in report["hint"] and "$host" in report["hint"]
	# Without the config at hand, the hint stays the general one.
	assert "derives a site other than" in diagnose(config, timeout=TIMEOUT)["hint"]
	# The fix: headers from the request (the rendered sidecar) -> green.
	assert_healthy(diagnose(rendered_front(stack, nginx_factory, tmp_path), timeout=TIMEOUT, sid=ADMIN_SID))
