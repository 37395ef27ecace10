"""Engine.IO v4 / Socket.IO v5 on the wire: packet types, and small pure encode/decode functions.

Read it next to the protocol specs (socket.io/docs/v4/engine-io-protocol and
socket-io-protocol): every prefix the probes send or expect is named here, once, so the
network code never spells a packet by hand. No I/O, no frappe import.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from raven_ai_agent.realtime.failures import snippet

ENGINEIO_VERSION = "4"

# Engine.IO packet types (the first character of every Engine.IO packet).
OPEN = "0"
CLOSE = "1"
PING = "2"
PONG = "3"
MESSAGE = "4"
UPGRADE = "5"
NOOP = "6"
ENGINEIO_TYPES = {OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP}
BINARY_PREFIX = "b"  # a base64 binary packet inside a polling payload

# Polling payloads concatenate packets with the ASCII record separator.
RECORD_SEPARATOR = "\x1e"

# Socket.IO packet types (the first character inside an Engine.IO MESSAGE).
CONNECT = "0"
DISCONNECT = "1"
EVENT = "2"
ACK = "3"
CONNECT_ERROR = "4"
BINARY_EVENT = "5"
BINARY_ACK = "6"
SOCKETIO_TYPES = {CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK}
DEFAULT_NAMESPACE = "/"

# Engine.IO HTTP error codes, answered as 400 `{"code": n, "message": "..."}`.
TRANSPORT_UNKNOWN = 0
SESSION_ID_UNKNOWN = 1
BAD_REQUEST = 3
FORBIDDEN = 4
UNSUPPORTED_PROTOCOL_VERSION = 5

TRANSPORT_POLLING = "polling"
TRANSPORT_WEBSOCKET = "websocket"


class ProtocolError(ValueError):
	"""Bytes that claim to be Engine.IO / Socket.IO but are not; the message says what was wrong."""


class OtherVersionError(ProtocolError):
	"""A real Engine.IO server answered, but of another protocol version than v4."""


# Engine.IO v3 (Socket.IO v2) prefixes every polling packet with its length, `96:0{...}`, or
# sends a binary payload `\x00<digits>\xff0{...}`; engine.io 3 handshakes any EIO it is sent.
_EIO3_OPEN_RE = re.compile(r"^(?:\d+:|\x00[\x00-\x09]+[\xff\ufffd])0\{")
# python-engineio refuses a client of the other protocol version with a bare JSON string,
# not a `{"code", "message"}` object: "The client is using an unsupported version of ...".
_PYTHON_ENGINEIO_VERSION_TEXT = "unsupported version"


@dataclass(frozen=True)
class OpenPacket:
	"""The server's handshake: proof that a real Engine.IO v4 server answered."""

	sid: str
	upgrades: tuple[str, ...]
	ping_interval: int  # ms
	ping_timeout: int  # ms
	max_payload: int | None = None


@dataclass(frozen=True)
class SocketPacket:
	"""One decoded Socket.IO packet (the part after the Engine.IO MESSAGE type)."""

	type: str
	namespace: str = DEFAULT_NAMESPACE
	ack_id: int | None = None
	data: object = None
	attachments: int = 0


@dataclass(frozen=True)
class ConnectResult:
	"""What a namespace CONNECT produced: every CONNECT_ERROR message, and whether a CONNECT came."""

	errors: tuple[str, ...] = ()
	connected: bool = False

	@property
	def ok(self) -> bool:
		"""Any CONNECT_ERROR fails the connect, even when a CONNECT follows it."""
		return self.connected and not self.errors

	@property
	def answered(self) -> bool:
		return self.connected or bool(self.errors)


@dataclass(frozen=True)
class EngineError:
	"""An Engine.IO HTTP error body, e.g. code 1 "Session ID unknown"."""

	code: int
	message: str


def query_string(transport: str = TRANSPORT_POLLING, sid: str | None = None) -> str:
	"""The query every Engine.IO v4 request carries: `EIO=4&transport=...[&sid=...]`."""
	params = {"EIO": ENGINEIO_VERSION, "transport": transport}
	if sid:
		params["sid"] = sid
	return urlencode(params)


def endpoint_url(base_url: str, path: str, transport: str = TRANSPORT_POLLING, sid: str | None = None) -> str:
	"""`<origin><socketio path>?EIO=4&transport=...`: the URL a client opens."""
	return f"{base_url.rstrip('/')}{path}?{query_string(transport, sid)}"


def decode_payload(body: str) -> list[str]:
	"""A polling body -> its Engine.IO packets (v4 separates them with \\x1e)."""
	if body == "":
		return []
	return body.split(RECORD_SEPARATOR)


def encode_payload(packets: list[str]) -> str:
	"""Engine.IO packets -> one polling body."""
	return RECORD_SEPARATOR.join(packets)


def decode_packet(packet: str) -> tuple[str, str]:
	"""One Engine.IO packet -> (type, data). Binary packets keep their base64 text as data."""
	if not packet:
		raise ProtocolError("empty Engine.IO packet")
	kind = packet[0]
	if kind == BINARY_PREFIX:
		return MESSAGE, packet
	if kind not in ENGINEIO_TYPES:
		raise ProtocolError(f"unknown Engine.IO packet type {kind!r}")
	return kind, packet[1:]


def parse_open(body: str) -> OpenPacket:
	"""The handshake body -> OpenPacket; ProtocolError unless it is a valid v4 open packet.

	A proxy's 200 page, a Frappe page or an Engine.IO v3 answer must not pass as a handshake,
	so every field the client relies on is checked.
	"""
	packets = decode_payload(body)
	if not packets:
		raise ProtocolError("empty body, no Engine.IO open packet")
	if _EIO3_OPEN_RE.match(body):
		raise OtherVersionError(
			f"not an Engine.IO open packet of protocol v4: {snippet(body)!r} is the length-prefixed "
			"handshake of Engine.IO v3 (EIO=3), as Socket.IO v2 servers send it"
		)
	first = packets[0]
	kind, data = first[:1], first[1:]
	if kind != OPEN:
		raise ProtocolError(f"not an Engine.IO open packet: body starts with {snippet(body)!r}")
	try:
		fields = json.loads(data)
	except ValueError:
		raise ProtocolError(f"open packet is not JSON: {snippet(data)!r}") from None
	if not isinstance(fields, dict):
		raise ProtocolError("open packet is not a JSON object")
	sid = fields.get("sid")
	if not isinstance(sid, str) or not sid:
		raise ProtocolError("open packet has no sid")
	upgrades = fields.get("upgrades", [])
	if not isinstance(upgrades, list) or not all(isinstance(u, str) for u in upgrades):
		raise ProtocolError("open packet has an invalid upgrades list")
	ping_interval = fields.get("pingInterval")
	ping_timeout = fields.get("pingTimeout")
	for name, value in (("pingInterval", ping_interval), ("pingTimeout", ping_timeout)):
		if value is None:
			raise ProtocolError(f"open packet has no {name} (a v4 server always sends it)")
		if not _positive_int(value):
			raise ProtocolError(f"open packet has an invalid {name}: {value!r}")
	max_payload = fields.get("maxPayload")
	if max_payload is not None and not _positive_int(max_payload):
		raise ProtocolError(f"open packet has an invalid maxPayload: {max_payload!r}")
	return OpenPacket(
		sid=sid,
		upgrades=tuple(upgrades),
		ping_interval=ping_interval,
		ping_timeout=ping_timeout,
		max_payload=max_payload,
	)


def encode_socket_packet(
	kind: str, namespace: str = DEFAULT_NAMESPACE, data: object = None, ack_id: int | None = None
) -> str:
	"""A Socket.IO packet inside an Engine.IO MESSAGE, e.g. `40/site,` or `42/site,["ev",{}]`."""
	text = MESSAGE + kind
	if namespace and namespace != DEFAULT_NAMESPACE:
		text += namespace + ","
	if ack_id is not None:
		text += str(ack_id)
	if data is not None:
		text += json.dumps(data, separators=(",", ":"))
	return text


def encode_connect(namespace: str, auth: dict | None = None) -> str:
	"""CONNECT to a namespace; Frappe authenticates by cookie, so no auth payload is needed."""
	return encode_socket_packet(CONNECT, namespace, auth)


def encode_event(namespace: str, event: str, *args: object) -> str:
	"""EVENT `[event, *args]` in a namespace."""
	return encode_socket_packet(EVENT, namespace, [event, *args])


_SOCKET_PACKET_RE = re.compile(r"^(?P<type>\d)(?:(?P<attachments>\d+)-)?(?P<rest>.*)$", re.DOTALL)


def decode_socket_packet(data: str) -> SocketPacket:
	"""The data of an Engine.IO MESSAGE -> SocketPacket (type, namespace, ack id, JSON payload)."""
	match = _SOCKET_PACKET_RE.match(data)
	if not match or match["type"] not in SOCKETIO_TYPES:
		raise ProtocolError(f"not a Socket.IO packet: {snippet(data)!r}")
	rest = match["rest"]
	namespace = DEFAULT_NAMESPACE
	if rest.startswith("/"):
		namespace, sep, rest = rest.partition(",")
		if not sep:
			rest = ""
	ack = re.match(r"^\d+", rest)
	ack_id = int(ack.group()) if ack else None
	payload = rest[ack.end() :] if ack else rest
	try:
		parsed = json.loads(payload) if payload else None
	except ValueError:
		raise ProtocolError(f"Socket.IO packet payload is not JSON: {snippet(payload)!r}") from None
	return SocketPacket(
		type=match["type"],
		namespace=namespace,
		ack_id=ack_id,
		data=parsed,
		attachments=int(match["attachments"] or 0),
	)


def decode_messages(body: str) -> list[SocketPacket]:
	"""Every Socket.IO packet in a polling body; pings, noops and other Engine.IO packets are skipped."""
	packets = []
	for raw in decode_payload(body):
		kind, data = decode_packet(raw)
		if kind == MESSAGE and raw[0] != BINARY_PREFIX:
			packets.append(decode_socket_packet(data))
	return packets


def connect_result(
	packets: list[SocketPacket], namespace: str, previous: ConnectResult | None = None
) -> ConnectResult:
	"""Fold the packets of one or more polling bodies into the outcome of a namespace CONNECT.

	Frappe's authenticate middleware can answer CONNECT_ERROR and then CONNECT for the same
	namespace ("Invalid namespace" does not stop it), so every packet counts.
	"""
	errors = list(previous.errors) if previous else []
	connected = previous.connected if previous else False
	for packet in packets:
		if packet.namespace != namespace:
			continue
		if packet.type == CONNECT_ERROR:
			errors.append(error_message(packet.data))
		elif packet.type == CONNECT:
			connected = True
	return ConnectResult(errors=tuple(errors), connected=connected)


def error_message(data: object) -> str:
	"""The text of a CONNECT_ERROR payload: `{"message": ...}` in v5, a bare string in older servers."""
	if isinstance(data, dict):
		message = data.get("message")
		return message if isinstance(message, str) else json.dumps(data)
	if isinstance(data, str):
		return data
	return json.dumps(data)


def find_events(packets: list[SocketPacket], namespace: str, event: str) -> list[list]:
	"""The args of every EVENT named `event` in `namespace`, in order."""
	return [
		packet.data[1:]
		for packet in packets
		if packet.type == EVENT
		and packet.namespace == namespace
		and isinstance(packet.data, list)
		and packet.data
		and packet.data[0] == event
	]


def find_event(packets: list[SocketPacket], namespace: str, event: str) -> list | None:
	"""The args of the first EVENT named `event` in `namespace`, or None."""
	found = find_events(packets, namespace, event)
	return found[0] if found else None


def parse_http_error(body: str) -> EngineError | None:
	"""An Engine.IO 400 body `{"code": n, "message": "..."}` -> EngineError; None for anything else.

	python-engineio's bare-string refusal of another protocol version counts as code 5, the
	code engine.io gives the same refusal.
	"""
	try:
		data = json.loads(body)
	except (ValueError, TypeError):
		return None
	if isinstance(data, str) and _PYTHON_ENGINEIO_VERSION_TEXT in data.lower():
		return EngineError(code=UNSUPPORTED_PROTOCOL_VERSION, message=data)
	if not isinstance(data, dict):
		return None
	code, message = data.get("code"), data.get("message")
	if isinstance(code, bool) or not isinstance(code, int) or not isinstance(message, str):
		return None
	return EngineError(code=code, message=message)


def _positive_int(value: object) -> bool:
	return isinstance(value, int) and not isinstance(value, bool) and value > 0
