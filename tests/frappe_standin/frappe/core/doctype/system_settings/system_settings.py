"""System Settings (v15), only its `enable_scheduler` field: what frappe.utils.scheduler reads."""

from frappe.model.document import Document


class SystemSettings(Document):
	pass
