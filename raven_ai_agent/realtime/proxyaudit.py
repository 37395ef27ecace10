"""Proxy-config audit: settings that make a working realtime route weaker than it should be.

The stale-port audit (audit.py) finds routes to the wrong port; this one finds what still
works but removes a protection:
- an Origin header set unconditionally (bench's own nginx template does it), which makes every
  page's Origin look like the site's own, so Frappe's "Invalid origin" check can no longer
  refuse a foreign page;
- an access log that records the realtime service's session checks with their query, which
  holds live session ids.
Each file is read by its own format's reader (nginx: nginxconf, with includes, inheritance and
location matching; Caddyfile: caddyfile; Traefik YAML/TOML/labels: traefikconf), so a finding
names the file and line of the directive itself; nothing is executed.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from raven_ai_agent.realtime import caddyfile, nginxconf, traefikconf
from raven_ai_agent.realtime.configfiles import ConfigFile, config_kind, read_configs
from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError
from raven_ai_agent.realtime.constants import USER_INFO_PATH
from raven_ai_agent.realtime.nginxconf import Directive, NginxConfig

# Traefik: a label of a headers middleware that sets Origin, in a file read line by line.
_TRAEFIK_ORIGIN = re.compile(
	r"customrequestheaders(?:\.|\s*:\s*\{?\s*[\"']?)origin[\"']?\s*[=:]", re.IGNORECASE
)
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
	"""Every unconditional Origin rewrite, session-id access log and dropped upgrade header in the
	config files under `paths` (ConfigSyntaxError: a file its server would refuse, with its line)."""
	findings: list[ProxyFinding] = []
	for config in read_configs(paths):
		findings.extend(_proxy_findings(config))
	return findings


WHY_SID_LOG = (
	"Frappe's realtime service checks every session with GET <site>"
	f"{USER_INFO_PATH}?sid=<session id> through the site's proxy, so an access log that records "
	"query strings stores live session ids"
)
FIX_SID_LOG = (
	f"log {USER_INFO_PATH} (and the socket path) without the query: a `location = {USER_INFO_PATH}` "
	"with `access_log ... <format using $uri, not $request>` (`raven-realtime render nginx-vps` writes it)"
)
WHY_DROPPED = (
	"nginx drops every inherited proxy_set_header in a block that sets any of its own, so the "
	"WebSocket upgrade headers never reach the realtime service and clients stay on long-polling"
)
FIX_DROPPED = 'repeat `proxy_set_header Upgrade $http_upgrade;` and `proxy_set_header Connection "upgrade";` in this block'
# The request URI a Socket.IO client opens (`/socket.io/?EIO=4&transport=...`): locations match the path.
SOCKET_PATH = "/socket.io/"
# Log variables that carry the query string (and so `?sid=`).
_QUERY_VARIABLES = re.compile(r"\$(?:request|request_uri|args|query_string|arg_sid)\b")


def audit_proxy_text(text: str, file: str = "<text>") -> list[ProxyFinding]:
	"""The findings in one file's text (nginx, Traefik labels or YAML, Caddyfile); an nginx
	file's includes are followed from its folder."""
	kind = config_kind(file, text)
	nginx = nginxconf.load(Path(file), text) if kind == "nginx" else None
	return _proxy_findings(ConfigFile(Path(file), text, kind, nginx))


def _proxy_findings(config: ConfigFile) -> list[ProxyFinding]:
	if config.nginx is not None:
		return _nginx_origin(config.nginx) + _nginx_session_log(config.nginx) + _nginx_dropped(config.nginx)
	if config.kind == "caddy":
		return _caddy_origin(caddyfile.parse(config.text, str(config.path)))
	if config.kind in ("yaml", "toml"):
		return _traefik_origin(traefikconf.settings(config.kind, config.text, str(config.path)), config.text)
	return _label_origin(config.text.splitlines(), str(config.path))


def _traefik_origin(settings: list[traefikconf.Setting], text: str) -> list[ProxyFinding]:
	"""A headers middleware's customRequestHeaders.Origin (file provider or Docker label)."""
	findings = []
	for setting in settings:
		if setting.ends_with("headers", "customRequestHeaders", "Origin"):
			what = f"Traefik sets a fixed Origin: {WHY_ORIGIN}"
			written = traefikconf.source_line(text, setting.line)
			findings.append(ProxyFinding(setting.file, setting.line, written, what, FIX_TRAEFIK))
	return findings


def _caddy_origin(nodes: list[caddyfile.Node]) -> list[ProxyFinding]:
	"""`header_up Origin <value>` (or `+Origin`) in any reverse_proxy: set on every request."""
	findings = []
	for node in caddyfile.walk(nodes):
		if node.name == "header_up" and node.args and node.args[0].lstrip("+").lower() == "origin":
			what = f"Caddy sets Origin on every request: {WHY_ORIGIN}"
			findings.append(ProxyFinding(node.file, node.line, node.text, what, FIX_CADDY))
	return findings


def _nginx_origin(config: NginxConfig) -> list[ProxyFinding]:
	"""`proxy_set_header Origin <value>` is fine only with the browser's own Origin, a variable
	that a `map $http_origin` builds (which keeps it), or "" (which removes the header)."""
	kept = {
		d.args[1].lstrip("$")
		for d in config.walk()
		if d.name == "map" and d.args[:1] == ("$http_origin",) and len(d.args) > 1
	}
	findings = []
	for d in config.walk():
		if d.name == "proxy_set_header" and len(d.args) >= 2 and d.args[0].lower() == "origin":
			value = d.args[1]
			if value not in ("$http_origin", "") and value.lstrip("$") not in kept:  # "" removes it
				findings.append(_directive_finding(d, "nginx sets Origin on every request", FIX_NGINX))
	return findings


def _nginx_session_log(config: NginxConfig) -> list[ProxyFinding]:
	"""A server whose socket location is its own, while the session check is logged with its query
	(the access_log in force where nginx serves USER_INFO_PATH; nginx's default is `combined`)."""
	formats = {d.args[0]: " ".join(d.args[1:]) for d in config.walk() if d.name == "log_format" and d.args}
	findings = []
	for server in nginxconf.servers(config.directives):
		socket = nginxconf.serving_location(server, SOCKET_PATH)
		if socket is None or "socket.io" not in nginxconf.location_match(socket)[1]:
			continue
		check = nginxconf.serving_location(server, USER_INFO_PATH)
		logs = _in_force(check, server, config.directives, "access_log")
		if all(_logs_query(log, formats) for log in logs):  # none in force: nginx logs `combined`
			findings.append(
				ProxyFinding(
					socket.file,
					socket.line,
					socket.text,
					f"the access log stores session ids: {WHY_SID_LOG}",
					FIX_SID_LOG,
				)
			)
	return findings


def _logs_query(log: Directive, formats: dict[str, str]) -> bool:
	"""Whether one access_log records query strings: `off` does not, nor a format defined elsewhere
	(not in the files read: taken as deliberate); `combined` (the default) does."""
	if log.args[:1] == ("off",):
		return False
	name = log.args[1] if len(log.args) > 1 and "=" not in log.args[1] else "combined"
	if name == "combined":
		return True
	return name in formats and bool(_QUERY_VARIABLES.search(formats[name]))


def _in_force(
	location: Directive | None, server: list[Directive], top: list[Directive], name: str
) -> list[Directive]:
	"""The `name` directives in force at `location`, or at the server level when none serves."""
	if location is not None:
		return nginxconf.effective(location, top, name)
	owner = next((d for d in nginxconf.walk(top) if d.block is server), None)
	if owner is None:
		return nginxconf.level_directives(None, top, name)
	return nginxconf.effective(owner, top, name)


def _nginx_dropped(config: NginxConfig) -> list[ProxyFinding]:
	"""A socket location (or a block between it and the server) that sets its own proxy_set_header
	and so loses an inherited Upgrade / Connection header."""
	findings = []
	for server in nginxconf.servers(config.directives):
		socket = nginxconf.serving_location(server, SOCKET_PATH)
		if socket is None:
			continue
		levels = nginxconf.levels(socket)
		setting = [
			(lvl, nginxconf.level_directives(lvl, config.directives, "proxy_set_header")) for lvl in levels
		]
		setting = [(lvl, found) for lvl, found in setting if found]
		if len(setting) < 2:
			continue
		(_, inherited), (_, own) = setting[-2], setting[-1]
		names = {d.args[0].lower() for d in own if d.args}
		for lost in inherited:
			if (
				lost.args
				and lost.args[0].lower() in ("upgrade", "connection")
				and lost.args[0].lower() not in names
			):
				what = f"`{lost.text}` ({lost.where}) is not inherited here"
				findings.append(
					ProxyFinding(own[0].file, own[0].line, own[0].text, f"{what}: {WHY_DROPPED}", FIX_DROPPED)
				)
	return findings


def _label_origin(lines: list[str], file: str) -> list[ProxyFinding]:
	"""Files read line by line (a script's `docker run --label ...`): a Traefik Origin label."""
	return [
		_finding(file, number, line, "Traefik sets a fixed Origin", FIX_TRAEFIK)
		for number, line in enumerate(lines, 1)
		if not _COMMENT.match(line) and _TRAEFIK_ORIGIN.search(line)
	]


def _directive_finding(d: Directive, what: str, fix: str) -> ProxyFinding:
	return ProxyFinding(d.file, d.line, d.text, f"{what}: {WHY_ORIGIN}", fix)


def _finding(file: str, number: int, line: str, what: str, fix: str) -> ProxyFinding:
	return ProxyFinding(file, number, line.strip(), f"{what}: {WHY_ORIGIN}", fix)


def format_proxy_finding(finding: ProxyFinding) -> str:
	return (
		f"{finding.file}:{finding.line}: {finding.text}\n    why: {finding.problem}\n    fix: {finding.fix}"
	)


# ---- idle timeouts shorter than Engine.IO's heartbeat (catalog #8) -----------------------------

_DURATION_RE = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
# reverse_proxy's stream_timeout, and its `transport http` read/write timeouts.
CADDY_TIMEOUTS = ("read_timeout", "write_timeout", "stream_timeout")
NGINX_TIMEOUTS = ("proxy_read_timeout", "proxy_send_timeout")


def duration_seconds(text: str) -> float | None:
	"""nginx/Caddy durations (`30`, `30s`, `1m`, `500ms`) in seconds; None if unreadable."""
	match = _DURATION_RE.match(text.strip().strip("\"'"))
	if not match:
		return None
	return float(match.group("n")) * _UNITS[match.group("unit")]


def audit_timeouts(paths: Iterable, window: int) -> list[ProxyFinding]:
	"""Proxy timeouts on the socket path shorter than `window` (pingInterval + pingTimeout)."""
	findings: list[ProxyFinding] = []
	for config in read_configs(paths):
		findings.extend(_timeout_findings(config, window))
	return findings


def audit_timeout_text(text: str, window: int, file: str = "<text>") -> list[ProxyFinding]:
	"""nginx: the read/send timeout in force in the location that serves the socket path (its
	own, else an enclosing location's, the server's or http's); Caddy: read/write/stream timeouts
	in a file about socket.io."""
	kind = config_kind(file, text)
	nginx = nginxconf.load(Path(file), text) if kind == "nginx" else None
	return _timeout_findings(ConfigFile(Path(file), text, kind, nginx), window)


def _timeout_findings(config: ConfigFile, window: int) -> list[ProxyFinding]:
	if config.nginx is not None:
		return _nginx_timeouts(config.nginx, window)
	if config.kind != "caddy":
		return []
	findings = []
	for proxy in caddyfile.serving_proxies(caddyfile.parse(config.text, str(config.path)), SOCKET_PATH):
		for node in caddyfile.walk(proxy.block or []):
			if node.name not in CADDY_TIMEOUTS or not node.args:
				continue
			seconds = duration_seconds(node.args[0])
			if seconds is not None and seconds < window:
				findings.append(
					_timeout_finding(node.file, node.line, node.text, seconds, window, FIX_CADDY_TIMEOUT)
				)
	return findings


def _nginx_timeouts(config: NginxConfig, window: int) -> list[ProxyFinding]:
	"""Per server: the timeouts in force where nginx serves the socket path, when it proxies it."""
	findings = []
	for server in nginxconf.servers(config.directives):
		socket = nginxconf.serving_location(server, SOCKET_PATH)
		if socket is None or not _routes_socket(socket):
			continue
		for name in NGINX_TIMEOUTS:
			in_force = nginxconf.effective(socket, config.directives, name)
			seconds = duration_seconds(in_force[-1].args[0]) if in_force and in_force[-1].args else None
			if seconds is not None and seconds < window:
				d = in_force[-1]
				findings.append(_timeout_finding(d.file, d.line, d.text, seconds, window, FIX_NGINX_TIMEOUT))
	return findings


FIX_NGINX_TIMEOUT = "set proxy_read_timeout and proxy_send_timeout on the socket path above it (e.g. 120s)"
FIX_CADDY_TIMEOUT = "raise it above the heartbeat window, or remove it for the socket path"


def _routes_socket(location: Directive) -> bool:
	"""A location meant for the socket path, or one that proxies it (`location /` in a site with no
	socket location); not a redirect-only server's `location /`."""
	proxies = any(d.name == "proxy_pass" for d in nginxconf.walk(location.block or []))
	return proxies or "socket.io" in nginxconf.location_match(location)[1]


def _timeout_finding(
	file: str, number: int, text: str, seconds: float, window: int, fix: str
) -> ProxyFinding:
	problem = (
		f"{seconds:g} s is shorter than Engine.IO's heartbeat window ({window} s: pingInterval + "
		"pingTimeout): an idle socket is cut, and clients see a periodic 'transport close'"
	)
	return ProxyFinding(file, number, text, problem, fix)


# ---- site headers fixed to a name (catalog #17) ------------------------------------------------


def fixed_site_headers(paths: Iterable, host: str, site_name: str) -> list[ProxyFinding]:
	"""nginx directives that set Origin or X-Frappe-Site-Name to a fixed name other than this
	site's (frappe_docker's FRAPPE_SITE_NAME_HEADER set to a literal): what the realtime service
	then derives, and from which header. Evidence for a hint: a file nginx would refuse is skipped
	here (audit-proxy and the config check name it)."""
	findings: list[ProxyFinding] = []
	try:
		configs = read_configs(paths)
	except ConfigSyntaxError:
		return []
	for config in configs:
		for d in config.nginx.walk() if config.nginx else ():
			if d.name != "proxy_set_header" or len(d.args) < 2:
				continue
			name, value = d.args[0], d.args[1].strip()
			if name.lower() not in ("origin", "x-frappe-site-name"):
				continue
			derived = _fixed_host(value)
			expected = host if name.lower() == "origin" else site_name
			if derived and derived != expected:
				problem = f"{name} is fixed to {value!r}: the realtime service derives {derived!r} from it, not {expected!r}"
				fix = f"set {name} from the request ($host), and name the site after its public host"
				findings.append(ProxyFinding(d.file, d.line, d.text, problem, fix))
	return findings


def _fixed_host(value: str) -> str | None:
	"""The host name a header value fixes, when no variable makes it follow the request."""
	rest = value.split("://", 1)[-1]
	if "$" in rest:
		return None
	return rest.split("/", 1)[0].split(":", 1)[0].lower() or None
