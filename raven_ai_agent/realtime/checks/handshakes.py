"""The route checks: the Engine.IO handshake on the realtime port and on the public URL, and the
WebSocket upgrade on the public URL."""

from raven_ai_agent.realtime import engineio, handshake, hints, upgrade
from raven_ai_agent.realtime.checks import (
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	LOCAL_HANDSHAKE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)


def check_local(run: Run) -> list[Check]:
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
