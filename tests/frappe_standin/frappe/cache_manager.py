"""frappe/cache_manager.py (v15): what clearing the cache of a user / DocType / site drops."""

from __future__ import annotations

import frappe

user_cache_keys = (
	"bootinfo",
	"user_recent",
	"roles",
	"user_doc",
	"lang",
	"defaults",
	"user_permissions",
	"home_page",
	"linked_with",
	"desktop_icons",
	"portal_menu_items",
	"user_perm_can_read",
	"has_role:Page",
	"has_role:Report",
	"desk_sidebar_items",
	"contacts",
)

doctype_cache_keys = (
	"doctype_form_meta",
	"last_modified",
	"linked_doctypes",
	"workflow",
	"data_import_column_header_map",
)


def clear_user_cache(user=None):
	"""One user: its field in each per-user hash (e.g. `bootinfo`) and its `user:<user>` keys;
	no user: those hashes entirely."""
	if user:
		frappe.cache.hdel_names(user_cache_keys, user)
		frappe.cache.delete_keys("user:" + user)
	else:
		frappe.cache.delete_key(user_cache_keys)


def clear_doctype_cache(doctype=None):
	"""A DocType's cached controller, documents and meta (now and after commit/rollback)."""
	if doctype:
		frappe.controllers.get(frappe.local.site, {}).pop(doctype, None)
	else:
		frappe.controllers.pop(frappe.local.site, None)

	def _clear():
		if doctype:
			frappe.clear_document_cache(doctype)
			frappe.cache.hdel_names(doctype_cache_keys, doctype)
			frappe.cache.hdel("doctype_meta", doctype)
		else:
			frappe.cache.delete_value(["doctype_meta", *doctype_cache_keys])
			frappe.cache.delete_keys("document_cache::")

	_clear()
	if hasattr(frappe.db, "after_commit"):
		frappe.db.after_commit.add(_clear)
		frappe.db.after_rollback.add(_clear)


def clear_cache(user: str | None = None, doctype: str | None = None):
	if doctype:
		clear_doctype_cache(doctype)
	elif user:
		clear_user_cache(user)
	else:
		keys_to_delete = set(frappe.cache.get_keys(""))
		for key in frappe.get_hooks("persistent_cache_keys"):
			keys_to_delete.difference_update(frappe.cache.get_keys(key))
		frappe.cache.delete_value(list(keys_to_delete), make_keys=False)
		frappe.local.cache = {}
		frappe.local.new_doc_templates = {}
		for fn in frappe.get_hooks("clear_cache"):
			frappe.get_attr(fn)()

	frappe.local.role_permissions = {}
	if hasattr(frappe.local, "request_cache"):
		frappe.local.request_cache.clear()
