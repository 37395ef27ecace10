"""Diagnose the realtime path of one site: run the checks, name the root cause, report.

The checks run from upstream (the config, the realtime port on this host) to downstream
(the public URL, the namespace, delivery of a real event), concurrently where they do not
depend on each other, all within one deadline. A check whose prerequisite failed is not
run: it reports `ok: None` with "not reached: <check> failed", so the one hint of the result
(the hint of the most upstream failing check) names the cause, not its symptoms.

This module holds the CHECKS table (what runs, after what) and the report. Each check's
verdict lives in checks/, the scheduler in schedule.py, every hint sentence in hints.py.

Choices a reader should know:
- "Not reached" and "skipped" are `ok: None`, never a failure: `ok` says whether every check
  that ran passed, and only real findings carry hints.
- Without a session the namespace check sends Frappe's Guest sid (`sid=Guest`), so the
  realtime service runs its whole authentication, the call back to the web server included.
- `external=False` sends the session checks straight to the realtime port with the headers
  bench's nginx would add (Host and Origin of the public site, X-Frappe-Site-Name).
- Whatever the network does, the result comes within the timeout plus GRACE_SECONDS (and
  schedule.JOIN_SECONDS): every request gets what is left of one deadline, checks still
  running then count as timed out, and the connections they hold are cut.
- `publish` runs on the thread that called diagnose(): Frappe's context lives there.

The session id given for the end-to-end check never appears in the result. No frappe import.
"""

import time
from collections.abc import Iterable, Sequence

from raven_ai_agent.realtime import hints
from raven_ai_agent.realtime.checks import (
	BOOT_CONTEXT,
	CLIENT_DELIVERY,
	CLIENT_PATHS,
	CONFIG,
	END_TO_END,
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	LOCAL_HANDSHAKE,
	NAMESPACE,
	REDIS_BRIDGE,
	STICKY_SESSION,
	WEB_SITE,
	WEBSOCKET_SESSION,
	Check,
	Publish,
	Run,
	failed,
	not_reached,
	skipped,
)
from raven_ai_agent.realtime.checks.boot import check_boot_context
from raven_ai_agent.realtime.checks.clients import check_clients
from raven_ai_agent.realtime.checks.config import check_config
from raven_ai_agent.realtime.checks.delivery import check_delivery, check_redis
from raven_ai_agent.realtime.checks.handshakes import (
	check_external,
	check_local,
	check_websocket,
	not_on_this_host,
	redis_gone_first,
)
from raven_ai_agent.realtime.checks.session import check_session
from raven_ai_agent.realtime.checks.web_site import check_web_site
from raven_ai_agent.realtime.checks.websocket_session import check_websocket_session
from raven_ai_agent.realtime.containers import Runtime
from raven_ai_agent.realtime.probe import Deadline
from raven_ai_agent.realtime.resolve import RavenConfig
from raven_ai_agent.realtime.schedule import Schedule, Task
from raven_ai_agent.realtime.validate import bounded_timeout, check_ca_file

# Upstream to downstream: the result's hint is the hint of the first failing check.
CHECKS = (
	CONFIG,
	BOOT_CONTEXT,
	LOCAL_HANDSHAKE,
	EXTERNAL_HANDSHAKE,
	EXTERNAL_WEBSOCKET,
	CLIENT_PATHS,
	WEB_SITE,
	NAMESPACE,
	WEBSOCKET_SESSION,
	STICKY_SESSION,
	REDIS_BRIDGE,
	END_TO_END,
	CLIENT_DELIVERY,
)
# Checks that depend on the bench, not the site: a bench-wide diagnosis runs them once.
BENCH_WIDE = (LOCAL_HANDSHAKE, REDIS_BRIDGE)
# How long past the deadline the checks may take to report before they count as hung.
GRACE_SECONDS = 0.3
MASK = "***"


def _tasks(run: Run, shared: dict) -> list[Task]:
	"""What runs, and after what. Adding a check: a module in checks/ and a row here."""
	tasks = [
		Task((CONFIG,), check_config),
		Task((BOOT_CONTEXT,), check_boot_context),
		Task((LOCAL_HANDSHAKE,), check_local),
		Task((EXTERNAL_HANDSHAKE,), check_external),
		Task((EXTERNAL_WEBSOCKET,), check_websocket, (EXTERNAL_HANDSHAKE,)),
		Task((CLIENT_PATHS,), check_clients),
		Task((WEB_SITE,), check_web_site, (run.route_check,)),
		Task((NAMESPACE, STICKY_SESSION), check_session, (run.route_check,)),
		Task(
			(WEBSOCKET_SESSION,),
			check_websocket_session,
			(run.route_check,) + ((EXTERNAL_WEBSOCKET,) if run.external else ()),
		),
		Task((REDIS_BRIDGE,), check_redis),
		# One probe for both: each event published once, heard on every client's path at once.
		Task((END_TO_END, CLIENT_DELIVERY), check_delivery),
	]
	return [_reused(task, shared) if task.names[0] in shared else task for task in tasks]


def _reused(task: Task, shared: dict) -> Task:
	"""A bench-wide check taken from the bench's first diagnosis instead of run again."""
	check = shared[task.names[0]]

	def run(context: Run) -> list[Check]:
		detail = f"{check['detail']} (checked once for the bench)"
		return [Check(check["name"], check["ok"], detail, check.get("hint"), check.get("elapsed_ms", 0.0))]

	return Task(task.names, run, task.requires)


def diagnose(
	config: RavenConfig,
	*,
	timeout: float | None = None,
	external: bool = True,
	sid: str | None = None,
	user: str | None = None,
	publish: Publish | None = None,
	audit_paths: Iterable = (),
	config_warnings: Sequence[str] | None = None,
	ca_file: str | None = None,
	handed_context: object = None,
	user_type: str | None = None,
	shared: Sequence[dict] = (),
	session_owner: str | None = None,
	clients: Sequence = (),
	client_notes: Sequence[str] = (),
	site_wide: bool = False,
	raven_channel: str | None = None,
	runtime: Runtime | None = None,
) -> dict:
	"""Check every hop of the realtime path of `config`; return a JSON-ready report. Never raises.

	`timeout` bounds the whole diagnosis (it returns within timeout + 0.5 s); out of range it
	is brought into range and `timeout_note` says so (validate.bounded_timeout).
	`external=False` skips the public URL and tests the realtime port with the headers a proxy
	would add. `sid` (a logged-in session's cookie) enables `end_to_end`; `user` (and
	`user_type`) save asking the web server whose session it is. `publish(event, message,
	room)` sends the end-to-end events (the Frappe shell passes frappe.publish_realtime) on the
	calling thread;
	without it the event goes straight to the config's Redis in Frappe's format.
	`audit_paths` are files for the stale-port audit; `config_warnings` replaces
	config.warnings when given. `ca_file` adds CA certificates every HTTPS probe trusts (a
	private CA); one that cannot be used fails the config check and the probes use the
	system's store alone. `handed_context` is the `frappe.boot.raven_realtime` a page was given
	(None: not known), compared with what the site resolves now. `shared` are check results of
	another site of the same bench for the BENCH_WIDE checks, used instead of running them.
	`session_owner` is whose session `sid` is in the site's own session store ("" when the
	store does not know it), which only the Frappe shell can read. `clients` (clients.client_urls)
	and `client_notes` (clients.client_warnings) add the client_paths check: each real client's
	socket URL probed once, the report's `clients` rows say which client breaks. `site_wide`
	without `sid` checks delivery as Guest in the room every socket joins (scheduled checks).
	Each client URL also gets client_delivery: the same probe events heard there (as Guest in the
	`website` room; with `sid` in the user's room, and for Raven's web app in the room of
	`raven_channel`, a Raven Channel the user belongs to, which end_to_end checks too).
	`runtime` is the container the caller runs in (containers.observe), for the split layout's hints:
	a realtime port refused here while the public path reaches this site's realtime service is
	"not on this host" (checks.handshakes.not_on_this_host), not a failure.
	"""
	start = time.monotonic()
	timeout, timeout_note = bounded_timeout(timeout)
	warnings = tuple(config.warnings if config_warnings is None else config_warnings)
	if ca_file:
		try:
			ca_file = check_ca_file(ca_file)
		except ValueError as e:
			warnings += (f"{e}; the probes trust the system's CA store only",)
			ca_file = None
	schedule = Schedule(Deadline(timeout), GRACE_SECONDS)
	run = Run(
		config=config,
		timeout=timeout,
		schedule=schedule,
		external=bool(external),
		sid=sid or None,
		user=user or None,
		publish=publish,
		audit_paths=tuple(audit_paths or ()),
		config_warnings=warnings,
		ca_file=ca_file or None,
		handed_context=handed_context,
		user_type=user_type,
		session_owner=session_owner,
		clients=tuple(clients or ()),
		client_notes=tuple(client_notes or ()),
		site_wide=bool(site_wide),
		raven_channel=raven_channel or None,
		runtime=runtime,
	)
	tasks = _tasks(run, {c["name"]: c for c in shared if c.get("name") in BENCH_WIDE})
	outcome = schedule.run([_timed(task) for task in tasks], _gate, _crashed, context=run)
	results = {
		name: outcome.results.get(name) or _unfinished(run, tasks, name, outcome.results) for name in CHECKS
	}
	results[LOCAL_HANDSHAKE] = (
		not_on_this_host(run, results) or redis_gone_first(run, results) or results[LOCAL_HANDSHAKE]
	)
	checks = [results[name] for name in CHECKS]
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
		"internal_socketio_url": config.get_internal_socketio_url(),
		"runtime": runtime.describe() if runtime else None,
		"local_socketio_ok": by_name[LOCAL_HANDSHAKE].ok is True,
		"external_socketio_ok": by_name[EXTERNAL_HANDSHAKE].ok,
		"websocket_ok": by_name[EXTERNAL_WEBSOCKET].ok,
		"checks": [c.as_dict() for c in checks],
		"clients": _client_rows(run),
		"timeout": timeout,
		"timeout_note": timeout_note,
		"ca_file": run.ca_file,
		# Probe threads still alive after the report (a DNS lookup nothing can cut); they end by
		# their own timeout. Empty on every healthy run.
		"threads_left": outcome.lingering,
		"elapsed_ms": round((time.monotonic() - start) * 1000, 1),
		"config": config.as_dict(),
	}
	return _mask(report, run.sid)


def _client_rows(run: Run) -> list[dict]:
	"""The client rows of client_paths (can it connect) with client_delivery's (does it hear this site)."""
	rows = []
	for row in run.client_rows:
		key = (row["origin"], row["path"])
		delivery = run.client_delivery.get(key) or {
			"delivered": None,
			"delivery": "not checked" if row["origin"] else row["detail"],
			"delivery_hint": None,
		}
		row = {**row, **delivery}
		if row["ok"] is not False and delivery["delivered"] is False:
			# It connects, so the route's advice (a port to open or align) would mislead: the
			# service there is the wrong one.
			row["hint"] = delivery["delivery_hint"]
		rows.append(row)
	return rows


def _timed(task: Task) -> Task:
	"""The task, its checks stamped with how long it ran (unless a check timed itself)."""

	def run(context: Run) -> list[Check]:
		started = time.monotonic()
		checks = task.run(context)
		elapsed = (time.monotonic() - started) * 1000
		for check in checks:
			check.elapsed_ms = check.elapsed_ms or elapsed
		return checks

	return Task(task.names, run, task.requires)


def _gate(task: Task, prerequisites: dict) -> list[Check] | None:
	"""Skips for `task` when a prerequisite failed or was skipped; None to run it."""
	why = not_reached(task.requires, prerequisites)
	return None if why is None else [skipped(name, why) for name in task.names]


def _crashed(task: Task, error: Exception) -> list[Check]:
	text = f"{type(error).__name__}: {error}"
	return [failed(n, f"the check crashed: {text}", hints.crashed_hint(n, text)) for n in task.names]


def _unfinished(run: Run, tasks: list[Task], name: str, results: dict) -> Check:
	task = next(t for t in tasks if name in t.names)
	waiting = [r for r in task.requires if r not in results]
	if waiting:
		return skipped(name, f"not reached: {waiting[0]} did not finish")
	return Check(
		name,
		False,
		f"timed out: no result within the {run.timeout:g} s budget",
		hints.unfinished_hint(name, run.timeout),
		elapsed_ms=run.timeout * 1000,
	)


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
