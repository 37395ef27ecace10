"""`bench --site X raven-realtime ...`: the standalone CLI's commands, with the config read
from the site through Frappe (settings overrides included).

Bench imports this module and reads `commands`; an import error here would hide the
commands silently, so beyond click and frappe.commands only the app's own frappe-free
CLI module is imported while the commands are built.
"""

from contextlib import contextmanager

import click
from frappe.commands import get_site, pass_context

from raven_ai_agent.cli import diagnose_options, emit_render, render_options
from raven_ai_agent.realtime.render import TARGETS


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
@diagnose_options
@pass_context
def diagnose(context, timeout, no_external: bool, sid, ca_file, proxy_configs, client_urls, as_json: bool):
	"""Probe every hop of the realtime path and name the root cause (exit 1 if a check fails)."""
	from raven_ai_agent.cli import EXIT_OK, EXIT_PROBLEM, echo_diagnosis
	from raven_ai_agent.config import diagnose_realtime
	from raven_ai_agent.realtime.validate import check_timeout

	if timeout is not None:
		try:
			timeout = check_timeout(timeout)
		except ValueError as e:
			raise click.BadParameter(str(e), param_hint="--timeout") from None
	with connected_site(context):
		report = diagnose_realtime(
			timeout=timeout,
			external=False if no_external else None,
			sid=sid,
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
