"""Proxy-config audit: settings that make a working realtime route weaker than it should be.

The stale-port audit (audit.py) finds routes to the wrong port; this one finds what still
works but removes a protection:
- an Origin header set unconditionally (bench's own nginx template does it), which makes every
  page's Origin look like the site's own, so Frappe's "Invalid origin" check can no longer
  refuse a foreign page;
- an access log that records the realtime service's session checks with their query, which
  holds live session ids.
Pure text analysis over the same files; nothing is executed.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from raven_ai_agent.realtime.configfiles import config_files, read_config_text
from raven_ai_agent.realtime.constants import USER_INFO_PATH

# nginx: `proxy_set_header Origin <value>;`; the value is fine only when it is the browser's
# own Origin, or a variable a `map $http_origin` of the same file builds (which keeps it).
_NGINX_ORIGIN = re.compile(r"^\s*proxy_set_header\s+Origin\s+(?P<value>[^;]+);", re.IGNORECASE)
_NGINX_ORIGIN_MAP = re.compile(r"^\s*map\s+\$http_origin\s+\$(?P<var>\w+)\s*\{", re.IGNORECASE)
# Traefik: a headers middleware that sets Origin (labels or a file-provider YAML).
_TRAEFIK_ORIGIN = re.compile(
	r"customrequestheaders(?:\.|\s*:\s*\{?\s*[\"']?)origin[\"']?\s*[=:]", re.IGNORECASE
)
_TRAEFIK_ORIGIN_KEY = re.compile(r"^\s*[\"']?Origin[\"']?\s*:", re.IGNORECASE)
_TRAEFIK_HEADERS_KEY = re.compile(r"^\s*customRequestHeaders\s*:\s*$", re.IGNORECASE)
# Caddy: `header_up Origin ...`.
_CADDY_ORIGIN = re.compile(r"^\s*header_up\s+\+?Origin\s+", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*(?:#|//)")

WHY_ORIGIN = (
	'the realtime service refuses a page whose Origin is not the site\'s own ("Invalid origin"); '
	"a proxy that sets Origin on every request makes a foreign page's socket look same-origin"
)
FIX_NGINX = (
	"keep the browser's Origin and build one only when it is absent: `map $http_origin $rt_origin "
	'{ default $http_origin; "" "$scheme://$http_host"; }` and `proxy_set_header Origin $rt_origin;` '
	"(`raven-realtime render nginx-vps` writes this)"
)
FIX_TRAEFIK = (
	"Traefik can only set a fixed Origin; where foreign pages matter, send the site through the "
	"nginx sidecar (`raven-realtime render nginx-vps`), which keeps the browser's Origin"
)
FIX_CADDY = "set Origin only when the request has none (a `@noorigin not header Origin *` matcher)"


@dataclass(frozen=True)
class ProxyFinding:
	"""One proxy setting that weakens the realtime route: where, what, why, and the fix."""

	file: str
	line: int
	text: str
	problem: str
	fix: str


def audit_proxies(paths: Iterable) -> list[ProxyFinding]:
	"""Every unconditional Origin rewrite in the config files under `paths`."""
	findings: list[ProxyFinding] = []
	for path in config_files(paths):
		text = read_config_text(path)
		if text is not None:
			findings.extend(audit_proxy_text(text, str(path)))
	return findings


_NGINX_SOCKETIO_LOCATION = re.compile(r"^\s*location\s+[^{]*socket\.io", re.IGNORECASE)
_LOGS_OFF = re.compile(r"^\s*access_log\s+off\s*;", re.IGNORECASE | re.MULTILINE)
WHY_SID_LOG = (
	"Frappe's realtime service checks every session with GET <site>"
	f"{USER_INFO_PATH}?sid=<session id> through the site's proxy, so an access log that records "
	"query strings stores live session ids"
)
FIX_SID_LOG = (
	f"log {USER_INFO_PATH} (and the socket path) without the query: a `location = {USER_INFO_PATH}` "
	"with `access_log ... <format using $uri, not $request>` (`raven-realtime render nginx-vps` writes it)"
)


def audit_proxy_text(text: str, file: str = "<text>") -> list[ProxyFinding]:
	"""The findings in one file's text (nginx, Traefik labels or YAML, Caddyfile)."""
	lines = text.splitlines()
	findings = _origin_findings(lines, file)
	findings += _session_log_findings(text, lines, file)
	return findings


def _session_log_findings(text: str, lines: list[str], file: str) -> list[ProxyFinding]:
	"""An nginx site that routes the socket path but logs the session check with its query."""
	if USER_INFO_PATH in text or _LOGS_OFF.search(text):
		return []
	for number, line in enumerate(lines, 1):
		if not _COMMENT.match(line) and _NGINX_SOCKETIO_LOCATION.match(line):
			return [
				ProxyFinding(
					file,
					number,
					line.strip(),
					f"the access log stores session ids: {WHY_SID_LOG}",
					FIX_SID_LOG,
				)
			]
	return []


def _origin_findings(lines: list[str], file: str) -> list[ProxyFinding]:
	kept = {m.group("var") for line in lines if (m := _NGINX_ORIGIN_MAP.match(line))}
	findings: list[ProxyFinding] = []
	headers_indent: int | None = None  # inside a YAML `customRequestHeaders:` block
	for number, line in enumerate(lines, 1):
		if _COMMENT.match(line) or not line.strip():
			continue
		indent = len(line) - len(line.lstrip())
		if headers_indent is not None and indent <= headers_indent:
			headers_indent = None
		nginx = _NGINX_ORIGIN.match(line)
		if nginx:
			value = nginx.group("value").strip().strip("\"'")
			if value != "$http_origin" and value.lstrip("$") not in kept:
				findings.append(_finding(file, number, line, "nginx sets Origin on every request", FIX_NGINX))
		elif _TRAEFIK_ORIGIN.search(line) or (headers_indent is not None and _TRAEFIK_ORIGIN_KEY.match(line)):
			findings.append(_finding(file, number, line, "Traefik sets a fixed Origin", FIX_TRAEFIK))
		elif _CADDY_ORIGIN.match(line):
			findings.append(_finding(file, number, line, "Caddy sets Origin on every request", FIX_CADDY))
		elif _TRAEFIK_HEADERS_KEY.match(line):
			headers_indent = indent
	return findings


def _finding(file: str, number: int, line: str, what: str, fix: str) -> ProxyFinding:
	return ProxyFinding(file, number, line.strip(), f"{what}: {WHY_ORIGIN}", fix)


def format_proxy_finding(finding: ProxyFinding) -> str:
	return (
		f"{finding.file}:{finding.line}: {finding.text}\n    why: {finding.problem}\n    fix: {finding.fix}"
	)


# ---- idle timeouts shorter than Engine.IO's heartbeat (catalog #8) -----------------------------

_DURATION_RE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_NGINX_TIMEOUT = re.compile(r"^\s*(?P<name>proxy_read_timeout|proxy_send_timeout)\s+(?P<value>[^;\s]+)\s*;")
_CADDY_TIMEOUT = re.compile(r"^\s*(?P<name>read_timeout|write_timeout|stream_timeout)\s+(?P<value>\S+)\s*$")
_BLOCK_OPEN = re.compile(r"^\s*(?P<head>[^#{}]*?)\s*\{\s*$")


def duration_seconds(text: str) -> float | None:
	"""nginx/Caddy durations (`30`, `30s`, `1m`, `500ms`) in seconds; None if unreadable."""
	match = _DURATION_RE.match(text.strip().strip("\"'"))
	if not match:
		return None
	return float(match.group("n")) * _UNITS[match.group("unit")]


def audit_timeouts(paths: Iterable, window: int) -> list[ProxyFinding]:
	"""Proxy timeouts on the socket path shorter than `window` (pingInterval + pingTimeout)."""
	findings: list[ProxyFinding] = []
	for path in config_files(paths):
		text = read_config_text(path)
		if text is not None:
			findings.extend(audit_timeout_text(text, window, str(path)))
	return findings


def audit_timeout_text(text: str, window: int, file: str = "<text>") -> list[ProxyFinding]:
	"""nginx: the read/send timeout in force in each socket.io location (its own, else the
	enclosing server's or http's); Caddy: read/write/stream timeouts in a file about socket.io."""
	lines = text.splitlines()
	findings: list[ProxyFinding] = []
	# One frame per open block: (is a socket.io location, {directive: (value s, line number, text)}).
	stack: list[tuple[bool, dict]] = [(False, {})]
	caddy = "socket.io" in text and "reverse_proxy" in text
	for number, line in enumerate(lines, 1):
		if _COMMENT.match(line):
			continue
		opened = _BLOCK_OPEN.match(line)
		if opened:
			stack.append((bool(re.match(r"location\b.*socket\.io", opened.group("head"))), {}))
			continue
		timeout = _NGINX_TIMEOUT.match(line) or (caddy and _CADDY_TIMEOUT.match(line))
		if timeout:
			seconds = duration_seconds(timeout.group("value"))
			if seconds is not None:
				stack[-1][1][timeout.group("name")] = (seconds, number, line.strip())
				if caddy and timeout.re is _CADDY_TIMEOUT and seconds < window:
					findings.append(
						_timeout_finding(file, number, line.strip(), seconds, window, FIX_CADDY_TIMEOUT)
					)
			continue
		if line.strip() == "}" and len(stack) > 1:
			is_socketio, _ = stack[-1]
			if is_socketio:
				findings.extend(_effective_short(stack, window, file))
			stack.pop()
	return findings


FIX_NGINX_TIMEOUT = "set proxy_read_timeout and proxy_send_timeout on the socket path above it (e.g. 120s)"
FIX_CADDY_TIMEOUT = "raise it above the heartbeat window, or remove it for the socket path"


def _effective_short(stack: list[tuple[bool, dict]], window: int, file: str) -> list[ProxyFinding]:
	findings = []
	for name in ("proxy_read_timeout", "proxy_send_timeout"):
		for _, directives in reversed(stack):
			if name in directives:
				seconds, number, text = directives[name]
				if seconds < window:
					findings.append(_timeout_finding(file, number, text, seconds, window, FIX_NGINX_TIMEOUT))
				break
	return findings


def _timeout_finding(
	file: str, number: int, text: str, seconds: float, window: int, fix: str
) -> ProxyFinding:
	problem = (
		f"{seconds:g} s is shorter than Engine.IO's heartbeat window ({window} s: pingInterval + "
		"pingTimeout): an idle socket is cut, and clients see a periodic 'transport close'"
	)
	return ProxyFinding(file, number, text, problem, fix)


# ---- site headers fixed to a name (catalog #17) ------------------------------------------------

_FIXED_HEADER = re.compile(
	r"^\s*proxy_set_header\s+(?P<name>Origin|X-Frappe-Site-Name)\s+[\"']?(?P<value>[^;\"']+)[\"']?\s*;",
	re.IGNORECASE,
)


def fixed_site_headers(paths: Iterable, host: str, site_name: str) -> list[ProxyFinding]:
	"""nginx lines that set Origin or X-Frappe-Site-Name to a fixed name other than this site's
	(frappe_docker's FRAPPE_SITE_NAME_HEADER set to a literal): what the realtime service then
	derives, and from which header."""
	findings: list[ProxyFinding] = []
	for path in config_files(paths):
		text = read_config_text(path) or ""
		for number, line in enumerate(text.splitlines(), 1):
			match = _FIXED_HEADER.match(line)
			if not match or _COMMENT.match(line):
				continue
			name, value = match.group("name"), match.group("value").strip()
			derived = _fixed_host(value)
			expected = host if name.lower() == "origin" else site_name
			if derived and derived != expected:
				problem = f"{name} is fixed to {value!r}: the realtime service derives {derived!r} from it, not {expected!r}"
				fix = f"set {name} from the request ($host), and name the site after its public host"
				findings.append(ProxyFinding(str(path), number, line.strip(), problem, fix))
	return findings


def _fixed_host(value: str) -> str | None:
	"""The host name a header value fixes, when no variable makes it follow the request."""
	rest = value.split("://", 1)[-1]
	if "$" in rest:
		return None
	return rest.split("/", 1)[0].split(":", 1)[0].lower() or None
