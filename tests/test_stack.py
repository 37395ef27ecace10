"""The stand-ins answer like a real Frappe 15.41 bench (tests/fixtures), and the harness
around them works: every probe here runs against real processes on loopback ports."""

import json
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.recorded import WIRE
from tests.stack import (
	ADMIN_SID,
	WEBSITE_SID,
	BlackHole,
	Nginx,
	PollingClient,
	RealtimeServer,
	RedisServer,
	ServiceError,
	SocketIOClient,
	WebStandin,
	free_port,
	make_bench,
	mask_sids,
	nginx_test,
	wait_until,
	websocket_accept,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE = "realtime.test"


def same(res: requests.Response, name: str, *, body: str | None = None) -> None:
	"""Status, content type and (sid-masked) body equal the fixture entry `name`."""
	want = WIRE[name]
	assert res.status_code == want["status"], (name, res.status_code, res.text)
	assert res.headers.get("content-type") == want["content_type"], (name, res.headers)
	got = res.text if body is None else body
	assert mask_sids(got) == mask_sids(want["body"]), name


def packets(body: str) -> list[str]:
	return body.split("\x1e") if body else []


@pytest.fixture
def probe(stack):
	"""A polling client factory aimed at the realtime port; Origin is the web stand-in, as a
	browser on the bench's web port would send it."""
	clients = []

	def make(
		headers: dict | None = None, origin: str | None = "web", cookie: str | None = f"sid={ADMIN_SID}"
	):
		h = {}
		if origin == "web":
			h["Origin"] = stack.web_url
		elif origin is not None:
			h["Origin"] = origin
		if cookie is not None:
			h["Cookie"] = cookie
		h.update(headers or {})
		client = PollingClient(stack.realtime_url, h)
		clients.append(client)
		return client

	yield make
	for client in clients:
		client.close()


# ---- Engine.IO handshake and errors ------------------------------------------------------


def test_handshake_polling(probe):
	res = probe().handshake()
	same(res, "handshake_polling")
	opened = json.loads(res.text[1:])
	assert len(opened["sid"]) == 20


def test_engineio_errors(stack):
	base = stack.realtime_url + "/socket.io/"
	same(requests.get(base + "?EIO=4&transport=polling&sid=nope", timeout=5), "session_id_unknown_get")
	same(
		requests.post(base + "?EIO=4&transport=polling&sid=nope", data="40", timeout=5),
		"session_id_unknown_post",
	)
	same(requests.get(base + "?EIO=4&transport=carrier-pigeon", timeout=5), "transport_unknown")
	same(requests.get(base + "?EIO=4", timeout=5), "missing_transport")
	same(requests.get(base + "?EIO=3&transport=polling", timeout=5), "eio3_handshake")
	same(requests.get(base + "?EIO=4&transport=websocket", timeout=5), "websocket_without_upgrade_headers")


def test_non_socketio_path_on_realtime_port(stack):
	res = requests.get(stack.realtime_url + "/api/method/ping", timeout=5)
	same(res, "non_socketio_path_on_realtime_port")


def test_websocket_upgrade_raw_response(stack):
	want = WIRE["websocket_upgrade_raw_response"]
	key = want["request_key"]
	request = (
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
		f"Host: 127.0.0.1:{stack.realtime.port}\r\n"
		"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
		f"Sec-WebSocket-Key: {key}\r\nOrigin: {stack.web_url}\r\n\r\n"
	)
	with socket.create_connection(("127.0.0.1", stack.realtime.port), timeout=5) as sock:
		sock.sendall(request.encode())
		data = b""
		while b"\r\n\r\n" not in data:
			chunk = sock.recv(4096)
			assert chunk, "connection closed before the response head"
			data += chunk
	head = data.split(b"\r\n\r\n", 1)[0].decode()
	# Same head line for line; only the echoed Origin differs (the fixture's web port was 8000).
	expected = want["head"].replace("http://127.0.0.1:8000", stack.web_url)
	assert head == expected
	assert f"Sec-WebSocket-Accept: {websocket_accept(key)}" in head


# ---- the authenticate middleware -----------------------------------------------------------


def test_connect_ok(probe):
	client = probe()
	client.handshake()
	post, get = client.connect(SITE)
	same(post, "connect_ok_post")
	same(get, "connect_ok")


@pytest.mark.parametrize(
	("name", "kwargs"),
	[
		("connect_no_cookie", {"cookie": None}),
		("connect_cookie_without_sid", {"cookie": "system_user=yes; full_name=Administrator"}),
		("connect_invalid_origin", {"origin": "http://evil.example:8000"}),
		("connect_missing_origin", {"origin": None}),
		("connect_bogus_sid", {"cookie": "sid=no-such-session"}),
		("connect_unauthorized_callback_refused", {"origin": "http://127.0.0.1:1"}),
	],
)
def test_connect_rejections_match_fixture(probe, name, kwargs):
	client = probe(**kwargs)
	client.handshake()
	_post, get = client.connect(SITE)
	same(get, name)


def test_connect_invalid_namespace_no_cookie(probe):
	client = probe(cookie=None)
	client.handshake()
	_post, get = client.connect("wrong.site")
	same(get, "connect_invalid_namespace_no_cookie")


def test_connect_invalid_namespace_with_cookie(probe):
	"""No early return after "Invalid namespace": the auth callback still runs and may
	connect the socket afterwards (a 40 in this or the next poll)."""
	client = probe()
	client.handshake()
	_post, get = client.connect("wrong.site")
	got = packets(get.text)
	want = WIRE["connect_invalid_namespace_with_cookie"]["body"]
	assert (get.status_code, get.headers["content-type"]) == (200, "text/plain; charset=UTF-8")
	assert got[0] == want
	if len(got) == 1:
		got += packets(client.get().text)
	assert mask_sids(got[1]) == '40/wrong.site,{"sid":"<sid>"}'


def test_checks_read_the_handshake_request_headers(stack, probe):
	"""Headers on the CONNECT request don't count: only the Engine.IO session's first request."""
	client = probe(origin=None, cookie=None)
	client.handshake()
	client.headers.update({"Origin": stack.web_url, "Cookie": f"sid={ADMIN_SID}"})
	_post, get = client.connect(SITE)
	assert get.text == f'44/{SITE},{{"message":"Invalid origin"}}'


def test_auth_callback_sends_sid_as_query(stack, probe):
	"""v15 passes the session as `?sid=` (superagent .query), not as a Cookie header."""
	client = probe(cookie=f"sid={ADMIN_SID}; lang=en")
	client.handshake()
	client.connect(SITE)
	calls = stack.web.requests("/api/method/frappe.realtime.get_user_info")
	last = calls[-1]
	assert last["query"] == {"sid": ADMIN_SID}
	assert last["cookie"] is None
	assert last["host"] == f"127.0.0.1:{stack.web.port}"


def test_developer_mode_does_not_move_the_callback(stack, redis_server, tmp_path):
	"""v15.41 calls back to the Origin as is; the developer_mode port swap exists only on
	develop. A dead webserver_port therefore changes nothing here."""
	bench = make_bench(
		tmp_path,
		common={
			"redis_queue": redis_server.url,
			"socketio_port": free_port(),
			"developer_mode": 1,
			"webserver_port": free_port(),
			"default_site": SITE,
		},
	)
	with RealtimeServer(bench / "sites") as node:
		client = PollingClient(node.url, {"Origin": stack.web_url, "Cookie": f"sid={ADMIN_SID}"})
		client.handshake()
		_post, get = client.connect(SITE)
		same(get, "connect_ok")


def test_authorization_header_and_site_header(stack, probe):
	"""A token header authenticates without a cookie; X-Frappe-Site-Name picks the site."""
	stack.web.add_session("token k1:s1", "api@example.com", "System User")
	client = probe(cookie="", headers={"Authorization": "token k1:s1"})
	client.handshake()
	_post, get = client.connect(SITE)
	# An empty Cookie header is "no cookie" for Frappe.
	assert get.text == f'44/{SITE},{{"message":"No cookie transmitted."}}'

	client = probe(
		cookie="lang=en", headers={"Authorization": "token k1:s1", "X-Frappe-Site-Name": "other.site"}
	)
	client.handshake()
	_post, get = client.connect("other.site")
	assert mask_sids(get.text) == '40/other.site,{"sid":"<sid>"}'


def test_unauthorized_when_callback_answers_html(stack, probe):
	"""An Origin that routes the callback to a non-Frappe answer: superagent's status error."""
	client = probe(origin=stack.realtime_url)  # callback hits the realtime port: empty 404
	client.handshake()
	_post, get = client.connect(SITE)
	assert get.text == f'44/{SITE},{{"message":"Unauthorized: Error: Not Found"}}'


# ---- the web stand-in ------------------------------------------------------------------------


def test_web_answers_like_frappe(stack):
	same(requests.get(stack.web_url + "/api/method/ping", timeout=5), "web_ping")
	info = stack.web_url + "/api/method/frappe.realtime.get_user_info"
	same(requests.get(info, cookies={"sid": ADMIN_SID}, timeout=5), "get_user_info_admin")
	same(requests.get(info, params={"sid": ADMIN_SID}, timeout=5), "get_user_info_admin")
	same(requests.get(info, timeout=5), "get_user_info_guest")
	same(requests.get(info, cookies={"sid": "unknown"}, timeout=5), "get_user_info_guest")


def test_web_answers_socketio_path(stack):
	res = requests.get(stack.web_url + "/socket.io/?EIO=4&transport=polling", timeout=5)
	want = WIRE["web_answers_socketio_path"]
	assert res.status_code == want["status"]
	assert res.headers["content-type"] == want["content_type"]
	assert '<meta name="generator" content="frappe">' in res.text
	# The page opens exactly like Frappe's.
	assert res.text.splitlines()[:7] == want["body"].splitlines()[:7]
	assert f"window.socketio_port = {stack.socketio_port};" in res.text


def test_web_permission_callbacks(stack):
	url = stack.web_url + "/api/method/frappe.realtime.can_subscribe_doc"
	args = {"doctype": "Raven Channel", "docname": "ch-1"}
	ok = requests.get(url, params={**args, "sid": ADMIN_SID}, timeout=5)
	assert (ok.status_code, ok.json()) == (200, {"message": True})
	denied = requests.get(url, params={**args, "sid": WEBSITE_SID}, timeout=5)
	assert denied.status_code == 403
	assert denied.json()["exc_type"] == "PermissionError"
	stack.web.add_session("reader-sid", "reader@example.com", "Website User", allow=["Raven Channel/ch-1"])
	assert requests.get(url, params={**args, "sid": "reader-sid"}, timeout=5).status_code == 200


def test_web_static_dir(tmp_path):
	(tmp_path / "index.html").write_text("<h1>hi</h1>")
	with WebStandin({}, static_dir=tmp_path) as web:
		res = requests.get(web.url + "/", timeout=5)
		assert (res.status_code, res.headers["content-type"], res.text) == (
			200,
			"text/html; charset=utf-8",
			"<h1>hi</h1>",
		)
		assert requests.get(web.url + "/../etc/passwd", timeout=5).status_code == 404


# ---- events from Redis -------------------------------------------------------------------------


def _client(stack, sid=ADMIN_SID, namespace=SITE, headers=None):
	h = {"Origin": stack.web_url, "Cookie": f"sid={sid}", **(headers or {})}
	return SocketIOClient(stack.realtime.port, namespace, h)


def test_redis_events_reach_the_right_room_and_namespace(stack):
	user_msg, doc_msg = WIRE["redis_events_channel_messages"]
	stack.web.add_session("other-site-sid", "Administrator", "System User")
	with (
		_client(stack) as admin,
		_client(stack, "other-site-sid", "other.site", {"X-Frappe-Site-Name": "other.site"}) as other,
	):
		assert admin.connect().startswith(f"0/{SITE},")
		assert other.connect().startswith("0/other.site,")

		# Published exactly as Frappe 15.41 published it.
		assert stack.publish_raw(user_msg) >= 1
		assert admin.wait_event("probe_event") == ("probe_event", [{"x": 1}])

		# Doc rooms are joined after an asynchronous permission callback: publish until it lands.
		admin.emit("doc_subscribe", "Raven Channel", "ch-1")
		deadline = time.monotonic() + 5
		got = None
		while got is None and time.monotonic() < deadline:
			stack.publish_raw(doc_msg)
			got = admin.wait_event("probe_doc", timeout=0.2)
		assert got == ("probe_doc", [{"y": 2}])

		# The other namespace got neither: a sentinel published after them arrives first.
		stack.publish("sentinel", {}, room="user:Administrator", namespace="other.site")
		assert other.wait_event() == ("sentinel", [{}])


def test_no_room_reaches_every_namespace_and_ping_pongs(stack):
	stack.web.add_session("second-site-sid", "Administrator", "System User")
	with (
		_client(stack) as a,
		_client(stack, "second-site-sid", "second.site", {"X-Frappe-Site-Name": "second.site"}) as b,
	):
		a.connect()
		b.connect()
		stack.publish("build_event", {"ok": 1}, room=None)
		assert a.wait_event("build_event") == ("build_event", [{"ok": 1}])
		assert b.wait_event("build_event") == ("build_event", [{"ok": 1}])
		a.emit("ping")
		assert a.wait_event("pong") == ("pong", [])


def test_denied_doc_subscribe_is_silent(stack):
	"""A Website User without permission: no error reaches the client, and no doc event."""
	path = "/api/method/frappe.realtime.can_subscribe_doc"
	with _client(stack, WEBSITE_SID) as web_user:
		web_user.connect()
		web_user.emit("doc_subscribe", "Raven Channel", "secret")
		wait_until(
			lambda: any(
				r["query"].get("docname") == "secret" and r["status"] == 403 for r in stack.web.requests(path)
			),
			message="403 from can_subscribe_doc",
		)
		stack.publish("probe_doc", {}, room="doc:Raven Channel/secret")
		stack.publish("sentinel", {}, room="user:web@example.com")
		assert web_user.wait_event() == ("sentinel", [{}])


# ---- harness behaviour -------------------------------------------------------------------------


def test_realtime_dies_when_redis_refuses(tmp_path):
	dead = free_port()
	bench = make_bench(
		tmp_path, common={"redis_queue": f"redis://127.0.0.1:{dead}", "socketio_port": free_port()}
	)
	with pytest.raises(ServiceError) as err:
		with RealtimeServer(bench / "sites"):
			pass
	assert "ECONNREFUSED" in str(err.value)
	assert "exited with 1" in str(err.value)


def test_malformed_event_kills_realtime(tmp_path):
	"""Frappe parses `events` messages unguarded inside node-redis's reply handler: one
	non-JSON message ends the process (exit 1), as with the real service."""
	with RedisServer() as private_redis:
		bench = make_bench(tmp_path, common={"redis_queue": private_redis.url, "socketio_port": free_port()})
		with RealtimeServer(bench / "sites") as node:
			client = private_redis.client()
			assert client.publish("events", "not json") == 1
			client.close()
			wait_until(lambda: not node.running, message="realtime exit")
			assert node.returncode == 1
			assert "SyntaxError" in node.stderr_text()


def test_realtime_reads_common_config_not_site_config(tmp_path, redis_server):
	port, site_port = free_port(), free_port()
	bench = make_bench(
		tmp_path,
		common={"redis_queue": redis_server.url, "socketio_port": port},
		site_config={"socketio_port": site_port},
	)
	with RealtimeServer(bench / "sites") as node:
		assert node.port == port
	override = free_port()
	with RealtimeServer(bench / "sites", port=override) as node:
		assert node.port == override


def test_nginx_test_reports_errors():
	ok, message = nginx_test("server { listen 127.0.0.1:1; bogus_directive on; }")
	assert not ok
	assert "bogus_directive" in message
	ok, message = nginx_test(f"server {{ listen 127.0.0.1:{free_port()}; return 204; }}")
	assert ok, message
	with pytest.raises(ServiceError, match="bogus_directive"):
		with Nginx("server { bogus_directive on; }"):
			pass


def test_black_hole_never_answers():
	with BlackHole() as hole:
		with pytest.raises(requests.exceptions.ReadTimeout):
			requests.get(hole.url, timeout=0.3)
		assert hole.accepted == 1


def test_callback_to_black_hole_never_settles(stack, probe):
	"""No timeout on the auth callback (superagent has none): the CONNECT stays unanswered."""
	with BlackHole() as hole:
		client = probe(origin=hole.url)
		client.timeout = 1.0
		client.handshake()
		client.post(f"40/{SITE},")
		with pytest.raises(requests.exceptions.ReadTimeout):
			client.get()
		assert hole.accepted == 1


# ---- topologies through nginx ------------------------------------------------------------------


def _front_probe(front, headers=None):
	return PollingClient(front.url, {"Cookie": f"sid={ADMIN_SID}", **(headers or {})})


def test_topology_healthy(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("healthy"))
	client = _front_probe(front)  # no Origin: nginx sets it, like bench
	same(client.handshake(), "handshake_polling")
	_post, get = client.connect(SITE)
	same(get, "connect_ok")
	with SocketIOClient(front.port, SITE, {"Cookie": f"sid={ADMIN_SID}"}) as ws:
		assert ws.connect().startswith(f"0/{SITE},")


def test_topology_no_origin(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("no_origin"))
	client = _front_probe(front)
	client.handshake()
	assert client.connect(SITE)[1].text == f'44/{SITE},{{"message":"Invalid origin"}}'
	with SocketIOClient(front.port, SITE, {"Cookie": f"sid={ADMIN_SID}", "Origin": front.url}) as ws:
		assert ws.connect().startswith(f"0/{SITE},")


def test_topology_all_to_web(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("all_to_web"))
	res = requests.get(front.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
	assert res.status_code == 404
	assert res.headers["content-type"] == "text/html; charset=utf-8"
	assert '<meta name="generator" content="frappe">' in res.text


def test_topology_no_upgrade(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("no_upgrade"))
	assert _front_probe(front).handshake().status_code == 200
	with SocketIOClient(front.port, SITE, {"Origin": front.url}) as ws:
		with pytest.raises(ConnectionError):
			ws.open()
		assert ws.ws.status == 400
		assert ws.ws.response_head.startswith("HTTP/1.1 400")


def test_topology_rewrite_host(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("rewrite_host"))
	client = _front_probe(front, {"Origin": front.url})
	assert client.handshake().text.startswith("0{")
	assert client.connect(SITE)[1].text == f'44/{SITE},{{"message":"Invalid origin"}}'


def test_topology_stale_port(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("stale_port"))
	assert requests.get(front.url + "/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 502


def test_topology_strip_path(stack):
	front = stack.front("strip_path")
	res = requests.get(front.url + "/socket.io/?EIO=4&transport=polling", timeout=5)
	same(res, "non_socketio_path_on_realtime_port")


def test_topology_two_nodes(stack, nginx_factory):
	if not stack.extra_nodes:
		stack.add_realtime_node()
	rr = nginx_factory(stack.front_conf("round_robin"))
	client = _front_probe(rr)
	client.handshake()
	same(client.get(), "session_id_unknown_get")

	sticky = nginx_factory(stack.front_conf("sticky"))
	client = _front_probe(sticky)
	client.handshake()
	_post, get = client.connect(SITE)
	same(get, "connect_ok")
	# Both nodes listen on the same Redis: one publish, two subscribers.
	assert stack.publish("count", {}, room="none") == 2
