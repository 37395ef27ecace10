"""Install hooks."""

import frappe

from raven_ai_agent.config import SETTINGS_DOCTYPE


def after_install() -> None:
	"""Save the settings once: a Single never saved reads as empty values, not its defaults."""
	doc = frappe.get_single(SETTINGS_DOCTYPE)
	doc.save(ignore_permissions=True)
