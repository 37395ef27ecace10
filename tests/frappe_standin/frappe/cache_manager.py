"""frappe/cache_manager.py (v15): what clearing one user's cache drops."""

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


def clear_cache(user: str | None = None, doctype: str | None = None):
	"""One user's cache (what saving a User clears): its field in each per-user hash (e.g.
	`bootinfo`) and its `user:<user>` keys. A DocType's or the whole site's cache is not modelled:
	nothing the fast tests run clears it (the real bench runs install-app and migrate)."""
	if doctype or not user:
		raise NotImplementedError("the stand-in clears one user's cache only: clear_cache(user=...)")
	frappe.cache.hdel_names(user_cache_keys, user)
	frappe.cache.delete_keys("user:" + user)
	frappe.local.role_permissions = {}
	if hasattr(frappe.local, "request_cache"):
		frappe.local.request_cache.clear()
