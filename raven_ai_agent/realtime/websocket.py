"""The WebSocket side of the probe (RFC 6455): the opening handshake's key and accept, and the
server frames a probe may read right after a 101. Engine.IO rides on top (engineio.py).
No frappe import.
"""

import base64
import hashlib

# RFC 6455 section 1.3: the server proves it understood the upgrade with this GUID.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def key(nonce: bytes) -> str:
	"""`Sec-WebSocket-Key` from 16 random bytes."""
	if len(nonce) != 16:
		raise ValueError("a WebSocket key is made of 16 random bytes")
	return base64.b64encode(nonce).decode("ascii")


def accept(key: str) -> str:
	"""The `Sec-WebSocket-Accept` a real WebSocket server must answer to `key` (RFC 6455 4.2.2)."""
	digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
	return base64.b64encode(digest).decode("ascii")


# WebSocket frame opcodes (RFC 6455 5.2) the probe may meet in the server's first frame.
WS_TEXT = 0x1
WS_BINARY = 0x2
WS_CLOSE = 0x8
WS_PING = 0x9
WS_PONG = 0xA
WS_CONTROL = (WS_PING, WS_PONG)  # may come before any message; not the server's first word


def decode_frame(data: bytes) -> tuple[int, bytes, int] | None:
	"""A server (unmasked) WebSocket frame at the start of `data` -> (opcode, payload, bytes used).

	None while `data` holds only part of the frame. Enough to read the Engine.IO open packet a
	server sends right after the upgrade; fragmented frames are not reassembled.
	"""
	if len(data) < 2:
		return None
	opcode = data[0] & 0x0F
	masked = data[1] & 0x80
	length = data[1] & 0x7F
	offset = 2
	if length == 126:
		if len(data) < 4:
			return None
		length, offset = int.from_bytes(data[2:4], "big"), 4
	elif length == 127:
		if len(data) < 10:
			return None
		length, offset = int.from_bytes(data[2:10], "big"), 10
	mask = b""
	if masked:
		if len(data) < offset + 4:
			return None
		mask, offset = data[offset : offset + 4], offset + 4
	if len(data) < offset + length:
		return None
	payload = data[offset : offset + length]
	if mask:
		payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
	return opcode, payload, offset + length


def decode_close(payload: bytes) -> tuple[int | None, str]:
	"""A close frame's payload -> (status code, reason) (RFC 6455 5.5.1); no code when it is empty."""
	if len(payload) < 2:
		return None, ""
	return int.from_bytes(payload[:2], "big"), payload[2:].decode("utf-8", "replace")


def encode_frame(opcode: int, payload: bytes, mask: bytes) -> bytes:
	"""One final client frame (RFC 6455 5.2): clients must mask, with 4 random bytes."""
	if len(mask) != 4:
		raise ValueError("a WebSocket mask is 4 random bytes")
	head = bytes([0x80 | opcode])
	size = len(payload)
	if size < 126:
		head += bytes([0x80 | size])
	elif size < 1 << 16:
		head += bytes([0x80 | 126]) + size.to_bytes(2, "big")
	else:
		head += bytes([0x80 | 127]) + size.to_bytes(8, "big")
	return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
