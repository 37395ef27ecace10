"""DocType metadata (frappe/model/meta.py, v15), from the DocType JSON synced into `tabDocType`."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model import child_table_fields, data_fieldtypes, default_fields, table_fields


def get_meta(doctype, cached=True) -> Meta:
	"""v15: Redis hash `doctype_meta` (so a round trip on the first use in a request), else build."""
	cached = cached and isinstance(doctype, str)
	if cached and (meta := frappe.cache.hget("doctype_meta", doctype)):
		return meta
	meta = Meta(doctype)
	frappe.cache.hset("doctype_meta", meta.name, meta)
	return meta


class Meta:
	"""Fields and permissions of a DocType. Picklable (it is cached in Redis)."""

	default_fields = list(default_fields)[1:]

	def __init__(self, doctype: str) -> None:
		row = frappe.db.sql("select * from `tabDocType` where `name`=%s", (doctype,))
		if not row:
			frappe.throw(
				_("{0} {1} not found").format(_("DocType"), doctype),
				frappe.DoesNotExistError(doctype="DocType"),
			)
		data = dict(row[0][0])
		self.doctype = "DocType"
		for key, value in data.items():
			if key not in ("fields", "permissions"):
				setattr(self, key, value)
		self.name = data["name"]
		self.fields = [
			frappe._dict({"parent": self.name, "permlevel": 0, **df}) for df in data.get("fields", [])
		]
		self.permissions = [
			frappe._dict({"parent": self.name, "permlevel": 0, **perm})
			for perm in data.get("permissions", [])
		]
		self._fields = {df.fieldname: df for df in self.fields}
		self._table_fields = [df for df in self.fields if df.fieldtype in table_fields]
		if self._table_fields:
			raise NotImplementedError("frappe stand-in: child tables are not supported")

	def __getattr__(self, name):
		# unknown DocType properties read as None, like Document attributes of Meta
		if name.startswith("__"):
			raise AttributeError(name)
		return None

	def get(self, key, filters=None, limit=None, default=None):
		value = self.__dict__.get(key, default)
		if filters and isinstance(value, list):
			from frappe.database.database import _match  # the stand-in's one filter evaluator

			value = [d for d in value if _match(d, filters)]
		return value

	def get_field(self, fieldname):
		return self._fields.get(fieldname)

	def get_label(self, fieldname):
		if df := self.get_field(fieldname):
			return df.get("label")
		return "No Label"

	def get_valid_columns(self) -> list[str]:
		if "_valid_columns" not in self.__dict__:
			self._valid_columns = self.default_fields + [
				df.fieldname for df in self.fields if df.fieldtype in data_fieldtypes
			]
			if self.istable:
				self._valid_columns += list(child_table_fields)
		return self._valid_columns

	def get_link_fields(self):
		return self.get("fields", {"fieldtype": "Link", "options": ["!=", "[Select]"]})

	def get_dynamic_link_fields(self):
		return self.get("fields", {"fieldtype": "Dynamic Link"})

	def get_data_fields(self):
		return self.get("fields", {"fieldtype": "Data"})

	def get_select_fields(self):
		return self.get("fields", {"fieldtype": "Select", "options": ["not in", ["[Select]", "Loading..."]]})
