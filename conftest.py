"""Test-wide set-up: the Frappe stand-in on sys.path, and the real-services fixtures.

The stand-in (tests/frappe_standin/frappe) is importable as `frappe` in tests only; the
package never ships it, and the core is proven importable without it.
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

STANDIN = Path(__file__).resolve().parent / "tests" / "frappe_standin"
if str(STANDIN) not in sys.path:
	sys.path.insert(0, str(STANDIN))

pytest_plugins = ["tests.stack.fixtures"]

PACKAGE = Path(__file__).resolve().parent / "raven_ai_agent"


@pytest.fixture(autouse=True, scope="module")
def frappe_site_for_app_tests(request):
	"""The app's own FrappeTestCase files expect a site, as `bench run-tests` provides one."""
	if not Path(str(request.path)).is_relative_to(PACKAGE):
		yield
		return
	import frappe
	from frappe import standin

	standin.reset(apps=("raven_ai_agent",))
	yield
	frappe.destroy()


# CI runs the property-based tests with a fixed seed: a red run is then reproducible and never
# a matter of luck; developers' runs keep exploring new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
	settings.load_profile("ci")
