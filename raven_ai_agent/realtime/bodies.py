"""What an HTTP answer's body is: decompressed within a cap, decoded with its charset, checked
against the length it announced. The probes read bodies still compressed (a 16 KiB gzip bomb
must not become 16 MiB) and undo the encoding here. No frappe import.
"""

import codecs
import http.client
import re
import zlib

# What a probe reads of an answer at the most, before and after decompression.
MAX_BODY_BYTES = 64 * 1024

_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_CHARSET_RE = re.compile(r"charset=\s*\"?([\w.:-]+)", re.IGNORECASE)


def content_length(response: http.client.HTTPResponse) -> int | None:
	"""The body length the answer announced, when it is not chunked."""
	if response.getheader("transfer-encoding", "").lower() == "chunked":
		return None
	try:
		return int(response.getheader("content-length", ""))
	except ValueError:
		return None


def charset(content_type: str | None) -> str:
	"""The charset a Content-Type names, if Python knows it; else UTF-8 (Engine.IO's)."""
	match = _CHARSET_RE.search(content_type or "")
	if match:
		try:
			return codecs.lookup(match.group(1)).name
		except LookupError:
			pass
	return "utf-8"


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
