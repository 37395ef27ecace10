"""Diagnose the realtime path of one site: run the probes, judge them, name the root cause.

The checks run from upstream (the config, the realtime port on this host) to downstream
(the public URL, the namespace, delivery of a real event), concurrently where they do not
depend on each other, all within one deadline. A check whose prerequisite failed is not
run: it reports `ok: None` with "not reached: <check> failed", so the one hint of the result
(the hint of the most upstream failing check) names the cause, not its symptoms.

This module orchestrates and states facts (each check's `detail`); the probes live in
probe.py, handshake.py, upgrade.py, session.py and bridge.py, and every hint sentence in
hints.py.

Choices a reader should know:
- "Not reached" and "skipped" are `ok: None`, never a failure: `ok` says whether every check
  that ran passed, and only real findings carry hints.
- Without a session the namespace check sends Frappe's Guest sid (`sid=Guest`), so the
  realtime service runs its whole authentication, the call back to the web server included.
- `external=False` sends the session checks straight to the realtime port with the headers
  bench's nginx would add (Host and Origin of the public site, X-Frappe-Site-Name).
- Whatever the network does, the result comes within the timeout plus GRACE_SECONDS: every
  request gets what is left of one deadline, checks still running then count as timed out,
  and the connections they hold are cut, so a server that drips bytes sees them hang up.

The session id given for the end-to-end check never appears in the result. No frappe import.
"""

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from raven_ai_agent.realtime import bridge, engineio, handshake, hints, probe, session, upgrade
from raven_ai_agent.realtime.constants import (
	DEFAULT_PROBE_TIMEOUT,
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
	or the exit of the process. At the wall the deadline is cut: a probe still reading (a
	server that drips a byte at a time never trips a read timeout) loses its connection.
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
				failed(n, f"the check crashed: {text}", hints.crashed_hint(n, text)) for n in task.names
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
	run.deadline.cut()  # after the snapshot: what a cut probe reports next is not part of the result
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
		hints.unfinished_hint(name, run.timeout),
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
		return [failed(CONFIG, f"{problems[0]}{more}{notes}", hints.config_hint(problems[0]))]
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


# ---- handshakes and the upgrade ------------------------------------------------------------------


def _check_local(run: _Run) -> list[Check]:
	config = run.config
	http = run.http()
	try:
		answer = handshake.probe_handshake(http, config.get_internal_socketio_url(), run.path)
	finally:
		http.close()
	where = f"{config.get_internal_socketio_url()}{run.path}"
	if answer.ok:
		return [passed(LOCAL_HANDSHAKE, f"{where}: {answer.detail}")]
	return [
		failed(LOCAL_HANDSHAKE, f"{where}: {answer.detail}", hints.local_hint(config, answer, run.timeout))
	]


def _check_external(run: _Run) -> list[Check]:
	if not run.external:
		return [skipped(EXTERNAL_HANDSHAKE, "skipped: external checks are off")]
	base = run.config.get_external_socketio_url()
	http = run.http()
	try:
		answer = handshake.probe_handshake(http, base, run.path)
	finally:
		http.close()
	where = f"{base}{run.path}"
	if answer.ok:
		return [passed(EXTERNAL_HANDSHAKE, f"{where}: {answer.detail}")]
	hint = _external_hint(
		run, answer.kind, answer.detail, answer.http.status, answer.location, answer.engine_error
	)
	return [failed(EXTERNAL_HANDSHAKE, f"{where}: {answer.detail}", hint)]


def _external_hint(
	run: _Run,
	kind: str,
	detail: str,
	status: int | None,
	location: str | None,
	engine_error: engineio.EngineError | None,
) -> str:
	"""hints.external_hint, told whether the realtime port answers when a proxy's upstream failed."""
	local = run.wait(LOCAL_HANDSHAKE) if kind == handshake.PROXY_ERROR else None
	return hints.external_hint(
		run.config,
		kind,
		detail,
		timeout=run.timeout,
		status=status,
		location=location,
		engine_error=engine_error,
		local_ok=local is not None and local.ok is True,
	)


def _check_websocket(run: _Run) -> list[Check]:
	config = run.config
	base = config.get_external_socketio_url()
	answer = upgrade.probe_websocket(
		base, run.path, config.get_external_http_base(), run.deadline, run.timeout
	)
	where = f"{base}{run.path}"
	if answer.ok:
		return [passed(EXTERNAL_WEBSOCKET, f"{where}: {answer.detail}")]
	return [
		failed(
			EXTERNAL_WEBSOCKET, f"{where}: {answer.detail}", hints.upgrade_hint(config, answer, run.timeout)
		)
	]


# ---- one session: namespace and stickiness --------------------------------------------------


def _connect_verdict(run: _Run, name: str, result: engineio.ConnectResult, with_session: bool) -> Check:
	"""Judge a namespace CONNECT: any CONNECT_ERROR other than 'no credentials' fails it."""
	namespace = run.config.namespace
	serious = [e for e in result.errors if hints.classify_connect_error(e) != hints.CONNECT_NO_AUTH]
	if serious:
		message = serious[0]
		then = " (then connected)" if result.connected else ""
		others = (
			f"; also {', '.join(repr(e) for e in result.errors if e != message)}"
			if len(result.errors) > 1
			else ""
		)
		detail = f"CONNECT_ERROR for {namespace}: {message!r}{then}{others}"
		return failed(name, detail, hints.connect_hint(run.config, message))
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


def _check_session(run: _Run) -> list[Check]:
	base, headers = run.route(run.sid)
	http = run.http()
	try:
		outcome = session.probe_session(
			http, base, run.path, run.config.namespace, headers, extra_requests=STICKY_EXTRA_REQUESTS
		)
	finally:
		http.close()
	expected = 1 + STICKY_EXTRA_REQUESTS
	where = f"{base}{run.path}"

	if outcome.lost is not None:
		sticky = failed(
			STICKY_SESSION,
			f"{where}: request {outcome.requests + 1} of one session got 'Session ID unknown' after "
			f"{outcome.requests} answered ({outcome.lost.step}): another realtime node answered",
			hints.sticky_hint(run.path),
		)
		namespace = skipped(NAMESPACE, "not reached: the session was lost (see sticky_session)")
		return [namespace, sticky]

	failure = outcome.failure
	if failure is not None and outcome.requests < expected:
		# The session broke before the namespace step: a route problem, judged like the public URL.
		hint = _session_hint(run, failure)
		if failure.step == "handshake":
			detail = f"{where}: the handshake with the browser's Origin and Cookie failed: {failure.detail}"
			return [failed(NAMESPACE, detail, hint), skipped(STICKY_SESSION, "not reached: namespace failed")]
		detail = f"{where}: request {outcome.requests + 1} of one session ({failure.step}) failed: {failure.detail}"
		return [
			skipped(NAMESPACE, "not reached: sticky_session failed"),
			failed(STICKY_SESSION, detail, hint),
		]

	sticky = passed(STICKY_SESSION, f"{where}: {outcome.requests} requests on one session, all answered")
	if failure is not None:
		if failure.kind == probe.TIMEOUT and failure.step == "connect reply":
			detail = f"{where}: timed out waiting for the CONNECT reply of {run.config.namespace}"
			return [failed(NAMESPACE, detail, hints.connect_reply_hint(run.config)), sticky]
		hint = _session_hint(run, failure)
		return [failed(NAMESPACE, f"{where}: {failure.step} failed: {failure.detail}", hint), sticky]
	verdict = _connect_verdict(run, NAMESPACE, outcome.connect, run.sid is not None)
	if verdict.ok and _same_origin_route(run):
		verdict = _check_without_origin(run, base, headers) or verdict
	return [verdict, sticky]


def _same_origin_route(run: _Run) -> bool:
	"""Browsers reach proxied deployments on the page's own origin: their polling GETs carry no Origin."""
	return run.external and run.config.deployment_type is not DeploymentType.LOCAL


def _check_without_origin(run: _Run, base: str, headers: dict) -> Check | None:
	"""A failing NAMESPACE check when only an Origin-less session (a same-origin polling
	browser) is refused as 'Invalid origin'; None when it connects, or cannot tell."""
	http = run.http()
	try:
		bare = {k: v for k, v in headers.items() if k != "Origin"}
		outcome = session.probe_session(http, base, run.path, run.config.namespace, bare, extra_requests=0)
	finally:
		http.close()
	result = outcome.connect
	if result is None or not any(
		hints.classify_connect_error(e) == hints.CONNECT_ORIGIN for e in result.errors
	):
		return None
	detail = (
		f"{base}{run.path}: with the page's Origin {run.config.namespace} connects, but a polling session "
		"without Origin (what a browser sends on the same origin) gets 'Invalid origin'"
	)
	return failed(NAMESPACE, detail, hints.missing_origin_hint(run.config))


def _session_hint(run: _Run, failure: session.SessionError) -> str:
	"""A failed session step, judged like an answer of the public URL."""
	return _external_hint(run, failure.kind, failure.detail, failure.status, None, failure.engine_error)


# ---- Redis and delivery ------------------------------------------------------------------------


def _check_redis(run: _Run) -> list[Check]:
	config = run.config
	if not config.redis_url:
		return [skipped(REDIS_BRIDGE, "skipped: no redis_queue (or redis_socketio) in the config")]
	url = bridge.safe_redis_url(config.redis_url)
	message = bridge.frappe_event(
		PROBE_EVENT, {"probe": "raven_ai_agent diagnose"}, config.site_name, PROBE_ROOM
	)
	outcome = bridge.redis_publish(config.redis_url, EVENTS_CHANNEL, message, run.deadline, run.timeout)
	if outcome.error:
		detail = f"Redis at {url} unreachable ({outcome.error}: {outcome.error_text})"
		return [failed(REDIS_BRIDGE, detail, hints.redis_unreachable_hint(url))]
	if outcome.subscribers == 0:
		detail = f"PUBLISH on '{EVENTS_CHANNEL}' at {url} reached 0 subscribers"
		return [failed(REDIS_BRIDGE, detail, hints.redis_unheard_hint(url))]
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
			user, detail = session.fetch_user(http, web, run.sid, web_headers)
			if user is None:
				detail = f"could not learn whose session this is: {detail}"
				return [failed(END_TO_END, detail, hints.unknown_user_hint(web))]
		if user == "Guest":
			detail = "the session is not logged in: the web server answers Guest for it"
			return [failed(END_TO_END, detail, hints.GUEST_SESSION_HINT)]
		token = secrets.token_hex(8)
		message = {"token": token, "probe": "raven_ai_agent end_to_end"}
		delivery = session.probe_delivery(
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
	data = bridge.frappe_event(PROBE_EVENT, message, run.config.site_name, user_room(user))
	outcome = bridge.redis_publish(run.config.redis_url, EVENTS_CHANNEL, data, run.deadline, run.timeout)
	if outcome.error:
		raise ConnectionError(f"Redis {outcome.error}: {outcome.error_text}")
	return bool(outcome.subscribers)


def _delivery_verdict(run: _Run, user: str, delivery: session.Delivery) -> Check:
	room = user_room(user)
	if delivery.connect is not None and not delivery.connect.ok and delivery.failure is None:
		return _connect_verdict(run, END_TO_END, delivery.connect, True)
	if delivery.published is False:
		why = delivery.publish_error or "no realtime service received it"
		detail = f"publishing the probe event to {room} failed: {why}"
		return failed(END_TO_END, detail, hints.PUBLISH_FAILED_HINT)
	failure = delivery.failure
	if failure is not None:
		if failure.step == "event" and failure.kind == probe.TIMEOUT:
			detail = f"published to {room}, nothing arrived within the {run.timeout:g} s budget"
			return failed(END_TO_END, detail, hints.undelivered_hint(run.config.namespace))
		detail = f"the session broke ({failure.step}): {failure.detail}"
		return failed(END_TO_END, detail, _session_hint(run, failure))
	if delivery.latency_ms is None:
		return failed(END_TO_END, "no result", hints.NO_RESULT_HINT)
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
