"""frappe/deferred_insert.py (v15): records parked in a Redis list until the scheduler inserts them."""

from __future__ import annotations

import json

import frappe

queue_prefix = "insert_queue_for_"


def deferred_insert(doctype: str, records) -> None:
	"""RPUSH the records (JSON) to `insert_queue_for_<doctype>`; outside any DB transaction."""
	if isinstance(records, dict | list):
		_records = json.dumps(records, default=str)
	else:
		_records = records
	frappe.cache.rpush(f"{queue_prefix}{doctype}", _records)


def save_to_db() -> None:
	"""What the scheduler job does: pop every queued record, insert it and commit."""
	for key in frappe.cache.get_keys(queue_prefix):
		queue_key = key.decode().split("|", 1)[1]
		doctype = queue_key[len(queue_prefix) :]
		while (raw := frappe.cache.lpop(queue_key)) is not None:
			for record in json.loads(raw):
				frappe.db._insert_row(doctype, frappe._dict(record))
	frappe.db.commit()
