import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

CALLS: list[str] = []


class StandinSettings(Document):
	def before_validate(self):
		CALLS.append("before_validate")

	def validate(self):
		CALLS.append("validate")
		if self.port and not (1 <= cint(self.port) <= 65535):
			frappe.throw(_("Port must be between 1 and 65535"))

	def before_save(self):
		CALLS.append("before_save")

	def on_update(self):
		CALLS.append("on_update")

	def on_change(self):
		CALLS.append("on_change")
