"""frappe/installer.py (v15.41): `install_app` and how it resolves `required_apps`.

What matters for the app: every name in a hook's `required_apps` goes through
`parse_app_name`; a bare name (no path, no git URL, no "org/") reaches `find_org`, which asks
GitHub (`requests.head("https://api.github.com/repos/<org>/<name>")`). A server without a
route to GitHub fails there and the app is not installed. The stand-in never touches the
network: `find_org` raises what requests raises on such a server (stand-in's only liberty).
"""

from __future__ import annotations

import os
import re

import requests

import frappe


class InvalidRemoteException(Exception):
	pass


def is_git_url(url: str) -> bool:
	pattern = r"(?:git|ssh|https?|\w+@[\w.-]+):(//)?(.*?)(\.git)?(/?|#[-\d\w._]+?)$"
	return bool(re.match(pattern, url))


def find_org(org_repo: str) -> tuple[str, str]:
	"""v15.41 asks api.github.com for frappe/<repo>, then erpnext/<repo>: no route, no answer."""
	raise requests.exceptions.ConnectionError(
		f"HTTPSConnectionPool(host='api.github.com', port=443): Max retries exceeded with url: "
		f"/repos/frappe/{org_repo} (Caused by NameResolutionError: Failed to resolve 'api.github.com')"
	)


def fetch_details_from_tag(_tag: str) -> tuple[str, str, str | None]:
	app_tag = _tag.split("@")
	org_repo = app_tag[0].split("/")
	try:
		repo, tag = app_tag
	except ValueError:
		repo, tag = [*app_tag, None]
	try:
		org, repo = org_repo
	except Exception:
		org, repo = find_org(org_repo[0])
	return org, repo, tag


def parse_app_name(name: str) -> str:
	name = name.rstrip("/")
	if os.path.exists(name):
		repo = os.path.split(name)[-1]
	elif is_git_url(name):
		if name.startswith("git@") or name.startswith("ssh://"):
			_repo = name.split(":")[1].rsplit("/", 1)[1]
		else:
			_repo = name.rsplit("/", 2)[2]
		repo = _repo.split(".", 1)[0]
	else:
		_, repo, _ = fetch_details_from_tag(name)
	return repo


def install_app(name, verbose=False, set_as_patched=True, force=False):
	"""v15.41's order: required apps first (each through parse_app_name), then apps.txt, the
	already-installed check, before_install, DocType sync, installed_apps, after_install."""
	from frappe import standin

	frappe.flags.in_install = name
	frappe.clear_cache()
	app_hooks = frappe.get_hooks(app_name=name)
	installed_apps = frappe.get_installed_apps()

	if app_hooks.required_apps:
		for app in app_hooks.required_apps:
			required_app = parse_app_name(app)
			install_app(required_app, verbose=verbose)

	frappe.flags.in_install = name
	frappe.clear_cache()

	if name not in frappe.get_all_apps():
		raise Exception(f"App {name} not in apps.txt")

	if not force and name in installed_apps:
		print(f"App {name} already installed")
		return

	for before_install in app_hooks.before_install or []:
		out = frappe.get_attr(before_install)()
		if out is False:
			return

	if name != "frappe":
		standin.sync_doctypes(name)

	add_to_installed_apps(name)

	for after_install in app_hooks.after_install or []:
		frappe.get_attr(after_install)()

	frappe.flags.in_install = False


def add_to_installed_apps(app_name, rebuild_website=True):
	installed_apps = frappe.get_installed_apps()
	if app_name not in installed_apps:
		installed_apps.append(app_name)
		frappe.db.set_global("installed_apps", frappe.as_json(installed_apps))
		frappe.db.commit()
	frappe.clear_cache()
