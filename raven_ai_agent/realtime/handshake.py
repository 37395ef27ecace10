"""The Engine.IO polling handshake probe: `GET <path>?EIO=4&transport=polling`, and what answered.

Only a parsed v4 open packet counts as the realtime service. Anything else is named as what
it most likely is (Frappe's web page, a proxy's 502, a redirect, Engine.IO's own error, a
server of another protocol version, a web page), so hints.py can say what to change. The
request itself goes through probe.Http: bounded, failures as data. No frappe import.
"""

import functools
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from raven_ai_agent.realtime import engineio
from raven_ai_agent.realtime.engineio import EngineError, OpenPacket, ProtocolError
from raven_ai_agent.realtime.failures import describe_failure, failure_kind, snippet
from raven_ai_agent.realtime.probe import (
	BAD_RESPONSE,
	MAX_BODY_BYTES,
	RESET,
	TLS_PORT,
	Deadline,
	Http,
	HttpResult,
	ProbeTimeout,
	shut,
)

# What answered an Engine.IO handshake (besides the failure kinds of probe.py).
ENGINEIO = "engineio"  # a valid open packet: the realtime service (or a proxy passing to it)
FRAPPE_PAGE = "frappe_page"  # Frappe's web server: the path never reached Node
PROXY_ERROR = "proxy_error"  # 502/503/504 from a proxy: its upstream is down or wrong
NOT_FOUND = "not_found"  # 404 that is not Frappe's: the path was changed on the way
REDIRECT = "redirect"
ENGINEIO_ERROR = "engineio_error"  # Engine.IO's 400 JSON: a server that speaks the protocol
OTHER_VERSION = "other_version"  # an Engine.IO open packet of another protocol version (v3)
NOT_ENGINEIO = "not_engineio"  # 2xx, but not an open packet
HTTP_STATUS = "http_status"  # any other status

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_PROXY_ERRORS = (502, 503, 504)
_FRAPPE_GENERATOR_RE = re.compile(
	r"""<meta\s+name=["']?generator["']?\s+content=["']?frappe""", re.IGNORECASE
)
# What proxies answer to plain http on their TLS port (nginx; Go servers: Caddy, Traefik).
_PLAIN_TO_TLS_PAGES = ("plain http request was sent to https port", "http request to an https server")
# The title names a web page that answered in place of Engine.IO ("Welcome to nginx!").
_TITLE_RE = re.compile(r"<title[^>]*>\s*([^<]{1,80})", re.IGNORECASE)


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


def classify_handshake(result: HttpResult) -> Handshake:
	"""Name what answered a handshake request; only a parsed open packet counts as Engine.IO."""
	url = result.url
	if result.error:
		return Handshake(failure_kind(result), describe_failure(result), result)
	status, body = result.status or 0, result.body
	quoted = snippet(body)
	if status in REDIRECT_STATUSES:
		location = result.header("location") or ""
		return Handshake(REDIRECT, describe_redirect(status, url, location), result, location=location)
	if status == 400 and any(page in body.lower() for page in _PLAIN_TO_TLS_PAGES):
		return Handshake(TLS_PORT, f"HTTP 400 {quoted!r}: the port speaks https, not plain http", result)
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
		what = "an empty body" if not body.strip() else repr(quoted)
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
	return Handshake(HTTP_STATUS, f"HTTP {status} {result.reason}: {quoted!r}", result)


def looks_like_frappe_page(body: str) -> bool:
	"""Frappe's web pages (its 404 too) carry `<meta name="generator" content="frappe">`."""
	return bool(_FRAPPE_GENERATOR_RE.search(body)) or "Built on Frappe" in body[:500]


def parse_engine_error(result: HttpResult) -> EngineError | None:
	"""Engine.IO's `{"code", "message"}` error body, on a 4xx answer only."""
	if result.status is None or not 400 <= result.status < 500:
		return None
	return engineio.parse_http_error(result.body)


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
		named = f" ({snippet(title.group(1))!r})" if title else ""
		text = f"an HTML page{named}, not an Engine.IO open packet"
	else:
		text = str(error)
	if result.truncated:
		text += f"; the body is over {MAX_BODY_BYTES // 1024} KiB (read no further)"
	return text


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
	except (OSError, ProbeTimeout):  # ssl.SSLError is an OSError
		return False
