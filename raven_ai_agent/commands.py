"""`bench --site X raven-realtime ...`: the standalone CLI's commands, with the config read
from the site through Frappe (settings overrides included).

Bench imports this module and reads `commands`; an import error here would hide the
commands silently, so beyond click and frappe.commands only the app's own frappe-free
CLI module is imported while the commands are built.
"""

import signal
import threading
from contextlib import contextmanager, nullcontext

import click
from frappe.commands import get_site, pass_context

from raven_ai_agent.cli import diagnose_options, emit_render, render_options
from raven_ai_agent.realtime.render import TARGETS

# How long a `diagnose --user` session could outlive a killed command (its cache entry's expiry).
SESSION_MINUTES = 5


@contextmanager
def connected_site(context):
	"""Initialise and connect the site named by `--site`; always destroy afterwards."""
	import frappe

	site = get_site(context)
	frappe.init(site=site)
	try:
		frappe.connect()
		yield site
	finally:
		frappe.destroy()


def _start_session(user: str) -> str:
	"""A new session of `user` from Frappe's own Session class (the record in tabSessions and the
	session cache, as a login makes it), committed so that the realtime service's call back to the
	site finds it. Not LoginManager.login_as (what `bench browse --user` uses): that also runs other
	apps' on_login hooks and, with deny_multiple_sessions, would log the user out elsewhere.
	Frappe notes it as the user's last login. Its cache entry expires after SESSION_MINUTES even
	if this process is killed before it can delete it. Returns its sid."""
	import frappe
	from frappe.sessions import Session
	from frappe.utils import set_request

	info = frappe.get_cached_value("User", user, ["user_type", "first_name", "last_name"], as_dict=True)
	outside_request = getattr(frappe.local, "request", None)
	set_request(path="/")  # Session reads the request's cookies: none, so it starts a new one
	try:
		session = Session(
			user=user,
			resume=False,
			full_name=" ".join(filter(None, [info.first_name, info.last_name])),
			user_type=info.user_type,
		)
	finally:
		# This command is still not a web request: the diagnosis must ask the site's own page
		# for the desk's dev_server, not read this process's (seen on a real 15.41 bench).
		frappe.local.request = outside_request
	session.data.data.session_expiry = f"00:{SESSION_MINUTES:02d}:00"
	frappe.cache.hset("session", session.sid, session.data)
	frappe.db.commit()
	return session.sid


def _end_session(sid: str, user: str) -> None:
	"""Delete the session from the site's store (cache and tabSessions) and commit."""
	import frappe
	from frappe.sessions import delete_session

	delete_session(sid, user=user, reason="raven-realtime diagnose --user: check finished")
	frappe.db.commit()


def _terminated(signum, frame):
	raise SystemExit(128 + signum)


@contextmanager
def temporary_session(user: str):
	"""A short-lived session of `user` for the end-to-end check, on this command's own thread;
	always deleted afterwards: on success, on an error, on Ctrl-C and on SIGTERM (turned into an
	exit while it exists). The sid is never printed or logged."""
	import frappe

	if not frappe.db.sql("select `user_type` from `tabUser` where `name`=%s", (user,)):
		raise click.BadParameter(f"no user {user!r} on this site", param_hint="--user")
	previous = None
	if threading.current_thread() is threading.main_thread():
		previous = signal.signal(signal.SIGTERM, _terminated)
	sid = None
	try:
		sid = _start_session(user)
		yield sid
	finally:
		if previous is not None:  # a second SIGTERM must not cut the clean-up short
			signal.signal(signal.SIGTERM, signal.SIG_IGN)
		try:
			if sid:
				_end_session(sid, user)
		finally:
			if previous is not None:
				signal.signal(signal.SIGTERM, previous)


@click.group("raven-realtime")
def raven_realtime():
	"""Resolve, diagnose and route the realtime (Socket.IO) path for Raven."""


@raven_realtime.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def show(context, as_json: bool):
	"""Show where the browser must connect, and why."""
	from raven_ai_agent.cli import echo_show
	from raven_ai_agent.config import get_config

	with connected_site(context):
		echo_show(get_config(), as_json)


@raven_realtime.command("diagnose")
@click.option("--timeout", type=float, help="Seconds for the whole diagnosis (default: the settings).")
@click.option(
	"--user",
	help="Check delivery to this user end to end with a session the command creates and deletes "
	"itself (no sid to copy); not with --sid.",
)
@click.option(
	"--realtime-address",
	help="Where the realtime service listens when not on this host (frappe_docker: websocket:<socketio_port>).",
)
@diagnose_options
@pass_context
def diagnose(
	context,
	timeout,
	user,
	realtime_address,
	no_external: bool,
	sid,
	ca_file,
	proxy_configs,
	client_urls,
	as_json: bool,
):
	"""Probe every hop of the realtime path and name the root cause (exit 1 if a check fails)."""
	from raven_ai_agent.cli import EXIT_OK, EXIT_PROBLEM, echo_diagnosis
	from raven_ai_agent.config import diagnose_realtime, get_config
	from raven_ai_agent.realtime.validate import check_realtime_address, check_timeout

	if realtime_address is not None:
		try:
			check_realtime_address(realtime_address)
		except ValueError as e:
			raise click.BadParameter(str(e), param_hint="--realtime-address") from None
	if timeout is not None:
		try:
			timeout = check_timeout(timeout)
		except ValueError as e:
			raise click.BadParameter(str(e), param_hint="--timeout") from None
	if user and sid:
		raise click.UsageError("Give --user or --sid, not both.")
	with connected_site(context):
		with temporary_session(user) if user else nullcontext(sid) as session_id:
			report = diagnose_realtime(
				config=get_config(realtime_address=realtime_address) if realtime_address else None,
				timeout=timeout,
				external=False if no_external else None,
				sid=session_id,
				ca_file=ca_file,
				proxy_configs=proxy_configs,
				client_urls=client_urls,
			)
	echo_diagnosis(report, as_json)
	raise SystemExit(EXIT_OK if report["ok"] else EXIT_PROBLEM)


@raven_realtime.command("render")
@click.argument("target", metavar="TARGET", type=click.Choice(TARGETS))
@render_options
@pass_context
def render(context, target: str, output, **options):
	"""Print a proxy/tunnel config for TARGET from the site's resolved config."""
	from raven_ai_agent.config import get_config

	with connected_site(context):
		config = get_config()
	emit_render(config, target, output, **options)


@raven_realtime.command("render-bench")
@click.argument("target", metavar="TARGET", type=click.Choice(TARGETS))
@render_options
@pass_context
def render_bench(context, target: str, output, **options):
	"""One TARGET config for every site of this bench (nginx: plus a default server refusing other hosts)."""
	import frappe

	from raven_ai_agent.cli import emit_bench_render
	from raven_ai_agent.config import get_config
	from raven_ai_agent.realtime.benchfiles import list_sites

	with connected_site(context):
		configs = [get_config(site) for site in list_sites(frappe.local.sites_path)]
	emit_bench_render(configs, target, output, **options)


@raven_realtime.command("audit-ports")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@pass_context
def audit_ports(context, paths):
	"""Find configs that route the realtime service to a stale port (default: the bench's own files)."""
	from raven_ai_agent.cli import run_audit
	from raven_ai_agent.config import bench_config_files, get_config

	with connected_site(context) as site:
		config = get_config()
		paths = paths or bench_config_files(site)
	raise SystemExit(run_audit(paths, config.socketio_port, config.socketio_uds))


@raven_realtime.command("audit-proxy")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@pass_context
def audit_proxy(context, paths):
	"""Find proxy configs that overwrite the browser's Origin (default: the bench's own files)."""
	from raven_ai_agent.cli import run_proxy_audit
	from raven_ai_agent.config import bench_config_files

	with connected_site(context) as site:
		paths = paths or bench_config_files(site)
	raise SystemExit(run_proxy_audit(paths))


commands = [raven_realtime]
