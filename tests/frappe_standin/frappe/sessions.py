"""frappe/sessions.py (v15): `get()` builds the session boot, cached per user."""

from __future__ import annotations

import json

import frappe


def get():
	"""get session boot info

	Boot from the Redis hash `bootinfo` (field = user) unless `conf.disable_session_cache`;
	on a miss `frappe.boot.get_bootinfo()` (running `boot_session` hooks) and store it. Then,
	on every call and uncached, each `extend_bootinfo` hook as `fn(bootinfo=bootinfo)`."""
	from frappe.boot import get_bootinfo

	bootinfo = None
	if not getattr(frappe.conf, "disable_session_cache", None):
		bootinfo = frappe.cache.hget("bootinfo", frappe.session.user)
		if bootinfo:
			bootinfo["from_cache"] = 1
			bootinfo["user"]["recent"] = json.dumps(frappe.cache.hget("user_recent", frappe.session.user))

	if not bootinfo:
		bootinfo = get_bootinfo()
		frappe.cache.hset("bootinfo", frappe.session.user, bootinfo)

	bootinfo.read_only = bool(frappe.flags.read_only)

	for hook in frappe.get_hooks("extend_bootinfo"):
		frappe.get_attr(hook)(bootinfo=bootinfo)

	bootinfo["lang"] = frappe.local.lang
	bootinfo["disable_async"] = frappe.conf.disable_async
	return bootinfo
