"""The session checks: one polling session with the browser's Origin and Cookie, several
requests on its sid (`sticky_session`), then the namespace CONNECT (`namespace`)."""

from urllib.parse import urlsplit

from raven_ai_agent.realtime import engineio, hints, probe
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.checks import (
	NAMESPACE,
	STICKY_SESSION,
	WEB_SITE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)
from raven_ai_agent.realtime.checks.handshakes import external_hint
from raven_ai_agent.realtime.constants import SITE_NAME_HEADER
from raven_ai_agent.realtime.hints import docker
from raven_ai_agent.realtime.proxyaudit import fixed_site_headers
from raven_ai_agent.realtime.resolve import DeploymentType

# Requests on one session after the handshake (POSTs and the GET of the CONNECT reply).
STICKY_EXTRA_REQUESTS = 2


def _connect_hint(run: Run, message: str) -> str:
	"""hints.connect_hint, in frappe_docker's terms where the site looks like its split layout."""
	kind = hints.classify_connect_error(message)
	if run.docker and kind in (hints.CONNECT_NAMESPACE, hints.CONNECT_ORIGIN):
		return docker.site_header_hint(run.config)
	if run.docker and kind == hints.CONNECT_UNAUTHORIZED and not hints.is_certificate_error(message):
		return docker.callback_hint(run.config, message)
	return hints.connect_hint(run.config, message)


def connect_verdict(run: Run, name: str, result: engineio.ConnectResult, with_session: bool) -> Check:
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
		return failed(name, detail, _connect_hint(run, message))
	if result.errors and with_session:
		# A session was given and never reached the service: an authentication failure.
		detail = (
			f"CONNECT_ERROR for {namespace}: {result.errors[0]!r}: the given session's cookie did not arrive"
		)
		return failed(name, detail, hints.cookie_dropped_hint(run.config, None, result.errors[0]))
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


def check_session(run: Run) -> list[Check]:
	base, headers = run.route(run.sid)
	http = run.http()
	try:
		outcome = polling.probe_session(
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
		hint = session_hint(run, failure)
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
		hint = session_hint(run, failure)
		return [failed(NAMESPACE, f"{where}: {failure.step} failed: {failure.detail}", hint), sticky]
	if run.other_site_answers():
		return [
			skipped(NAMESPACE, f"not reached: {WEB_SITE} failed (another site checks the sessions)"),
			sticky,
		]
	verdict = connect_verdict(run, NAMESPACE, outcome.connect, run.sid is not None)
	if verdict.ok and run.sid:
		verdict = _as_whom(run, verdict)
	if verdict.ok and _same_origin_route(run):
		verdict = _check_without_origin(run, base, headers) or verdict
	if verdict.ok is False and run.external and _only_no_auth(outcome.connect):
		verdict.hint = hints.cookie_dropped_hint(
			run.config, _cookie_reaches_the_port(run), outcome.connect.errors[0]
		)
	elif verdict.ok is False and _site_errors(outcome.connect):
		evidence = fixed_site_headers(run.audit_paths, run.config.host, run.config.site_name)
		if evidence:
			verdict.hint = hints.fixed_site_header_hint(evidence[0])
	return [verdict, sticky]


def _site_errors(result: engineio.ConnectResult | None) -> bool:
	"""'Invalid origin' or 'Invalid namespace': the site the realtime service derived is not ours."""
	kinds = (hints.CONNECT_ORIGIN, hints.CONNECT_NAMESPACE)
	return bool(result) and any(hints.classify_connect_error(e) in kinds for e in result.errors)


def _as_whom(run: Run, verdict: Check) -> Check:
	"""Which user the session check answers for the given session (what the realtime service
	took the socket for): a session that comes back Guest is not a pass, and neither is one
	the site's own session store does not know (another site's, accepted by its web server)."""
	if run.session_owner == "":
		detail = (
			f"the given session is not one of {run.config.site_name}: its own session store does not "
			"know it (another site's session, or one that ended)"
		)
		return failed(NAMESPACE, detail, hints.foreign_session_hint(run.config))
	web, headers = run.web_route()
	http = run.http()
	try:
		info, detail = run.fetch_user(http, web, headers)
	finally:
		http.close()
	if info is None:
		verdict.detail += f" (whose session it is not known: {detail})"
		return verdict
	user = info[0]
	if user == "Guest":
		detail = (
			f"connected to {run.config.namespace}, but as Guest: the session check at {web} does not know "
			"the given session"
		)
		known = _user_on_the_web_port(run) if run.external else None
		if known and known != "Guest":
			# The bench's own web server knows it: the public path loses the session on the way.
			detail += f", while the web server on the bench knows it as {known}"
			return failed(NAMESPACE, detail, hints.guest_socket_hint(run.config, known))
		return failed(NAMESPACE, detail, hints.GUEST_SESSION_HINT)
	verdict.detail = f"connected to {run.config.namespace} as {user} (the session check answers {user})"
	return verdict


def _user_on_the_web_port(run: Run) -> str | None:
	"""Whose session the bench's own web port says it is (the site header a proxy adds)."""
	http = run.http()
	try:
		web = f"http://127.0.0.1:{run.config.webserver_port}"
		info, _ = run.fetch_user(http, web, {SITE_NAME_HEADER: run.config.site_name})
	finally:
		http.close()
	return info[0] if info else None


def _only_no_auth(result: engineio.ConnectResult | None) -> bool:
	return bool(result and result.errors) and all(
		hints.classify_connect_error(e) == hints.CONNECT_NO_AUTH for e in result.errors
	)


def _cookie_reaches_the_port(run: Run) -> bool | None:
	"""Whether the same session, sent straight to the realtime port with the headers a proxy
	adds, is authenticated: then the hop in between drops the cookie. None: cannot tell."""
	base, headers = run.config.get_internal_socketio_url(), dict(run.route(run.sid)[1])
	headers["Host"] = urlsplit(run.config.get_external_http_base()).netloc
	http = run.http()
	try:
		outcome = polling.probe_session(http, base, run.path, run.config.namespace, headers, extra_requests=0)
	finally:
		http.close()
	if outcome.connect is None:
		return None
	return outcome.connect.ok


def _same_origin_route(run: Run) -> bool:
	"""Browsers reach proxied deployments on the page's own origin: their polling GETs carry no Origin."""
	return run.external and run.config.deployment_type is not DeploymentType.LOCAL


def _check_without_origin(run: Run, base: str, headers: dict) -> Check | None:
	"""A failing NAMESPACE check when only an Origin-less session (a same-origin polling
	browser) is refused as 'Invalid origin'; None when it connects, or cannot tell."""
	http = run.http()
	try:
		bare = {k: v for k, v in headers.items() if k != "Origin"}
		outcome = polling.probe_session(http, base, run.path, run.config.namespace, bare, extra_requests=0)
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


def session_hint(run: Run, failure: polling.SessionError) -> str:
	"""A failed session step, judged like an answer of the public URL."""
	return external_hint(run, failure.kind, failure.detail, failure.status, None, failure.engine_error)
