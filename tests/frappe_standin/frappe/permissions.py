"""Roles and DocType permissions (frappe/permissions.py, v15), role rules only.

Not modelled: user permissions, sharing, `if_owner`, permlevels above 0, controller
`has_permission` hooks and `has_permission` hooks of apps."""

from __future__ import annotations

import frappe

GUEST_ROLE = "Guest"
ALL_USER_ROLE = "All"  # any logged-in user
SYSTEM_USER_ROLE = "Desk User"  # v15: every System User gets it
ADMIN_ROLE = "Administrator"
AUTOMATIC_ROLES = (GUEST_ROLE, ALL_USER_ROLE, SYSTEM_USER_ROLE, ADMIN_ROLE)

rights = (
	"select",
	"read",
	"write",
	"create",
	"delete",
	"submit",
	"cancel",
	"amend",
	"print",
	"email",
	"report",
	"import",
	"export",
	"share",
)


def is_system_user(user: str | None = None) -> bool:
	user = user or frappe.session.user
	row = frappe.db.sql("select `user_type` from `tabUser` where `name`=%s", (user,))
	return bool(row) and row[0][0] == "System User"


def get_roles(user=None, with_standard=True) -> list[str]:
	"""Roles of `user`, cached in the Redis hash `roles`; Guest -> ["Guest"]; Administrator -> all
	roles; others: their roles + "All", "Guest" (+ "Desk User" for System Users)."""
	if not user:
		user = frappe.session.user
	if user == "Guest" or not user:
		return [GUEST_ROLE]

	def get():
		if user == "Administrator":
			return frappe.db.sql("select `name` from `tabRole`", pluck=True)
		roles = [
			r
			for r in frappe.db.sql(
				"select `role` from `tabHas Role` where `parenttype`='User' and `parent`=%s",
				(user,),
				pluck=True,
			)
			if r not in AUTOMATIC_ROLES
		]
		roles += [ALL_USER_ROLE, GUEST_ROLE]
		if is_system_user(user):
			roles.append(SYSTEM_USER_ROLE)
		return roles

	roles = frappe.cache.hget("roles", user, get)
	if not with_standard:
		roles = [r for r in roles if r not in AUTOMATIC_ROLES]
	return roles


def get_role_permissions(doctype_meta, user=None) -> dict:
	if isinstance(doctype_meta, str):
		doctype_meta = frappe.get_meta(doctype_meta)
	user = user or frappe.session.user
	roles = get_roles(user)
	perms = frappe._dict()
	for perm in doctype_meta.permissions:
		if perm.get("permlevel", 0) == 0 and perm.role in roles:
			for ptype in rights:
				if perm.get(ptype):
					perms[ptype] = 1
	return perms


def has_permission(
	doctype,
	ptype="read",
	doc=None,
	user=None,
	raise_exception=True,
	*,
	parent_doctype=None,
	debug=False,
	ignore_share_permissions=False,
) -> bool:
	"""Administrator always; otherwise some permlevel-0 row of the DocType's `permissions` whose
	role the user has and which grants `ptype`."""
	if not user:
		user = frappe.session.user
	if user == "Administrator":
		return True
	role_permissions = get_role_permissions(frappe.get_meta(doctype), user=user)
	if ptype == "read" and role_permissions.get("select") and not role_permissions.get("read"):
		return False
	return bool(role_permissions.get(ptype))
