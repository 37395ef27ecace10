"""frappe/boot.py (v15), the parts of `get_bootinfo` that concern the app.

Kept: `user` (name, roles), `sitename`, `developer_mode` / `socketio_port` / `file_watcher_port`
when present in conf, then every `boot_session` hook called as `fn(bootinfo)` (not wrapped in
try/except, as in v15). The rest of the real bootinfo (modules, docs, translations...) is omitted."""

from __future__ import annotations

import frappe


def get_bootinfo():
	"""build and return boot info"""
	bootinfo = frappe._dict()
	hooks = frappe.get_hooks()

	get_user(bootinfo)
	bootinfo.sitename = frappe.local.site
	load_conf_settings(bootinfo)

	for method in hooks.boot_session or []:
		frappe.get_attr(method)(bootinfo)

	if bootinfo.lang:
		bootinfo.lang = str(bootinfo.lang)
	bootinfo.error_report_email = frappe.conf.error_report_email
	return bootinfo


def get_user(bootinfo):
	bootinfo.user = frappe._dict(name=frappe.session.user, roles=frappe.get_roles())


def load_conf_settings(bootinfo):
	for key in ("developer_mode", "socketio_port", "file_watcher_port"):
		if key in frappe.conf:
			bootinfo[key] = frappe.conf.get(key)
