"""Diagnose the realtime path of one site: run the probes, judge them, name the root cause.

The checks run from upstream (the config, the realtime port on this host) to downstream
(the public URL, the namespace, delivery of a real event), concurrently where they do not
depend on each other, all within one deadline. A check whose prerequisite failed is not
run: it reports `ok: None` with "not reached: <check> failed", so the one hint of the result
(the hint of the most upstream failing check) names the cause, not its symptoms.

Choices a reader should know:
- "Not reached" and "skipped" are `ok: None`, never a failure: `ok` says whether every check
  that ran passed, and only real findings carry hints.
- Without a session the namespace check sends Frappe's Guest sid (`sid=Guest`), so the
  realtime service runs its whole authentication, the call back to the web server included.
- `external=False` sends the session checks straight to the realtime port with the headers
  bench's nginx would add (Host and Origin of the public site, X-Frappe-Site-Name).
- Whatever the network does, the result comes within the timeout plus GRACE_SECONDS: every
  request gets what is left of one deadline, and checks still running then count as timed out.

The session id given for the end-to-end check never appears in the result. No frappe import.
"""

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from raven_ai_agent.realtime import engineio, probe
from raven_ai_agent.realtime.constants import (
	DEFAULT_PROBE_TIMEOUT,
	DEFAULT_SOCKETIO_PATH,
	EVENTS_CHANNEL,
	MAX_PROBE_TIMEOUT,
	MIN_PROBE_TIMEOUT,
	SITE_NAME_HEADER,
	user_room,
)
from raven_ai_agent.realtime.resolve import COMMON_CONFIG_FILE, DeploymentType, RavenConfig

CONFIG = "config"
LOCAL_HANDSHAKE = "local_handshake"
EXTERNAL_HANDSHAKE = "external_handshake"
EXTERNAL_WEBSOCKET = "external_websocket"
NAMESPACE = "namespace"
STICKY_SESSION = "sticky_session"
REDIS_BRIDGE = "redis_bridge"
END_TO_END = "end_to_end"
# Upstream to downstream: the result's hint is the hint of the first failing check.
CHECKS = (
	CONFIG,
	LOCAL_HANDSHAKE,
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	NAMESPACE,
	STICKY_SESSION,
	REDIS_BRIDGE,
	END_TO_END,
)

# A probe event nobody listens to, in a room nobody is in: harmless on a live site.
PROBE_EVENT = "raven_ai_agent_probe"
PROBE_ROOM = "raven_ai_agent:probe"
# Frappe's own sid for anonymous visitors: it makes the realtime service run its whole
# authentication, callback included, without any credential.
GUEST_SID = "Guest"
# Requests on one session after the handshake (POSTs and the GET of the CONNECT reply).
STICKY_EXTRA_REQUESTS = 2
# How long past the deadline the checks may take to report before they count as hung.
GRACE_SECONDS = 0.3
MASK = "***"
# What every client and server of the path must speak; a Socket.IO v2 server (EIO=3) cannot serve it.
SOCKETIO_REQUIREMENT = (
	"Frappe v15 needs socket.io v4 on both ends (Engine.IO protocol v4, EIO=4), as its own realtime "
	"service and the desk's client are"
)

Publish = Callable[[str, dict, str], bool]


@dataclass
class Check:
	"""One check's verdict: ok True/False, or None when skipped or not reached."""

	name: str
	ok: bool | None
	detail: str
	hint: str | None = None
	elapsed_ms: float = 0.0

	def as_dict(self) -> dict:
		return {
			"name": self.name,
			"ok": self.ok,
			"detail": self.detail,
			"hint": self.hint,
			"elapsed_ms": round(self.elapsed_ms, 1),
		}


def passed(name: str, detail: str) -> Check:
	return Check(name, True, detail)


def failed(name: str, detail: str, hint: str) -> Check:
	return Check(name, False, detail, hint)


def skipped(name: str, detail: str) -> Check:
	return Check(name, None, detail)


@dataclass
class _Run:
	"""Everything the checks share: inputs, the deadline, and the results so far."""

	config: RavenConfig
	timeout: float
	deadline: probe.Deadline
	external: bool
	sid: str | None
	user: str | None
	publish: Publish | None
	audit_paths: Sequence
	config_warnings: Sequence[str]
	results: dict
	done: dict = field(default_factory=lambda: {name: threading.Event() for name in CHECKS})
	lock: threading.Lock = field(default_factory=threading.Lock)

	def wait(self, name: str) -> Check | None:
		"""Another check's result, waiting for it at most until the deadline (for a sharper hint)."""
		self.done[name].wait(max(0.0, self.deadline.remaining()))
		with self.lock:
			return self.results.get(name)

	@property
	def path(self) -> str:
		return self.config.socketio_path

	@property
	def route_check(self) -> str:
		"""The handshake that proves the route the session checks take."""
		return EXTERNAL_HANDSHAKE if self.external else LOCAL_HANDSHAKE

	def route(self, sid: str | None) -> tuple[str, dict]:
		"""(socket.io origin, headers) of a browser's session, or of bench's nginx when not external."""
		config = self.config
		headers = {"Origin": config.get_external_http_base(), "Cookie": f"sid={sid or GUEST_SID}"}
		if self.external:
			return config.get_external_socketio_url(), headers
		# Straight to the realtime port: send what the public route would deliver there.
		headers["Host"] = urlsplit(config.get_external_http_base()).netloc
		if config.deployment_type is not DeploymentType.LOCAL:
			headers[SITE_NAME_HEADER] = config.site_name
		return config.get_internal_socketio_url(), headers

	def http(self) -> probe.Http:
		return probe.Http(self.deadline, self.timeout)


def diagnose(
	config: RavenConfig,
	*,
	timeout: float = DEFAULT_PROBE_TIMEOUT,
	external: bool = True,
	sid: str | None = None,
	user: str | None = None,
	publish: Publish | None = None,
	audit_paths: Iterable = (),
	config_warnings: Sequence[str] | None = None,
) -> dict:
	"""Check every hop of the realtime path of `config`; return a JSON-ready report. Never raises.

	`timeout` bounds the whole diagnosis (it returns within timeout + 0.5 s); it is clamped to
	the allowed range. `external=False` skips the public URL and tests the realtime port with
	the headers a proxy would add. `sid` (a logged-in session's cookie) enables `end_to_end`;
	`user` saves asking the web server whose session it is. `publish(event, message, user)`
	sends the end-to-end event (the Frappe shell passes frappe.publish_realtime); without it
	the event goes straight to the config's Redis in Frappe's format. `audit_paths` are files
	for the stale-port audit; `config_warnings` replaces config.warnings when given.
	"""
	start = time.monotonic()
	timeout = _clamp_timeout(timeout)
	run = _Run(
		config=config,
		timeout=timeout,
		deadline=probe.Deadline(timeout),
		external=bool(external),
		sid=sid or None,
		user=user or None,
		publish=publish,
		audit_paths=tuple(audit_paths or ()),
		config_warnings=tuple(config.warnings if config_warnings is None else config_warnings),
		results={},
	)
	checks = _run_checks(run)
	failing = [c for c in checks if c.ok is False]
	by_name = {c.name: c for c in checks}
	report = {
		"ok": not failing,
		"hint": next((c.hint for c in failing if c.hint), failing[0].detail if failing else None),
		"deployment_type": config.deployment_type.value,
		"site_name": config.site_name,
		"namespace": config.namespace,
		"socketio_port": config.socketio_port,
		"socketio_path": config.socketio_path,
		"external_socketio_url": config.get_external_socketio_url(),
		"local_socketio_ok": by_name[LOCAL_HANDSHAKE].ok is True,
		"external_socketio_ok": by_name[EXTERNAL_HANDSHAKE].ok,
		"websocket_ok": by_name[EXTERNAL_WEBSOCKET].ok,
		"checks": [c.as_dict() for c in checks],
		"timeout": timeout,
		"elapsed_ms": round((time.monotonic() - start) * 1000, 1),
		"config": config.as_dict(),
	}
	return _mask(report, run.sid)


def _clamp_timeout(timeout) -> float:
	try:
		value = float(timeout) if timeout is not None else DEFAULT_PROBE_TIMEOUT
	except (TypeError, ValueError):
		return DEFAULT_PROBE_TIMEOUT
	if value != value:  # NaN
		return DEFAULT_PROBE_TIMEOUT
	return min(max(value, MIN_PROBE_TIMEOUT), MAX_PROBE_TIMEOUT)


def _mask(value, secret: str | None):
	"""Replace the session id wherever it appears in the report."""
	if not secret:
		return value
	if isinstance(value, str):
		return value.replace(secret, MASK)
	if isinstance(value, dict):
		return {k: _mask(v, secret) for k, v in value.items()}
	if isinstance(value, list):
		return [_mask(v, secret) for v in value]
	return value


# ---- running the checks --------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
	"""A probe producing one or more checks once its prerequisites passed."""

	names: tuple[str, ...]
	run: Callable[[_Run], list[Check]]
	requires: Callable[[_Run], tuple[str, ...]]


def _run_checks(run: _Run) -> list[Check]:
	"""One daemon thread per task; wait for all of them until the deadline plus a grace.

	Daemon threads, not a pool: a probe stuck in a DNS lookup must not delay the answer
	or the exit of the process.
	"""
	done, lock = run.done, run.lock
	wall = run.deadline.at + GRACE_SECONDS

	def worker(task: _Task) -> None:
		requires = task.requires(run)
		for name in requires:
			if not done[name].wait(max(0.0, wall - time.monotonic())):
				return  # the wall passed: reported below as not reached
		started = time.monotonic()
		try:
			with lock:
				blocked = _blocked(run, requires)
			checks = [skipped(n, blocked) for n in task.names] if blocked else task.run(run)
		except Exception as e:  # a bug must not hide the other checks' findings
			text = f"{type(e).__name__}: {e}"
			checks = [
				failed(
					n,
					f"the check crashed: {text}",
					f"The {n} check crashed ({text}); report it with this output.",
				)
				for n in task.names
			]
		elapsed = (time.monotonic() - started) * 1000
		with lock:
			for check in checks:
				if not check.elapsed_ms:
					check.elapsed_ms = elapsed
				run.results[check.name] = check
		for check in checks:
			done[check.name].set()

	for task in _TASKS:
		threading.Thread(target=worker, args=(task,), name=f"diagnose-{task.names[0]}", daemon=True).start()
	for name in CHECKS:
		done[name].wait(max(0.0, wall - time.monotonic()))

	with lock:
		results = dict(run.results)
	checks = []
	for name in CHECKS:
		check = results.get(name)
		if check is None:
			check = _unfinished(run, name, results)
		checks.append(check)
	return checks


def _blocked(run: _Run, requires: tuple[str, ...]) -> str | None:
	"""Why a task cannot run: a prerequisite failed or was skipped."""
	for name in requires:
		check = run.results.get(name)
		if check is not None and check.ok is False:
			return f"not reached: {name} failed"
	for name in requires:
		check = run.results.get(name)
		if check is not None and check.ok is None:
			# Carry the root reason down: "not reached: external_handshake failed", not a chain.
			return check.detail if check.detail.startswith("not reached:") else f"skipped: {name} was skipped"
	return None


def _unfinished(run: _Run, name: str, results: dict) -> Check:
	task = next(t for t in _TASKS if name in t.names)
	waiting = [r for r in task.requires(run) if r not in results]
	if waiting:
		return skipped(name, f"not reached: {waiting[0]} did not finish")
	return Check(
		name,
		False,
		f"timed out: no result within the {run.timeout:g} s budget",
		f"The {name} check got no answer within {run.timeout:g} s: something on its path accepts "
		"connections but never answers (a hung proxy, a DNS server that does not reply); "
		"see its detail and retry with a longer --timeout.",
		elapsed_ms=run.timeout * 1000,
	)


# ---- config ----------------------------------------------------------------------------------


def _check_config(run: _Run) -> list[Check]:
	config = run.config
	problems: list[str] = []
	port = config.socketio_port
	if not isinstance(port, int) or not 1 <= port <= 65535:
		problems.append(
			f"socketio_port {port!r} is not a port from 1 to 65535; set it in {COMMON_CONFIG_FILE}"
		)
	elif port == config.webserver_port:
		problems.append(
			f"socketio_port and webserver_port are both {port}: the realtime service and the web server "
			f"cannot share a port; set socketio_port in {COMMON_CONFIG_FILE} to the port Node listens on"
		)
	problems.extend(run.config_warnings)
	findings, audit_note = _audit(run.audit_paths, port)
	problems.extend(findings)
	source = config.sources.get("socketio_port")
	origin = f" (from {source.value})" if source is not None else ""
	notes = f"; {audit_note}" if audit_note else ""
	if problems:
		more = f" (+{len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
		return [failed(CONFIG, f"{problems[0]}{more}{notes}", f"Fix the config: {problems[0]}.")]
	return [passed(CONFIG, f"socketio_port {port}{origin}, site {config.site_name}, no warnings{notes}")]


def _audit(paths: Sequence, port: int) -> tuple[list[str], str]:
	"""Stale realtime ports in the given files, as problem texts; and a note when the audit could not run."""
	if not paths:
		return [], ""
	try:
		from raven_ai_agent.realtime.audit import audit_ports

		findings = audit_ports(list(paths), port)
	except Exception as e:  # the audit is advice; its failure must not hide the network checks
		return [], f"stale-port audit failed ({type(e).__name__}: {e})"
	return [
		f"{f.file}:{f.line} uses port {f.port} ({f.text.strip()!r}): {f.suggestion}" for f in findings
	], ""


# ---- handshakes ----------------------------------------------------------------------------


def _check_local(run: _Run) -> list[Check]:
	config = run.config
	http = run.http()
	try:
		handshake = probe.probe_handshake(http, config.get_internal_socketio_url(), run.path)
	finally:
		http.close()
	where = f"{config.get_internal_socketio_url()}{run.path}"
	if handshake.ok:
		return [passed(LOCAL_HANDSHAKE, f"{where}: {handshake.detail}")]
	return [failed(LOCAL_HANDSHAKE, f"{where}: {handshake.detail}", _local_hint(run, handshake))]


def _local_hint(run: _Run, handshake: probe.Handshake) -> str:
	config = run.config
	port, path = config.socketio_port, run.path
	kind = handshake.kind
	if kind == probe.REFUSED:
		return (
			f"Start the realtime service: nothing listens on 127.0.0.1:{port} (socketio_port in "
			f"{COMMON_CONFIG_FILE}); run `bench start` or `sudo supervisorctl start all`, and read its log "
			"if it exits (Node version, Redis refusing connections)."
		)
	if kind == probe.TIMEOUT:
		return (
			f"Port {port} accepts connections but does not answer within {run.timeout:g} s: the realtime "
			f"service is hung or another program holds the port; check `ss -ltnp | grep {port}` and restart "
			"the realtime service."
		)
	if kind == probe.FRAPPE_PAGE:
		return (
			f"Port {port} is Frappe's web server, not the realtime service: set socketio_port in "
			f"{COMMON_CONFIG_FILE} to the port Node listens on (not webserver_port {config.webserver_port})."
		)
	if kind == probe.NOT_FOUND and path != DEFAULT_SOCKETIO_PATH:
		return (
			f"The service on port {port} does not serve {path}: Frappe's realtime service answers on "
			f"{DEFAULT_SOCKETIO_PATH}; set the Socket.IO path back to {DEFAULT_SOCKETIO_PATH}."
		)
	if _other_version(kind, handshake.engine_error):
		return (
			f"The server on port {port} speaks another Socket.IO major version: {SOCKETIO_REQUIREMENT}. "
			"Run Frappe's own realtime service there (`bench setup requirements --node`, then restart it), "
			f"or set socketio_port in {COMMON_CONFIG_FILE} to the port it listens on."
		)
	if kind == probe.TLS_PORT:
		return (
			f"Port {port} speaks TLS (https), but Frappe's realtime service listens on plain http: it is a "
			f"TLS proxy or another service; set socketio_port in {COMMON_CONFIG_FILE} to the port Node "
			"listens on."
		)
	return (
		f"Port {port} does not answer like Frappe's realtime service ({handshake.detail}): check what "
		f"listens there (`ss -ltnp | grep {port}`) and socketio_port in {COMMON_CONFIG_FILE}."
	)


def _check_external(run: _Run) -> list[Check]:
	if not run.external:
		return [skipped(EXTERNAL_HANDSHAKE, "skipped: external checks are off")]
	base = run.config.get_external_socketio_url()
	http = run.http()
	try:
		handshake = probe.probe_handshake(http, base, run.path)
	finally:
		http.close()
	where = f"{base}{run.path}"
	if handshake.ok:
		return [passed(EXTERNAL_HANDSHAKE, f"{where}: {handshake.detail}")]
	hint = _external_hint(
		run,
		handshake.kind,
		handshake.detail,
		handshake.http.status,
		handshake.location,
		handshake.engine_error,
	)
	return [failed(EXTERNAL_HANDSHAKE, f"{where}: {handshake.detail}", hint)]


def _external_hint(
	run: _Run,
	kind: str,
	detail: str,
	status: int | None,
	location: str | None,
	engine_error: engineio.EngineError | None,
) -> str:
	"""The fix for a public URL that does not reach the realtime service."""
	config = run.config
	base = config.get_external_socketio_url()
	parts = urlsplit(base)
	netloc, host = parts.netloc, parts.hostname or ""
	port, web_port, path = config.socketio_port, config.webserver_port, run.path
	local = run.wait(LOCAL_HANDSHAKE) if kind == probe.PROXY_ERROR else None
	local_ok = local is not None and local.ok is True
	if kind == probe.FRAPPE_PAGE:
		return (
			f"Route {path} to the realtime service: {netloc} sends it to Frappe's web server. In the proxy, "
			f"send {path} to the socketio port 127.0.0.1:{port} (socketio_port, with the Upgrade headers) "
			f"and everything else to the web port {web_port}; with a tunnel (ngrok, cloudflared), point it at "
			f"that proxy instead of port {web_port}."
		)
	if kind == probe.PROXY_ERROR:
		cause = (
			f"the realtime service is up on 127.0.0.1:{port}, so the proxy's upstream port for {path} is "
			f"stale or wrong; point it at 127.0.0.1:{port} (socketio_port) and reload the proxy."
			if local_ok
			else f"the realtime service is down or the proxy's upstream port is wrong; start it and point the "
			f"upstream at 127.0.0.1:{port} (socketio_port)."
		)
		return f"The proxy at {netloc} gets no answer from its upstream for {path} (HTTP {status}): {cause}"
	if kind == probe.NOT_FOUND:
		return (
			f"{netloc} answers 404 for {path}: the proxy changes the path on the way or routes it elsewhere; "
			f"pass {path} unchanged to 127.0.0.1:{port} (nginx: `proxy_pass http://<upstream>;` without a "
			"URI part)."
		)
	if _other_version(kind, engine_error):
		return (
			f"The server answering {path} at {netloc} speaks another Socket.IO major version: "
			f"{SOCKETIO_REQUIREMENT}. Route {path} to Frappe's realtime service on 127.0.0.1:{port} "
			"(socketio_port) instead of an older Socket.IO server, and update its Node dependencies "
			"(`bench setup requirements --node`)."
		)
	if kind == probe.ENGINEIO_ERROR and engine_error is not None:
		if engine_error.code in (engineio.TRANSPORT_UNKNOWN, engineio.BAD_REQUEST):
			return (
				f"The realtime service behind {netloc} gets a mangled request ({engine_error.message}): the "
				f"proxy drops or rewrites the query string of {path}; pass the URI unchanged."
			)
		if engine_error.code == engineio.FORBIDDEN:
			return f"The realtime service behind {netloc} refuses the request (Forbidden): check its CORS/allowRequest settings."
	if kind == probe.REDIRECT:
		return _redirect_hint(base, location or "", path, port)
	if kind == probe.CERTIFICATE:
		return (
			f"The TLS certificate of {host} is not trusted (see the detail): browsers refuse it too unless "
			"every device trusts it, so the socket never opens. Install a certificate from a public CA for "
			f"{host} (certbot / Let's Encrypt, or the proxy's ACME resolver) and serve the full chain."
		)
	if kind == probe.PLAIN_PORT:
		return (
			f"{netloc} speaks plain http, not TLS: a scheme/port mismatch (https sent to an http port). Use "
			f"http://{netloc} in host_name / the base URL, or serve TLS on that port (nginx: `listen "
			f"{parts.port or 443} ssl;` with a certificate)."
		)
	if kind == probe.TLS_PORT:
		return (
			f"{netloc} speaks TLS (https), not plain http: a scheme/port mismatch (http sent to an https "
			f"port). Use https://{netloc} in host_name / the base URL."
		)
	if kind == probe.TLS:
		return (
			f"TLS with {host} fails ({detail}): install a certificate valid for {host} (e.g. with certbot) or "
			"use the scheme the site really serves in host_name / the base URL."
		)
	if kind == probe.DNS:
		return (
			f"{host} does not resolve from this server: fix its DNS record (on a local bench, add it to "
			"/etc/hosts), or correct host_name / the base URL."
		)
	if kind == probe.REFUSED:
		if config.deployment_type is DeploymentType.LOCAL:
			return (
				f"Nothing accepts connections at {netloc}: the browser connects there directly, so the realtime "
				f"service must listen on that host at port {port}; start it, or set host_name to a host that "
				"reaches this bench."
			)
		return (
			f"Nothing accepts connections at {netloc}: start the proxy or tunnel that serves the site, or "
			"correct host_name / the base URL."
		)
	if kind == probe.TIMEOUT:
		return (
			f"{netloc} accepts the connection but does not answer {path} in full within {run.timeout:g} s (timed "
			"out): a firewall, a hung proxy, or a proxy waiting on a dead upstream; check the route of "
			f"{path} to 127.0.0.1:{port}."
		)
	if kind == probe.RESET:
		return (
			f"{netloc} breaks off the connection (reset) instead of answering {path} in full: the upstream "
			"crashed or a proxy limit (body size, time) cut the answer; read the error logs of the proxy and "
			"of the realtime service."
		)
	if kind == probe.BAD_RESPONSE:
		return (
			f"{netloc} answers {path} with something that is not valid HTTP: another protocol listens there, "
			f"or a broken proxy; route {path} to 127.0.0.1:{port} (socketio_port)."
		)
	if kind == probe.NOT_ENGINEIO:
		return (
			f"{netloc} answers {path} with HTTP {status}, but not with an Engine.IO handshake: a default "
			"site, an SPA fallback (`try_files ... /index.html`), a login page or another app catches the "
			f"path before the realtime service; route {path} to 127.0.0.1:{port} (socketio_port) ahead of "
			"those rules, without rewriting the body."
		)
	if status in (401, 403):
		return (
			f"An access rule blocks {path} at {netloc} (HTTP {status}: basic auth, a firewall, Cloudflare "
			f"Access): let {path} through, as the site's pages are."
		)
	return (
		f"{netloc} does not answer {path} like Frappe's realtime service ({detail}): route {path} to "
		f"127.0.0.1:{port} (socketio_port)."
	)


def _redirect_hint(base: str, location: str, path: str, port: int) -> str:
	url = engineio.endpoint_url(base, path)
	here, there = urlsplit(base), urlsplit(urljoin(url, location))
	if there.hostname in (None, here.hostname) and here.scheme == "http" and there.scheme == "https":
		return (
			f"{here.netloc} redirects {path} to https: set the public URL to https (host_name "
			f"'https://{here.hostname}' or the base URL in Raven Realtime Settings) so the browser opens the "
			"socket there directly."
		)
	if probe.is_redirect_loop(url, location):
		return (
			f"{here.netloc} redirects {path} to itself (a redirect loop): a proxy rule (an https or "
			f"trailing-slash redirect, a login gate) matches its own target; route {path} to "
			f"127.0.0.1:{port} (socketio_port) without a redirect."
		)
	if there.hostname and there.hostname != here.hostname:
		return (
			f"The proxy at {here.netloc} redirects {path} elsewhere, to {there.netloc}: browsers do not carry "
			f"the socket and its cookies there. Proxy {path} straight to 127.0.0.1:{port} (socketio_port) and "
			"keep the Host header as the browser sent it (nginx: `proxy_set_header Host $host;`); if "
			f"{there.netloc} is the site's real address, set host_name / the base URL to "
			f"{there.scheme}://{there.netloc} instead."
		)
	return f"{here.netloc} redirects {path} to {location}: route {path} to the realtime service without a redirect."


def _other_version(kind: str, engine_error: engineio.EngineError | None) -> bool:
	"""A server of another Engine.IO protocol version answered: a v3 open packet, or error code 5."""
	return kind == probe.OTHER_VERSION or (
		engine_error is not None and engine_error.code == engineio.UNSUPPORTED_PROTOCOL_VERSION
	)


def _check_websocket(run: _Run) -> list[Check]:
	config = run.config
	base = config.get_external_socketio_url()
	upgrade = probe.probe_websocket(
		base, run.path, config.get_external_http_base(), run.deadline, run.timeout
	)
	where = f"{base}{run.path}"
	if upgrade.ok:
		return [passed(EXTERNAL_WEBSOCKET, f"{where}: {upgrade.detail}")]
	netloc = urlsplit(base).netloc
	if upgrade.kind == probe.NOT_UPGRADED:
		code3 = upgrade.engine_error is not None and upgrade.engine_error.code == engineio.BAD_REQUEST
		why = (
			"the realtime service got the request without its Upgrade/Connection headers"
			if code3
			else f"the upgrade is answered with HTTP {upgrade.status}"
		)
		hint = (
			f"The proxy or tunnel at {netloc} does not pass the WebSocket upgrade ({why}): for {run.path} set "
			"`proxy_http_version 1.1;`, `proxy_set_header Upgrade $http_upgrade;` and `proxy_set_header "
			'Connection "upgrade";` (never HTTP/2 to the upstream; on Cloudflare turn WebSockets on). '
			"Until then browsers stay on slower long-polling."
		)
	elif upgrade.kind == probe.BAD_ACCEPT:
		hint = (
			f"Something between the browser and the realtime service at {netloc} answers the upgrade itself "
			"with a wrong Sec-WebSocket-Accept: pass WebSocket traffic through to the realtime service unchanged."
		)
	else:
		hint = _external_hint(
			run, upgrade.kind, upgrade.detail, upgrade.status, upgrade.location, upgrade.engine_error
		)
	return [failed(EXTERNAL_WEBSOCKET, f"{where}: {upgrade.detail}", hint)]


# ---- one session: namespace and stickiness --------------------------------------------------

# Kinds of CONNECT_ERROR, matched loosely: Frappe's texts differ between versions.
_ORIGIN, _NAMESPACE, _UNAUTHORIZED, _NO_AUTH, _OTHER = (
	"origin",
	"namespace",
	"unauthorized",
	"no_auth",
	"other",
)


def classify_connect_error(message: str) -> str:
	"""What a CONNECT_ERROR text means, by case-insensitive substring."""
	text = message.lower()
	if "namespace" in text:
		return _NAMESPACE
	if "origin" in text:
		return _ORIGIN
	if "unauthorized" in text or "unauthorised" in text:
		return _UNAUTHORIZED
	if "no cookie" in text or "authentication method" in text or "not authenticated" in text:
		return _NO_AUTH
	return _OTHER


def _connect_verdict(run: _Run, name: str, result: engineio.ConnectResult, with_session: bool) -> Check:
	"""Judge a namespace CONNECT: any CONNECT_ERROR other than 'no credentials' fails it."""
	namespace = run.config.namespace
	serious = [e for e in result.errors if classify_connect_error(e) != _NO_AUTH]
	if serious:
		message = serious[0]
		then = " (then connected)" if result.connected else ""
		others = (
			f"; also {', '.join(repr(e) for e in result.errors if e != message)}"
			if len(result.errors) > 1
			else ""
		)
		detail = f"CONNECT_ERROR for {namespace}: {message!r}{then}{others}"
		return failed(name, detail, _connect_hint(run, message))
	if result.errors:
		return passed(
			name,
			f"routing and namespace {namespace} are fine; authentication not tested: {result.errors[0]!r} "
			"(no session cookie reached the realtime service)",
		)
	who = (
		"with the given session"
		if with_session
		else "as Guest (Origin, namespace and the auth callback work)"
	)
	return passed(name, f"connected to {namespace} {who}")


def _connect_hint(run: _Run, message: str) -> str:
	config = run.config
	kind = classify_connect_error(message)
	origin = config.get_external_http_base()
	if kind == _ORIGIN:
		return (
			"A proxy or tunnel rewrites the Host header (or sends no Origin), so the realtime service rejects "
			"the connection as 'Invalid origin': keep Host as the browser sent it (ngrok: no "
			"--host-header=rewrite; Traefik/cloudflared: no Host override) and set `proxy_set_header Origin "
			"$scheme://$http_host;` for the socket path, as bench's nginx does."
		)
	if kind == _NAMESPACE:
		return (
			f"The realtime service derives a site other than {config.site_name} from the request ('Invalid "
			f"namespace'): in the proxy set `proxy_set_header {SITE_NAME_HEADER} {config.site_name};` for "
			f"{run.path}, or make host_name / the public host match the site name."
		)
	if kind == _UNAUTHORIZED:
		return (
			f"The realtime service cannot call back into the web server to check sessions ({message}): it "
			f"calls {origin}/api/method/frappe.realtime.get_user_info from the bench host, so make that URL "
			"reachable from there (a hosts entry against hairpin DNS, server_ip in common_site_config.json, a "
			"trusted certificate) and turn developer_mode off behind a proxy (it sends the callback to "
			"webserver_port)."
		)
	return f"The realtime service refused the connection to {config.namespace}: {message}."


def _check_session(run: _Run) -> list[Check]:
	base, headers = run.route(run.sid)
	http = run.http()
	try:
		session = probe.probe_session(
			http, base, run.path, run.config.namespace, headers, extra_requests=STICKY_EXTRA_REQUESTS
		)
	finally:
		http.close()
	expected = 1 + STICKY_EXTRA_REQUESTS
	where = f"{base}{run.path}"

	if session.lost is not None:
		sticky = failed(
			STICKY_SESSION,
			f"{where}: request {session.requests + 1} of one session got 'Session ID unknown' after "
			f"{session.requests} answered ({session.lost.step}): another realtime node answered",
			_sticky_hint(run),
		)
		namespace = skipped(NAMESPACE, "not reached: the session was lost (see sticky_session)")
		return [namespace, sticky]

	failure = session.failure
	if failure is not None and session.requests < expected:
		# The session broke before the namespace step: a route problem, judged like the public URL.
		hint = _external_hint(run, failure.kind, failure.detail, _status(failure), None, failure.engine_error)
		if failure.step == "handshake":
			detail = f"{where}: the handshake with the browser's Origin and Cookie failed: {failure.detail}"
			return [failed(NAMESPACE, detail, hint), skipped(STICKY_SESSION, "not reached: namespace failed")]
		detail = f"{where}: request {session.requests + 1} of one session ({failure.step}) failed: {failure.detail}"
		return [
			skipped(NAMESPACE, "not reached: sticky_session failed"),
			failed(STICKY_SESSION, detail, hint),
		]

	sticky = passed(STICKY_SESSION, f"{where}: {session.requests} requests on one session, all answered")
	if failure is not None:
		if failure.kind == probe.TIMEOUT and failure.step == "connect reply":
			origin = run.config.get_external_http_base()
			detail = f"{where}: timed out waiting for the CONNECT reply of {run.config.namespace}"
			hint = (
				f"The realtime service never answers the namespace CONNECT: its session check calls "
				f"{origin}/api/method/frappe.realtime.get_user_info and that call hangs; make the URL answer "
				"from the bench host (firewall, hairpin DNS, server_ip)."
			)
			return [failed(NAMESPACE, detail, hint), sticky]
		hint = _external_hint(run, failure.kind, failure.detail, _status(failure), None, failure.engine_error)
		return [failed(NAMESPACE, f"{where}: {failure.step} failed: {failure.detail}", hint), sticky]
	return [_connect_verdict(run, NAMESPACE, session.connect, run.sid is not None), sticky]


def _status(error: probe.SessionError) -> int | None:
	return error.result.status if error.result is not None else None


def _sticky_hint(run: _Run) -> str:
	return (
		"Requests of one Socket.IO session reach different realtime nodes ('Session ID unknown'): make the "
		f"balancer in front of {run.path} sticky (`raven-realtime render nginx-vps --upstream HOST:PORT ...` "
		"writes a sticky nginx upstream, `render traefik` a sticky cookie) or run a single realtime node."
	)


# ---- Redis and delivery ------------------------------------------------------------------------


def _check_redis(run: _Run) -> list[Check]:
	config = run.config
	if not config.redis_url:
		return [skipped(REDIS_BRIDGE, "skipped: no redis_queue (or redis_socketio) in the config")]
	url = probe.safe_redis_url(config.redis_url)
	message = probe.frappe_event(
		PROBE_EVENT, {"probe": "raven_ai_agent diagnose"}, config.site_name, PROBE_ROOM
	)
	outcome = probe.redis_publish(config.redis_url, EVENTS_CHANNEL, message, run.deadline, run.timeout)
	if outcome.error:
		return [
			failed(
				REDIS_BRIDGE,
				f"Redis at {url} unreachable ({outcome.error}: {outcome.error_text})",
				f"Start Redis at {url} or fix redis_queue in {COMMON_CONFIG_FILE}: while it is unreachable "
				"Frappe drops every realtime event without an error.",
			)
		]
	if outcome.subscribers == 0:
		return [
			failed(
				REDIS_BRIDGE,
				f"PUBLISH on '{EVENTS_CHANNEL}' at {url} reached 0 subscribers",
				f"No realtime service listens on {url}: the web workers publish there, so point the realtime "
				f"service at the same Redis (redis_queue in {COMMON_CONFIG_FILE}; FRAPPE_REDIS_QUEUE overrides it "
				"for Node) and restart it.",
			)
		]
	return [
		passed(REDIS_BRIDGE, f"{outcome.subscribers} realtime subscriber(s) on '{EVENTS_CHANNEL}' at {url}")
	]


def _check_end_to_end(run: _Run) -> list[Check]:
	config = run.config
	if not run.sid:
		return [skipped(END_TO_END, "skipped: needs a logged-in session (--sid or RAVEN_REALTIME_SID)")]
	if run.publish is None and not config.redis_url:
		return [skipped(END_TO_END, "skipped: no way to publish (no Redis URL in the config)")]
	base, headers = run.route(run.sid)
	http = run.http()
	try:
		user = run.user
		if not user:
			web, web_headers = _web_route(run)
			user, detail = probe.fetch_user(http, web, run.sid, web_headers)
			if user is None:
				return [
					failed(
						END_TO_END,
						f"could not learn whose session this is: {detail}",
						f"Check that {web}/api/method/frappe.realtime.get_user_info answers, or pass the user.",
					)
				]
		if user == "Guest":
			return [
				failed(
					END_TO_END,
					"the session is not logged in: the web server answers Guest for it",
					"Log in and pass the sid cookie of that browser session (it changes on every login).",
				)
			]
		token = secrets.token_hex(8)
		message = {"token": token, "probe": "raven_ai_agent end_to_end"}
		delivery = probe.probe_delivery(
			http,
			base,
			run.path,
			config.namespace,
			headers,
			PROBE_EVENT,
			token,
			lambda: _publish(run, message, user),
		)
	finally:
		http.close()
	return [_delivery_verdict(run, user, delivery)]


def _web_route(run: _Run) -> tuple[str, dict]:
	"""Where to ask the web server about a session: the public site, or the local web port."""
	if run.external:
		return run.config.get_external_http_base(), {}
	return f"http://127.0.0.1:{run.config.webserver_port}", {SITE_NAME_HEADER: run.config.site_name}


def _publish(run: _Run, message: dict, user: str) -> bool:
	if run.publish is not None:
		return bool(run.publish(PROBE_EVENT, message, user))
	data = probe.frappe_event(PROBE_EVENT, message, run.config.site_name, user_room(user))
	outcome = probe.redis_publish(run.config.redis_url, EVENTS_CHANNEL, data, run.deadline, run.timeout)
	if outcome.error:
		raise ConnectionError(f"Redis {outcome.error}: {outcome.error_text}")
	return bool(outcome.subscribers)


def _delivery_verdict(run: _Run, user: str, delivery: probe.Delivery) -> Check:
	room = user_room(user)
	if delivery.connect is not None and not delivery.connect.ok and delivery.failure is None:
		return _connect_verdict(run, END_TO_END, delivery.connect, True)
	if delivery.published is False:
		why = delivery.publish_error or "no realtime service received it"
		return failed(
			END_TO_END,
			f"publishing the probe event to {room} failed: {why}",
			"Publishing fails: check the Redis the site publishes to (redis_queue) and that the realtime "
			"service subscribes to it.",
		)
	failure = delivery.failure
	if failure is not None:
		if failure.step == "event" and failure.kind == probe.TIMEOUT:
			return failed(
				END_TO_END,
				f"published to {room}, nothing arrived within the {run.timeout:g} s budget",
				f"Events are published but never delivered: the realtime service reads another Redis than the "
				f"site publishes to, or emits to a namespace other than {run.config.namespace}; compare "
				f"redis_queue for Node and the web workers.",
			)
		return failed(
			END_TO_END,
			f"the session broke ({failure.step}): {failure.detail}",
			_external_hint(run, failure.kind, failure.detail, _status(failure), None, failure.engine_error),
		)
	if delivery.latency_ms is None:
		return failed(END_TO_END, "no result", "Retry the diagnosis with a longer --timeout.")
	return passed(END_TO_END, f"event delivered to {room} in {delivery.latency_ms:.0f} ms")


def _end_to_end_requires(run: _Run) -> tuple[str, ...]:
	if not run.sid:
		return ()  # skipped at once, whatever the other checks find
	return (NAMESPACE, STICKY_SESSION) + ((REDIS_BRIDGE,) if run.publish is None else ())


_TASKS = (
	_Task((CONFIG,), _check_config, lambda run: ()),
	_Task((LOCAL_HANDSHAKE,), _check_local, lambda run: ()),
	_Task((EXTERNAL_HANDSHAKE,), _check_external, lambda run: ()),
	_Task((EXTERNAL_WEBSOCKET,), _check_websocket, lambda run: (EXTERNAL_HANDSHAKE,)),
	_Task((NAMESPACE, STICKY_SESSION), _check_session, lambda run: (run.route_check,)),
	_Task((REDIS_BRIDGE,), _check_redis, lambda run: ()),
	_Task(
		(END_TO_END,),
		_check_end_to_end,
		lambda run: _end_to_end_requires(run),
	),
)
