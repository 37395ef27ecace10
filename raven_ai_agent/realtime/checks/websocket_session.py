"""The `websocket_session` check: namespace and authentication over a WebSocket-first session.

Frappe's realtime service authenticates with the headers of a session's first request. Every
session the polling checks open starts with a polling GET; clients configured with
`transports: ["websocket"]` (many mobile and agent clients) start with the upgrade instead,
and a proxy chain can treat the two differently (Traefik sends X-Forwarded-Proto: wss on an
upgrade). This check connects the way those clients do.
"""

from raven_ai_agent.realtime import hints, probe, upgrade
from raven_ai_agent.realtime.checks import NAMESPACE, WEBSOCKET_SESSION, Check, Run, failed, skipped
from raven_ai_agent.realtime.checks.session import connect_verdict
from raven_ai_agent.realtime.resolve import DeploymentType


def check_websocket_session(run: Run) -> list[Check]:
	base, headers = run.route(run.sid)
	if _proxied(run):
		# As agent and mobile clients connect: no Origin (browsers send one, and the polling
		# checks cover them); the proxy must then build one, from the right scheme. Straight to
		# the realtime port (local) a client has to send its own: nothing would add it.
		headers = {k: v for k, v in headers.items() if k != "Origin"}
	outcome = upgrade.probe_websocket_session(
		base, run.path, run.config.namespace, headers, run.deadline, run.timeout, run.ca_file
	)
	where = f"{base}{run.path}"
	answer = outcome.upgrade
	if answer.kind == probe.TIMEOUT or (answer.ok and answer.open is None):
		# external_websocket already judged the upgrade itself; without an open packet in the
		# time left there is nothing to CONNECT over: not tested, not failed.
		detail = f"{where}: not tested: {answer.detail if not answer.ok else outcome.failure}"
		return [skipped(WEBSOCKET_SESSION, detail)]
	if not answer.ok:
		detail = f"{where}: a WebSocket-first session could not upgrade: {answer.detail}"
		hint = (
			hints.upgrade_hint(run.config, answer, run.timeout)
			if run.external
			else hints.local_upgrade_hint(run.config, answer.detail)
		)
		return [failed(WEBSOCKET_SESSION, detail, hint)]
	if outcome.failure:
		detail = f"{where}: {outcome.failure}"
		return [failed(WEBSOCKET_SESSION, detail, hints.connect_reply_hint(run.config))]
	verdict = connect_verdict(run, WEBSOCKET_SESSION, outcome.connect, run.sid is not None)
	if verdict.ok is False:
		polling = run.wait(NAMESPACE)
		if polling is not None and polling.ok:
			message = next(iter(outcome.connect.errors), "")
			verdict.hint = hints.websocket_first_hint(run.config, message)
		verdict.detail = f"over a WebSocket-first session{_no_origin(run)}: {verdict.detail}"
	else:
		verdict.detail = f"{where}: WebSocket-first session{_no_origin(run)}: {verdict.detail}"
	return [verdict]


def _proxied(run: Run) -> bool:
	return run.external and run.config.deployment_type is not DeploymentType.LOCAL


def _no_origin(run: Run) -> str:
	return " without Origin (as agent and mobile clients connect)" if _proxied(run) else ""
