"""Stale-port audit: every place that routes or exposes the realtime service on another port.

An old `socketio_port` survives in proxies, compose files, `.env` files and scripts long after
the bench moved (catalog #11, #12): the browser then knocks on a port nothing listens on.
Precision matters more than recall, so a number counts only when its own key or its
surroundings say socketio / socket.io / realtime / websocket, and never when they say Redis,
the web server or a database. Each format is read by its own reader (nginx directives with
includes, YAML/TOML values with their key paths, Caddyfile directives, JSON keys); scripts, env
files, units and INI files line by line. Nothing is executed or imported.
"""

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from raven_ai_agent.realtime import caddyfile, nginxconf, traefikconf
from raven_ai_agent.realtime.configfiles import ConfigFile, config_kind, read_configs
from raven_ai_agent.realtime.nginxconf import NginxConfig

# What makes a line about the realtime service, and what makes it about something else.
# "realtime.example.com" is a host name, not the realtime service.
_REALTIME = re.compile(r"socket[._-]?io|(?:realtime|websocket)(?![\w-]*\.[A-Za-z])", re.IGNORECASE)
_REALTIME_KEY = re.compile(r"socket[._-]?io|realtime|websocket|socket", re.IGNORECASE)
_OTHER_KEY = re.compile(
	r"redis|webserver|web[_-]port|gunicorn|mysql|maria|postgres|\bdb|_db|smtp|mail|ssh", re.IGNORECASE
)
_OTHER_LINE = re.compile(r"redis|webserver[_-]port|\bimage\s*:", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*(?:#|;|//)")

# A port written as `key<sep>N`: socketio_port: N, SOCKETIO_PORT=N, --port N, .server.port=N.
_PORT_KEY = re.compile(
	r"(?<![\w.-])(?P<key>-{0,2}(?:[A-Za-z_][\w.-]*?)?port)[\"']?\s*(?:[:=]\s*|\s+)[\"']?(?P<port>\d{1,5})(?![\w.])",
	re.IGNORECASE,
)
# A port written as `host:N` (host: localhost, an IPv4, [IPv6], or a name with a letter in it).
_HOST_PORT = re.compile(
	r"(?:(?<=//)|(?<![\w./@-]))"
	r"(?P<host>localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|(?=[\w.-]*[A-Za-z])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)"
	r":(?P<port>\d{1,5})(?![\w.:])"
)
# Published ports: "HOST:CONTAINER", "127.0.0.1:HOST:CONTAINER/tcp", -p HOST:CONTAINER.
_PORT_PAIR = re.compile(
	r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}:)?(?P<published>\d{1,5}):(?P<target>\d{1,5})(?:/(?:tcp|udp))?(?![\w.:])"
)
_BARE_PORT = re.compile(r"^\s*-\s*[\"']?(?P<port>\d{1,5})(?:/(?:tcp|udp))?[\"']?\s*$")
_LONG_PORT = re.compile(r"^\s*-?\s*(?P<key>published|target)\s*:\s*[\"']?(?P<port>\d{1,5})[\"']?\s*$")
_PUBLISH_FLAG = re.compile(r"(?:^|\s)(?:-p|--publish)[\s=]")

# Who sends socket.io where: nginx `location <socket.io> { proxy_pass http://NAME; }`, and
# Traefik routers whose rule names the socket.io path.
_PROXY_PASS_NAME = re.compile(r"proxy_pass\s+https?://(?P<name>[\w-]+)\s*[;/]")
_UPSTREAM_HEADER = re.compile(r"^\s*upstream\s+(?P<name>[\w.-]+)")
_LABEL_RULE = re.compile(
	r"traefik\.http\.routers\.(?P<router>[\w-]+)\.rule\s*[=:]\s*(?P<rule>.*)", re.IGNORECASE
)
_LABEL_SERVICE = re.compile(
	r"traefik\.http\.routers\.(?P<router>[\w-]+)\.service\s*[=:]\s*[\"']?(?P<service>[\w-]+)"
)
_LABEL_SERVICE_PORT = re.compile(r"traefik\.http\.services\.(?P<service>[\w-]+)\.", re.IGNORECASE)
_INI_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")


@dataclass(frozen=True)
class Finding:
	"""One place that routes or exposes the realtime service on a stale port."""

	file: str
	line: int
	text: str
	port: int
	suggestion: str


def audit_ports(
	paths: Iterable[str | os.PathLike], socketio_port: int, socketio_uds: str | None = None
) -> list[Finding]:
	"""Scan files and folders (recursively) for realtime ports other than `socketio_port`; with
	`socketio_uds` (the service listens on that Unix socket, on no TCP port) for any realtime port.

	Folders are walked for config-like files (nginx, compose/YAML, JSON, .env, shell scripts,
	systemd units, Procfiles, Caddyfiles), skipping node_modules, VCS folders, virtualenvs,
	binary files and files over 1 MB; a file named explicitly is always read.
	"""
	findings: list[Finding] = []
	for config in read_configs(paths):
		findings.extend(_config_findings(config, _Expected(socketio_port, socketio_uds)))
	return findings


def format_finding(finding: Finding) -> str:
	"""`file:line: port N: text` and the fix, as the CLI prints it."""
	return (
		f"{finding.file}:{finding.line}: port {finding.port}: {finding.text}\n    fix: {finding.suggestion}"
	)


def audit_text(
	text: str, socketio_port: int, file: str = "<text>", socketio_uds: str | None = None
) -> list[Finding]:
	"""The findings in one file's text; `file` names it (its name and suffix steer the parsing;
	an nginx file's includes are followed from its folder)."""
	kind = config_kind(file, text)
	nginx = nginxconf.load(Path(file), text) if kind == "nginx" else None
	return _config_findings(ConfigFile(Path(file), text, kind, nginx), _Expected(socketio_port, socketio_uds))


def _config_findings(config: ConfigFile, expected: "_Expected") -> list[Finding]:
	text, file = config.text, str(config.path)
	name = config.path.name.lower()
	if config.nginx is not None:
		return _nginx_findings(config.nginx, expected, name)
	if config.kind in ("yaml", "toml"):
		return _settings_findings(traefikconf.settings(config.kind, text, file), text, expected, name)
	if config.kind == "caddy":
		return _directive_findings(list(caddyfile.walk(caddyfile.parse(text, file))), {}, expected, name)
	if name.endswith(".json"):
		data = _json_object(text)
		if data is not None:
			return _json_findings(data, text, expected, file, name)
	aliases = _aliases(text)
	# systemd units say what they run only in their file name.
	file_context = name.endswith(".service") and bool(_REALTIME.search(name)) and not _OTHER_KEY.search(name)
	ini = name.endswith((".ini", ".conf", ".cfg", ".service", ".toml"))
	contexts = _block_contexts(text, aliases, ini)
	findings: dict[tuple[int, int], Finding] = {}
	for number, (line, (context, under_ports)) in enumerate(
		zip(text.splitlines(), contexts, strict=False), 1
	):
		if _COMMENT.match(line):
			continue
		context = context or file_context or bool(_REALTIME.search(line)) or _names_alias(line, aliases)
		for port, suggestion in _stale_ports(line, context, under_ports, expected, name):
			findings.setdefault((number, port), Finding(file, number, line.strip(), port, suggestion))
	return list(findings.values())


def _nginx_findings(config: NginxConfig, expected: "_Expected", name: str) -> list[Finding]:
	"""An nginx config directive by directive; an upstream that a socket.io location passes to is
	realtime whatever its name, one that only other locations use is not."""
	aliases: dict[str, bool] = {}
	for d in config.walk():
		m = _PROXY_PASS_NAME.search(d.text) if d.name == "proxy_pass" else None
		if m:
			realtime = any(_is_realtime_header(_header(a), {}) for a in d.ancestors())
			aliases[m.group("name")] = aliases.get(m.group("name"), False) or realtime
	return _directive_findings(list(config.walk()), aliases, expected, name)


def _directive_findings(
	directives: list, aliases: dict[str, bool], expected: "_Expected", name: str
) -> list[Finding]:
	"""nginx or Caddy directives: a port counts inside a block about the realtime service
	(`location /socket.io`, `upstream <bench>-socketio-server`, `handle /socket.io/*`, an aliased
	upstream) or in a directive that names it (`reverse_proxy /socket.io/* host:port`)."""
	findings: dict[tuple[str, int, int], Finding] = {}
	for d in directives:
		if d.block is not None and d.name != "upstream":
			continue
		context = any(_is_realtime_header(_header(a), aliases) for a in d.ancestors())
		context = context or bool(_REALTIME.search(d.text))
		for port, suggestion in _stale_ports(d.text, context, False, expected, name):
			findings.setdefault((d.file, d.line, port), Finding(d.file, d.line, d.text, port, suggestion))
	return list(findings.values())


def _settings_findings(
	settings: list[traefikconf.Setting], text: str, expected: "_Expected", name: str
) -> list[Finding]:
	"""YAML (compose, Traefik) and TOML values with the keys around them: a compose service or a
	Traefik service that a socket.io router uses makes its ports, environment (list or map form)
	and server URLs realtime; `ports`/`expose` make bare numbers and pairs published ports."""
	aliases = _setting_aliases(settings)
	lines = text.splitlines()
	findings: dict[tuple[int, int], Finding] = {}
	for s in settings:
		keys = s.where
		logical = s.text
		context = (
			_yaml_realtime(keys, aliases) or bool(_REALTIME.search(logical)) or _names_alias(logical, aliases)
		)
		for port, suggestion in _stale_ports(logical, context, _yaml_ports(keys), expected, name):
			source = lines[s.line - 1].strip() if 0 < s.line <= len(lines) else logical
			findings.setdefault((s.line, port), Finding(s.file, s.line, source, port, suggestion))
	return list(findings.values())


def _setting_aliases(settings: list[traefikconf.Setting]) -> dict[str, bool]:
	"""Traefik services that a router whose rule names the socket.io path uses (labels or a file
	provider): `routers.<r>.service`, else the router's own name (Traefik's label default)."""
	routers: dict[str, dict[str, str]] = {}
	for s in settings:
		path = [k.lower() for k in s.path]
		at = path.index("routers") if "routers" in path else -1
		if at >= 0 and at + 3 == len(path) and path[-1] in ("rule", "service"):
			router = s.path[at + 1]
			routers.setdefault(router, {})[path[-1]] = s.value
	return {
		conf.get("service", router).split("@")[0]: True
		for router, conf in routers.items()
		if _REALTIME.search(conf.get("rule", ""))
	}


def _header(block: nginxconf.Directive) -> str:
	return " ".join((block.name, *block.args))


def _json_object(text: str) -> dict | None:
	try:
		data = json.loads(text)
	except ValueError:
		return None  # not JSON after all: read it line by line
	return data if isinstance(data, dict) else None


def _json_findings(data: dict, text: str, expected: "_Expected", file: str, name: str) -> list[Finding]:
	"""A JSON config audited key by key: a port key counts when it, or a key above it, names the
	realtime service (`socketio_port`, `"socketio": {"port": ...}`).

	A line-by-line read would take `"host_name": "http://site:8080"` for a realtime port when
	the file is written on one line next to `socketio_port` (bench writes indented files; a
	hand-written or minified one is a single line).
	"""
	findings = []
	for path, value in _json_items(data):
		key = path[-1]
		if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdecimal():
			continue
		if not _is_port_key(key) or not _PORT_KEY.fullmatch(f"{key}: {value}") or _OTHER_KEY.search(key):
			continue
		if not any(_REALTIME_KEY.search(k) for k in path):
			continue
		if expected.uds and _is_the_bench_key(key, name):
			continue
		for port, suggestion in _if_stale(int(value), expected, _key_fix(key, name, expected.port)):
			number, line = _json_line(text, path)
			findings.append(Finding(file, number, line, port, suggestion))
	return findings


def _json_items(value, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
	"""(key path, value) of every entry, depth first; lists keep their parent's path."""
	if len(path) > 8:
		return
	if isinstance(value, dict):
		for key, item in value.items():
			yield (*path, str(key)), item
			yield from _json_items(item, (*path, str(key)))
	elif isinstance(value, list):
		for item in value:
			yield from _json_items(item, path)


def _json_line(text: str, path: tuple[str, ...]) -> tuple[int, str]:
	"""Where the last key of `path` stands, looked up after each key above it: (number, line)."""
	lines = text.splitlines() or [""]
	start = 0
	for key in path:
		for offset, line in enumerate(lines[start:]):
			if f'"{key}"' in line:
				start += offset
				break
	return start + 1, lines[start].strip()


def _stale_ports(
	line: str, context: bool, under_ports: bool, expected: "_Expected", name: str
) -> Iterator[tuple[int, str]]:
	"""(port, suggestion) for every realtime port on `line` that is not the expected one."""
	socketio_port = expected.port
	if _OTHER_LINE.search(line):
		return
	for m in _PORT_KEY.finditer(line):
		key = m.group("key")
		if not _is_port_key(key) or _OTHER_KEY.search(key):
			continue
		if expected.uds and _is_the_bench_key(key, name):
			continue
		if _REALTIME_KEY.search(key) or context:
			yield from _if_stale(int(m.group("port")), expected, _key_fix(key, name, socketio_port))
	if not context:
		return
	for m in _HOST_PORT.finditer(line):
		yield from _if_stale(
			int(m.group("port")), expected, f"route the realtime service to port {socketio_port}"
		)
	if under_ports or _PUBLISH_FLAG.search(line):
		for m in _PORT_PAIR.finditer(line):
			fix = f'publish the realtime port as "{socketio_port}:{socketio_port}"'
			yield from _if_stale(int(m.group("published")), expected, fix)
			yield from _if_stale(int(m.group("target")), expected, fix)
	if under_ports:
		m = _BARE_PORT.match(line) or _LONG_PORT.match(line)
		if m:
			yield from _if_stale(int(m.group("port")), expected, f"publish the realtime port {socketio_port}")


def _is_port_key(key: str) -> bool:
	"""`port`, `--port`, `socketio_port`, `server.port`, `socketioPort`; not `export`, `transport`."""
	head, tail = key.lstrip("-")[:-4], key[-4:]
	return not head or head[-1] in "_.-" or (tail[0] == "P" and head[-1].islower())


@dataclass(frozen=True)
class _Expected:
	"""Where the realtime service listens: its port, or (socketio_uds) a Unix socket and no port."""

	port: int
	uds: str | None = None


def _if_stale(port: int, expected: _Expected, suggestion: str) -> Iterator[tuple[int, str]]:
	if not 1 <= port <= 65535:
		return
	if expected.uds:
		yield (
			port,
			(
				f"route the realtime service to unix:{expected.uds} (socketio_uds: it listens on that Unix "
				f"socket and on no TCP port; nginx: `server unix:{expected.uds};`) (found {port})"
			),
		)
	elif port != expected.port:
		yield port, f"{suggestion} (found {port})"


def _is_the_bench_key(key: str, name: str) -> bool:
	"""socketio_port in the bench's own config files: kept there, and ignored while socketio_uds is set."""
	return key.lstrip("-") == "socketio_port" and name in ("common_site_config.json", "config.json")


def _key_fix(key: str, name: str, socketio_port: int) -> str:
	"""The fix for `key = N`, in the words of the file it was found in."""
	bare = key.lstrip("-")
	if bare == "socketio_port" and name == "site_config.json":
		return (
			"remove socketio_port from site_config.json: the realtime service reads only "
			f"common_site_config.json, where it is {socketio_port}"
		)
	if bare.upper().startswith("VITE_"):
		return f"set {bare}={socketio_port} and rebuild the frontend (the port is baked in at build time)"
	return f"set {bare} to {socketio_port}"


def _names_alias(line: str, aliases: dict[str, bool]) -> bool:
	"""A Traefik label on a service that a socket.io router uses."""
	return any(aliases.get(m.group("service")) is True for m in _LABEL_SERVICE_PORT.finditer(line))


def _aliases(text: str) -> dict[str, bool]:
	"""Upstream/service names and whether they receive socket.io traffic, in a file read line by
	line (a script that writes an nginx site, or passes Traefik labels to `docker run`).

	An nginx upstream that a socket.io location passes to is realtime whatever its name; one
	that only other locations use is not, even when the site's name says "realtime".
	"""
	aliases: dict[str, bool] = {}
	for (realtime, _), line in zip(_block_contexts(text, {}), text.splitlines(), strict=False):
		m = _PROXY_PASS_NAME.search(line)
		if m and not _COMMENT.match(line):
			name = m.group("name")
			aliases[name] = aliases.get(name, False) or realtime
	routers = {m.group("router") for m in _LABEL_RULE.finditer(text) if _REALTIME.search(m.group("rule"))}
	services = {m.group("router"): m.group("service") for m in _LABEL_SERVICE.finditer(text)}
	aliases.update((services.get(r, r), True) for r in routers)
	return aliases


def _block_contexts(text: str, aliases: dict[str, bool], ini: bool = False) -> list[tuple[bool, bool]]:
	"""Per line: (inside a block about the realtime service, False), for brace and INI files.

	A block is about the realtime service when its header says so (`location /socket.io`,
	`upstream bench-socketio`, `"socketio": {`, `[program:bench-node-socketio]`) or is the
	`upstream` that a socket.io location passes to.
	"""
	out = []
	stack: list[bool] = []
	section = False
	previous = ""  # the header text a line ended with, for a `{` on the next line
	for line in text.splitlines():
		if _COMMENT.match(line):
			out.append((section or any(stack), False))
			continue
		m = _INI_SECTION.match(line) if ini else None
		if m:
			section = _is_realtime_header(m.group("name"), aliases)
		out.append((section or any(stack), False))
		# Braces inside quotes or ${...} expansions do not open blocks: mask them, keep positions.
		masked = re.sub(r"\$\{[^}]*\}|\"(?:\\.|[^\"\\])*\"|'[^']*'", lambda q: "x" * len(q.group()), line)
		start = 0
		header = previous if line.lstrip().startswith("{") else ""
		for i, char in enumerate(masked):
			if char not in "{}":
				continue
			segment = (header + " " + line[start:i]).split(";")[-1].strip()
			if char == "{":
				stack.append(_is_realtime_header(segment, aliases))
			elif stack:
				stack.pop()
			start, header = i + 1, ""
		previous = line[start:].split(";")[-1].strip()
	return out


def _is_realtime_header(header: str, aliases: dict[str, bool]) -> bool:
	m = _UPSTREAM_HEADER.match(header)
	if m and m.group("name") in aliases:
		return aliases[m.group("name")]
	return bool(_REALTIME.search(header)) and not _OTHER_KEY.search(header)


def _yaml_realtime(keys: list[str] | tuple[str, ...], aliases: dict[str, bool]) -> bool:
	"""A key around the value names the realtime service (and none names something else), or the
	value belongs to a Traefik service that a socket.io router uses."""
	if any(_OTHER_KEY.search(k) for k in keys):
		return False
	if any(_REALTIME.search(k) for k in keys):
		return True
	return any(a == "services" and aliases.get(b) is True for a, b in zip(keys, keys[1:], strict=False))


def _yaml_ports(keys: list[str] | tuple[str, ...]) -> bool:
	return any(k in ("ports", "expose") for k in keys)
