import frappe

DOCTYPE = "Standin Settings"


@frappe.whitelist(methods=["POST"])
def set_label(label: str):
	frappe.db.set_single_value(DOCTYPE, "label", label)
	return frappe.db.get_single_value(DOCTYPE, "label")


@frappe.whitelist()
def set_label_any_method(label: str):
	frappe.db.set_single_value(DOCTYPE, "label", label)
	return "ok"


@frappe.whitelist(allow_guest=True)
def ping_guest():
	return {"user": frappe.session.user}


@frappe.whitelist()
def whoami():
	return frappe.session.user


@frappe.whitelist()
def typed(n: int, flag: bool = False):
	return {"n": n, "flag": flag}


@frappe.whitelist(methods=["POST"])
def notify(room_user: str):
	frappe.publish_realtime("probe_event", {"x": 1}, user=room_user, after_commit=True)
	return "queued"


@frappe.whitelist()
def crash():
	raise RuntimeError("boom")


@frappe.whitelist()
def managers_only():
	frappe.only_for("System Manager")
	return "ok"


def not_whitelisted():
	return "never"
