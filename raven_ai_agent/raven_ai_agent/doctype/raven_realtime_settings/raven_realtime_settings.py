# Copyright (c) 2026, raven_ai_agent developers
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from raven_ai_agent.realtime.resolve import AUTO
from raven_ai_agent.realtime.validate import (
	check_base_url,
	check_ca_file,
	check_client_urls,
	check_realtime_address,
	check_socketio_path,
	check_timeout,
)


class RavenRealtimeSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		alert_by_email: DF.Check
		alert_state: DF.Data | None
		base_url: DF.Data | None
		ca_file: DF.Data | None
		check_external: DF.Check
		check_interval: DF.Literal["Off", "5 minutes", "15 minutes", "60 minutes"]  # noqa: F821, F722
		extra_client_urls: DF.SmallText | None
		deployment_type: DF.Literal["Auto", "Production VPS", "Sandbox tunnel", "Local bench"]  # noqa: F821, F722
		failure_alert_on: DF.Datetime | None
		field_reports: DF.Check
		last_diagnosis: DF.Code | None
		last_diagnosis_hint: DF.SmallText | None
		last_check_on: DF.Datetime | None
		last_diagnosis_on: DF.Datetime | None
		probe_timeout: DF.Float
		realtime_address: DF.Data | None
		socketio_path: DF.Data | None
	# end: auto-generated types

	def validate(self):
		"""Refuse what the resolver would have to ignore, with the field's own label."""
		self.deployment_type = self.deployment_type or AUTO
		if self.base_url:
			self.base_url = self._checked("base_url", check_base_url, self.base_url)
		if self.socketio_path:
			self.socketio_path = self._checked(
				"socketio_path", check_socketio_path, self.socketio_path.strip()
			)
		if self.realtime_address:
			# Kept as typed (a service name and port), refused when the resolver could not use it.
			self.realtime_address = self.realtime_address.strip()
			self._checked("realtime_address", check_realtime_address, self.realtime_address)
		self.probe_timeout = self._checked("probe_timeout", check_timeout, self.probe_timeout)
		if self.ca_file:
			self.ca_file = self._checked("ca_file", check_ca_file, self.ca_file)
		if self.extra_client_urls:
			urls = self._checked("extra_client_urls", check_client_urls, self.extra_client_urls)
			self.extra_client_urls = "\n".join(origin + path for origin, path in urls)

	def on_update(self):
		"""This process forgets at once that field reports were on; others within seconds."""
		from raven_ai_agent.api.field import forget_enabled

		forget_enabled()

	def _checked(self, fieldname: str, check, value):
		try:
			return check(value)
		except ValueError as e:
			frappe.throw(
				_("{0}: {1}").format(_(self.meta.get_label(fieldname)), str(e)), title=_("Invalid value")
			)
