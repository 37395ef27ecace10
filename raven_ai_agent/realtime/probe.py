"""Bounded network access for every probe: one deadline, capped bodies, failures as data.

Every call here has a timeout and shares one `Deadline`, reads (and decompresses) at most
MAX_BODY_BYTES, never follows a redirect, and turns network errors into a `kind` (timeout,
refused, dns, tls, reset, bad_response) instead of raising. A socket that gets a byte at a
time never times out by itself, so the deadline also keeps the connections opened under it:
`Deadline.cut()` shuts them when whoever waits for the probes stops waiting.

HTTP goes through the standard library's http.client, opened by `open_connection`, for the
polling probes (Http) and the WebSocket upgrade alike: the probe needs the socket of each
exchange (to cut it at the deadline), the raw 101 of an upgrade, and the body still
compressed (to decompress within the cap), which a higher-level client keeps to itself. One
TLS context (`tls_context`) serves every probe, so two probes of one URL trust the same CAs.

The probes built on it: handshake.py (the Engine.IO polling handshake), upgrade.py (the
WebSocket upgrade), session.py (a polling session, delivery), bridge.py (Redis). They only
observe; failures.py words a failed exchange, hints.py and checks/ interpret. No frappe import.
"""

import contextlib
import errno
import functools
import http.client
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import redis

from raven_ai_agent.realtime import bodies
from raven_ai_agent.realtime.bodies import MAX_BODY_BYTES  # noqa: F401 - the probes' cap, re-exported
from raven_ai_agent.realtime.constants import unix_socket_path

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

# Content-Encoding -> zlib wbits; the ACCEPT_ENCODING the probe sends, and the x-gzip alias.


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
	"""A network exception (http.client, socket, ssl, redis) -> (kind, short text)."""
	chain = _exception_chain(exc)
	text = _best_text(chain)
	for kind, types in (
		(TLS, (ssl.SSLError, ssl.CertificateError)),
		(DNS, (socket.gaierror,)),
		(REFUSED, (ConnectionRefusedError,)),
		(TIMEOUT, (TimeoutError, socket.timeout, redis.exceptions.TimeoutError)),
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
		# Checked before the texts: an http.client error is about the answer, whatever it says.
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
	"""The exception and everything it wraps: causes, contexts, `reason`s, exception args."""
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


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
	"""The trust every probe uses: the system's CA store, plus the certificates of `ca_file` (a
	private CA, a self-signed staging certificate), hostnames checked. Built once per file
	version: a CA file replaced on disk is read again."""
	if not ca_file:
		return _context(None, 0)
	return _context(ca_file, os.stat(ca_file).st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _context(ca_file: str | None, version: int) -> ssl.SSLContext:
	context = ssl.create_default_context()
	if ca_file:
		context.load_verify_locations(cafile=ca_file)
	return context


def open_connection(
	url: str, deadline: Deadline, timeout: float, ca_file: str | None = None
) -> http.client.HTTPConnection:
	"""A connected http.client connection to the origin of `url`, within the deadline.

	The caller closes it; while it is open, `deadline.cutting(...)` with `shut(conn.sock)`
	lets the deadline wake a read that never times out by itself.
	"""
	parts = urlsplit(url)
	budget = deadline.budget(timeout)
	socket_path = unix_socket_path(url)
	if socket_path is not None:
		conn = UnixHTTPConnection(socket_path, timeout=budget)
	elif parts.scheme == "https":
		context = tls_context(ca_file)
		conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=budget, context=context)
	else:
		conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=budget)
	try:
		conn.connect()
	except BaseException:
		conn.close()
		raise
	return conn


class UnixHTTPConnection(http.client.HTTPConnection):
	"""HTTP over a Unix socket: the realtime service with socketio_uds set opens no TCP port."""

	def __init__(self, path: str, timeout: float):
		super().__init__("localhost", timeout=timeout)
		self.unix_path = path

	def connect(self) -> None:
		sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		sock.settimeout(self.timeout)
		try:
			sock.connect(self.unix_path)
		except FileNotFoundError as e:  # no socket file: nothing listens, as a refused port
			sock.close()
			raise ConnectionRefusedError(errno.ECONNREFUSED, f"no Unix socket at {self.unix_path}") from e
		except BaseException:
			sock.close()
			raise
		self.sock = sock


def request_target(url: str) -> str:
	"""The path and query of `url`, as the request line carries them."""
	parts = urlsplit(url)
	return urlunsplit(("", "", parts.path or "/", parts.query, ""))


class Http:
	"""Bounded HTTP exchanges: a per-op timeout of min(timeout, deadline), a body cap, no redirects.

	One connection per exchange, closed after it: no proxy from the environment, no
	credentials from ~/.netrc, the path a browser takes. Until it is closed the deadline can
	cut it.
	"""

	def __init__(self, deadline: Deadline, timeout: float, ca_file: str | None = None):
		self.deadline = deadline
		self.timeout = timeout
		self.ca_file = ca_file

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
		conn = None
		try:
			conn = open_connection(url, self.deadline, self.timeout, self.ca_file)
			sock = conn.sock
			with self.deadline.cutting(functools.partial(shut, sock)):
				sent = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}
				sent.update(headers or {})
				body = data.encode("utf-8") if data is not None else None
				conn.request(method, request_target(url), body=body, headers=sent)
				response = conn.getresponse()
				result.status = response.status
				result.reason = response.reason or ""
				result.headers = {k.lower(): v for k, v in response.getheaders()}
				raw, truncated = self._read(response, sock)
				raw, cut = bodies.decode_body(raw, result.header("content-encoding"))
				result.truncated = truncated or cut
				result.body = raw.decode(bodies.charset(result.header("content-type")), "replace")
		# Every network failure becomes data (ValueError: a malformed URL or port); a bug raises.
		except (OSError, http.client.HTTPException, ValueError) as e:
			result.error, result.error_text = classify_error(e)
		finally:
			if conn is not None:
				conn.close()
		result.elapsed_ms = (time.monotonic() - start) * 1000
		return result

	def _read(self, response: http.client.HTTPResponse, sock: socket.socket) -> tuple[bytes, bool]:
		"""At most MAX_BODY_BYTES as sent (still compressed), and never past the deadline."""
		chunks: list[bytes] = []
		size = 0
		expected = bodies.content_length(response)
		while size < MAX_BODY_BYTES:
			sock.settimeout(self.deadline.budget(self.timeout))
			# read1 returns what has arrived instead of waiting for a full buffer.
			chunk = response.read1(min(16384, MAX_BODY_BYTES - size))
			if not chunk:
				if expected is not None and size < expected:
					# Closed before the Content-Length was sent (read1 says nothing of it).
					raise http.client.IncompleteRead(b"".join(chunks), expected - size)
				return b"".join(chunks), False
			chunks.append(chunk)
			size += len(chunk)
		return b"".join(chunks), True

	def close(self) -> None:
		"""Nothing stays open between exchanges; kept so callers can treat it as a resource."""
