"""What a failed exchange means, in words: the kind made precise by the URL's scheme, and one
phrase for a detail. Transport (probe.py) turns exceptions into kinds; this module words
them; hints.py says what to change. No frappe import, no I/O.
"""

import re
from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import unix_socket_path
from raven_ai_agent.realtime.probe import (
	BAD_RESPONSE,
	CERTIFICATE,
	DNS,
	PLAIN_PORT,
	REFUSED,
	RESET,
	TIMEOUT,
	TLS,
	TLS_PORT,
	HttpResult,
)

# OpenSSL's reasons when the peer's bytes are not TLS at all: https went to a plain http port.
_NOT_TLS_REASONS = ("wrong version number", "record layer failure", "packet length too long", "http request")
# A TLS record (handshake 0x16 or alert 0x15, version 3.x) where an HTTP status line should be.
_TLS_RECORD_RE = re.compile(r"\\x1[56]\\x03|[\x15\x16]\x03")
# Around OpenSSL's reason: `[SSL: CERTIFICATE_VERIFY_FAILED] ... (_ssl.c:1006)`.
_OPENSSL_NOISE_RE = re.compile(r"^\[SSL: [A-Z_]+\] |\s*\(_ssl\.c:\d+\)$")


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
	"""`host:port` of a URL (`unix:<path>` of a Unix socket's), for details; the URL itself when it has none."""
	socket_path = unix_socket_path(url)
	if socket_path is not None:
		return f"unix:{socket_path}"
	parts = urlsplit(url)
	return parts.netloc or url


def snippet(text: str, limit: int = 80) -> str:
	"""`text` on one line, cut at `limit` characters: what a detail quotes of an answer."""
	text = " ".join(text.split())
	return text if len(text) <= limit else text[:limit] + "…"
