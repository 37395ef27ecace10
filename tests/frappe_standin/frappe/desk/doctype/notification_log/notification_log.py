"""Notification Log (frappe/desk/doctype/notification_log, v15): the desk's bell.

Modelled: the row, and after_insert's `notification` realtime event to the user (after commit).
Not modelled: Notification Settings (v15 never emails an "Alert" type anyway), `make_notification_logs`.
"""

import frappe
from frappe.model.document import Document


class NotificationLog(Document):
	def after_insert(self):
		frappe.publish_realtime("notification", after_commit=True, user=self.for_user)
