"""frappe/handler.py (v15): run `/api/method/<cmd>` with the whitelist and HTTP-method checks."""

from __future__ import annotations

import frappe
from frappe import _, is_whitelisted
from frappe.utils.response import json_handler  # noqa: F401 - same module surface as v15


def handle():
	"""Run `form_dict.cmd`; a non-None result becomes `frappe.response["message"]`."""
	cmd = frappe.local.form_dict.cmd
	data = None
	if cmd != "login":
		data = execute_cmd(cmd)
	if data is not None:
		frappe.response["message"] = data
	return frappe.response


def execute_cmd(cmd, from_async=False):
	"""Resolve `cmd` (honouring `override_whitelisted_methods`), check the whitelist and the HTTP
	method, then `frappe.call` it with `form_dict` (keys it does not accept are dropped)."""
	cmd = frappe.override_whitelisted_method(cmd)

	try:
		method = frappe.get_attr(cmd)
	except Exception as e:
		frappe.throw(_("Failed to get method for command {0} with {1}").format(cmd, e))

	if from_async:
		method = method.queue

	is_whitelisted(method)
	is_valid_http_method(method)

	return frappe.call(method, **frappe.form_dict)


def is_valid_http_method(method):
	"""PermissionError ("Not permitted") when the request's method is not allowed for `method`."""
	if frappe.flags.in_safe_exec:
		return
	http_method = frappe.local.request.method
	if http_method not in frappe.allowed_http_methods_for_whitelisted_func[method]:
		throw_permission_error()


def throw_permission_error():
	"""v15 has this here only (not as `frappe.throw_permission_error`)."""
	frappe.throw(_("Not permitted"), frappe.PermissionError)
