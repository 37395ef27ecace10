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
	failing = []
	http = run.http()
	try:
		for (url, path), clients in distinct_targets(tuple(run.clients)).items():
			if (url, path) == own:
				verdict = run.wait(EXTERNAL_HANDSHAKE)
				ok = verdict.ok if verdict else None
				detail = (
					f"the resolved URL ({EXTERNAL_HANDSHAKE}: {verdict.detail if verdict else 'no result'})"
				)
			else:
				answer = handshake.probe_handshake(http, url, path)
				ok, detail = answer.ok, answer.detail
			for client in clients:
				run.client_rows.append(
					{"client": client.value, "url": f"{url}{path}", "ok": ok, "detail": detail}
				)
				if ok is False:
					failing.append((client, url, path, detail))
	finally:
		http.close()
	for c in run.clients:
		if c.url is None:
			run.client_rows.append({"client": c.client.value, "url": None, "ok": None, "detail": c.why})
	summary = "; ".join(
		f"{r['client']}: {r['url'] or '-'} {_word(r['ok'])}"
		+ (f" ({r['detail']})" if r["ok"] is False else "")
		for r in run.client_rows
	)
	if not failing:
		return [passed(CLIENT_PATHS, summary)]
	client, url, path, detail = failing[0]
	note = next((n for n in run.client_notes if n.startswith(client.value)), None)
	hint = note or f"{client.value} connects to {url}{path} and gets: {detail}."
	return [failed(CLIENT_PATHS, summary, hint)]


def _word(ok: bool | None) -> str:
	return {True: "ok", False: "FAILS", None: "not checked"}[ok]
