"""Minimal Engine.IO v4 / Socket.IO v5 clients for probing the stack from Python.

`PollingClient` speaks HTTP long-polling with requests, the way the shared fixtures were
captured. `WebSocket` is a small RFC 6455 client on a plain socket (stdlib only) and
`SocketIOClient` runs Socket.IO over it, with bounded waits for packets and events.
"""

import base64
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import time

import requests

PACKET_SEP = "\x1e"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SID_RE = re.compile(r'"sid":"[^"]*"')


def mask_sids(text: str) -> str:
	"""Replace every `"sid":"..."` with a fixed value so captures compare across runs."""
	return SID_RE.sub('"sid":"<sid>"', text)


def websocket_accept(key: str) -> str:
	return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


class PollingClient:
	"""One Engine.IO session over long-polling. `headers` go on every request; the
	handshake's headers are the ones Frappe's middleware checks."""

	def __init__(
		self, base_url: str, headers: dict | None = None, path: str = "/socket.io/", timeout: float = 10.0
	):
		self.base_url = base_url.rstrip("/")
		self.path = path
		self.headers = dict(headers or {})
		self.timeout = timeout
		self.sid: str | None = None
		self.http = requests.Session()

	def url(self, **params) -> str:
		query = {"EIO": "4", "transport": "polling", **params}
		if self.sid:
			query.setdefault("sid", self.sid)
		return f"{self.base_url}{self.path}?" + "&".join(f"{k}={v}" for k, v in query.items())

	def handshake(self) -> requests.Response:
		res = self.http.get(self.url(), headers=self.headers, timeout=self.timeout)
		if res.status_code == 200 and res.text.startswith("0{"):
			self.sid = json.loads(res.text[1:])["sid"]
		return res

	def post(self, body: str) -> requests.Response:
		headers = {**self.headers, "Content-Type": "text/plain;charset=UTF-8"}
		return self.http.post(self.url(), data=body.encode(), headers=headers, timeout=self.timeout)

	def get(self) -> requests.Response:
		return self.http.get(self.url(), headers=self.headers, timeout=self.timeout)

	def connect(self, namespace: str) -> tuple[requests.Response, requests.Response]:
		"""POST `40/<ns>,` then GET the answer: (post response, get response)."""
		post = self.post(f"40/{namespace},")
		return post, self.get()

	def close(self):
		self.http.close()


class WebSocket:
	"""A bare RFC 6455 client: text frames, masked as a client must, pings answered."""

	def __init__(
		self,
		host: str,
		port: int,
		path: str,
		headers: dict | None = None,
		timeout: float = 5.0,
		tls_ca: str | None = None,
	):
		self.host, self.port, self.path = host, port, path
		self.tls_ca = tls_ca  # wss: the CA file that signed the server's certificate
		self.headers = dict(headers or {})
		self.timeout = timeout
		self.sock: socket.socket | None = None
		self.key = base64.b64encode(os.urandom(16)).decode()
		self.response_head = ""
		self.status: int | None = None
		self._buf = b""

	def connect(self) -> "WebSocket":
		"""Send the upgrade request; `status`/`response_head` tell what came back."""
		self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
		if self.tls_ca:
			context = ssl.create_default_context(cafile=self.tls_ca)
			self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
		headers = {
			"Host": f"{self.host}:{self.port}",
			"Upgrade": "websocket",
			"Connection": "Upgrade",
			"Sec-WebSocket-Key": self.key,
			"Sec-WebSocket-Version": "13",
			**self.headers,
		}
		request = (
			f"GET {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
		)
		self.sock.sendall(request.encode())
		deadline = time.monotonic() + self.timeout
		while b"\r\n\r\n" not in self._buf:
			self._recv_some(deadline)
		head, self._buf = self._buf.split(b"\r\n\r\n", 1)
		self.response_head = head.decode("latin-1")
		self.status = int(self.response_head.split(" ", 2)[1])
		return self

	def _recv_some(self, deadline: float) -> None:
		remaining = deadline - time.monotonic()
		if remaining <= 0:
			raise TimeoutError("websocket: no data in time")
		self.sock.settimeout(remaining)
		chunk = self.sock.recv(65536)
		if not chunk:
			raise ConnectionError("websocket: connection closed")
		self._buf += chunk

	def _read_exact(self, n: int, deadline: float) -> bytes:
		while len(self._buf) < n:
			self._recv_some(deadline)
		out, self._buf = self._buf[:n], self._buf[n:]
		return out

	def _send_frame(self, opcode: int, payload: bytes) -> None:
		header = bytes([0x80 | opcode])
		n = len(payload)
		if n < 126:
			header += bytes([0x80 | n])
		elif n < 65536:
			header += bytes([0x80 | 126]) + struct.pack("!H", n)
		else:
			header += bytes([0x80 | 127]) + struct.pack("!Q", n)
		mask = os.urandom(4)
		masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
		self.sock.sendall(header + mask + masked)

	def send_text(self, text: str) -> None:
		self._send_frame(0x1, text.encode())

	def recv_text(self, timeout: float) -> str | None:
		"""The next text message, or None when nothing arrives within `timeout`."""
		deadline = time.monotonic() + timeout
		message = b""
		try:
			while True:
				b0, b1 = self._read_exact(2, deadline)
				opcode, fin = b0 & 0x0F, b0 & 0x80
				n = b1 & 0x7F
				if n == 126:
					n = struct.unpack("!H", self._read_exact(2, deadline))[0]
				elif n == 127:
					n = struct.unpack("!Q", self._read_exact(8, deadline))[0]
				mask = self._read_exact(4, deadline) if b1 & 0x80 else None
				payload = self._read_exact(n, deadline)
				if mask:
					payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
				if opcode == 0x8:
					raise ConnectionError("websocket: closed by server")
				if opcode == 0x9:
					self._send_frame(0xA, payload)
					continue
				if opcode in (0x1, 0x2, 0x0):
					message += payload
					if fin:
						return message.decode()
		except TimeoutError:
			if message:
				raise
			return None

	def close(self) -> None:
		if self.sock is not None:
			try:
				self._send_frame(0x8, struct.pack("!H", 1000))
			except OSError:
				pass
			self.sock.close()
			self.sock = None


class SocketIOClient:
	"""Socket.IO over a websocket-first Engine.IO session (what a browser with
	`transports: ["websocket"]` does). Use as a context manager."""

	def __init__(
		self,
		port: int,
		namespace: str,
		headers: dict | None = None,
		host: str = "127.0.0.1",
		path: str = "/socket.io/",
		timeout: float = 5.0,
		tls_ca: str | None = None,
	):
		self.namespace = namespace.lstrip("/")
		self.timeout = timeout
		self.ws = WebSocket(host, port, f"{path}?EIO=4&transport=websocket", headers, timeout, tls_ca)
		self.open_packet: dict | None = None
		self.connect_packets: list[str] = []
		self.pending: list[str] = []

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()
		return False

	def open(self) -> dict:
		self.ws.connect()
		if self.ws.status != 101:
			raise ConnectionError(f"websocket upgrade refused:\n{self.ws.response_head}")
		first = self.ws.recv_text(self.timeout)
		if not first or not first.startswith("0{"):
			raise ConnectionError(f"no Engine.IO open packet: {first!r}")
		self.open_packet = json.loads(first[1:])
		return self.open_packet

	def _next_packet(self, deadline: float) -> str | None:
		"""Next Socket.IO packet; Engine.IO pings are answered on the way."""
		if self.pending:
			return self.pending.pop(0)
		while True:
			remaining = deadline - time.monotonic()
			if remaining <= 0:
				return None
			msg = self.ws.recv_text(remaining)
			if msg is None:
				return None
			if msg == "2":
				self.ws.send_text("3")
				continue
			if msg.startswith("4"):
				return msg[1:]

	def connect(self) -> str:
		"""Open if needed, send CONNECT; return the first CONNECT / CONNECT_ERROR packet
		for the namespace (e.g. `0/site,{"sid":..}` or `4/site,{"message":..}`)."""
		if self.open_packet is None:
			self.open()
		self.ws.send_text(f"40/{self.namespace},")
		deadline = time.monotonic() + self.timeout
		prefix = (f"0/{self.namespace},", f"4/{self.namespace},")
		while True:
			packet = self._next_packet(deadline)
			if packet is None:
				raise TimeoutError(f"no CONNECT answer for /{self.namespace}")
			if packet.startswith(prefix):
				self.connect_packets.append(packet)
				return packet
			self.pending.append(packet)

	def emit(self, event: str, *args) -> None:
		self.ws.send_text(f"42/{self.namespace}," + json.dumps([event, *args]))

	def wait_event(self, event: str | None = None, timeout: float | None = None):
		"""(event, args) of the next EVENT packet (optionally of that name), or None."""
		deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
		skipped = []
		try:
			while True:
				packet = self._next_packet(deadline)
				if packet is None:
					return None
				head = f"2/{self.namespace},"
				if packet.startswith(head):
					name, *args = json.loads(packet[len(head) :])
					if event is None or name == event:
						return name, args
				skipped.append(packet)
		finally:
			self.pending = skipped + self.pending

	def close(self) -> None:
		self.ws.close()
