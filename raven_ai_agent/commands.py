"""`bench --site X raven-realtime ...`: the standalone CLI's commands, with the config read
from the site through Frappe (settings overrides included).

Bench imports this module and reads `commands`; an import error here would hide the
commands silently, so only click and frappe.commands are imported at module level.
"""

from contextlib import contextmanager

import click
from frappe.commands import get_site, pass_context


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


commands = [raven_realtime]
