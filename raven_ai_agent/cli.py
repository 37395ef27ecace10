"""`raven-realtime`: the realtime path of a bench, from its config files, without Frappe.

The same command bodies serve `bench --site X raven-realtime ...` (see commands.py);
only the way the config is loaded differs.
"""

import functools
import inspect
import json
import os
from dataclasses import replace
from pathlib import Path

import click

from raven_ai_agent.realtime.audit import audit_ports, format_finding
from raven_ai_agent.realtime.benchfiles import (
	ConfigFileError,
	bench_audit_files,
	find_sites_path,
	infer_dev_server,
	list_sites,
	read_bench,
	read_config_file,
	read_raven_build,
)
from raven_ai_agent.realtime.clients import NOT_INSTALLED, DevServer, describe_clients
from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError
from raven_ai_agent.realtime.constants import (
	DEFAULT_DOCKER_HOST_GATEWAY,
	DEFAULT_LOCAL_UPSTREAM_HOST,
	DEFAULT_MULTIPLEXER_HOST,
	DEFAULT_MULTIPLEXER_PORT,
	DEFAULT_NGINX_ACCESS_LOG,
	DEFAULT_PROBE_TIMEOUT,
	DEFAULT_PROXY_TIMEOUT,
	DEFAULT_SIDECAR_LISTEN_PORT,
	DOCKER_WEBSOCKET_ADDRESS,
	ENGINEIO_PING_WINDOW,
	MIN_PROBE_TIMEOUT,
	NGROK_AUTHTOKEN_ENV,
	REALTIME_ADDRESS_ENV,
)
from raven_ai_agent.realtime.containers import observe as observe_runtime
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.dockeraudit import audit_frappe_docker
from raven_ai_agent.realtime.proxyaudit import audit_proxies, audit_timeouts, format_proxy_finding
from raven_ai_agent.realtime.render import (
	INGRESS_CLASSES,
	NGROK,
	TARGETS,
	TRAEFIK_FORMATS,
	TRAEFIK_SHAPES,
	RenderError,
	mismatch_warning,
	render_bench,
)
from raven_ai_agent.realtime.render import render as render_config
from raven_ai_agent.realtime.resolve import (
	AUTO,
	DeploymentType,
	RavenConfig,
	Source,
	resolve,
)
from raven_ai_agent.realtime.validate import (
	check_base_url,
	check_ca_file,
	check_client_url,
	check_port,
	check_realtime_address,
	check_socketio_path,
	check_timeout,
)
from raven_ai_agent.realtime.webpage import site_dev_server

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
# The sid is secret: read it from the environment so it stays out of shell history.
SID_ENV = "RAVEN_REALTIME_SID"


class ConfigError(click.ClickException):
	"""Unreadable or missing config: exit 2, message names the file."""

	exit_code = EXIT_USAGE


def _checked(check):
	"""Turn a validate.check_* into a click callback, so bad overrides are usage errors."""

	def callback(ctx, param, value):
		if value is None:
			return None
		try:
			return check(value)
		except ValueError as e:
			raise click.BadParameter(str(e)) from None

	return callback


def _checked_each(check):
	"""_checked for a repeatable option: every value checked, a tuple of the results."""
	one = _checked(check)
	return lambda ctx, param, values: tuple(one(ctx, param, v) for v in values or ())


def override_options(f):
	"""--base-url / --deployment-type / --socketio-path / --realtime-address, as in Raven Realtime Settings."""
	f = click.option(
		"--realtime-address",
		callback=_checked(check_realtime_address),
		help=(
			"Where the realtime service listens when it is not on this host: host:port (frappe_docker: "
			f"{DOCKER_WEBSOCKET_ADDRESS}) or a Unix socket path (or env {REALTIME_ADDRESS_ENV})."
		),
	)(f)
	f = click.option(
		"--socketio-path",
		callback=_checked(check_socketio_path),
		help="Socket.IO path (default /socket.io/).",
	)(f)
	f = click.option(
		"--deployment-type",
		type=click.Choice([AUTO] + [d.value for d in DeploymentType]),
		help="Override the inferred deployment type.",
	)(f)
	f = click.option(
		"--base-url", callback=_checked(check_base_url), help="Public origin override, http(s)://host[:port]."
	)(f)
	return f


def overrides_from(base_url=None, deployment_type=None, socketio_path=None, realtime_address=None) -> dict:
	"""The CLI overrides in the shape of the settings document."""
	return {
		"base_url": base_url,
		"deployment_type": deployment_type,
		"socketio_path": socketio_path,
		"realtime_address": realtime_address,
	}


def bench_config_options(f):
	"""Where the config comes from: a bench folder, or explicit files. Passes `config`, and
	`config_files` (the files read) to a command that takes them."""
	wants_files = "config_files" in inspect.signature(f).parameters
	bench_wide = "bench_configs" in inspect.signature(f).parameters
	wants_root = "bench_root" in inspect.signature(f).parameters

	@click.option("--bench", "bench", type=click.Path(file_okay=False), help="Bench folder (or its sites/).")
	@click.option("--site", "site", help="Site name (the Socket.IO namespace is /<site>).")
	@click.option("--site-config", type=click.Path(dir_okay=False), help="A site_config.json.")
	@click.option("--common-config", type=click.Path(dir_okay=False), help="A common_site_config.json.")
	@override_options
	@functools.wraps(f)
	def wrapper(
		bench,
		site,
		site_config,
		common_config,
		base_url,
		deployment_type,
		socketio_path,
		realtime_address,
		**kwargs,
	):
		if wants_root:
			kwargs["bench_root"] = bench_root_of(bench)
		if bench_wide:
			kwargs["bench_configs"] = None
			if bench and not site and not (site_config or common_config):
				# Every site of the bench, each as its own files say (overrides name one site).
				if base_url or deployment_type or socketio_path or realtime_address:
					raise click.UsageError(
						"--base-url, --deployment-type, --socketio-path and --realtime-address need --site"
					)
				kwargs["bench_configs"] = load_bench(bench)
				if wants_files:
					kwargs["config_files"] = []
				return f(config=None, **kwargs)
		config, files = load_config(bench, site, site_config, common_config)
		settings = overrides_from(base_url, deployment_type, socketio_path, realtime_address)
		if wants_files:
			kwargs["config_files"] = files
		return f(config=config(settings), **kwargs)

	return wrapper


def bench_root_of(bench) -> Path | None:
	"""The bench folder (the parent of sites/), or None without --bench."""
	if not bench:
		return None
	try:
		return find_sites_path(bench).resolve().parent
	except ConfigFileError as e:
		raise ConfigError(str(e)) from None


def load_bench(bench) -> list[tuple[RavenConfig, list]]:
	"""(config, the files the audit reads) of every site of a bench."""
	try:
		sites_path = find_sites_path(bench)
		sites = list_sites(sites_path)
		if not sites:
			raise ConfigError(f"{sites_path}: no site folder with a site_config.json")
		return [
			(
				resolve(site, *read_bench(sites_path, site), environment=os.environ),
				[Path(p) for p in bench_audit_files(sites_path, site)],
			)
			for site in sites
		]
	except ConfigFileError as e:
		raise ConfigError(str(e)) from None


def load_config(bench, site, site_config_path, common_config_path):
	"""Read the files once; return a function of the overrides, and the files read."""
	if not site:
		raise click.UsageError("--site is required: the Socket.IO namespace is /<site name>")
	try:
		if bench:
			if site_config_path or common_config_path:
				raise click.UsageError("use either --bench or --site-config/--common-config, not both")
			sites_path = find_sites_path(bench)
			site_config, common = read_bench(sites_path, site)
			files = [Path(p) for p in bench_audit_files(sites_path, site)]
		elif site_config_path:
			site_config = read_config_file(site_config_path)
			common = read_config_file(common_config_path) if common_config_path else {}
			files = [Path(p) for p in (common_config_path, site_config_path) if p]
		else:
			raise click.UsageError("say where the config is: --bench DIR, or --site-config FILE")
	except ConfigFileError as e:
		raise ConfigError(str(e)) from None
	files = [p for p in files if p.is_file()]
	return (
		lambda settings: resolve(
			site, site_config, common, settings, Source.COMMAND_LINE, environment=os.environ
		)
	), files


def client_model(
	config: RavenConfig,
	bench_root: Path | None,
	dev_server: bool | None,
	found: DevServer | None = None,
	extra: tuple = (),
) -> tuple:
	"""(each real client's socket URL, the warnings about them) from the bench and the options.

	dev_server: the option, else what the running site said (`found`: `diagnose` asks it),
	else (`show`, which never probes) a guess from the environment and the bench's files."""
	if dev_server is not None:
		found = DevServer(dev_server, "--dev-server" if dev_server else "--no-dev-server")
	elif found is None:
		found = infer_dev_server(bench_root, os.environ, config.deployment_type is DeploymentType.LOCAL)
	if bench_root:
		raven = read_raven_build(bench_root)
	else:
		raven = replace(NOT_INSTALLED, source="not known: no --bench to read Raven's build from")
	return describe_clients(config, found, raven, extra)


def ask_dev_server(
	config: RavenConfig,
	bench_root: Path | None,
	dev_server: bool | None,
	timeout: float,
	external: bool,
	ca_file: str | None,
) -> tuple[float, DevServer | None]:
	"""(the diagnosis' timeout left, dev_server as the running site says it) unless the option
	says it. Asking takes at most a quarter of `timeout`; the rest is the diagnosis'."""
	if dev_server is not None:
		return timeout, None
	found, spent = site_dev_server(
		config, bench_root, os.environ, timeout / 4, external=external, ca_file=ca_file
	)
	return max(timeout - spent, MIN_PROBE_TIMEOUT), found


def client_report(config: RavenConfig, bench_root: Path | None, dev_server: bool | None) -> dict:
	"""The client rows and warnings, as `show` prints them."""
	clients, notes = client_model(config, bench_root, dev_server)
	return {"clients": [c.as_dict() for c in clients], "client_warnings": notes}


def echo_show(config: RavenConfig, as_json: bool, clients: dict | None = None) -> None:
	"""Print the resolved config: every value with its source, then the clients and the warnings."""
	clients = clients or {"clients": [], "client_warnings": []}
	if as_json:
		click.echo(json.dumps({**config.as_dict(), **clients}, indent=2))
		return
	data = config.as_dict()
	sources = data["sources"]
	width = max(len(k) for k in data)
	for key in (
		"site_name",
		"deployment_type",
		"base_url",
		"external_socketio_url",
		"socketio_path",
		"socketio_port",
		"webserver_port",
	):
		if key == "socketio_port" and config.socketio_uds:
			key = "socketio_uds"  # the realtime service then listens there, on no TCP port
		source = sources.get(key)
		click.echo(f"{key:<{width}}  {data[key]}" + (f"  ({source})" if source else ""))
		if key == "deployment_type" and config.deployment_reason:
			click.echo(f"{'':<{width}}  why: {config.deployment_reason}")
	click.echo(f"{'namespace':<{width}}  {config.namespace}")
	if config.realtime_address:  # the diagnosis probes the realtime service there, not on this host
		source = sources.get("realtime_address")
		click.echo(f"{'internal_socketio_url':<{width}}  {data['internal_socketio_url']}  ({source})")
	for row in clients["clients"]:
		url = f"{row['url']}{row['path']}" if row["url"] else "-"
		click.echo(f"client {row['client']}: {url}  ({row['why']})")
	for warning in [*config.warnings, *clients["client_warnings"]]:
		click.echo(click.style("warning: ", fg="yellow") + warning)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="raven_ai_agent")
def cli():
	"""Resolve, diagnose and route Frappe's realtime (Socket.IO) path for Raven."""


dev_server_option = click.option(
	"--dev-server/--no-dev-server",
	default=None,
	help="Whether the web process sets DEV_SERVER (the desk then connects to the socket port). "
	"Default: `diagnose` reads window.dev_server from the running site's /login page; else (and "
	"for `show`) DEV_SERVER in the environment, the bench's Procfile or supervisor.conf, or what "
	"the deployment type implies (on for local).",
)


@cli.command()
@bench_config_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@dev_server_option
def show(config: RavenConfig | None, bench_configs, bench_root, as_json: bool, dev_server: bool | None):
	"""Show where each browser client connects, and why (every site of the bench without --site)."""
	if bench_configs is None:
		echo_show(config, as_json, client_report(config, bench_root, dev_server))
		return
	reports = [(c, client_report(c, bench_root, dev_server)) for c, _ in bench_configs]
	if as_json:
		click.echo(json.dumps({"sites": [{**c.as_dict(), **r} for c, r in reports]}, indent=2))
		return
	for site_config, report in reports:
		click.echo(click.style(f"== {site_config.site_name}", bold=True))
		echo_show(site_config, False, report)


def render_options(f):
	"""The options of `render`; each applies to some targets only (a wrong one is a usage error)."""
	for decorator in reversed(
		[
			click.option(
				"--upstream-host",
				help=f"Host of the default upstreams (nginx-vps/traefik: {DEFAULT_DOCKER_HOST_GATEWAY}, "
				f"nginx-sandbox: {DEFAULT_LOCAL_UPSTREAM_HOST}).",
			),
			click.option(
				"--upstream",
				multiple=True,
				metavar="HOST:PORT",
				help="A realtime node; repeat for several (sticky routing).",
			),
			click.option(
				"--web-upstream",
				metavar="HOST:PORT",
				help="The web server (nginx targets; default upstream host + webserver_port).",
			),
			click.option(
				"--listen",
				metavar="[HOST:]PORT",
				help=f"Where nginx listens (nginx-vps: {DEFAULT_SIDECAR_LISTEN_PORT}, nginx-sandbox/ngrok: "
				f"{DEFAULT_MULTIPLEXER_HOST}:{DEFAULT_MULTIPLEXER_PORT}).",
			),
			click.option("--name", help="Name of the upstreams/routers/endpoint (default raven_<site>)."),
			click.option(
				"--sticky/--no-sticky",
				default=None,
				help="Sticky routing (default: on with several --upstream).",
			),
			click.option(
				"--access-log",
				metavar="PATH",
				help=f"nginx: the access log of the socket path and the session check (default {DEFAULT_NGINX_ACCESS_LOG}).",
			),
			click.option(
				"--proxy-timeout",
				type=int,
				help=f"nginx read/send timeout in seconds (> {ENGINEIO_PING_WINDOW}; default {DEFAULT_PROXY_TIMEOUT}).",
			),
			click.option(
				"--format",
				"format",
				type=click.Choice(TRAEFIK_FORMATS),
				help="traefik: Docker labels or a file-provider YAML.",
			),
			click.option(
				"--shape",
				type=click.Choice(TRAEFIK_SHAPES),
				help="traefik: `realtime` (socket path to the realtime port, the rest to the web server) or "
				"`sidecar` (the whole site to the nginx sidecar).",
			),
			click.option(
				"--sidecar", metavar="HOST:PORT", help="traefik --shape sidecar: the nginx sidecar."
			),
			click.option("--entrypoint", help="traefik: entrypoint name (default websecure)."),
			click.option(
				"--cert-resolver",
				help='traefik: TLS certificate resolver (default letsencrypt; "" for the default store).',
			),
			click.option(
				"--tls/--no-tls", default=None, help="traefik: serve the router with TLS (default on)."
			),
			click.option(
				"--callback-host",
				help="frappe-docker: where the websocket container reaches the site's name for its session "
				'check (extra_hosts; default host-gateway, "none" to leave it out).',
			),
			click.option(
				"--ingress-class",
				type=click.Choice(INGRESS_CLASSES),
				help="k8s-ingress: the ingress controller (default nginx, i.e. ingress-nginx).",
			),
			click.option(
				"--service", help="k8s-ingress: the frappe/helm release's nginx Service (default erpnext)."
			),
			click.option(
				"--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout."
			),
		]
	):
		f = decorator(f)
	return f


def emit_render(config: RavenConfig, target: str, output: str | None, **options) -> None:
	"""Render `target` with the options given on the command line; a bad one exits 2 with the reason."""
	_emit(target, [config], output, lambda given: render_config(target, config, **given), options)


def emit_bench_render(configs: list, target: str, output: str | None, **options) -> None:
	"""Render `target` for `configs` in one file; a bad option exits 2 with the reason."""
	_emit(target, configs, output, lambda given: render_bench(target, configs, **given), options)


def _emit(target: str, configs: list, output: str | None, make, options: dict) -> None:
	"""Write what `make(options given)` renders, then what the operator must know about it."""
	given = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items() if v not in (None, ())}
	try:
		text = make(given)
	except RenderError as e:
		raise click.UsageError(str(e)) from None
	if output:
		Path(output).write_text(text)
		click.echo(f"wrote {output}", err=True)
	else:
		click.echo(text, nl=False)
	for config in configs:
		warning = mismatch_warning(target, config)
		if warning:
			click.echo(click.style("warning: ", fg="yellow") + warning, err=True)
	if target == NGROK and not os.environ.get(NGROK_AUTHTOKEN_ENV):
		click.echo(
			f"note: set {NGROK_AUTHTOKEN_ENV} before starting ngrok (the token is never written to the file)",
			err=True,
		)


@cli.command("render")
@click.argument("target", metavar="TARGET", type=click.Choice(TARGETS))
@bench_config_options
@render_options
def render_command(config: RavenConfig, target: str, output: str | None, **options):
	"""Print a proxy/tunnel config for TARGET: nginx-vps, nginx-sandbox, traefik, ngrok, frappe-docker
	(a compose override) or k8s-ingress (a Kubernetes Ingress)."""
	emit_render(config, target, output, **options)


@cli.command("render-bench")
@click.argument("target", metavar="TARGET", type=click.Choice(TARGETS))
@click.option(
	"--bench", "bench", required=True, type=click.Path(file_okay=False), help="Bench folder (or its sites/)."
)
@click.option(
	"--site", "sites", multiple=True, help="A site to include (repeat; default: every site of the bench)."
)
@render_options
def render_bench_command(target: str, bench, sites, output: str | None, **options):
	"""One config for several sites of a bench: TARGET for each, and (nginx) a default server
	that refuses any other Host."""
	try:
		sites_path = find_sites_path(bench)
		names = list(sites) or list_sites(sites_path)
		configs = [resolve(site, *read_bench(sites_path, site)) for site in names]
	except ConfigFileError as e:
		raise ConfigError(str(e)) from None
	emit_bench_render(configs, target, output, **options)


def run_audit(paths, socketio_port: int, socketio_uds: str | None = None) -> int:
	"""Print every stale realtime port under `paths` (any realtime port, with `socketio_uds`); the
	exit code says whether there were any."""
	try:
		findings = audit_ports(paths, socketio_port, socketio_uds)
	except ConfigSyntaxError as e:
		raise ConfigError(f"{e} (its server would refuse this file too)") from None
	for finding in findings:
		click.echo(format_finding(finding))
	expected = f"unix:{socketio_uds}" if socketio_uds else f"socketio_port {socketio_port}"
	if findings:
		click.echo(f"{len(findings)} place(s) route the realtime service elsewhere than {expected}", err=True)
		return EXIT_PROBLEM
	click.echo(f"no stale realtime port found ({expected})", err=True)
	return EXIT_OK


@cli.command("audit-ports")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
	"--socketio-port",
	"port",
	type=int,
	help="The realtime port every config must use (or give the bench options).",
)
@click.option(
	"--bench", "bench", type=click.Path(file_okay=False), help="Bench folder: socketio_port from its config."
)
@click.option("--site", "site", help="Site name, with --bench or --site-config.")
@click.option("--site-config", type=click.Path(dir_okay=False), help="A site_config.json.")
@click.option("--common-config", type=click.Path(dir_okay=False), help="A common_site_config.json.")
def audit_ports_command(paths, port, bench, site, site_config, common_config):
	"""Find configs that route or expose the realtime service on a stale port (exit 1 if any).

	Without PATHS, the bench's own files (as `diagnose --bench` audits them)."""
	files: list = []
	uds = None
	if port is not None:
		try:
			port = check_port(port)
		except ValueError as e:
			raise click.BadParameter(str(e), param_hint="--socketio-port") from None
	elif bench or site_config or common_config:
		if common_config and not (bench or site_config):
			try:
				resolved = resolve(site or "localhost", {}, read_config_file(common_config))
			except ConfigFileError as e:
				raise ConfigError(str(e)) from None
		else:
			config, files = load_config(bench, site, site_config, common_config)
			resolved = config({})
		port, uds = resolved.socketio_port, resolved.socketio_uds
	else:
		raise click.UsageError("give --socketio-port N, or the bench config (--bench DIR --site SITE)")
	if not paths and not files:
		raise click.UsageError("name the files or folders to audit, or give --bench DIR --site SITE")
	raise SystemExit(run_audit(paths or files, port, uds))


def run_proxy_audit(paths) -> int:
	"""Print every proxy setting that weakens the realtime route; the exit code says whether any."""
	try:
		findings = (
			audit_proxies(paths) + audit_timeouts(paths, ENGINEIO_PING_WINDOW) + audit_frappe_docker(paths)
		)
	except ConfigSyntaxError as e:
		raise ConfigError(f"{e} (its server would refuse this file too)") from None
	for finding in findings:
		click.echo(format_proxy_finding(finding))
	if findings:
		click.echo(f"{len(findings)} proxy setting(s) weaken the realtime route", err=True)
		return EXIT_PROBLEM
	click.echo("no proxy setting found that weakens the realtime route", err=True)
	return EXIT_OK


@cli.command("audit-proxy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def audit_proxy_command(paths):
	"""Find proxy configs that overwrite the browser's Origin, log session ids, or cut idle sockets (exit 1 if any)."""
	raise SystemExit(run_proxy_audit(paths))


DIAGNOSE_MARKS = {True: ("✔", "green"), False: ("✘", "red"), None: ("–", "bright_black")}


def echo_diagnosis(report: dict, as_json: bool) -> None:
	"""One line per check (mark, name, elapsed, detail), then the hint."""
	if as_json:
		click.echo(json.dumps(report, indent=2))
		return
	click.echo(
		f"Realtime diagnosis of {report['site_name']} ({report['deployment_type']}): "
		f"{report['external_socketio_url']}{report['socketio_path']}"
	)
	if report.get("timeout_note"):
		click.echo(click.style("timeout: ", fg="yellow") + report["timeout_note"])
	width = max(len(check["name"]) for check in report["checks"])
	for check in report["checks"]:
		mark, color = DIAGNOSE_MARKS[check["ok"]]
		elapsed = f"{check['elapsed_ms']:.0f} ms" if check["ok"] is not None else ""
		click.echo(f"{click.style(mark, fg=color)} {check['name']:<{width}}  {elapsed:>7}  {check['detail']}")
	echo_clients(report.get("clients") or [])
	if report["hint"]:
		click.echo(click.style("hint: ", fg="yellow", bold=True) + report["hint"])
	else:
		click.echo(click.style("all checks passed", fg="green") + f" in {report['elapsed_ms']:.0f} ms")


def echo_clients(rows: list[dict]) -> None:
	"""Each client's socket URL: does it connect (client_paths), does it hear this site (client_delivery)."""
	if not rows:
		return
	click.echo("clients:")
	for row in rows:
		reach, reach_color = DIAGNOSE_MARKS[row["ok"]]
		heard, heard_color = DIAGNOSE_MARKS[row.get("delivered")]
		click.echo(
			f"  {row['client']}: {row['url'] or '-'}  connects {click.style(reach, fg=reach_color)}  "
			f"delivered {click.style(heard, fg=heard_color)}  {row.get('delivery') or ''}"
		)


def diagnose_options(f):
	"""--no-external, --sid, --ca-file and --json: shared by this CLI and the bench command."""
	f = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)
	f = click.option(
		"--client-url",
		"client_urls",
		multiple=True,
		callback=_checked_each(check_client_url),
		help="Another client's socket URL (e.g. http://app.example.com:8443/socket.io/): checked as the "
		"clients the bench knows are, delivery included; repeatable.",
	)(f)
	f = click.option(
		"--proxy-config",
		"proxy_configs",
		multiple=True,
		type=click.Path(exists=True),
		help="A proxy config file or folder the config check also reads (stale ports, short timeouts); repeatable.",
	)(f)
	f = click.option(
		"--ca-file",
		type=click.Path(dir_okay=False),
		callback=_checked(check_ca_file),
		help="A PEM file of CA certificates every HTTPS probe trusts too (a private CA; never a key).",
	)(f)
	f = click.option(
		"--sid",
		envvar=SID_ENV,
		help=f"A logged-in session's sid cookie, for the end-to-end check (or env {SID_ENV}).",
	)(f)
	return click.option(
		"--no-external", "no_external", is_flag=True, help="Skip the public URL: probe this host only."
	)(f)


@cli.command("diagnose")
@bench_config_options
@click.option(
	"--timeout",
	default=DEFAULT_PROBE_TIMEOUT,
	show_default=True,
	callback=_checked(check_timeout),
	help="Seconds for the whole diagnosis.",
)
@diagnose_options
@dev_server_option
def diagnose_command(
	config: RavenConfig | None,
	bench_configs,
	config_files,
	bench_root,
	dev_server,
	timeout: float,
	no_external: bool,
	sid,
	ca_file,
	proxy_configs,
	client_urls,
	as_json,
):
	"""Probe every hop of the realtime path and name the root cause (exit 1 if a check fails).

	Without --site, every site of the bench: one line each, the bench-wide checks run once."""
	runtime = observe_runtime()
	if bench_configs is not None:
		if sid:
			raise click.UsageError("a session belongs to one site: give --site with --sid")
		reports: list[dict] = []
		for site_config, files in bench_configs:
			shared = reports[0]["checks"] if reports else ()
			left, live = ask_dev_server(
				site_config, bench_root, dev_server, timeout, not no_external, ca_file
			)
			clients, notes = client_model(site_config, bench_root, dev_server, live, client_urls)
			reports.append(
				diagnose(
					site_config,
					clients=clients,
					client_notes=notes,
					timeout=left,
					external=not no_external,
					audit_paths=[*files, *proxy_configs],
					ca_file=ca_file,
					shared=shared,
					runtime=runtime,
				)
			)
		echo_bench_diagnosis(reports, as_json)
		raise SystemExit(EXIT_OK if all(r["ok"] for r in reports) else EXIT_PROBLEM)
	left, live = ask_dev_server(config, bench_root, dev_server, timeout, not no_external, ca_file)
	clients, notes = client_model(config, bench_root, dev_server, live, client_urls)
	report = diagnose(
		config,
		clients=clients,
		client_notes=notes,
		timeout=left,
		external=not no_external,
		sid=sid,
		audit_paths=[*config_files, *proxy_configs],
		ca_file=ca_file,
		runtime=runtime,
	)
	echo_diagnosis(report, as_json)
	raise SystemExit(EXIT_OK if report["ok"] else EXIT_PROBLEM)


def echo_bench_diagnosis(reports: list[dict], as_json: bool) -> None:
	"""One line per site: its verdict, and the first failing check with its hint."""
	if as_json:
		click.echo(json.dumps({"sites": reports}, indent=2))
		return
	width = max(len(r["site_name"]) for r in reports)
	for report in reports:
		mark, color = DIAGNOSE_MARKS[report["ok"]]
		if report["ok"]:
			line = f"all checks passed in {report['elapsed_ms']:.0f} ms ({report['external_socketio_url']})"
		else:
			first = next(c for c in report["checks"] if c["ok"] is False)
			line = f"{first['name']}: {report['hint']}"
		click.echo(f"{click.style(mark, fg=color)} {report['site_name']:<{width}}  {line}")


def main() -> None:
	cli(prog_name="raven-realtime")


if __name__ == "__main__":
	main()
