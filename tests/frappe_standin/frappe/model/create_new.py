"""New documents with defaults (frappe/model/create_new.py, v15).

Static defaults come from each field's JSON `default` ("__user", "Today", or the literal text),
Select fields without a default take their first option; numbers are then cast (Check "0" -> 0).
User defaults and user permissions are not modelled."""

from __future__ import annotations

import copy

import frappe
from frappe.model import data_fieldtypes
from frappe.utils import cstr
from frappe.utils.data import now_datetime, nowdate, nowtime


def get_new_doc(doctype, parent_doc=None, parentfield=None, as_dict=False):
	if doctype not in frappe.local.new_doc_templates:
		frappe.local.new_doc_templates[doctype] = make_new_doc(doctype)

	doc = copy.deepcopy(frappe.local.new_doc_templates[doctype])
	set_dynamic_default_values(doc, parent_doc, parentfield)

	if as_dict:
		return doc
	return frappe.get_doc(doc)


def make_new_doc(doctype):
	doc = frappe.get_doc({"doctype": doctype, "__islocal": 1, "owner": frappe.session.user, "docstatus": 0})
	set_user_and_static_default_values(doc)
	doc._fix_numeric_types()
	doc = doc.get_valid_dict(sanitize=False)
	doc["doctype"] = doctype
	doc["__islocal"] = 1
	# v15 tests `doc.meta` on the plain dict here, which is always None: `__unsaved` is always set
	doc["__unsaved"] = 1
	return doc


def set_user_and_static_default_values(doc):
	for df in doc.meta.get("fields"):
		if df.fieldtype in data_fieldtypes and df.fieldname != doc.meta.title_field:
			static_default_value = get_static_default_value(df)
			if static_default_value is not None:
				doc.set(df.fieldname, static_default_value)


def get_static_default_value(df):
	if df.get("default"):
		if df.default == "__user":
			return frappe.session.user
		elif df.default == "Today":
			return nowdate()
		elif not cstr(df.default).startswith(":"):
			return df.default
	elif df.fieldtype == "Select" and df.options and df.options not in ("[Select]", "Loading..."):
		return df.options.split("\n", 1)[0]
	return None


def set_dynamic_default_values(doc, parent_doc, parentfield):
	for df in frappe.get_meta(doc["doctype"]).get("fields"):
		if df.get("default"):
			if df.fieldtype == "Datetime" and df.default.lower() == "now":
				doc[df.fieldname] = now_datetime()
			elif df.fieldtype == "Time" and df.default.lower() == "now":
				doc[df.fieldname] = nowtime()
	if parent_doc:
		doc["parent"] = parent_doc.name
		doc["parenttype"] = parent_doc.doctype
	if parentfield:
		doc["parentfield"] = parentfield
