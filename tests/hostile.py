"""A hostile HTTP server on loopback: one wrong answer a realtime route can give, per role.

Every role is a small function of one request that writes raw bytes, so a test sees exactly
the wire a broken proxy, a hung upstream or a server of another Socket.IO version produces.
`healthy` is a minimal Engine.IO v4 / Socket.IO v5 server (polling, CONNECT, the WebSocket
upgrade), good enough for the whole diagnosis to pass; several roles are it with one fault.

Stdlib only (socketserver, threading, ssl). TLS roles use a self-signed certificate made at
test time, with the `cryptography` package when installed, else the `openssl` CLI.

	with Hostile("redirect_loop") as server:
		diagnose(config_pointing_at(server.url), timeout=1)
"""

import atexit
import base64
import datetime
import hashlib
import ipaddress
import json
import select
import shutil
import socket
import socketserver
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD_BYTES = 64 * 1024
READ_TIMEOUT = 5.0  # a client that sends half a request is dropped after this
HUGE_BODY_BYTES = 50 * 1024 * 1024
SEND_CHUNK = 64 * 1024
DRIP_SECONDS = 0.05  # one byte this often: far inside any read timeout, so none fires
RECORD_SEPARATOR = "\x1e"
OPEN_FIELDS = {"upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000}
# Socket.IO v2 (Engine.IO v3) answers any EIO with its own handshake: length-prefixed, pingTimeout 5 s.
EIO3_OPEN_FIELDS = {"upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 5000}
# python-engineio answers a client of the other protocol version with a bare JSON string.
PYTHON_ENGINEIO_VERSION_ERROR = (
	'"The client is using an unsupported version of the Socket.IO or Engine.IO protocols"'
)
NGINX_PLAIN_TO_TLS_PAGE = (
	"<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n"
	"<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port"
	"</center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
)
# A TLS alert record: type 21, TLS 1.0 record version, length 2, fatal protocol_version (70).
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"
# What a dev server's live-reload socket says first (Vite's HMR client expects exactly this).
OTHER_SERVICE_HELLO = '{"type":"connected"}'
WELCOME_PAGE = (
	"<!DOCTYPE html>\n<html>\n<head><title>Welcome to nginx!</title></head>\n<body>\n"
	"<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed.</p>\n"
	"</body>\n</html>\n"
)


# ---- a self-signed certificate ---------------------------------------------------------------

_cert_dir: Path | None = None


def self_signed_cert() -> tuple[Path, Path]:
	"""(certificate, key) PEM files for 127.0.0.1 and localhost, made once per process."""
	global _cert_dir
	if _cert_dir is None:
		_cert_dir = Path(tempfile.mkdtemp(prefix="hostile-tls-"))
		atexit.register(shutil.rmtree, _cert_dir, True)
		cert, key = _cert_dir / "cert.pem", _cert_dir / "key.pem"
		try:
			_make_cert_with_cryptography(cert, key)
		except ImportError:
			_make_cert_with_openssl(cert, key)
	return _cert_dir / "cert.pem", _cert_dir / "key.pem"


def _make_cert_with_cryptography(cert_path: Path, key_path: Path) -> None:
	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import ec
	from cryptography.x509.oid import NameOID

	key = ec.generate_private_key(ec.SECP256R1())
	name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
	now = datetime.datetime.now(datetime.timezone.utc)
	cert = (
		x509.CertificateBuilder()
		.subject_name(name)
		.issuer_name(name)
		.public_key(key.public_key())
		.serial_number(x509.random_serial_number())
		.not_valid_before(now - datetime.timedelta(days=1))
		.not_valid_after(now + datetime.timedelta(days=1))
		.add_extension(
			x509.SubjectAlternativeName(
				[x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
			),
			critical=False,
		)
		.sign(key, hashes.SHA256())
	)
	cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
	key_path.write_bytes(
		key.private_bytes(
			serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
		)
	)


def _make_cert_with_openssl(cert_path: Path, key_path: Path) -> None:
	subprocess.run(
		[
			"openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
			"-keyout", str(key_path), "-out", str(cert_path), "-days", "1", "-subj", f"/CN={HOST}",
			"-addext", f"subjectAltName=IP:{HOST},DNS:localhost",
		],
		check=True,
		capture_output=True,
		timeout=30,
	)  # fmt: skip


def server_tls_context() -> ssl.SSLContext:
	cert, key = self_signed_cert()
	context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	context.load_cert_chain(cert, key)
	return context


# ---- one request ---------------------------------------------------------------------------------


class ClientGone(Exception):
	"""The client closed the connection while the role was writing."""


@dataclass
class Request:
	"""One parsed request and the connection to answer it on."""

	conn: socket.socket
	server: "Hostile"
	method: str = ""
	target: str = ""
	version: str = ""
	headers: dict[str, str] = field(default_factory=dict)  # lower-case names
	body: bytes = b""

	@property
	def path(self) -> str:
		return urlsplit(self.target).path

	@property
	def query(self) -> dict[str, str]:
		return {k: v[0] for k, v in parse_qs(urlsplit(self.target).query).items()}

	@property
	def is_upgrade(self) -> bool:
		return self.headers.get("upgrade", "").lower() == "websocket"

	def send(self, data: bytes) -> None:
		try:
			self.conn.sendall(data)
		except OSError as e:
			self.server.left()
			raise ClientGone() from e
		with self.server.lock:
			self.server.bytes_sent += len(data)

	def answer(
		self, status: str, body: str | bytes = b"", headers: dict | None = None, version: str = "HTTP/1.1"
	) -> None:
		"""A complete response with Content-Length, then the connection closes."""
		data = body.encode() if isinstance(body, str) else body
		self.send(
			head(status, {"Content-Length": len(data), "Connection": "close", **(headers or {})}, version)
		)
		self.send(data)

	def hold(self) -> None:
		"""Keep the connection open, silent, until the server stops."""
		self.server.stopping.wait()

	def drip(self, data: bytes = b"") -> None:
		"""Send `data`, then one more byte of an endless header line every DRIP_SECONDS.

		Stops when the server stops or the client hangs up (`client_gone`, `client_gone_at`).
		"""
		self.send(data)
		while not self.server.stopping.wait(DRIP_SECONDS):
			if self.peer_closed():
				self.server.left()
				return
			self.send(b"y")

	def peer_closed(self) -> bool:
		"""The client closed its side: its FIN (or RST) is waiting where a request would be."""
		try:
			if not select.select([self.conn], [], [], 0)[0]:
				return False
			return self.conn.recv(1, socket.MSG_PEEK) == b""
		except OSError:
			return True

	def reset(self) -> None:
		"""Close with a TCP RST instead of a FIN."""
		self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
		self.conn.close()


def head(status: str, headers: dict, version: str = "HTTP/1.1") -> bytes:
	lines = [f"{version} {status}"] + [f"{k}: {v}" for k, v in headers.items()]
	return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_request(req: Request) -> bool:
	"""Read the head and a Content-Length body into `req`; False when the bytes are not HTTP."""
	data = b""
	while b"\r\n\r\n" not in data:
		chunk = req.conn.recv(4096)
		if not chunk:
			return False
		data += chunk
		if not data[:1].isalpha():  # a TLS hello, or any binary: not a request line
			return False
		if len(data) > MAX_HEAD_BYTES:
			return False
	head_bytes, _, rest = data.partition(b"\r\n\r\n")
	lines = head_bytes.decode("latin-1").split("\r\n")
	parts = lines[0].split(" ")
	if len(parts) != 3:
		return False
	req.method, req.target, req.version = parts
	for line in lines[1:]:
		name, _, value = line.partition(":")
		req.headers[name.strip().lower()] = value.strip()
	length = int(req.headers.get("content-length", "0") or 0)
	while len(rest) < length:
		chunk = req.conn.recv(4096)
		if not chunk:
			break
		rest += chunk
	req.body = rest[:length]
	return True


# ---- a minimal Engine.IO v4 server ---------------------------------------------------------------


def open_packet(sid: str, fields: dict | None = None) -> str:
	return "0" + json.dumps(
		{"sid": sid, **(OPEN_FIELDS if fields is None else fields)}, separators=(",", ":")
	)


def websocket_accept(key: str) -> str:
	return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def text_frame(text: str) -> bytes:
	"""An unmasked server text frame (RFC 6455 5.2)."""
	payload = text.encode()
	if len(payload) < 126:
		return bytes([0x81, len(payload)]) + payload
	return bytes([0x81, 126]) + len(payload).to_bytes(2, "big") + payload


def open_frame(server: "Hostile") -> bytes:
	"""The Engine.IO open packet a WebSocket server sends right after its 101."""
	return text_frame(open_packet(server.new_sid()))


def engineio(
	req: Request,
	version: str = "HTTP/1.1",
	accept: Callable[[str], str] = websocket_accept,
	compress: bool = False,
	first_frame: Callable[["Hostile"], bytes] = open_frame,
) -> None:
	"""Frappe's realtime service in miniature: every namespace CONNECT is accepted.

	`compress` gzips the polling bodies, as a proxy with `gzip_types text/plain` does;
	`first_frame` is what the WebSocket says after its 101 (b"": nothing).
	"""
	server, query = req.server, req.query
	if not req.path.startswith("/socket.io/"):
		req.answer("404 Not Found", version=version)
		return
	if query.get("transport") == "websocket":
		if not req.is_upgrade:
			req.answer(
				"400 Bad Request",
				'{"code":3,"message":"Bad request"}',
				{"Content-Type": "application/json"},
				version,
			)
			return
		response = {
			"Upgrade": "websocket",
			"Connection": "Upgrade",
			"Sec-WebSocket-Accept": accept(req.headers.get("sec-websocket-key", "")),
		}
		req.send(head("101 Switching Protocols", response, version))
		first = first_frame(server)
		req.send(first)
		if first_frame is open_frame:
			_answer_connects(req)
		req.hold()
		return
	sid = query.get("sid")
	if sid is None:
		_plain(req, open_packet(server.new_sid()), version, compress)
		return
	if sid not in server.sessions:
		req.answer(
			"400 Bad Request",
			'{"code":1,"message":"Session ID unknown"}',
			{"Content-Type": "application/json"},
			version,
		)
		return
	if req.method == "POST":
		for packet in req.body.decode().split(RECORD_SEPARATOR):
			if packet.startswith("40"):
				namespace = packet[2:].rstrip(",") or "/"
				prefix = "" if namespace == "/" else namespace + ","
				server.sessions[sid].append(f"40{prefix}" + json.dumps({"sid": sid + "-socket"}))
		_plain(req, "ok", version, compress)
		return
	queued = server.sessions[sid]
	_plain(req, RECORD_SEPARATOR.join(queued) if queued else "6", version, compress)
	queued.clear()


def _answer_connects(req: Request) -> None:
	"""Over the WebSocket: answer each client CONNECT (`40/ns,` in a masked text frame) with a
	CONNECT, as a healthy realtime service does; until the client or the server stops."""
	data = b""
	req.conn.settimeout(0.2)
	while not req.server.stopping.is_set():
		try:
			chunk = req.conn.recv(4096)
		except TimeoutError:
			continue
		except OSError:
			return
		if not chunk:
			return
		data += chunk
		while len(data) >= 6:
			length = data[1] & 0x7F  # client frames here are short: no extended length
			if len(data) < 6 + length:
				break
			mask, payload = data[2:6], data[6 : 6 + length]
			data = data[6 + length :]
			text = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)).decode("utf-8", "replace")
			if text.startswith("40"):
				namespace = text[2:].rstrip(",") or "/"
				prefix = "" if namespace == "/" else namespace + ","
				req.send(text_frame("40" + prefix + json.dumps({"sid": "ws-socket"})))


def _plain(req: Request, text: str, version: str, compress: bool = False) -> None:
	headers = {"Content-Type": "text/plain; charset=UTF-8"}
	body = text.encode()
	if compress and "gzip" in req.headers.get("accept-encoding", ""):
		compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
		body = compressor.compress(body) + compressor.flush()
		headers["Content-Encoding"] = "gzip"
	req.answer("200 OK", body, headers, version)


# ---- the roles -------------------------------------------------------------------------------------

Role = Callable[[Request], None]


def healthy(req: Request) -> None:
	engineio(req)


def gzipped(req: Request) -> None:
	"""Healthy, behind a proxy that gzips text/plain answers."""
	engineio(req, compress=True)


def silent(req: Request) -> None:
	"""Accepts, reads the request, never answers."""
	req.hold()


def stalled_body(req: Request) -> None:
	"""Sends the headers and a few bytes of a 1000-byte body, then nothing."""
	req.send(head("200 OK", {"Content-Type": "text/plain; charset=UTF-8", "Content-Length": 1000}))
	req.send(b'0{"sid":')
	req.hold()


def huge_body(req: Request) -> None:
	"""A 50 MB 200 answer, sent as fast as the client reads it."""
	req.send(head("200 OK", {"Content-Type": "text/plain; charset=UTF-8", "Content-Length": HUGE_BODY_BYTES}))
	chunk = b"x" * SEND_CHUNK
	for _ in range(HUGE_BODY_BYTES // SEND_CHUNK):
		req.send(chunk)
	req.server.sent_everything.set()


def gzip_bomb(req: Request) -> None:
	"""50 MB of zeros, gzip-compressed to ~50 KB: small on the wire, huge once decoded."""
	req.answer("200 OK", req.server.bomb(), {"Content-Type": "text/plain", "Content-Encoding": "gzip"})


def redirect_loop(req: Request) -> None:
	"""302 to the very URL asked for."""
	req.answer("302 Found", headers={"Location": f"{req.server.origin}{req.target}"})


def redirect_elsewhere(req: Request) -> None:
	"""302 to the same path on another host, as a proxy with a wrong upstream Host does."""
	req.answer("302 Found", headers={"Location": f"https://login.elsewhere.example{req.target}"})


def plain_answers_tls(req: Request) -> None:
	"""A plain HTTP port that gets a TLS hello: answers 400 at once, as nginx and Node do."""
	req.answer("400 Bad Request", "Bad Request", {"Content-Type": "text/plain"})


def nginx_https_port(req: Request) -> None:
	"""nginx's answer to plain http on its TLS port."""
	req.answer(
		"400 Bad Request", NGINX_PLAIN_TO_TLS_PAGE, {"Content-Type": "text/html", "Server": "nginx/1.22.1"}
	)


def tls_alert(req: Request) -> None:
	"""A TLS-only server that answers plain http with a TLS alert record (protocol_version)."""
	req.send(TLS_ALERT)


def http10(req: Request) -> None:
	"""An HTTP/1.0 hop: close-delimited bodies, and no Upgrade/Connection headers get through."""
	upstream_sees = Request(
		req.conn, req.server, req.method, req.target, "HTTP/1.0", dict(req.headers), req.body
	)
	upstream_sees.headers.pop("upgrade", None)
	upstream_sees.headers.pop("connection", None)

	def close_delimited(status, body=b"", headers=None, version="HTTP/1.0"):
		data = body.encode() if isinstance(body, str) else body
		req.send(head(status, headers or {}, "HTTP/1.0") + data)

	upstream_sees.answer = close_delimited  # type: ignore[method-assign]
	engineio(upstream_sees, version="HTTP/1.0")


def reset_mid_response(req: Request) -> None:
	"""Headers and part of the body, then a TCP RST."""
	req.send(head("200 OK", {"Content-Type": "text/plain; charset=UTF-8", "Content-Length": 4096}))
	req.send(b'0{"sid":"abc","upgr')
	req.server.stopping.wait(0.1)
	req.reset()


def short_body(req: Request) -> None:
	"""Announces 4096 bytes, sends 19, closes cleanly: an upstream that died mid-answer."""
	req.send(head("200 OK", {"Content-Type": "text/plain; charset=UTF-8", "Content-Length": 4096}))
	req.send(b'0{"sid":"abc","upgr')


def html_page(req: Request) -> None:
	"""200 with a web page: a default site or an SPA fallback catches /socket.io/."""
	req.answer("200 OK", WELCOME_PAGE, {"Content-Type": "text/html"})


def bad_json(req: Request) -> None:
	req.answer("200 OK", '0{"sid":"abc","upgrades":["websocket"],', {"Content-Type": "text/plain"})


def no_sid(req: Request) -> None:
	req.answer("200 OK", "0" + json.dumps(OPEN_FIELDS), {"Content-Type": "text/plain"})


def bare_sid(req: Request) -> None:
	"""An open packet with a sid and nothing else: no upgrades, no pingInterval."""
	req.answer("200 OK", '0{"sid":"x"}', {"Content-Type": "text/plain"})


def socketio_v2(req: Request) -> None:
	"""Socket.IO v2 (engine.io 3): no EIO check, a length-prefixed v3 handshake."""
	packet = open_packet(req.server.new_sid(), EIO3_OPEN_FIELDS)
	req.answer(
		"200 OK",
		f"{len(packet)}:{packet}",
		{
			"Content-Type": "text/plain; charset=UTF-8",
			"Set-Cookie": "io=abc; Path=/; HttpOnly; SameSite=Strict",
		},
	)


def python_socketio_v4(req: Request) -> None:
	"""python-socketio 4 (Engine.IO v3) refuses EIO=4 with a bare JSON string."""
	req.answer("400 BAD REQUEST", PYTHON_ENGINEIO_VERSION_ERROR, {"Content-Type": "text/plain"})


def unsupported_version(req: Request) -> None:
	"""Engine.IO's own error for a protocol version it does not speak."""
	req.answer(
		"400 Bad Request",
		'{"code":5,"message":"Unsupported protocol version"}',
		{"Content-Type": "application/json"},
	)


def bad_accept(req: Request) -> None:
	"""Polling works; the upgrade gets 101 with a Sec-WebSocket-Accept for another key."""
	engineio(req, accept=lambda key: websocket_accept("not-" + key))


def no_accept(req: Request) -> None:
	"""Polling works; the upgrade gets 101 without Sec-WebSocket-Accept."""
	engineio(req, accept=lambda key: "")


def upgrade_silent(req: Request) -> None:
	"""Polling works; the upgrade request is never answered (a proxy buffering it forever)."""
	if req.is_upgrade:
		req.hold()
	else:
		engineio(req)


def upgrade_reset(req: Request) -> None:
	"""Polling works; the upgrade request is reset (an HTTP/2 hop, a WAF)."""
	if req.is_upgrade:
		req.reset()
	else:
		engineio(req)


def drip(req: Request) -> None:
	"""A 200 whose header line grows by a byte every DRIP_SECONDS: every read gets a byte in time."""
	req.drip(b"HTTP/1.1 200 OK\r\nX-Drip: ")


def upgrade_drip(req: Request) -> None:
	"""Polling works; the upgrade's answer comes a byte at a time, forever."""
	if req.is_upgrade:
		req.drip(b"HTTP/1.1 101 Switching Protocols\r\nX-Drip: ")
	else:
		engineio(req)


def upgrade_other_service(req: Request) -> None:
	"""Polling works; the upgrade is taken by another WebSocket service (a dev server's live reload).

	A valid 101, then that service's own hello instead of an Engine.IO open packet.
	"""
	engineio(req, first_frame=lambda server: text_frame(OTHER_SERVICE_HELLO))


def upgrade_quiet(req: Request) -> None:
	"""Polling works; the upgrade gets a valid 101 and then no frame at all."""
	engineio(req, first_frame=lambda server: b"")


def endless_headers(req: Request) -> None:
	"""A 200 whose header block never ends (thousands of header lines)."""
	req.send(head("200 OK", {}).rstrip(b"\r\n") + b"\r\n")
	for i in range(100_000):
		req.send(f"X-Filler-{i}: {'y' * 60}\r\n".encode())


ROLES: dict[str, Role] = {
	"healthy": healthy,
	"gzipped": gzipped,
	"silent": silent,
	"stalled_body": stalled_body,
	"huge_body": huge_body,
	"gzip_bomb": gzip_bomb,
	"redirect_loop": redirect_loop,
	"redirect_elsewhere": redirect_elsewhere,
	"self_signed": healthy,  # served over TLS with the self-signed certificate
	"tls_to_plain_port": plain_answers_tls,
	"plain_to_tls_port": healthy,  # served over TLS: a plain request never gets that far
	"plain_to_nginx_tls_port": nginx_https_port,
	"plain_to_tls_alert": tls_alert,
	"http10": http10,
	"reset_mid_response": reset_mid_response,
	"short_body": short_body,
	"html_page": html_page,
	"bad_json": bad_json,
	"no_sid": no_sid,
	"bare_sid": bare_sid,
	"socketio_v2": socketio_v2,
	"python_socketio_v4": python_socketio_v4,
	"unsupported_version": unsupported_version,
	"bad_accept": bad_accept,
	"no_accept": no_accept,
	"upgrade_silent": upgrade_silent,
	"upgrade_reset": upgrade_reset,
	"endless_headers": endless_headers,
	"drip": drip,
	"upgrade_drip": upgrade_drip,
	"upgrade_other_service": upgrade_other_service,
	"upgrade_quiet": upgrade_quiet,
}
TLS_ROLES = {"self_signed", "plain_to_tls_port"}
# The scheme a client uses in the scenario, where it is not the server's own.
CLIENT_SCHEMES = {"tls_to_plain_port": "https", "plain_to_tls_port": "http"}
# Roles whose answer to anything that is not HTTP is still the role (a TLS hello included).
ANSWERS_GARBAGE = {"tls_to_plain_port"}


# ---- the server ------------------------------------------------------------------------------------


class _Handler(socketserver.BaseRequestHandler):
	server: "_TCPServer"

	def handle(self) -> None:
		hostile = self.server.hostile
		conn = self.request
		hostile.track(conn)
		try:
			conn.settimeout(READ_TIMEOUT)
			if hostile.tls is not None:
				conn = hostile.tls.wrap_socket(conn, server_side=True)
				hostile.track(conn)
			req = Request(conn, hostile)
			if not read_request(req) and hostile.role_name not in ANSWERS_GARBAGE:
				return
			with hostile.lock:
				hostile.requests.append((req.method, req.target))
			hostile.role(req)
		except (ClientGone, OSError):
			pass  # the client left, or a TLS handshake failed: both are the point of some roles
		finally:
			conn.close()  # the TLS wrapper too: socketserver only closes the raw socket


class _TCPServer(socketserver.ThreadingTCPServer):
	daemon_threads = True
	allow_reuse_address = True
	hostile: "Hostile"


class Hostile:
	"""A loopback server playing `role` (a name in ROLES) until the `with` block ends.

	`.origin` is its own origin (https for TLS roles); `.url` the origin a client uses in the
	scenario (http for plain_to_tls_port, https for tls_to_plain_port); `.requests` lists
	(method, target) received;
	`.bytes_sent` counts what the role wrote; `.client_gone` is set (and `.client_gone_at`
	noted) when a write or a dripping role found the client gone, `.sent_everything` when
	huge_body sent all of it.
	"""

	def __init__(self, role: str):
		self.role_name = role
		self.role = ROLES[role]
		self.tls = server_tls_context() if role in TLS_ROLES else None
		self.scheme = "https" if self.tls is not None else "http"
		self.lock = threading.Lock()
		self.stopping = threading.Event()
		self.client_gone = threading.Event()
		self.client_gone_at: float | None = None  # time.monotonic() when client_gone was set
		self.sent_everything = threading.Event()
		self.requests: list[tuple[str, str]] = []
		self.bytes_sent = 0
		self.sessions: dict[str, list[str]] = {}
		self._conns: list[socket.socket] = []
		self._bomb: bytes | None = None
		self._server = _TCPServer((HOST, 0), _Handler, bind_and_activate=True)
		self._server.hostile = self
		self.port = self._server.server_address[1]
		self.origin = f"{self.scheme}://{HOST}:{self.port}"
		self.url = f"{CLIENT_SCHEMES.get(role, self.scheme)}://{HOST}:{self.port}"
		self._thread: threading.Thread | None = None

	def __enter__(self) -> "Hostile":
		self._thread = threading.Thread(
			target=self._server.serve_forever,
			kwargs={"poll_interval": 0.05},
			name=f"hostile-{self.role_name}",
			daemon=True,
		)
		self._thread.start()
		return self

	def __exit__(self, *exc) -> None:
		self.stopping.set()
		self._server.shutdown()
		self._server.server_close()
		with self.lock:
			conns = list(self._conns)
		for conn in conns:
			try:
				conn.close()
			except OSError:
				pass
		if self._thread is not None:
			self._thread.join(timeout=2)

	def track(self, conn: socket.socket) -> None:
		with self.lock:
			self._conns.append(conn)

	def left(self) -> None:
		"""A client hung up: note when, the first time."""
		with self.lock:
			if self.client_gone_at is None:
				self.client_gone_at = time.monotonic()
		self.client_gone.set()

	def new_sid(self) -> str:
		with self.lock:
			sid = f"sid{len(self.sessions) + 1}"
			self.sessions[sid] = []
		return sid

	def bomb(self) -> bytes:
		if self._bomb is None:
			compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
			zeros = bytes(1024 * 1024)
			parts = [compressor.compress(zeros) for _ in range(HUGE_BODY_BYTES // len(zeros))]
			self._bomb = b"".join(parts) + compressor.flush()
		return self._bomb
