"""frappe/tests/utils.py (v15): FrappeTestCase and helpers.

As in v15, `setUpClass` does not set `frappe.flags.in_test` (bench's test runner does; the
stand-in's `frappe.standin.reset(in_test=True)` plays that part). It commits what came before,
and after the class rolls back and restores `frappe.local.flags`."""

from __future__ import annotations

import copy
import unittest
import warnings
from contextlib import contextmanager

import frappe

# v16 (frappe/deprecation_dumpster.py, get_tests_CompatFrappeTestCase): FrappeTestCase's __new__
# is @deprecated, so every test instance warns; removal is planned for v17.
FRAPPE_TEST_CASE_DEPRECATED = (
	"frappe.tests.utils.FrappeTestCase was deprecated in 2024-20-08 and will be removed in v17: Import "
	"`frappe.tests.UnitTestCase` or `frappe.tests.IntegrationTestCase` respectively instead of "
	"`frappe.tests.utils.FrappeTestCase`"
)


class SiteTestCase(unittest.TestCase):
	"""What FrappeTestCase (v15) and IntegrationTestCase (v16) share here: a connected site,
	a commit before the class, a rollback and the flags restored after it."""

	TEST_SITE = "test_site"
	SHOW_TRANSACTION_COMMIT_WARNINGS = False
	maxDiff = 10_000

	@classmethod
	def setUpClass(cls) -> None:
		cls.TEST_SITE = getattr(frappe.local, "site", None) or cls.TEST_SITE
		cls.ADMIN_PASSWORD = frappe.get_conf(cls.TEST_SITE).admin_password
		cls._primary_connection = frappe.local.db
		cls._secondary_connection = None
		frappe.db.commit()
		if cls.SHOW_TRANSACTION_COMMIT_WARNINGS:
			frappe.db.before_commit.add(_commit_watcher)
		cls.addClassCleanup(_restore_thread_locals, copy.deepcopy(frappe.local.flags))
		cls.addClassCleanup(_rollback_db)
		return super().setUpClass()

	@contextmanager
	def set_user(self, user: str):
		try:
			old_user = frappe.session.user
			frappe.set_user(user)
			yield
		finally:
			frappe.set_user(old_user)


class FrappeTestCase(SiteTestCase):
	"""v15's base class; on v16 a deprecated alias that warns on every instance."""

	def __new__(cls, *args, **kwargs):
		if _major() >= 16:
			warnings.warn(FRAPPE_TEST_CASE_DEPRECATED, DeprecationWarning, stacklevel=2)
		return super().__new__(cls)


def _commit_watcher():
	import traceback

	print("Warning:, transaction committed during tests.")
	traceback.print_stack(limit=10)


def _rollback_db():
	frappe.db.value_cache = {}
	frappe.db.rollback()


def _restore_thread_locals(flags):
	frappe.local.flags = flags
	frappe.local.error_log = []
	frappe.local.message_log = []
	frappe.local.debug_log = []
	frappe.local.conf = frappe._dict(frappe.get_site_config())
	frappe.local.cache = {}
	frappe.local.lang = "en"
	frappe.local.preload_assets = {"style": [], "script": [], "icons": []}
	if hasattr(frappe.local, "request"):
		delattr(frappe.local, "request")


def _major() -> int:
	from frappe import standin

	return standin.major()
