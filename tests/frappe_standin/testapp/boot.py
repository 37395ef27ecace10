import frappe

CALLS: list[tuple[str, str]] = []


def boot_session(bootinfo):
	CALLS.append(("boot_session", frappe.session.user))
	bootinfo.standin_boot = "cached-part"


def extend_bootinfo(bootinfo):
	CALLS.append(("extend_bootinfo", frappe.session.user))
	bootinfo.standin_extend = frappe.session.user
