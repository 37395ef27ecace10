"""frappe.tests (v15 has no `IntegrationTestCase`; that is v16's name)."""
