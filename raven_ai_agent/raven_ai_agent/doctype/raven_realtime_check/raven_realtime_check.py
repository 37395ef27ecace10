# Copyright (c) 2026, raven_ai_agent developers
# For license information, please see license.txt

import frappe
from frappe.model.document import Document
from frappe.utils import add_days, now_datetime


class RavenRealtimeCheck(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		alert: DF.Data | None
		check_ms: DF.Code | None
		checked_on: DF.Datetime | None
		failing_check: DF.Data | None
		field_summary: DF.Code | None
		frappe_version: DF.Data | None
		hint: DF.SmallText | None
		ok: DF.Check
		raven_version: DF.Data | None
		total_ms: DF.Float
	# end: auto-generated types

	@staticmethod
	def clear_old_logs(days: int = 30) -> None:
		"""Called by Log Settings (its daily clean-up) with the days set there: the history is
		kept the way every Frappe log is, not by a cleaner of our own."""
		frappe.db.delete("Raven Realtime Check", {"creation": ("<", add_days(now_datetime(), -days))})
