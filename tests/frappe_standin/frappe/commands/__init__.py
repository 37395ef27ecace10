"""frappe/commands/__init__.py (v15): `pass_context` and `get_site` for bench click commands."""

from __future__ import annotations

import sys
from functools import wraps

import click

import frappe


def pass_context(f):
	"""Call `f(frappe._dict(ctx.obj), ...)`; a missing/unknown site prints a message and exits 1."""

	@wraps(f)
	def _func(ctx, *args, **kwargs):
		ctx.obj["profile"]  # bench always passes it; v15 profiles with cProfile when set (not modelled)
		try:
			ret = f(frappe._dict(ctx.obj), *args, **kwargs)
		except frappe.exceptions.SiteNotSpecifiedError as e:
			click.secho(str(e), fg="yellow")
			sys.exit(1)
		except frappe.exceptions.IncorrectSitePath:
			site = ctx.obj.get("sites", "")[0]
			click.secho(f"Site {site} does not exist!", fg="yellow")
			sys.exit(1)
		return ret

	return click.pass_context(_func)


def get_site(context, raise_err=True):
	"""The first `--site`; SiteNotSpecifiedError (or None) when there is none."""
	try:
		site = context.sites[0]
		return site
	except (IndexError, TypeError):
		if raise_err:
			raise frappe.SiteNotSpecifiedError  # noqa: B904 - as v15
		return None
