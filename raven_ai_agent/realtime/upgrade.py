"""The WebSocket upgrade probe: the upgrade a browser sends, and what answered it.

A pass needs 101 Switching Protocols with the Sec-WebSocket-Accept of our key (RFC 6455
4.2.2); then the server's first frame should be the Engine.IO open packet. http.client is
used instead of requests because it returns a 101 as it is, so the exchange stays
inspectable. Bounded like every probe: one deadline, capped reads, and the deadline can cut
the socket. No frappe import.
"""

import functools
import http.client
import os
import time
from dataclasses import dataclass, field

from raven_ai_agent.realtime import engineio, websocket
from raven_ai_agent.realtime.engineio import ConnectResult, EngineError, OpenPacket, ProtocolError
from raven_ai_agent.realtime.failures import describe_failure, failure_kind, snippet
from raven_ai_agent.realtime.handshake import (
	REDIRECT,
	REDIRECT_STATUSES,
	describe_redirect,
	looks_like_frappe_page,
)
from raven_ai_agent.realtime.probe import (
	MAX_BODY_BYTES,
	USER_AGENT,
	Deadline,
	HttpResult,
	ProbeTimeout,
	classify_error,
	open_connection,
	request_target,
	shut,
)

# What answered a WebSocket upgrade (besides REDIRECT and the failure kinds of probe.py).
UPGRADED = "upgraded"
BAD_ACCEPT = "bad_accept"
NOT_UPGRADED = "not_upgraded"
# 101 with the right accept, but the first frame is no open packet: a proxy or another
# WebSocket service took the upgrade, not the realtime service.
OTHER_SERVICE = "other_service"


@dataclass
class Upgrade:
	"""What answered a raw WebSocket upgrade request."""

	kind: str
	detail: str
	status: int | None = None
	engine_error: EngineError | None = None
	location: str | None = None
	open: OpenPacket | None = None
	elapsed_ms: float = 0.0

	@property
	def ok(self) -> bool:
		return self.kind == UPGRADED


def probe_websocket(
	base_url: str,
	path: str,
	origin: str,
	deadline: Deadline,
	timeout: float,
	nonce: bytes | None = None,
	ca_file: str | None = None,
) -> Upgrade:
	"""Send the upgrade a browser sends; pass only on 101 with the right Sec-WebSocket-Accept.

	The server's first frame is read when it comes in time: the open packet, or proof that
	something else took the upgrade.
	"""
	start = time.monotonic()
	url = engineio.endpoint_url(base_url, path, engineio.TRANSPORT_WEBSOCKET)
	key = websocket.key(nonce or os.urandom(16))
	conn: http.client.HTTPConnection | None = None
	try:
		conn = open_connection(url, deadline, timeout, ca_file)
		# The socket, kept: an HTTP/1.0 answer detaches it from `conn` while the body is still read.
		sock = conn.sock
		with deadline.cutting(functools.partial(shut, sock)):
			conn.request("GET", request_target(url), headers=upgrade_headers(origin, key))
			response = conn.getresponse()
			frames = _Frames(response, sock, deadline, timeout)
			upgrade = _classify_upgrade(response, frames, url, key, deadline, timeout)
	except (OSError, http.client.HTTPException, ProbeTimeout) as e:
		kind, text = classify_error(e)
		result = HttpResult("GET", url, error=kind, error_text=text)
		upgrade = Upgrade(failure_kind(result), describe_failure(result))
	finally:
		if conn is not None:
			conn.close()
	upgrade.elapsed_ms = (time.monotonic() - start) * 1000
	return upgrade


def upgrade_headers(origin: str | None, key: str) -> dict[str, str]:
	"""The headers of a browser's WebSocket opening handshake (RFC 6455 4.1)."""
	return {
		**({"Origin": origin} if origin else {}),
		"Connection": "Upgrade",
		"Upgrade": "websocket",
		"Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Key": key,
		"User-Agent": USER_AGENT,
	}


def _classify_upgrade(
	response: http.client.HTTPResponse,
	frames: "_Frames",
	url: str,
	key: str,
	deadline: Deadline,
	timeout: float,
) -> Upgrade:
	status = response.status
	headers = {k.lower(): v for k, v in response.getheaders()}
	# An HTTP/1.0 hop has no Upgrade mechanism: name it, it is the cause.
	http10 = (
		" (an HTTP/1.0 answer: an HTTP/1.0 hop cannot carry the upgrade)" if response.version == 10 else ""
	)
	if status == 101:
		accept = headers.get("sec-websocket-accept", "")
		if accept != websocket.accept(key):
			return Upgrade(
				BAD_ACCEPT, f"101 with a wrong Sec-WebSocket-Accept ({accept or 'missing'})", status
			)
		# Silence passes with a note (see _judge_first_frame): wait at most 1 s a read for it.
		return _judge_first_frame(frames.next(wait_cap=1.0), status)
	body = _read_capped(response, deadline, timeout)
	if status in REDIRECT_STATUSES:
		location = headers.get("location", "")
		return Upgrade(REDIRECT, describe_redirect(status, url, location), status, location=location)
	engine_error = engineio.parse_http_error(body) if 400 <= status < 500 else None
	if engine_error:
		error = f"Engine.IO error {engine_error.code} {engine_error.message!r}"
		detail = f"HTTP {status} {error} instead of 101{http10}"
		return Upgrade(NOT_UPGRADED, detail, status, engine_error=engine_error)
	what = "Frappe's web page" if looks_like_frappe_page(body) else repr(snippet(body))
	return Upgrade(NOT_UPGRADED, f"HTTP {status} {response.reason} ({what}) instead of 101{http10}", status)


def _judge_first_frame(frame: tuple[int, bytes] | None, status: int) -> Upgrade:
	"""A valid 101, judged by the server's first frame."""
	valid = "101 Switching Protocols, Sec-WebSocket-Accept valid"
	if frame is None:
		# Silence passes, with a note. The accept proves a WebSocket server got our key through
		# every hop, and the polling handshake on this URL already reached Engine.IO; the open
		# packet may just come after the little budget left (a slow server, a proxy that buffers).
		# Failing on what did not arrive would turn working routes red. A frame that did arrive
		# and is not an open packet is proof instead: see below.
		return Upgrade(UPGRADED, f"{valid}, no Engine.IO open packet read in time", status)
	opcode, payload = frame
	try:
		if opcode != websocket.WS_TEXT:
			raise ProtocolError("not a text frame")
		packet = engineio.parse_open(payload.decode("utf-8", "replace"))
	except ProtocolError as e:
		what = _describe_frame(opcode, payload, e)
		return Upgrade(OTHER_SERVICE, f"{valid}, but {what}: not Frappe's realtime service", status)
	return Upgrade(UPGRADED, f"{valid}, Engine.IO open packet received", status, open=packet)


def _describe_frame(opcode: int, payload: bytes, error: ProtocolError) -> str:
	"""What the server's first frame was, for a detail: its text, its size, or its close code."""
	if opcode == websocket.WS_TEXT:
		text = payload.decode("utf-8", "replace")
		why = f" ({error})" if text.startswith(engineio.OPEN) else ""
		return f"the first WebSocket frame is {snippet(text)!r}, not an Engine.IO open packet{why}"
	if opcode == websocket.WS_BINARY:
		return f"the first WebSocket frame is binary ({len(payload)} bytes), not an Engine.IO open packet"
	if opcode == websocket.WS_CLOSE:
		code, reason = websocket.decode_close(payload)
		said = f" (close code {code}{f', {snippet(reason)!r}' if reason else ''})" if code else ""
		return f"the server closed the WebSocket before any Engine.IO packet{said}"
	return f"the first WebSocket frame has opcode {opcode:#x}, not an Engine.IO open packet"


def _read_capped(response: http.client.HTTPResponse, deadline: Deadline, timeout: float) -> str:
	try:
		deadline.budget(timeout)
		return response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
	except (OSError, http.client.HTTPException, ProbeTimeout):
		return ""  # the status line already says what answered


class _Frames:
	"""The server's frames after a 101, read as they arrive, never past the deadline."""

	def __init__(self, response: http.client.HTTPResponse, sock, deadline: Deadline, timeout: float):
		self.response, self.sock, self.deadline, self.timeout = response, sock, deadline, timeout
		self.data = b""

	def next(self, wait_cap: float | None = None) -> tuple[int, bytes] | None:
		"""(opcode, payload) of the next data or close frame, pings and pongs skipped; None when
		no whole frame comes in time (each read waits at most `wait_cap`, when given) or within
		MAX_BODY_BYTES."""
		try:
			while len(self.data) < MAX_BODY_BYTES:
				frame = websocket.decode_frame(self.data)
				if frame:
					opcode, payload, used = frame
					self.data = self.data[used:]
					if opcode not in websocket.WS_CONTROL:
						return opcode, payload
					continue
				budget = self.deadline.budget(self.timeout)
				self.sock.settimeout(budget if wait_cap is None else min(budget, wait_cap))
				# After a 101 the stream is the WebSocket's: read what arrived, not an HTTP body.
				chunk = self.response.fp.read1(4096)
				if not chunk:
					return None
				self.data += chunk
		except (OSError, ProbeTimeout):
			return None
		return None


@dataclass
class WebSocketSession:
	"""A WebSocket-first Engine.IO session: the upgrade, then a namespace CONNECT over it."""

	upgrade: Upgrade = field(default_factory=lambda: Upgrade(NOT_UPGRADED, "not attempted"))
	connect: ConnectResult | None = None
	failure: str | None = None  # after a good upgrade: what kept the CONNECT from an answer
	elapsed_ms: float = 0.0


def probe_websocket_session(
	base_url: str,
	path: str,
	namespace: str,
	headers: dict[str, str],
	deadline: Deadline,
	timeout: float,
	ca_file: str | None = None,
) -> WebSocketSession:
	"""Connect as a client with `transports: ["websocket"]` does: upgrade first (with `headers`,
	Origin and Cookie, on the upgrade request the realtime service authenticates), then CONNECT
	`namespace` over the socket and read its answer."""
	start = time.monotonic()
	url = engineio.endpoint_url(base_url, path, engineio.TRANSPORT_WEBSOCKET)
	key = websocket.key(os.urandom(16))
	session = WebSocketSession()
	conn: http.client.HTTPConnection | None = None
	try:
		conn = open_connection(url, deadline, timeout, ca_file)
		sock = conn.sock
		with deadline.cutting(functools.partial(shut, sock)):
			sent = {**upgrade_headers(headers.get("Origin"), key), **headers}
			conn.request("GET", request_target(url), headers=sent)
			response = conn.getresponse()
			frames = _Frames(response, sock, deadline, timeout)
			session.upgrade = _classify_upgrade(response, frames, url, key, deadline, timeout)
			if session.upgrade.ok:
				if session.upgrade.open is None:
					session.failure = "no Engine.IO open packet came over the WebSocket in time"
				else:
					session.connect, session.failure = _connect_over(frames, sock, namespace)
	except (OSError, http.client.HTTPException, ProbeTimeout) as e:
		kind, text = classify_error(e)
		result = HttpResult("GET", url, error=kind, error_text=text)
		if not session.upgrade.ok:
			session.upgrade = Upgrade(failure_kind(result), describe_failure(result))
		else:
			session.failure = describe_failure(result)
	finally:
		if conn is not None:
			conn.close()
	session.elapsed_ms = (time.monotonic() - start) * 1000
	return session


def _connect_over(frames: _Frames, sock, namespace: str) -> tuple[ConnectResult, str | None]:
	"""Send CONNECT in a masked text frame; fold every answer until the namespace's own."""
	sock.sendall(
		websocket.encode_frame(websocket.WS_TEXT, engineio.encode_connect(namespace).encode(), os.urandom(4))
	)
	outcome = ConnectResult()
	while not outcome.answered:
		frame = frames.next()
		if frame is None:
			return outcome, f"no answer to the CONNECT of {namespace} over the WebSocket in time"
		opcode, payload = frame
		if opcode == websocket.WS_CLOSE:
			code, reason = websocket.decode_close(payload)
			return (
				outcome,
				f"the server closed the WebSocket (code {code}{f', {reason!r}' if reason else ''})",
			)
		if opcode != websocket.WS_TEXT:
			continue
		text = payload.decode("utf-8", "replace")
		if text == engineio.PING:  # Engine.IO v4: the server pings, the client answers
			sock.sendall(websocket.encode_frame(websocket.WS_TEXT, engineio.PONG.encode(), os.urandom(4)))
			continue
		try:
			outcome = engineio.connect_result(engineio.decode_messages(text), namespace, outcome)
		except ProtocolError as e:
			return outcome, f"not a Socket.IO answer: {e}"
	return outcome, None
