"""Bounded network probes of the realtime path: what answered, as facts, not yet as advice.

Every call here has a timeout and shares one `Deadline`, reads (and decompresses) at most
MAX_BODY_BYTES, never follows a redirect, and turns network errors into a `kind` (timeout,
refused, dns, tls, reset, bad_response) instead of raising. diagnose.py interprets the
outcomes; this module only observes. No frappe import.
"""

import functools
import http.client
import json
import os
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

import redis
import requests
from redis.backoff import NoBackoff
from redis.retry import Retry

from raven_ai_agent.realtime import engineio
from raven_ai_agent.realtime.engineio import ConnectResult, EngineError, OpenPacket, ProtocolError

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "raven-realtime-diagnose"
# Only encodings the probe decodes itself, within MAX_BODY_BYTES (no br/zstd it cannot read).
ACCEPT_ENCODING = "gzip, deflate"
USER_INFO_PATH = "/api/method/frappe.realtime.get_user_info"

# Failure kinds of a request that got no HTTP answer.
TIMEOUT = "timeout"
REFUSED = "refused"
DNS = "dns"
TLS = "tls"
RESET = "reset"
BAD_RESPONSE = "bad_response"  # bytes came back, but not a valid HTTP response
NETWORK = "network"

# What a failed exchange means once the URL's scheme is known (a refinement of TLS, RESET, ...).
CERTIFICATE = "certificate"  # TLS works, the certificate is not trusted: self-signed, expired, other host
PLAIN_PORT = "plain_port"  # https sent to a port that speaks plain http
TLS_PORT = "tls_port"  # plain http sent to a port that speaks TLS

# What answered an Engine.IO handshake.
ENGINEIO = "engineio"  # a valid open packet: the realtime service (or a proxy passing to it)
FRAPPE_PAGE = "frappe_page"  # Frappe's web server: the path never reached Node
PROXY_ERROR = "proxy_error"  # 502/503/504 from a proxy: its upstream is down or wrong
NOT_FOUND = "not_found"  # 404 that is not Frappe's: the path was changed on the way
REDIRECT = "redirect"
ENGINEIO_ERROR = "engineio_error"  # Engine.IO's 400 JSON: a server that speaks the protocol
OTHER_VERSION = "other_version"  # an Engine.IO open packet of another protocol version (v3)
NOT_ENGINEIO = "not_engineio"  # 2xx, but not an open packet
HTTP_STATUS = "http_status"  # any other status

# What answered a WebSocket upgrade.
UPGRADED = "upgraded"
BAD_ACCEPT = "bad_accept"
NOT_UPGRADED = "not_upgraded"

_FRAPPE_GENERATOR_RE = re.compile(
	r"""<meta\s+name=["']?generator["']?\s+content=["']?frappe""", re.IGNORECASE
)
_REDIRECTS = (301, 302, 303, 307, 308)
_PROXY_ERRORS = (502, 503, 504)
# OpenSSL's reasons when the peer's bytes are not TLS at all: https went to a plain http port.
_NOT_TLS_REASONS = ("wrong version number", "record layer failure", "packet length too long", "http request")
# A TLS record (handshake 0x16 or alert 0x15, version 3.x) where an HTTP status line should be.
_TLS_RECORD_RE = re.compile(r"\\x1[56]\\x03|[\x15\x16]\x03")
# What proxies answer to plain http on their TLS port (nginx; Go servers: Caddy, Traefik).
_PLAIN_TO_TLS_PAGES = ("plain http request was sent to https port", "http request to an https server")
# Around OpenSSL's reason: `[SSL: CERTIFICATE_VERIFY_FAILED] ... (_ssl.c:1006)`.
_OPENSSL_NOISE_RE = re.compile(r"^\[SSL: [A-Z_]+\] |\s*\(_ssl\.c:\d+\)$")
# The title names a web page that answered in place of Engine.IO ("Welcome to nginx!").
_TITLE_RE = re.compile(r"<title[^>]*>\s*([^<]{1,80})", re.IGNORECASE)
# Content-Encoding -> zlib wbits; the ACCEPT_ENCODING the probe sends, and the x-gzip alias.
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class ProbeTimeout(TimeoutError):
	"""The diagnosis' deadline passed before or during a request."""


class Deadline:
	"""One budget for a whole diagnosis: every request gets min(its timeout, what is left)."""

	def __init__(self, seconds: float):
		self.seconds = seconds
		self.at = time.monotonic() + seconds

	def remaining(self) -> float:
		return self.at - time.monotonic()

	def budget(self, timeout: float) -> float:
		"""Seconds the next network operation may take; ProbeTimeout when nothing is left."""
		left = min(timeout, self.remaining())
		if left <= 0.005:
			raise ProbeTimeout(f"timed out: the {self.seconds:g} s budget is used up")
		return left


@dataclass
class HttpResult:
	"""One HTTP exchange: the answer, or the kind of failure. Bodies are cut at MAX_BODY_BYTES."""

	method: str
	url: str
	status: int | None = None
	reason: str = ""
	headers: dict[str, str] = field(default_factory=dict)  # lower-case names
	body: str = ""
	truncated: bool = False
	error: str | None = None  # TIMEOUT, REFUSED, DNS, TLS, RESET, BAD_RESPONSE, NETWORK
	error_text: str = ""
	elapsed_ms: float = 0.0

	def header(self, name: str) -> str | None:
		return self.headers.get(name.lower())


def classify_error(exc: BaseException) -> tuple[str, str]:
	"""A network exception (requests, urllib3, http.client, ssl, redis) -> (kind, short text)."""
	chain = _exception_chain(exc)
	text = _best_text(chain)
	for kind, types in (
		(TLS, (ssl.SSLError, ssl.CertificateError, requests.exceptions.SSLError)),
		(DNS, (socket.gaierror,)),
		(REFUSED, (ConnectionRefusedError,)),
		(TIMEOUT, (TimeoutError, socket.timeout, requests.exceptions.Timeout, redis.exceptions.TimeoutError)),
		(
			RESET,
			(
				ConnectionResetError,
				ConnectionAbortedError,
				BrokenPipeError,
				http.client.RemoteDisconnected,
				http.client.IncompleteRead,  # closed before the Content-Length was sent
			),
		),
		# Checked before the texts: urllib3 calls any of these "Connection aborted.".
		(BAD_RESPONSE, (http.client.HTTPException,)),
	):
		if any(isinstance(e, types) for e in chain):
			return kind, text
	lowered = " ".join(str(e) for e in chain).lower()
	if (
		"name or service not known" in lowered
		or "name resolution" in lowered
		or "nodename nor servname" in lowered
	):
		return DNS, text
	if "connection refused" in lowered:
		return REFUSED, text
	if "timed out" in lowered:
		return TIMEOUT, text
	if "reset by peer" in lowered or "remote end closed" in lowered or "connection aborted" in lowered:
		return RESET, text
	return NETWORK, text


def _exception_chain(exc: BaseException) -> list[BaseException]:
	"""The exception and everything it wraps: causes, contexts, urllib3 `reason`s, exception args."""
	seen: list[BaseException] = []
	todo = [exc]
	while todo and len(seen) < 20:
		e = todo.pop(0)
		if not isinstance(e, BaseException) or any(e is s for s in seen):
			continue  # ssl.SSLError.reason is a string, not an exception
		seen.append(e)
		todo.extend([e.__cause__, e.__context__, getattr(e, "reason", None)])
		todo.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
	return seen


def _best_text(chain: list[BaseException]) -> str:
	"""The most specific message: the innermost OS-level error if any, else the outermost."""
	for e in reversed(chain):
		if isinstance(e, OSError) and (e.strerror or str(e)):
			return e.strerror or str(e)
	text = str(chain[0]) if chain else ""
	return text[:300]


class Http:
	"""requests, bounded: a per-op timeout of min(timeout, deadline), a body cap, no redirects.

	trust_env is off: the probe must take the path a browser takes, not the server's
	HTTP(S)_PROXY, and must not pick credentials from ~/.netrc.
	"""

	def __init__(self, deadline: Deadline, timeout: float):
		self.deadline = deadline
		self.timeout = timeout
		self.session = requests.Session()
		self.session.trust_env = False
		self.session.headers["User-Agent"] = USER_AGENT
		self.session.headers["Accept-Encoding"] = ACCEPT_ENCODING

	def request(
		self,
		method: str,
		url: str,
		*,
		headers: Mapping[str, str] | None = None,
		data: str | None = None,
	) -> HttpResult:
		result = HttpResult(method=method, url=url)
		start = time.monotonic()
		try:
			budget = self.deadline.budget(self.timeout)
			response = self.session.request(
				method,
				url,
				headers=dict(headers or {}),
				data=data.encode("utf-8") if data is not None else None,
				timeout=(budget, budget),
				allow_redirects=False,
				stream=True,
			)
			try:
				result.status = response.status_code
				result.reason = response.reason or ""
				result.headers = {k.lower(): v for k, v in response.headers.items()}
				raw, truncated = self._read(response)
				raw, cut = decode_body(raw, result.header("content-encoding"))
				result.truncated = truncated or cut
				result.body = raw.decode(response.encoding or "utf-8", "replace")
			finally:
				response.close()
		except Exception as e:  # every failure becomes data: the caller interprets it
			result.error, result.error_text = classify_error(e)
		result.elapsed_ms = (time.monotonic() - start) * 1000
		return result

	def _read(self, response: requests.Response) -> tuple[bytes, bool]:
		"""At most MAX_BODY_BYTES as sent (still compressed), and never past the deadline.

		urllib3 would decompress a whole chunk at once in some versions: a 16 KiB gzip bomb
		becomes 16 MiB. decode_body() decompresses within the cap instead.
		"""
		chunks: list[bytes] = []
		size = 0
		# read1 returns what has arrived instead of waiting for a full chunk (urllib3 >= 2).
		read = functools.partial(
			getattr(response.raw, "read1", None) or response.raw.read, decode_content=False
		)
		while size < MAX_BODY_BYTES:
			self.deadline.budget(self.timeout)
			chunk = read(min(16384, MAX_BODY_BYTES - size))
			if not chunk:
				return b"".join(chunks), False
			chunks.append(chunk)
			size += len(chunk)
		return b"".join(chunks), True

	def close(self) -> None:
		self.session.close()


def decode_body(raw: bytes, encoding: str | None) -> tuple[bytes, bool]:
	"""`raw` with its Content-Encoding undone, at most MAX_BODY_BYTES of it: (body, cut short).

	Undecodable bytes are returned as they came: they fail as "not Engine.IO", which they are.
	"""
	wbits = _DECODERS.get((encoding or "").strip().lower())
	if wbits is None or not raw:
		return raw, False
	# "deflate" is zlib-wrapped by the standard, raw deflate in practice: try both.
	for bits in (wbits, -zlib.MAX_WBITS) if wbits == zlib.MAX_WBITS else (wbits,):
		decompressor = zlib.decompressobj(bits)
		try:
			body = decompressor.decompress(raw, MAX_BODY_BYTES)
		except zlib.error:
			continue
		return body, bool(decompressor.unconsumed_tail)
	return raw, False


def speaks_tls(url: str, deadline: Deadline, timeout: float) -> bool:
	"""Whether the port of `url` completes a TLS handshake.

	Tells a TLS port that resets a plain request from a plain port that resets everything.
	Only the protocol is in question and nothing is sent after the handshake, so the
	certificate is not checked.
	"""
	parts = urlsplit(url)
	context = ssl.create_default_context()
	context.check_hostname = False
	context.verify_mode = ssl.CERT_NONE
	try:
		budget = deadline.budget(timeout)
		with socket.create_connection((parts.hostname, parts.port or 80), timeout=budget) as sock:
			with context.wrap_socket(sock, server_hostname=parts.hostname):
				return True
	except Exception:
		return False


def failure_kind(result: HttpResult) -> str:
	"""`result.error` made precise with the URL's scheme: CERTIFICATE, PLAIN_PORT, TLS_PORT, or as is."""
	kind, text = result.error or "", result.error_text.lower()
	https = urlsplit(result.url).scheme == "https"
	if kind == TLS and https:
		if "certificate" in text:
			return CERTIFICATE
		if any(reason in text for reason in _NOT_TLS_REASONS):
			return PLAIN_PORT
	if not https and (kind == TLS or (kind == BAD_RESPONSE and _TLS_RECORD_RE.search(result.error_text))):
		return TLS_PORT
	return kind


# ---- the Engine.IO handshake -------------------------------------------------------------


@dataclass
class Handshake:
	"""What answered `GET <path>?EIO=4&transport=polling`, classified."""

	kind: str
	detail: str
	http: HttpResult
	open: OpenPacket | None = None
	engine_error: EngineError | None = None
	location: str | None = None

	@property
	def ok(self) -> bool:
		return self.kind == ENGINEIO


def looks_like_frappe_page(body: str) -> bool:
	"""Frappe's web pages (its 404 too) carry `<meta name="generator" content="frappe">`."""
	return bool(_FRAPPE_GENERATOR_RE.search(body)) or "Built on Frappe" in body[:500]


def classify_handshake(result: HttpResult) -> Handshake:
	"""Name what answered a handshake request; only a parsed open packet counts as Engine.IO."""
	url = result.url
	if result.error:
		return Handshake(failure_kind(result), describe_failure(result), result)
	status, body = result.status or 0, result.body
	snippet = _snippet(body)
	if status in _REDIRECTS:
		location = result.header("location") or ""
		return Handshake(REDIRECT, describe_redirect(status, url, location), result, location=location)
	if status == 400 and any(page in body.lower() for page in _PLAIN_TO_TLS_PAGES):
		return Handshake(TLS_PORT, f"HTTP 400 {snippet!r}: the port speaks https, not plain http", result)
	if looks_like_frappe_page(body):
		return Handshake(
			FRAPPE_PAGE, f"HTTP {status} from Frappe's web server (its HTML page), not Engine.IO", result
		)
	engine_error = parse_engine_error(result)
	if engine_error:
		return Handshake(
			ENGINEIO_ERROR,
			f"HTTP {status} Engine.IO error {engine_error.code} {engine_error.message!r}",
			result,
			engine_error=engine_error,
		)
	if status in _PROXY_ERRORS:
		server = result.header("server")
		by = f" from {server}" if server else ""
		return Handshake(
			PROXY_ERROR, f"HTTP {status} {result.reason}{by}: the proxy got no answer upstream", result
		)
	if status == 404:
		what = "an empty body" if not body.strip() else repr(snippet)
		return Handshake(NOT_FOUND, f"HTTP 404 with {what} at {url}", result)
	if 200 <= status < 300:
		try:
			packet = engineio.parse_open(body)
		except engineio.OtherVersionError as e:
			return Handshake(OTHER_VERSION, f"HTTP {status}, but {e}", result)
		except ProtocolError as e:
			return Handshake(NOT_ENGINEIO, f"HTTP {status}, but {_not_engineio(result, e)}", result)
		upgrades = ", ".join(packet.upgrades) or "none"
		return Handshake(
			ENGINEIO,
			f"Engine.IO open packet (upgrades: {upgrades}, pingInterval {packet.ping_interval} ms)",
			result,
			open=packet,
		)
	return Handshake(HTTP_STATUS, f"HTTP {status} {result.reason}: {snippet!r}", result)


def describe_redirect(status: int, url: str, location: str) -> str:
	"""`HTTP 302 redirect to <location>`, saying so when it leads back to the same URL."""
	if not location:
		return f"HTTP {status} redirect to (no Location)"
	loop = " (the same URL: a redirect loop)" if is_redirect_loop(url, location) else ""
	return f"HTTP {status} redirect to {location}{loop}"


def is_redirect_loop(url: str, location: str) -> bool:
	"""A redirect back to the URL asked for (scheme, host, port and path; the query may differ)."""
	here, there = urlsplit(url), urlsplit(urljoin(url, location))
	return bool(location) and here[:3] == there[:3]


def _not_engineio(result: HttpResult, error: ProtocolError) -> str:
	"""Why a 2xx body is no handshake: a web page is named as one, the rest by the parser."""
	body = result.body
	content_type = (result.header("content-type") or "").lower()
	if "html" in content_type or body.lstrip()[:1] == "<":
		title = _TITLE_RE.search(body)
		named = f" ({_snippet(title.group(1))!r})" if title else ""
		text = f"an HTML page{named}, not an Engine.IO open packet"
	else:
		text = str(error)
	if result.truncated:
		text += f"; the body is over {MAX_BODY_BYTES // 1024} KiB (read no further)"
	return text


def parse_engine_error(result: HttpResult) -> EngineError | None:
	"""Engine.IO's `{"code", "message"}` error body, on a 4xx answer only."""
	if result.status is None or not 400 <= result.status < 500:
		return None
	return engineio.parse_http_error(result.body)


def describe_failure(result: HttpResult) -> str:
	"""One phrase for a request that got no (complete) HTTP answer."""
	where = _netloc(result.url)
	text = f" ({result.error_text})" if result.error_text else ""
	reason = f" ({_openssl_reason(result.error_text)})" if result.error_text else ""
	kind = failure_kind(result)
	if result.status is not None and kind in (TIMEOUT, RESET):
		# The status line and headers came; the body did not.
		return {
			TIMEOUT: f"timed out: {where} sent the HTTP {result.status} headers, then the body stalled",
			RESET: f"{where} broke off its HTTP {result.status} answer in the middle{text}",
		}[kind]
	return {
		TIMEOUT: f"timed out: no answer from {where} in time",
		REFUSED: f"connection refused by {where}: nothing listens there",
		DNS: f"DNS lookup of {urlsplit(result.url).hostname} failed{text}",
		CERTIFICATE: f"TLS handshake with {where} failed: its certificate is not trusted{reason}",
		PLAIN_PORT: f"TLS handshake with {where} failed: the port answers plain http, not TLS{reason}",
		TLS_PORT: f"{where} answered plain http with TLS bytes: the port speaks https{text}",
		TLS: f"TLS handshake with {where} failed{reason}",
		RESET: f"{where} closed the connection without an answer (reset){text}",
		BAD_RESPONSE: f"{where} answered something that is not valid HTTP{text}",
	}.get(kind, f"request to {where} failed{text}")


def _openssl_reason(text: str) -> str:
	"""OpenSSL's reason without the `[SSL: CODE]` and `(_ssl.c:N)` around it, for people."""
	return _OPENSSL_NOISE_RE.sub("", text.strip())


def probe_handshake(
	http: Http, base_url: str, path: str, headers: Mapping[str, str] | None = None
) -> Handshake:
	"""Open an Engine.IO polling session at `<base_url><path>` and say what answered."""
	url = engineio.endpoint_url(base_url, path)
	handshake = classify_handshake(http.request("GET", url, headers=headers))
	if handshake.kind in (RESET, BAD_RESPONSE) and urlsplit(url).scheme == "http":
		# A TLS port resets a plain request without a word (Node, Python): ask it in TLS.
		if speaks_tls(url, http.deadline, http.timeout):
			detail = (
				f"{handshake.detail}; the port completes a TLS handshake: it speaks https, not plain http"
			)
			return Handshake(TLS_PORT, detail, handshake.http)
	return handshake


# ---- the WebSocket upgrade ---------------------------------------------------------------


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
	base_url: str, path: str, origin: str, deadline: Deadline, timeout: float, nonce: bytes | None = None
) -> Upgrade:
	"""Send the upgrade a browser sends; pass only on 101 with the right Sec-WebSocket-Accept.

	http.client returns 101 responses as they are, so the exchange stays inspectable; the
	server's first frame (the Engine.IO open packet) is read when it comes in time.
	"""
	start = time.monotonic()
	url = engineio.endpoint_url(base_url, path, engineio.TRANSPORT_WEBSOCKET)
	parts = urlsplit(url)
	key = engineio.websocket_key(nonce or os.urandom(16))
	conn: http.client.HTTPConnection | None = None
	try:
		budget = deadline.budget(timeout)
		if parts.scheme == "https":
			conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=budget)
		else:
			conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=budget)
		target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
		conn.request(
			"GET",
			target,
			headers={
				"Origin": origin,
				"Connection": "Upgrade",
				"Upgrade": "websocket",
				"Sec-WebSocket-Version": "13",
				"Sec-WebSocket-Key": key,
				"User-Agent": USER_AGENT,
			},
		)
		response = conn.getresponse()
		upgrade = _classify_upgrade(response, url, key, deadline, timeout)
	except Exception as e:
		kind, text = classify_error(e)
		result = HttpResult("GET", url, error=kind, error_text=text)
		upgrade = Upgrade(failure_kind(result), describe_failure(result))
	finally:
		if conn is not None:
			conn.close()
	upgrade.elapsed_ms = (time.monotonic() - start) * 1000
	return upgrade


def _classify_upgrade(
	response: http.client.HTTPResponse, url: str, key: str, deadline: Deadline, timeout: float
) -> Upgrade:
	status = response.status
	headers = {k.lower(): v for k, v in response.getheaders()}
	# An HTTP/1.0 hop has no Upgrade mechanism: name it, it is the cause.
	http10 = (
		" (an HTTP/1.0 answer: an HTTP/1.0 hop cannot carry the upgrade)" if response.version == 10 else ""
	)
	if status == 101:
		accept = headers.get("sec-websocket-accept", "")
		if accept != engineio.websocket_accept(key):
			return Upgrade(
				BAD_ACCEPT, f"101 with a wrong Sec-WebSocket-Accept ({accept or 'missing'})", status
			)
		packet = _read_open_frame(response, deadline, timeout)
		found = "Engine.IO open packet received" if packet else "no Engine.IO open packet read in time"
		return Upgrade(
			UPGRADED, f"101 Switching Protocols, Sec-WebSocket-Accept valid, {found}", status, open=packet
		)
	body = _read_capped(response, deadline, timeout)
	if status in _REDIRECTS:
		location = headers.get("location", "")
		return Upgrade(REDIRECT, describe_redirect(status, url, location), status, location=location)
	engine_error = engineio.parse_http_error(body) if 400 <= status < 500 else None
	if engine_error:
		error = f"Engine.IO error {engine_error.code} {engine_error.message!r}"
		detail = f"HTTP {status} {error} instead of 101{http10}"
		return Upgrade(NOT_UPGRADED, detail, status, engine_error=engine_error)
	what = "Frappe's web page" if looks_like_frappe_page(body) else repr(_snippet(body))
	return Upgrade(NOT_UPGRADED, f"HTTP {status} {response.reason} ({what}) instead of 101{http10}", status)


def _read_capped(response: http.client.HTTPResponse, deadline: Deadline, timeout: float) -> str:
	try:
		deadline.budget(timeout)
		return response.read(MAX_BODY_BYTES).decode("utf-8", "replace")
	except Exception:
		return ""  # the status line already says what answered


def _read_open_frame(
	response: http.client.HTTPResponse, deadline: Deadline, timeout: float
) -> OpenPacket | None:
	"""The first server frame after a 101; None when it does not come in time or is not an open packet."""
	data = b""
	try:
		sock = response.fp.raw._sock if hasattr(response.fp, "raw") else None  # type: ignore[union-attr]
		while len(data) < MAX_BODY_BYTES:
			frame = engineio.decode_frame(data)
			if frame:
				opcode, payload, _used = frame
				if opcode != engineio.WS_TEXT:
					return None
				return engineio.parse_open(payload.decode("utf-8", "replace"))
			budget = min(deadline.budget(timeout), 1.0)
			if sock is not None:
				sock.settimeout(budget)
			chunk = response.fp.read1(4096) if hasattr(response.fp, "read1") else response.fp.read(1)
			if not chunk:
				return None
			data += chunk
	except Exception:
		return None  # the upgrade itself is proven; the first frame is only a bonus
	return None


# ---- a polling session ---------------------------------------------------------------------


class SessionError(Exception):
	"""A polling session step failed; `kind` and `result` say how."""

	def __init__(self, step: str, kind: str, detail: str, result: HttpResult | None = None):
		self.step = step
		self.kind = kind
		self.detail = detail
		self.result = result
		self.engine_error = parse_engine_error(result) if result is not None else None
		super().__init__(f"{step}: {detail}")

	@property
	def session_lost(self) -> bool:
		"""Engine.IO forgot the sid: another node answered (no sticky sessions) or it expired."""
		return self.engine_error is not None and self.engine_error.code == engineio.SESSION_ID_UNKNOWN


class PollingClient:
	"""The smallest Engine.IO polling client that can connect a namespace and wait for an event.

	The headers (Origin, Cookie, ...) go with every request, as a browser sends them; the
	realtime service checks those of the first one.
	"""

	def __init__(self, http: Http, base_url: str, path: str, headers: Mapping[str, str] | None = None):
		self.http = http
		self.base_url = base_url
		self.path = path
		self.headers = dict(headers or {})
		self.sid: str | None = None
		self.requests = 0  # requests answered on this sid, handshake included

	def open(self) -> Handshake:
		handshake = probe_handshake(self.http, self.base_url, self.path, self.headers)
		if not handshake.ok:
			raise SessionError("handshake", handshake.kind, handshake.detail, handshake.http)
		self.sid = handshake.open.sid
		self.requests = 1
		return handshake

	def _url(self) -> str:
		return engineio.endpoint_url(self.base_url, self.path, sid=self.sid)

	def _check(self, step: str, result: HttpResult) -> HttpResult:
		if result.error:
			raise SessionError(step, failure_kind(result), describe_failure(result), result)
		if result.status != 200:
			error = parse_engine_error(result)
			detail = (
				f"HTTP {result.status} Engine.IO error {error.code} {error.message!r}"
				if error
				else f"HTTP {result.status} {result.reason}: {_snippet(result.body)!r}"
			)
			raise SessionError(step, ENGINEIO_ERROR if error else HTTP_STATUS, detail, result)
		self.requests += 1
		return result

	def send(self, packets: list[str], step: str = "post") -> None:
		headers = {**self.headers, "Content-Type": "text/plain;charset=UTF-8"}
		result = self.http.request(
			"POST", self._url(), headers=headers, data=engineio.encode_payload(packets)
		)
		self._check(step, result)

	def poll(self, step: str = "poll") -> list[engineio.SocketPacket]:
		result = self._check(step, self.http.request("GET", self._url(), headers=self.headers))
		try:
			return engineio.decode_messages(result.body)
		except ProtocolError as e:
			raise SessionError(step, NOT_ENGINEIO, str(e), result) from None

	def connect(self, namespace: str) -> ConnectResult:
		"""CONNECT to `namespace`; read every packet of every body until the server answers."""
		self.send([engineio.encode_connect(namespace)], "connect")
		outcome = ConnectResult()
		while not outcome.answered:
			outcome = engineio.connect_result(self.poll("connect reply"), namespace, outcome)
		return outcome

	def wait_event(self, namespace: str, event: str, match: Callable[[list], bool]) -> list:
		"""Poll until EVENT `event` arrives in `namespace` with args accepted by `match`."""
		while True:
			packets = self.poll("event")
			args = engineio.find_event(packets, namespace, event)
			if args is not None and match(args):
				return args

	def close(self) -> None:
		"""Say goodbye so the server drops the session now, not after pingTimeout; best effort."""
		if self.sid is None or self.http.deadline.remaining() < 0.05:
			return
		try:
			self.send([engineio.CLOSE], "close")
		except SessionError:
			pass
		self.sid = None


@dataclass
class SessionProbe:
	"""One polling session: several requests on its sid, then a namespace CONNECT."""

	handshake: Handshake | None = None
	requests: int = 0  # answered on the sid, handshake included
	lost: SessionError | None = None  # "Session ID unknown" on a later request
	failure: SessionError | None = None  # any other failure
	connect: ConnectResult | None = None


def probe_session(
	http: Http,
	base_url: str,
	path: str,
	namespace: str,
	headers: Mapping[str, str] | None = None,
	extra_requests: int = 2,
) -> SessionProbe:
	"""Handshake, `extra_requests` NOOP POSTs, CONNECT POST, then GETs for the reply, all on one sid.

	Behind a balancer without sticky sessions one of these lands on another node and gets
	"Session ID unknown"; on one node, the CONNECT reply says how the namespace was judged.
	"""
	outcome = SessionProbe()
	client = PollingClient(http, base_url, path, headers)
	try:
		outcome.handshake = client.open()
		for _ in range(extra_requests):
			client.send([engineio.NOOP], "noop")
		outcome.connect = client.connect(namespace)
	except SessionError as e:
		if e.session_lost and e.step != "handshake":
			outcome.lost = e
		else:
			outcome.failure = e
	except ProbeTimeout as e:
		outcome.failure = SessionError("session", TIMEOUT, str(e))
	finally:
		outcome.requests = client.requests
		client.close()
	return outcome


@dataclass
class Delivery:
	"""An event published to a connected session: did it arrive, and how fast."""

	connect: ConnectResult | None = None
	failure: SessionError | None = None
	published: bool | None = None
	publish_error: str = ""
	latency_ms: float | None = None


def probe_delivery(
	http: Http,
	base_url: str,
	path: str,
	namespace: str,
	headers: Mapping[str, str],
	event: str,
	token: str,
	publish: Callable[[], bool],
) -> Delivery:
	"""Connect like a browser, `publish()` one event carrying `token`, and wait for it.

	The client connects before publishing: Engine.IO buffers what arrives between polls, so
	the event is not missed while no GET is pending.
	"""
	outcome = Delivery()
	client = PollingClient(http, base_url, path, headers)
	try:
		client.open()
		outcome.connect = client.connect(namespace)
		if not outcome.connect.ok:
			return outcome
		start = time.monotonic()
		try:
			outcome.published = bool(publish())
		except Exception as e:  # the caller's publish function: its failure is a finding
			outcome.published, outcome.publish_error = False, f"{type(e).__name__}: {e}"
		if not outcome.published:
			return outcome
		client.wait_event(namespace, event, lambda args: bool(args) and _carries(args[0], token))
		outcome.latency_ms = (time.monotonic() - start) * 1000
	except SessionError as e:
		outcome.failure = e
	finally:
		client.close()
	return outcome


def _carries(message: object, token: str) -> bool:
	return isinstance(message, dict) and message.get("token") == token


# ---- Redis ------------------------------------------------------------------------------


@dataclass
class RedisPublish:
	"""A PUBLISH: how many subscribers got it, or why it could not be sent."""

	subscribers: int | None = None
	error: str | None = None
	error_text: str = ""
	elapsed_ms: float = 0.0


def redis_publish(
	redis_url: str, channel: str, message: str, deadline: Deadline, timeout: float
) -> RedisPublish:
	"""PUBLISH once, no retries, within the deadline; the reply counts the listening subscribers."""
	start = time.monotonic()
	outcome = RedisPublish()
	client = None
	try:
		budget = deadline.budget(timeout)
		client = redis.Redis.from_url(
			redis_url,
			socket_timeout=budget,
			socket_connect_timeout=budget,
			retry=Retry(NoBackoff(), 0),
			retry_on_timeout=False,
		)
		outcome.subscribers = int(client.publish(channel, message))
	except Exception as e:
		outcome.error, outcome.error_text = classify_error(e)
		if outcome.error == NETWORK:
			outcome.error_text = f"{type(e).__name__}: {e}"
	finally:
		if client is not None:
			client.close()
	outcome.elapsed_ms = (time.monotonic() - start) * 1000
	return outcome


def frappe_event(event: str, message: object, site_name: str, room: str | None) -> str:
	"""The JSON `frappe.publish_realtime` puts on the `events` channel."""
	return json.dumps({"event": event, "message": message, "namespace": site_name, "room": room})


def safe_redis_url(url: str) -> str:
	"""The Redis URL without its password, for output."""
	try:
		parts = urlsplit(url)
		if parts.password is None:
			return url
		netloc = parts.hostname or ""
		if parts.port:
			netloc += f":{parts.port}"
		user = f"{parts.username}:***@" if parts.username else ":***@"
		return urlunsplit((parts.scheme, user + netloc, parts.path, parts.query, parts.fragment))
	except ValueError:
		return "(unparsable Redis URL)"


# ---- the web server's view of a session ---------------------------------------------------------


def fetch_user(
	http: Http, web_url: str, sid: str, headers: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
	"""Ask the web server whose session `sid` is, as the realtime service does: (user, detail)."""
	url = web_url.rstrip("/") + USER_INFO_PATH
	result = http.request("GET", url, headers={**dict(headers or {}), "Cookie": f"sid={sid}"})
	if result.error:
		return None, describe_failure(result)
	if result.status != 200:
		return None, f"{USER_INFO_PATH} answered HTTP {result.status}"
	try:
		user = json.loads(result.body)["message"]["user"]
	except (ValueError, KeyError, TypeError):
		return None, f"{USER_INFO_PATH} answered {_snippet(result.body)!r}, not a user"
	if not isinstance(user, str) or not user:
		return None, f"{USER_INFO_PATH} named no user"
	return user, f"session of {user}"


def _netloc(url: str) -> str:
	parts = urlsplit(url)
	return parts.netloc or url


def _snippet(text: str, limit: int = 80) -> str:
	text = " ".join(text.split())
	return text if len(text) <= limit else text[:limit] + "…"
