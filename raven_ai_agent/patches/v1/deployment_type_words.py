"""Deployment Type is stored as the words the form shows ("Production VPS"), no longer as the
identifier ("vps_prod"): rewrite a value saved before, so the next save passes Frappe's check of
Select options."""

import frappe

from raven_ai_agent.config import SETTINGS_DOCTYPE, DeploymentType


def execute() -> None:
	stored = frappe.db.get_single_value(SETTINGS_DOCTYPE, "deployment_type")
	try:
		label = DeploymentType(stored).label
	except ValueError:
		return  # "Auto", empty, or already words
	frappe.db.set_single_value(SETTINGS_DOCTYPE, "deployment_type", label)
	frappe.clear_document_cache(SETTINGS_DOCTYPE, SETTINGS_DOCTYPE)
