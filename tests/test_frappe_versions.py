"""The Frappe stand-in as v15 (15.41) and as v16, and the app on both: the test base classes
(v16's UnitTestCase / IntegrationTestCase; FrappeTestCase deprecated there, removal planned for
v17), the session check's answer, the publish_realtime signature and the boot hook.

Facts, read in the real sources: frappe/tests/README.md and frappe/tests/classes/ (version-16:
`from frappe.tests import UnitTestCase, IntegrationTestCase`); frappe/deprecation_dumpster.py
(get_tests_CompatFrappeTestCase: FrappeTestCase.__new__ is @deprecated, "v17"); frappe/realtime.py
(get_user_info: installed_apps on v16.4.1, no socket secret); frappe/sessions.py (extend_bootinfo still run on every
get(), v16 as v15).
"""

import importlib.util
import inspect
import io
import json
import re
import unittest
import warnings
from pathlib import Path

import frappe
import frappe.sessions
import pytest
from frappe import standin

from raven_ai_agent.boot import BOOT_KEY

# Every DocType's own test file, as `bench run-tests --app raven_ai_agent` finds them.
APP_TESTS = sorted(
	(Path(__file__).resolve().parents[1] / "raven_ai_agent/raven_ai_agent/doctype").glob("*/test_*.py")
)
# frappe.publish_realtime in 15.41 and version-16 (frappe/realtime.py): same names, order, defaults.
PUBLISH_REALTIME = (
	"event",
	"message",
	"room",
	"user",
	"doctype",
	"docname",
	"task_id",
	"after_commit",
)


@pytest.fixture(params=standin.VERSIONS)
def version(request, redis_server):
	standin.reset(
		apps=("raven_ai_agent",), site_config={"redis_queue": redis_server.url}, version=request.param
	)
	yield request.param
	frappe.destroy()
	standin.set_version(standin.DEFAULT_VERSION)


def load_app_tests(name: str, path: Path):
	"""An app DocType test module imported afresh, as `bench run-tests` imports it on that bench."""
	spec = importlib.util.spec_from_file_location(name, path)
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return module


def test_every_doctype_has_its_own_test_file():
	doctypes = {p.name for p in APP_TESTS[0].parents[1].iterdir() if (p / f"{p.name}.json").is_file()}
	assert (
		{p.parent.name for p in APP_TESTS} == doctypes == {"raven_realtime_settings", "raven_realtime_check"}
	)


@pytest.mark.parametrize("path", APP_TESTS, ids=lambda p: p.stem)
def test_the_app_s_doctype_tests_pass_without_deprecation_warnings(version, path):
	with warnings.catch_warnings():
		warnings.simplefilter("error", DeprecationWarning)
		module = load_app_tests(f"app_{path.stem}_{version.replace('.', '_')}", path)
		cases = [c for c in vars(module).values() if isinstance(c, type) and c.__name__.startswith("Test")]
		expected = "IntegrationTestCase" if version.startswith("16") else "FrappeTestCase"
		assert cases and all(c.__mro__[1].__name__ == expected for c in cases)
		suite = unittest.defaultTestLoader.loadTestsFromModule(module)
		result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
	assert result.testsRun >= 3 and result.wasSuccessful(), result.errors + result.failures


def test_the_base_classes_each_release_has(version):
	from frappe.tests.utils import FrappeTestCase

	class Case(FrappeTestCase):
		def test_nothing(self):
			pass

	with warnings.catch_warnings(record=True) as caught:
		warnings.simplefilter("always")
		Case("test_nothing")
	deprecated = [w for w in caught if issubclass(w.category, DeprecationWarning)]
	if version.startswith("16"):
		from frappe.tests import IntegrationTestCase, UnitTestCase

		assert issubclass(IntegrationTestCase, UnitTestCase)
		assert deprecated and "removed in v17" in str(deprecated[0].message)
	else:
		with pytest.raises(ImportError):
			from frappe.tests import IntegrationTestCase  # noqa: F401
		assert not deprecated


def test_get_user_info_answers_a_session_alone(version):
	"""No socket secret on a v16 release (only develop has one); v16 adds installed_apps."""
	standin.create_user("jane@example.com", roles=["System Manager"])
	path = "/api/method/frappe.realtime.get_user_info"
	answer = standin.call_api(path, "GET", user="jane@example.com").body["message"]
	assert answer["user"] == "jane@example.com"
	assert ("raven_ai_agent" in answer.get("installed_apps", ())) is version.startswith("16")


def test_publish_realtime_signature_and_the_boot_hook_are_the_same(version):
	assert tuple(inspect.signature(frappe.realtime.publish_realtime).parameters) == PUBLISH_REALTIME
	boot = frappe.sessions.get()
	assert boot[BOOT_KEY]["socketio_namespace"] == f"/{frappe.local.site}"
	assert json.loads(json.dumps(boot[BOOT_KEY])) == boot[BOOT_KEY]


def test_the_app_hard_codes_no_desk_route():
	"""v16 moved desk from /app to /desk: the app prints and opens no desk URL of its own (the
	settings are named, not linked), so nothing it says depends on which prefix a bench serves."""
	package = Path(__file__).resolve().parents[1] / "raven_ai_agent"
	route = re.compile(r"[\"'`(]/(?:app|desk)(?:/|[\"'`])")
	found = [
		f"{path.relative_to(package)}:{number}"
		for path in package.rglob("*")
		if path.suffix in (".py", ".js", ".j2", ".html", ".json")
		for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
		if route.search(line)
	]
	assert found == []
