"""The route checks: the Engine.IO handshake on the realtime port and on the public URL, and the
WebSocket upgrade on the public URL."""

from raven_ai_agent.realtime import engineio, handshake, hints, probe, upgrade
from raven_ai_agent.realtime.checks import (
	END_TO_END,
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	LOCAL_HANDSHAKE,
	NAMESPACE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)
from raven_ai_agent.realtime.hints import docker


def check_local(run: Run) -> list[Check]:
	config = run.config
	http = run.http()
	try:
		answer = handshake.probe_handshake(http, config.get_internal_socketio_url(), run.path)
	finally:
		http.close()
	where = f"{config.get_internal_socketio_url()}{run.path}"
	run.local_kind = answer.kind
	if answer.ok:
		return [passed(LOCAL_HANDSHAKE, f"{where}: {answer.detail}")]
	if run.docker and answer.kind in _UNREACHABLE:
		hint = docker.local_hint(config, answer.kind, run.runtime, run.docker, run.address_given)
	else:
		hint = hints.local_hint(config, answer, run.timeout)
		if run.runtime and answer.kind == probe.REFUSED and not config.socketio_uds:
			hint += " " + docker.in_a_container(run.runtime)
	return [failed(LOCAL_HANDSHAKE, f"{where}: {answer.detail}", hint)]


# What a realtime address that is not there answers: nothing listens, no such name, no route.
_UNREACHABLE = (probe.REFUSED, probe.DNS, probe.NETWORK, probe.TIMEOUT)


def not_on_this_host(run: Run, results: dict) -> Check | None:
	"""local_handshake judged again once every check is done: this host's own realtime port
	(127.0.0.1:socketio_port, no address given) refuses, while the public path reaches this
	site's realtime service (its namespace accepted the session; delivered when end_to_end ran).
	Then the service runs elsewhere, a healthy split layout (frappe_docker, Kubernetes): not a
	failure, and the note says how to point the diagnosis at it. None: the verdict stands."""
	local = results.get(LOCAL_HANDSHAKE)
	if (
		local is None
		or local.ok is not False
		or run.local_kind != probe.REFUSED
		or run.address_given
		or run.config.socketio_uds
		or not run.external
	):
		return None
	namespace, delivery = results.get(NAMESPACE), results.get(END_TO_END)
	if namespace is None or namespace.ok is not True or (delivery is not None and delivery.ok is False):
		return None
	delivered = delivery is not None and delivery.ok is True
	note = docker.not_on_this_host(run.config, run.runtime, run.docker, delivered)
	first = local.detail.split(" (checked once", 1)[0]
	return Check(LOCAL_HANDSHAKE, None, f"{first}. {note}", note, local.elapsed_ms)


def check_external(run: Run) -> list[Check]:
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
	hint = external_hint(
		run, answer.kind, answer.detail, answer.http.status, answer.location, answer.engine_error
	)
	return [failed(EXTERNAL_HANDSHAKE, f"{where}: {answer.detail}", hint)]


def external_hint(
	run: Run,
	kind: str,
	detail: str,
	status: int | None,
	location: str | None,
	engine_error: engineio.EngineError | None,
) -> str:
	"""hints.external_hint, told whether the realtime port answers when a proxy's upstream failed."""
	local = run.wait(LOCAL_HANDSHAKE) if kind == handshake.PROXY_ERROR else None
	local_ok = local is not None and local.ok is True
	if run.docker and kind == handshake.PROXY_ERROR:
		return docker.proxy_error_hint(run.config, status, local_ok, run.address_given)
	if run.docker and kind == handshake.FRAPPE_PAGE:
		return docker.backend_answers_hint(run.config)
	return hints.external_hint(
		run.config,
		kind,
		detail,
		timeout=run.timeout,
		status=status,
		location=location,
		engine_error=engine_error,
		local_ok=local_ok,
	)


def check_websocket(run: Run) -> list[Check]:
	config = run.config
	base = config.get_external_socketio_url()
	answer = upgrade.probe_websocket(
		base, run.path, config.get_external_http_base(), run.deadline, run.timeout, ca_file=run.ca_file
	)
	where = f"{base}{run.path}"
	if answer.ok:
		return [passed(EXTERNAL_WEBSOCKET, f"{where}: {answer.detail}")]
	return [
		failed(
			EXTERNAL_WEBSOCKET, f"{where}: {answer.detail}", hints.upgrade_hint(config, answer, run.timeout)
		)
	]
