# Copyright (c) 2026, raven_ai_agent developers
# For license information, please see license.txt

import frappe
from frappe.utils import add_days, now_datetime

try:  # v16 name first; v15 has FrappeTestCase
	from frappe.tests import IntegrationTestCase as FrappeTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase

from raven_ai_agent.monitor import CHECK_DOCTYPE
from raven_ai_agent.raven_ai_agent.doctype.raven_realtime_check.raven_realtime_check import (
	RavenRealtimeCheck,
)


def _row(**values):
	return frappe.get_doc(
		{"doctype": CHECK_DOCTYPE, "checked_on": now_datetime(), "ok": 1, "total_ms": 12.5, **values}
	).insert(ignore_permissions=True)


class TestRavenRealtimeCheck(FrappeTestCase):
	def test_old_rows_are_cleared_by_the_days_log_settings_passes(self):
		old, recent = _row(), _row(ok=0, failing_check="local_handshake")
		frappe.db.set_value(
			CHECK_DOCTYPE, old.name, "creation", add_days(now_datetime(), -31), update_modified=False
		)
		RavenRealtimeCheck.clear_old_logs(days=30)
		names = frappe.get_all(CHECK_DOCTYPE, pluck="name")
		self.assertIn(recent.name, names)
		self.assertNotIn(old.name, names)

	def test_log_settings_can_clear_it(self):
		"""Log Settings keeps a DocType whose controller has a static clear_old_logs(days)."""
		self.assertEqual(frappe.get_hooks("default_log_clearing_doctypes").get(CHECK_DOCTYPE), [30])
		self.assertTrue(callable(RavenRealtimeCheck.clear_old_logs))

	def test_only_system_managers_read_it(self):
		perms = frappe.get_meta(CHECK_DOCTYPE).permissions
		self.assertEqual({p.role for p in perms}, {"System Manager"})
		self.assertFalse(any(p.get("write") or p.get("create") for p in perms))
