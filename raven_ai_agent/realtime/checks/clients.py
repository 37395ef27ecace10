"""The client paths check: the socket URL each real client opens (Frappe desk, Raven's web app,
this app's context) takes the handshake, the WebSocket upgrade and the namespace CONNECT with the
page's Origin. Each distinct URL is probed once; the URL the resolved config names has its own
checks (external_handshake, external_websocket, namespace), whose verdicts are reused."""

from concurrent.futures import ThreadPoolExecutor

from raven_ai_agent.realtime import handshake, upgrade
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.checks import (
	CLIENT_PATHS,
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	GUEST_SID,
	NAMESPACE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)
from raven_ai_agent.realtime.checks.session import connect_verdict
from raven_ai_agent.realtime.clients import distinct_targets


def check_clients(run: Run) -> list[Check]:
	if not run.clients:
		return [skipped(CLIENT_PATHS, "skipped: no client model was given")]
	if not run.external:
		return [skipped(CLIENT_PATHS, "skipped: external checks are off")]
	own = (run.config.get_external_socketio_url(), run.path)
	targets = [t for t in distinct_targets(tuple(run.clients)) if t != own]
	# At the same time: each probe waits for the web server's session check, which a cold or
	# busy web server answers slowly; one after the other they would add up.
	with ThreadPoolExecutor(
		max_workers=max(1, len(targets)), thread_name_prefix="raven-realtime-client"
	) as pool:
		probes = {target: pool.submit(_probe_in_thread, run, *target) for target in targets}
		verdicts: dict[tuple[str, str], tuple[bool | None, str]] = {
			target: future.result() for target, future in probes.items()
		}
	if own in distinct_targets(tuple(run.clients)):
		verdicts[own] = _own_verdict(run)
	failing = []
	for c in run.clients:
		ok, detail = verdicts[c.url, c.path] if c.url is not None else (None, c.why)
		note = next((n for n in run.client_notes if n.startswith(c.client.value)), None)
		hint = note or (
			f"{c.client.value} connects to {c.url}{c.path} and gets: {detail}." if ok is False else None
		)
		# The row says `url` for the whole socket URL; the client's origin goes to `origin`.
		url = f"{c.url}{c.path}" if c.url else None
		run.client_rows.append(
			{**c.as_dict(), "url": url, "origin": c.url, "ok": ok, "detail": detail, "hint": hint}
		)
		# The resolved URL's failures are its own checks' to report (their hints are sharper).
		if ok is False and (c.url, c.path) != own:
			failing.append(hint)
	summary = "; ".join(
		f"{r['client']}: {r['url'] or '-'} {_word(r['ok'])}"
		+ (f" ({r['detail']})" if r["ok"] is False else "")
		for r in run.client_rows
	)
	if failing:
		return [failed(CLIENT_PATHS, summary, failing[0])]
	if any(r["ok"] is False for r in run.client_rows):
		# Only the resolved URL fails, which its own checks report with sharper hints: not a pass
		# (seen on frappe_docker's layout with the websocket container down), not a second failure.
		return [skipped(CLIENT_PATHS, f"not judged apart from the resolved URL, which fails: {summary}")]
	return [passed(CLIENT_PATHS, summary)]


def _own_verdict(run: Run) -> tuple[bool | None, str]:
	"""The resolved URL's verdict: its own checks' (the first failing one names the step)."""
	names = (EXTERNAL_HANDSHAKE, EXTERNAL_WEBSOCKET, NAMESPACE)
	verdicts = [(name, run.wait(name)) for name in names]
	for name, verdict in verdicts:
		if verdict is not None and verdict.ok is False:
			return False, f"the resolved URL: {name} failed ({verdict.detail})"
	handshake_ok = verdicts[0][1].ok if verdicts[0][1] is not None else None
	return handshake_ok, "the resolved URL (" + ", ".join(
		f"{name} {_word(v.ok if v else None)}" for name, v in verdicts
	) + ")"


def _probe_in_thread(run: Run, url: str, path: str) -> tuple[bool, str]:
	"""_probe_client_url with an Http of its own (one per thread)."""
	http = run.http()
	try:
		return _probe_client_url(run, http, url, path)
	finally:
		http.close()


def _probe_client_url(run: Run, http, url: str, path: str) -> tuple[bool, str]:
	"""Handshake, then the WebSocket upgrade and a namespace CONNECT as Guest, with the page's Origin."""
	answer = handshake.probe_handshake(http, url, path)
	if not answer.ok:
		return False, answer.detail
	origin = run.config.get_external_http_base()
	ws = upgrade.probe_websocket(url, path, origin, run.deadline, run.timeout, ca_file=run.ca_file)
	if not ws.ok:
		return False, f"handshake ok; WebSocket upgrade: {ws.detail}"
	headers = {"Origin": origin, "Cookie": f"sid={GUEST_SID}"}
	outcome = polling.probe_session(http, url, path, run.config.namespace, headers, extra_requests=0)
	if outcome.failure is not None or outcome.lost is not None or outcome.connect is None:
		return False, f"handshake and upgrade ok; namespace: {outcome.failure or outcome.lost or 'no reply'}"
	verdict = connect_verdict(run, CLIENT_PATHS, outcome.connect, with_session=False)
	if not verdict.ok:
		return False, f"handshake and upgrade ok; namespace: {verdict.detail}"
	return True, f"handshake, WebSocket upgrade and {verdict.detail}"


def _word(ok: bool | None) -> str:
	return {True: "ok", False: "FAILS", None: "not checked"}[ok]
