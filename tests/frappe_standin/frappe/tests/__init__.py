"""frappe.tests: v16's test classes, `UnitTestCase` and `IntegrationTestCase` (frappe/tests/classes/
on version-16), exist only while the stand-in runs as v16 (frappe.standin.set_version); on v15
importing them fails, as it does there."""

V16_CLASSES = ("UnitTestCase", "IntegrationTestCase")


def __getattr__(name: str):
	if name in V16_CLASSES and _major() >= 16:
		from frappe.tests import classes

		return getattr(classes, name)
	raise AttributeError(f"module 'frappe.tests' has no attribute {name!r}")


def _major() -> int:
	from frappe import standin

	return standin.major()
