"""frappe/utils/scheduler.py (v15): whether the site's scheduler runs."""

import frappe
from frappe.utils import cint

SETTINGS = "System Settings"


def is_scheduler_inactive(verbose=True) -> bool:
	"""Maintenance mode, a paused scheduler, or a disabled one."""
	if frappe.local.conf.maintenance_mode:
		return True
	if frappe.local.conf.pause_scheduler:
		return True
	return is_scheduler_disabled(verbose=verbose)


def is_scheduler_disabled(verbose=True) -> bool:
	"""`disable_scheduler` in the config, else System Settings' enable_scheduler unset (a new
	site's scheduler is disabled)."""
	if frappe.conf.disable_scheduler:
		return True
	return not cint(frappe.db.get_single_value(SETTINGS, "enable_scheduler"))
