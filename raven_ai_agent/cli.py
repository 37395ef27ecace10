"""`raven-realtime`: the realtime path of a bench, from its config files, without Frappe.

The same command bodies serve `bench --site X raven-realtime ...` (see commands.py);
only the way the config is loaded differs.
"""

import functools
import json
from pathlib import Path

import click

from raven_ai_agent.realtime.benchfiles import ConfigFileError, find_sites_path, read_bench, read_config_file
from raven_ai_agent.realtime.resolve import (
	AUTO,
	COMMON_CONFIG_FILE,
	SITE_CONFIG_FILE,
	DeploymentType,
	RavenConfig,
	resolve,
)
from raven_ai_agent.realtime.validate import check_base_url, check_socketio_path

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


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


def override_options(f):
	"""--base-url / --deployment-type / --socketio-path, as in Raven Realtime Settings."""
	f = click.option(
		"--socketio-path", callback=_checked(check_socketio_path), help="Socket.IO path (default /socket.io/)."
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


def overrides_from(base_url=None, deployment_type=None, socketio_path=None) -> dict:
	"""The CLI overrides in the shape of the settings document."""
	return {"base_url": base_url, "deployment_type": deployment_type, "socketio_path": socketio_path}


def bench_config_options(f):
	"""Where the config comes from: a bench folder, or explicit files. Passes `config` and `config_files`."""

	@click.option("--bench", "bench", type=click.Path(file_okay=False), help="Bench folder (or its sites/).")
	@click.option("--site", "site", help="Site name (the Socket.IO namespace is /<site>).")
	@click.option("--site-config", type=click.Path(dir_okay=False), help="A site_config.json.")
	@click.option("--common-config", type=click.Path(dir_okay=False), help="A common_site_config.json.")
	@override_options
	@functools.wraps(f)
	def wrapper(bench, site, site_config, common_config, base_url, deployment_type, socketio_path, **kwargs):
		config, files = load_config(bench, site, site_config, common_config)
		settings = overrides_from(base_url, deployment_type, socketio_path)
		return f(config=config(settings), config_files=files, **kwargs)

	return wrapper


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
			files = [sites_path / COMMON_CONFIG_FILE, sites_path / site / SITE_CONFIG_FILE]
		elif site_config_path:
			site_config = read_config_file(site_config_path)
			common = read_config_file(common_config_path) if common_config_path else {}
			files = [Path(p) for p in (common_config_path, site_config_path) if p]
		else:
			raise click.UsageError("say where the config is: --bench DIR, or --site-config FILE")
	except ConfigFileError as e:
		raise ConfigError(str(e)) from None
	files = [p for p in files if p.is_file()]
	return (lambda settings: resolve(site, site_config, common, settings)), files


def echo_show(config: RavenConfig, as_json: bool) -> None:
	"""Print the resolved config: every value with its source, then the warnings."""
	if as_json:
		click.echo(json.dumps(config.as_dict(), indent=2))
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
		source = sources.get(key)
		click.echo(f"{key:<{width}}  {data[key]}" + (f"  ({source})" if source else ""))
	click.echo(f"{'namespace':<{width}}  {config.namespace}")
	for warning in config.warnings:
		click.echo(click.style("warning: ", fg="yellow") + warning)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="raven_ai_agent")
def cli():
	"""Resolve, diagnose and route Frappe's realtime (Socket.IO) path for Raven."""


@cli.command()
@bench_config_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(config: RavenConfig, config_files, as_json: bool):
	"""Show where the browser must connect, and why."""
	echo_show(config, as_json)


def main() -> None:
	cli(prog_name="raven-realtime")


if __name__ == "__main__":
	main()
