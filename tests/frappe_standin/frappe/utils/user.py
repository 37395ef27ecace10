"""frappe/utils/user.py (v15): the one helper the app uses."""

import frappe


def get_users_with_role(role: str) -> list[str]:
	"""Enabled users holding `role`, Administrator excluded (v15 selects it that way)."""
	from frappe.database.database import Q_HAS_ROLE

	users = frappe.db._tables()["User"]
	return sorted(
		name
		for name, row in users.items()
		if name != "Administrator"
		and row.get("enabled")
		and role in [r for (r,) in frappe.db.sql(Q_HAS_ROLE, (name,))]
	)
