"""The client paths check: the socket URL each real client opens (Frappe desk, Raven's web app,
this app's context) answers Engine.IO. Each distinct URL is probed once; the URL the resolved
config names is external_handshake's, so its verdict is reused, not probed again."""

from raven_ai_agent.realtime import handshake
from raven_ai_agent.realtime.checks import (
	CLIENT_PATHS,
	EXTERNAL_HANDSHAKE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)
from raven_ai_agent.realtime.clients import distinct_targets


def check_clients(run: Run) -> list[Check]:
	if not run.clients:
		return [skipped(CLIENT_PATHS, "skipped: no client model was given")]
	if not run.external:
		return [skipped(CLIENT_PATHS, "skipped: external checks are off")]
	own = (run.config.get_external_socketio_url(), run.path)
	verdicts: dict[tuple[str, str], tuple[bool | None, str]] = {}
	http = run.http()
	try:
		for url, path in distinct_targets(tuple(run.clients)):
			if (url, path) == own:
				verdict = run.wait(EXTERNAL_HANDSHAKE)
				detail = verdict.detail if verdict else "no result"
				verdicts[url, path] = (
					verdict.ok if verdict else None,
					f"the resolved URL ({EXTERNAL_HANDSHAKE}: {detail})",
				)
			else:
				answer = handshake.probe_handshake(http, url, path)
				verdicts[url, path] = (answer.ok, answer.detail)
	finally:
		http.close()
	failing = []
	for c in run.clients:
		ok, detail = verdicts[c.url, c.path] if c.url is not None else (None, c.why)
		note = next((n for n in run.client_notes if n.startswith(c.client.value)), None)
		hint = note or (
			f"{c.client.value} connects to {c.url}{c.path} and gets: {detail}." if ok is False else None
		)
		run.client_rows.append(
			{
				"client": c.client.value,
				"url": f"{c.url}{c.path}" if c.url else None,
				"origin": c.url,
				"path": c.path,
				"namespace": c.namespace,
				"ok": ok,
				"detail": detail,
				"why": c.why,
				"hint": hint,
			}
		)
		if ok is False:
			failing.append(hint)
	summary = "; ".join(
		f"{r['client']}: {r['url'] or '-'} {_word(r['ok'])}"
		+ (f" ({r['detail']})" if r["ok"] is False else "")
		for r in run.client_rows
	)
	if not failing:
		return [passed(CLIENT_PATHS, summary)]
	return [failed(CLIENT_PATHS, summary, failing[0])]


def _word(ok: bool | None) -> str:
	return {True: "ok", False: "FAILS", None: "not checked"}[ok]
