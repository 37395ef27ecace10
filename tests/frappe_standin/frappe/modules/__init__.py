"""Module -> app lookup and DocType controller modules (frappe/modules, v15)."""

from __future__ import annotations

import importlib
import os

import frappe


def get_module_app(module: str) -> str:
	"""App whose `modules.txt` lists `module` (v15 reads `frappe.local.module_app`)."""
	if not getattr(frappe.local, "module_app", None):
		frappe.local.module_app = {}
		for app in frappe.get_all_apps(with_internal_apps=True):
			try:
				path = os.path.dirname(importlib.import_module(app).__file__ or "")
			except ImportError:
				continue
			for mod in frappe.get_file_items(os.path.join(path, "modules.txt")):
				frappe.local.module_app[frappe.scrub(mod)] = app
	app = frappe.local.module_app.get(frappe.scrub(module))
	if not app:
		raise frappe.DoesNotExistError(f"Module {module} not found")
	return app


def get_module_name(
	doctype: str, module: str, prefix: str = "", suffix: str = "", app: str | None = None
) -> str:
	app = frappe.scrub(app or get_module_app(module))
	module = frappe.scrub(module)
	doctype = frappe.scrub(doctype)
	return f"{app}.{module}.doctype.{doctype}.{prefix}{doctype}{suffix}"


def load_doctype_module(doctype: str, module: str | None = None, prefix: str = "", suffix: str = ""):
	"""Import `<app>.<module>.doctype.<dt>.<dt>` for a DocType."""
	module = module or frappe.db.get_value("DocType", doctype, "module")
	module_name = get_module_name(doctype, module, prefix, suffix)
	try:
		return importlib.import_module(module_name)
	except ImportError as e:
		raise ImportError(
			f"Module import failed for {doctype}, the DocType you're trying to open might be deleted.\nError: {e}"
		) from e


def scrub(txt: str) -> str:
	return frappe.scrub(txt)
