"""Probes: classification of what answered, and the bounds (deadline, body cap, no redirects).

Canned servers are tiny loopback TCP servers that answer raw bytes, so each case is exactly
the wire a proxy or a wrong service would produce; Redis cases use the session's redis-server.
"""

import contextlib
import functools
import http.client
import socket
import ssl
import threading
import time

import pytest
import requests

from raven_ai_agent.realtime import bridge, engineio, failures, handshake, probe, session, upgrade, websocket
from tests.stack import BlackHole, free_port

OPEN_BODY = (
	'0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
)
FRAPPE_404 = (
	'<!DOCTYPE html>\n<!-- Built on Frappe. https://frappeframework.com/ -->\n<html lang="en">\n<head>\n'
	'\t<meta charset="utf-8">\n\t<meta name="generator" content="frappe">\n<title>Not Found</title></head></html>'
)
NGINX_502 = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.22.1</center></body></html>"


def raw_response(status: str, body: str | bytes = b"", headers: dict | None = None) -> bytes:
	body = body.encode() if isinstance(body, str) else body
	lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
	lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
	return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.contextmanager
def canned(answer, drip: float | None = None, immediate: bool = False):
	"""A loopback server answering every request with `answer` (bytes, or a function of the request head).

	`drip` sends the answer one byte per `drip` seconds: a server that is slow, not dead.
	`immediate` answers on the first bytes received, whatever they are (e.g. a TLS hello).
	"""
	server = socket.socket()
	server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	server.bind(("127.0.0.1", 0))
	server.listen(16)
	server.settimeout(0.1)
	stop = threading.Event()
	heads: list[bytes] = []

	def handle(conn):
		with conn:
			conn.settimeout(5)
			data = b""
			try:
				while b"\r\n\r\n" not in data:
					chunk = conn.recv(4096)
					if not chunk:
						return
					data += chunk
					if immediate:
						break
				heads.append(data)
				out = answer(data) if callable(answer) else answer
				if drip is None:
					conn.sendall(out)
				else:
					for i in range(len(out)):
						if stop.is_set():
							return
						conn.sendall(out[i : i + 1])
						time.sleep(drip)
			except OSError:
				return

	def serve():
		while not stop.is_set():
			try:
				conn, _ = server.accept()
			except (TimeoutError, OSError):
				continue
			threading.Thread(target=handle, args=(conn,), daemon=True).start()

	thread = threading.Thread(target=serve, daemon=True)
	thread.start()
	try:
		yield f"http://127.0.0.1:{server.getsockname()[1]}", heads
	finally:
		stop.set()
		thread.join(timeout=2)
		server.close()


def fetch(url: str, timeout: float = 2.0, method: str = "GET") -> probe.HttpResult:
	http = probe.Http(probe.Deadline(timeout), timeout)
	try:
		return http.request(method, url)
	finally:
		http.close()


def handshake_of(answer: bytes) -> handshake.Handshake:
	with canned(answer) as (url, _):
		http = probe.Http(probe.Deadline(2), 2)
		try:
			return handshake.probe_handshake(http, url, "/socket.io/")
		finally:
			http.close()


# ---- classification of a handshake -----------------------------------------------------------


@pytest.mark.parametrize(
	"answer, kind",
	[
		(
			raw_response("200 OK", OPEN_BODY, {"Content-Type": "text/plain; charset=UTF-8"}),
			handshake.ENGINEIO,
		),
		(
			raw_response("404 Not Found", FRAPPE_404, {"Content-Type": "text/html; charset=utf-8"}),
			handshake.FRAPPE_PAGE,
		),
		(raw_response("502 Bad Gateway", NGINX_502, {"Server": "nginx/1.22.1"}), handshake.PROXY_ERROR),
		(raw_response("503 Service Unavailable", "no upstream"), handshake.PROXY_ERROR),
		(raw_response("504 Gateway Timeout", ""), handshake.PROXY_ERROR),
		(raw_response("404 Not Found", ""), handshake.NOT_FOUND),
		(raw_response("404 Not Found", "Cannot GET /"), handshake.NOT_FOUND),
		(
			raw_response("301 Moved Permanently", "", {"Location": "https://example.com/socket.io/"}),
			handshake.REDIRECT,
		),
		(
			raw_response("400 Bad Request", '{"code":0,"message":"Transport unknown"}'),
			handshake.ENGINEIO_ERROR,
		),
		(raw_response("200 OK", "ok"), handshake.NOT_ENGINEIO),
		(raw_response("200 OK", "<html>welcome</html>"), handshake.NOT_ENGINEIO),
		(raw_response("200 OK", FRAPPE_404), handshake.FRAPPE_PAGE),
		(raw_response("401 Unauthorized", "auth required"), handshake.HTTP_STATUS),
		(raw_response("500 Internal Server Error", "boom"), handshake.HTTP_STATUS),
	],
)
def test_classify_handshake(answer, kind):
	result = handshake_of(answer)
	assert result.kind == kind, result.detail
	assert result.ok == (kind == handshake.ENGINEIO)


def test_handshake_passes_only_on_a_parsed_open_packet():
	answer = handshake_of(raw_response("200 OK", OPEN_BODY))
	assert answer.open.sid == "abc" and "pingInterval 25000" in answer.detail
	# status 200 alone is not enough
	assert not handshake_of(raw_response("200 OK", "0{}")).ok


def test_redirect_is_reported_not_followed():
	with canned(raw_response("302 Found", "", {"Location": "https://elsewhere.test/x"})) as (url, heads):
		http = probe.Http(probe.Deadline(2), 2)
		answer = handshake.probe_handshake(http, url, "/socket.io/")
		http.close()
	assert answer.kind == handshake.REDIRECT and answer.location == "https://elsewhere.test/x"
	assert len(heads) == 1


def test_the_request_is_a_v4_polling_handshake():
	with canned(raw_response("200 OK", OPEN_BODY)) as (url, heads):
		http = probe.Http(probe.Deadline(2), 2)
		handshake.probe_handshake(http, url, "/socket.io/", {"Origin": "http://o.test"})
		http.close()
	head = heads[0].decode()
	assert head.startswith("GET /socket.io/?EIO=4&transport=polling HTTP/1.1")
	assert "Origin: http://o.test" in head


def test_looks_like_frappe_page():
	assert handshake.looks_like_frappe_page(FRAPPE_404)
	assert handshake.looks_like_frappe_page("<meta name='generator' content='Frappe'>")
	assert handshake.looks_like_frappe_page("<META NAME=generator CONTENT=frappe>")
	assert not handshake.looks_like_frappe_page("<meta name='generator' content='WordPress'>")
	assert not handshake.looks_like_frappe_page("")


# ---- network failures ---------------------------------------------------------------------------


def test_refused():
	result = fetch(f"http://127.0.0.1:{free_port()}/")
	assert result.error == probe.REFUSED and result.status is None
	assert "connection refused" in failures.describe_failure(result)


def test_dns():
	result = fetch("http://no-such-host.invalid/")
	assert result.error == probe.DNS
	assert "no-such-host.invalid" in failures.describe_failure(result)


def test_black_hole_times_out_within_the_timeout():
	with BlackHole() as hole:
		start = time.monotonic()
		result = fetch(hole.url + "/", timeout=0.5)
		elapsed = time.monotonic() - start
	assert result.error == probe.TIMEOUT
	assert 0.4 < elapsed < 1.0
	assert failures.describe_failure(result).startswith("timed out")


def test_tls_to_a_plain_http_port():
	with canned(raw_response("400 Bad Request", "plain http"), immediate=True) as (url, _):
		result = fetch(url.replace("http://", "https://"))
	assert result.error == probe.TLS
	assert "TLS handshake" in failures.describe_failure(result)


def test_reset_without_answer():
	with canned(b"") as (url, _):
		result = fetch(url)
	assert result.error in (probe.RESET, probe.NETWORK)


def test_deadline_is_shared_by_all_requests():
	deadline = probe.Deadline(0.3)
	time.sleep(0.35)
	with pytest.raises(probe.ProbeTimeout):
		deadline.budget(5)
	http = probe.Http(deadline, 5)
	result = http.request("GET", "http://127.0.0.1:1/")
	http.close()
	assert result.error == probe.TIMEOUT


def test_budget_is_the_smaller_of_timeout_and_remaining():
	deadline = probe.Deadline(10)
	assert deadline.budget(1) == 1
	assert 9 < deadline.budget(30) <= 10


def test_body_is_capped():
	big = "x" * (probe.MAX_BODY_BYTES * 4)
	with canned(raw_response("200 OK", big)) as (url, _):
		result = fetch(url)
	assert result.truncated and len(result.body) == probe.MAX_BODY_BYTES


def test_slow_body_stops_at_the_deadline():
	with canned(raw_response("200 OK", "y" * 400), drip=0.002) as (url, _):
		start = time.monotonic()
		result = fetch(url, timeout=0.4)
		elapsed = time.monotonic() - start
	assert result.error == probe.TIMEOUT
	assert elapsed < 0.9


@pytest.mark.parametrize(
	"exc, kind",
	[
		(ConnectionRefusedError(111, "Connection refused"), probe.REFUSED),
		(socket.gaierror(-2, "Name or service not known"), probe.DNS),
		(TimeoutError("timed out"), probe.TIMEOUT),
		(ssl.SSLCertVerificationError("certificate verify failed"), probe.TLS),
		(http.client.RemoteDisconnected("Remote end closed connection without response"), probe.RESET),
		(requests.exceptions.ReadTimeout("read timed out"), probe.TIMEOUT),
		(requests.exceptions.ConnectionError("something odd"), probe.NETWORK),
		(ValueError("weird"), probe.NETWORK),
	],
)
def test_classify_error(exc, kind):
	assert probe.classify_error(exc)[0] == kind


def test_classify_error_follows_the_cause_chain():
	try:
		try:
			raise ConnectionRefusedError(111, "Connection refused")
		except OSError as inner:
			raise requests.exceptions.ConnectionError("Max retries exceeded") from inner
	except requests.exceptions.ConnectionError as outer:
		assert probe.classify_error(outer) == (probe.REFUSED, "Connection refused")


# ---- WebSocket upgrade ---------------------------------------------------------------------------


def _upgrade_answer(accept: str | None = None, first_frame: bytes = b""):
	def answer(head: bytes) -> bytes:
		key = next(
			line.split(b":", 1)[1].strip().decode()
			for line in head.split(b"\r\n")
			if line.lower().startswith(b"sec-websocket-key:")
		)
		value = accept if accept is not None else websocket.accept(key)
		return (
			b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			+ f"Sec-WebSocket-Accept: {value}\r\n\r\n".encode()
			+ first_frame
		)

	return answer


def _ws(url: str, timeout: float = 2.0) -> upgrade.Upgrade:
	return upgrade.probe_websocket(url, "/socket.io/", "http://origin.test", probe.Deadline(timeout), timeout)


def test_websocket_upgrade_with_open_packet():
	frame = bytes([0x81, 126]) + len(OPEN_BODY).to_bytes(2, "big") + OPEN_BODY.encode()
	with canned(_upgrade_answer(first_frame=frame)) as (url, heads):
		answer = _ws(url)
	assert answer.ok and answer.open.sid == "abc" and "open packet received" in answer.detail
	head = heads[0].decode().lower()
	assert head.startswith("get /socket.io/?eio=4&transport=websocket http/1.1")
	for header in (
		"upgrade: websocket",
		"connection: upgrade",
		"sec-websocket-version: 13",
		"origin: http://origin.test",
	):
		assert header in head


def test_websocket_upgrade_without_first_frame_still_passes():
	with canned(_upgrade_answer()) as (url, _):
		answer = _ws(url, timeout=1.5)
	assert answer.ok and answer.open is None


def _text_frame(text: str) -> bytes:
	payload = text.encode()
	return bytes([0x81, len(payload)]) + payload  # under 126 bytes


@pytest.mark.parametrize(
	"first_frame, words",
	[
		(_text_frame('{"type":"connected"}'), ('first WebSocket frame is \'{"type":"connected"}\'',)),
		(_text_frame('0{"sid":"abc"}'), ("not an Engine.IO open packet", "no pingInterval")),
		(bytes([0x82, 3]) + b"\x00\x01\x02", ("binary (3 bytes)",)),
		(
			bytes([0x88, 8]) + (1008).to_bytes(2, "big") + b"denied",
			("closed the WebSocket", "close code 1008"),
		),
	],
	ids=["other_text", "broken_open", "binary", "close"],
)
def test_websocket_first_frame_that_is_not_an_open_packet_fails(first_frame, words):
	"""A 101 with the right accept, then a frame from something else: not the realtime service."""
	with canned(_upgrade_answer(first_frame=first_frame)) as (url, _):
		answer = _ws(url)
	assert answer.kind == upgrade.OTHER_SERVICE and not answer.ok, answer.detail
	assert "Sec-WebSocket-Accept valid, but" in answer.detail
	for word in words:
		assert word in answer.detail, (word, answer.detail)


def test_websocket_ping_before_the_open_packet_is_skipped():
	ping = bytes([0x89, 0])
	with canned(
		_upgrade_answer(first_frame=ping + _text_frame('0{"sid":"s","pingInterval":1,"pingTimeout":1}'))
	) as (url, _):
		answer = _ws(url)
	assert answer.ok and answer.open.sid == "s"


def test_websocket_wrong_accept():
	with canned(_upgrade_answer(accept="bm90IHRoZSByaWdodCBvbmU=")) as (url, _):
		answer = _ws(url)
	assert answer.kind == upgrade.BAD_ACCEPT and not answer.ok


def test_websocket_answered_with_engineio_bad_request():
	with canned(raw_response("400 Bad Request", '{"code":3,"message":"Bad request"}')) as (url, _):
		answer = _ws(url)
	assert answer.kind == upgrade.NOT_UPGRADED and answer.engine_error.code == engineio.BAD_REQUEST


def test_websocket_answered_with_a_page():
	with canned(raw_response("200 OK", FRAPPE_404)) as (url, _):
		answer = _ws(url)
	assert answer.kind == upgrade.NOT_UPGRADED and "Frappe" in answer.detail


def test_websocket_redirect_and_failures():
	with canned(raw_response("301 Moved Permanently", "", {"Location": "https://x.test/"})) as (url, _):
		assert _ws(url).kind == handshake.REDIRECT
	assert _ws(f"http://127.0.0.1:{free_port()}").kind == probe.REFUSED
	with BlackHole() as hole:
		start = time.monotonic()
		assert _ws(hole.url, timeout=0.5).kind == probe.TIMEOUT
		assert time.monotonic() - start < 1.0


# ---- polling session -----------------------------------------------------------------------------


def test_session_lost_is_told_apart():
	calls = []

	def answer(head: bytes) -> bytes:
		calls.append(head)
		if len(calls) == 1:
			return raw_response("200 OK", OPEN_BODY)
		return raw_response("400 Bad Request", '{"code":1,"message":"Session ID unknown"}')

	with canned(answer) as (url, _):
		http = probe.Http(probe.Deadline(2), 2)
		outcome = session.probe_session(http, url, "/socket.io/", "/site", {}, extra_requests=2)
		http.close()
	assert outcome.lost is not None and outcome.lost.session_lost and outcome.requests == 1
	assert outcome.failure is None and outcome.connect is None


def test_session_reads_every_packet_of_the_connect_reply():
	bodies = iter(
		[OPEN_BODY, "ok", "ok", "ok", '44/site,{"message":"Invalid namespace"}\x1e40/site,{"sid":"x"}', "ok"]
	)

	with canned(lambda head: raw_response("200 OK", next(bodies))) as (url, heads):
		http = probe.Http(probe.Deadline(2), 2)
		outcome = session.probe_session(http, url, "/socket.io/", "/site", {"Cookie": "sid=Guest"})
		http.close()
	assert outcome.requests == 5
	assert outcome.connect.errors == ("Invalid namespace",) and outcome.connect.connected
	posts = [h.decode() for h in heads if h.startswith(b"POST")]
	assert len(posts) == 4  # two NOOPs, the CONNECT, the CLOSE
	assert all("sid=abc" in p.split("\r\n")[0] and "Cookie: sid=Guest" in p for p in posts)


# ---- Redis ----------------------------------------------------------------------------------------


def test_redis_publish_counts_subscribers(redis_server):
	client = redis_server.client()
	pubsub = client.pubsub()
	pubsub.subscribe("events")
	try:
		outcome = bridge.redis_publish(redis_server.url, "events", "{}", probe.Deadline(2), 2)
		assert outcome.subscribers == 1 and outcome.error is None
	finally:
		pubsub.close()
		client.close()
	assert (
		bridge.redis_publish(redis_server.url, "nobody-listens", "{}", probe.Deadline(2), 2).subscribers == 0
	)


def test_redis_unreachable():
	outcome = bridge.redis_publish(f"redis://127.0.0.1:{free_port()}", "events", "{}", probe.Deadline(2), 2)
	assert outcome.error == probe.REFUSED and outcome.subscribers is None


def test_redis_black_hole_times_out():
	with BlackHole() as hole:
		start = time.monotonic()
		outcome = bridge.redis_publish(
			f"redis://127.0.0.1:{hole.port}", "events", "{}", probe.Deadline(0.5), 0.5
		)
		assert time.monotonic() - start < 1.2
	assert outcome.error == probe.TIMEOUT


def test_a_cut_deadline_wakes_a_redis_reply_that_drips():
	"""A reply one byte per 50 ms never trips redis' 5 s read timeout; cutting the deadline ends it."""
	with canned(b":" + b"1" * 400, drip=0.05, immediate=True) as (url, _):
		deadline = probe.Deadline(5)
		outcome = []
		thread = threading.Thread(
			target=lambda: outcome.append(
				bridge.redis_publish(url.replace("http", "redis"), "e", "{}", deadline, 5)
			)
		)
		thread.start()
		thread.join(0.5)
		assert thread.is_alive() and not outcome
		deadline.cut()
		thread.join(1)
	assert outcome and outcome[0].error is not None and outcome[0].subscribers is None


def test_cut_closes_what_is_still_open_once_and_latecomers_at_once():
	deadline = probe.Deadline(5)
	calls = []
	deadline.on_cut(functools.partial(calls.append, "open"))
	closed = functools.partial(calls.append, "closed by its owner")
	deadline.on_cut(closed)
	deadline.forget(closed)
	deadline.cut()
	deadline.cut()
	assert calls == ["open"]
	deadline.on_cut(functools.partial(calls.append, "late"))
	assert calls == ["open", "late"]


def test_frappe_event_and_safe_url():
	import json

	assert json.loads(bridge.frappe_event("e", {"x": 1}, "site.test", "user:A")) == {
		"event": "e",
		"message": {"x": 1},
		"namespace": "site.test",
		"room": "user:A",
	}
	assert bridge.safe_redis_url("redis://:s3cret@127.0.0.1:11000/0") == "redis://:***@127.0.0.1:11000/0"
	assert bridge.safe_redis_url("redis://user:pw@h:1") == "redis://user:***@h:1"
	assert bridge.safe_redis_url("redis://127.0.0.1:11000") == "redis://127.0.0.1:11000"
