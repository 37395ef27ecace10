"""`frappe.log_error` (frappe/utils/error.py, v15) into an in-memory "Error Log"."""

from __future__ import annotations

import frappe


def log_error(title=None, message=None, reference_doctype=None, reference_name=None, *, defer_insert=False):
	"""Insert an Error Log row in the current transaction (lost on rollback), or with
	`defer_insert` (or in read-only mode) queue it in Redis (`insert_queue_for_Error Log`),
	which survives a rollback and is inserted later by the scheduler.

	Returns the row (a frappe._dict) when inserted now, None when deferred."""
	traceback = None
	if message:
		if "\n" in title:  # traceback sent as title
			traceback, title = title, message
		else:
			traceback = message

	title = title or "Error"
	traceback = frappe.as_unicode(traceback or frappe.get_traceback(with_context=True))

	if not frappe.db:
		print(f"Failed to log error in db: {title}")
		return None

	from frappe.utils.data import now

	row = frappe._dict(
		doctype="Error Log",
		name=frappe.generate_hash(length=10),
		error=traceback,
		method=title,
		reference_doctype=reference_doctype,
		reference_name=reference_name,
		trace_id=None,
		owner=frappe.session.user,
		creation=now(),
	)

	if frappe.flags.read_only or defer_insert:
		from frappe.deferred_insert import deferred_insert

		deferred_insert("Error Log", [dict(row)])
		return None

	frappe.db._insert_row("Error Log", row)
	return row
