"""Bounded network access for every probe: one deadline, capped bodies, failures as data.

Every call here has a timeout and shares one `Deadline`, reads (and decompresses) at most
MAX_BODY_BYTES, never follows a redirect, and turns network errors into a `kind` (timeout,
refused, dns, tls, reset, bad_response) instead of raising. A socket that gets a byte at a
time never times out by itself, so the deadline also keeps the connections opened under it:
`Deadline.cut()` shuts them when whoever waits for the probes stops waiting.

The probes built on it: handshake.py (the Engine.IO polling handshake), upgrade.py (the
WebSocket upgrade), session.py (a polling session, delivery), bridge.py (Redis). They only
observe; hints.py and diagnose.py interpret. No frappe import.
"""

import contextlib
import functools
import http.client
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis
import requests
import urllib3
from requests.adapters import HTTPAdapter

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "raven-realtime-diagnose"
# Only encodings the probe decodes itself, within MAX_BODY_BYTES (no br/zstd it cannot read).
ACCEPT_ENCODING = "gzip, deflate"

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

# OpenSSL's reasons when the peer's bytes are not TLS at all: https went to a plain http port.
_NOT_TLS_REASONS = ("wrong version number", "record layer failure", "packet length too long", "http request")
# A TLS record (handshake 0x16 or alert 0x15, version 3.x) where an HTTP status line should be.
_TLS_RECORD_RE = re.compile(r"\\x1[56]\\x03|[\x15\x16]\x03")
# Around OpenSSL's reason: `[SSL: CERTIFICATE_VERIFY_FAILED] ... (_ssl.c:1006)`.
_OPENSSL_NOISE_RE = re.compile(r"^\[SSL: [A-Z_]+\] |\s*\(_ssl\.c:\d+\)$")
# Content-Encoding -> zlib wbits; the ACCEPT_ENCODING the probe sends, and the x-gzip alias.
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class ProbeTimeout(TimeoutError):
	"""The diagnosis' deadline passed before or during a request."""


class Deadline:
	"""One budget for a whole diagnosis: every request gets min(its timeout, what is left).

	It also holds a way to close each connection open under it (`on_cut`), because a per-read
	timeout never fires on a server that sends a byte just before it would: `cut()` shuts them
	all, so a probe abandoned at the deadline hangs up instead of holding the socket open.
	"""

	def __init__(self, seconds: float):
		self.seconds = seconds
		self.at = time.monotonic() + seconds
		self._lock = threading.Lock()
		self._closers: set[Callable[[], None]] = set()
		self._cut = False

	def remaining(self) -> float:
		return self.at - time.monotonic()

	def budget(self, timeout: float) -> float:
		"""Seconds the next network operation may take; ProbeTimeout when nothing is left."""
		left = min(timeout, self.remaining())
		if left <= 0.005:
			raise ProbeTimeout(f"timed out: the {self.seconds:g} s budget is used up")
		return left

	def on_cut(self, close: Callable[[], None]) -> None:
		"""Call `close` when the deadline is cut (at once if it already was), unless forgotten first."""
		with self._lock:
			if not self._cut:
				self._closers.add(close)
				return
		close()

	def forget(self, close: Callable[[], None]) -> None:
		"""The connection behind `close` is closed by its owner: nothing left to cut."""
		with self._lock:
			self._closers.discard(close)

	@contextlib.contextmanager
	def cutting(self, close: Callable[[], None]) -> Iterator[None]:
		"""While the block runs, a cut of the deadline calls `close`."""
		self.on_cut(close)
		try:
			yield
		finally:
			self.forget(close)

	def cut(self) -> None:
		"""Close every connection still open under this deadline, now and from any thread."""
		with self._lock:
			self._cut = True
			closers, self._closers = list(self._closers), set()
		for close in closers:
			close()


def shut(sock: object) -> None:
	"""Shut a socket down from any thread: its reader wakes at once and the peer sees the end.

	Not close(): on Linux, closing a socket another thread reads from neither wakes that thread
	nor ends the connection; the reader closes it itself once woken. The base-class shutdown
	leaves an SSLSocket's TLS state to that reader.
	"""
	if isinstance(sock, socket.socket):
		try:
			socket.socket.shutdown(sock, socket.SHUT_RDWR)
		except OSError:
			pass  # not connected yet, or already closed: nothing to cut


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
	HTTP(S)_PROXY, and must not pick credentials from ~/.netrc. Until close(), the deadline
	can cut every connection this session opened.
	"""

	def __init__(self, deadline: Deadline, timeout: float):
		self.deadline = deadline
		self.timeout = timeout
		self.session = requests.Session()
		self.session.trust_env = False
		self.session.headers["User-Agent"] = USER_AGENT
		self.session.headers["Accept-Encoding"] = ACCEPT_ENCODING
		self._connections: list = []  # urllib3 connections, whose `sock` cut() shuts
		adapter = _KeepingAdapter(self._connections.append)
		self.session.mount("http://", adapter)
		self.session.mount("https://", adapter)
		deadline.on_cut(self.cut)

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

	def cut(self) -> None:
		"""Shut every connection of this session: a read stuck in its headers wakes and hangs up."""
		for connection in list(self._connections):
			shut(getattr(connection, "sock", None))

	def close(self) -> None:
		self.deadline.forget(self.cut)
		self.session.close()


class _KeepingAdapter(HTTPAdapter):
	"""requests' adapter, handing each connection its pools create to `opened`.

	requests keeps the connection of a request in flight to itself; Http.cut needs its socket.
	"""

	def __init__(self, opened: Callable[[object], None]):
		self._opened = opened
		super().__init__()

	def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
		super().init_poolmanager(connections, maxsize, block, **pool_kwargs)  # requests' bookkeeping
		self.poolmanager = _KeepingPoolManager(
			self._opened, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
		)


class _KeepingPoolManager(urllib3.PoolManager):
	"""A PoolManager whose pools hand every connection they create to `opened`."""

	def __init__(self, opened: Callable[[object], None], **kwargs):
		super().__init__(**kwargs)
		self._opened = opened

	def _new_pool(self, scheme, host, port, request_context=None):
		pool = super()._new_pool(scheme, host, port, request_context)
		make = pool.ConnectionCls

		def connection(*args, **kwargs):
			conn = make(*args, **kwargs)
			self._opened(conn)
			return conn

		pool.ConnectionCls = connection
		return pool


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
			with deadline.cutting(functools.partial(shut, sock)):
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


def describe_failure(result: HttpResult) -> str:
	"""One phrase for a request that got no (complete) HTTP answer."""
	where = netloc(result.url)
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


def netloc(url: str) -> str:
	"""`host:port` of a URL, for details; the URL itself when it has none."""
	parts = urlsplit(url)
	return parts.netloc or url


def snippet(text: str, limit: int = 80) -> str:
	"""`text` on one line, cut at `limit` characters: what a detail quotes of an answer."""
	text = " ".join(text.split())
	return text if len(text) <= limit else text[:limit] + "…"
