"""frappe/tests/classes/ (v16): UnitTestCase for code without a site, IntegrationTestCase (a
UnitTestCase) with the site set up and rolled back around the class. Reached through
`frappe.tests` only while the stand-in runs as v16."""

import unittest

from frappe.tests.utils import SiteTestCase


class UnitTestCase(unittest.TestCase):
	"""No site, no database: the isolated test's base class."""

	maxDiff = 10_000


class IntegrationTestCase(SiteTestCase, UnitTestCase):
	"""The connected-site base class that replaces FrappeTestCase; no deprecation warning."""
