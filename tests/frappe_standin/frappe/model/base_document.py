"""BaseDocument and controller lookup (frappe/model/base_document.py, v15), Single DocTypes only."""

from __future__ import annotations

import datetime
import json
from functools import cached_property

import frappe
from frappe import _, _dict
from frappe.model import datetime_fields, default_fields, float_like_fields
from frappe.utils import cint, cstr, flt, strip_html


def get_controller(doctype: str):
	"""The controller class of a DocType, cached per site in `frappe.controllers`."""
	if frappe.local.dev_server or frappe.flags.in_migrate:
		return import_controller(doctype)
	site_controllers = frappe.controllers.setdefault(frappe.local.site, {})
	if doctype not in site_controllers:
		site_controllers[doctype] = import_controller(doctype)
	return site_controllers[doctype]


def import_controller(doctype: str):
	"""`<app>.<module>.doctype.<dt>.<dt>.<DocTypeWithoutSpaces>`; `override_doctype_class` hooks
	win; custom DocTypes use Document."""
	from frappe.model.document import Document
	from frappe.modules import load_doctype_module

	module_name = "Core"
	doctype_info = frappe.db.get_value("DocType", doctype, ("module", "custom", "is_tree"), as_dict=True)
	if doctype_info:
		if doctype_info.custom:
			return Document
		module_name = doctype_info.module

	module_path = None
	class_overrides = frappe.get_hooks("override_doctype_class")
	if class_overrides and class_overrides.get(doctype):
		import_path = class_overrides[doctype][-1]
		module_path, classname = import_path.rsplit(".", 1)
		module = frappe.get_module(module_path)
	else:
		module = load_doctype_module(doctype, module_name)
		classname = doctype.replace(" ", "").replace("-", "")

	class_ = getattr(module, classname, None)
	if class_ is None:
		raise ImportError(
			doctype
			if module_path is None
			else f"{doctype}: {classname} does not exist in module {module_path}"
		)
	if not issubclass(class_, BaseDocument):
		raise ImportError(f"{doctype}: {classname} is not a subclass of BaseDocument")
	return class_


class BaseDocument:
	_reserved_keywords = frozenset(
		(
			"doctype",
			"meta",
			"flags",
			"parent_doc",
			"_table_fields",
			"_valid_columns",
			"_doc_before_save",
			"_table_fieldnames",
			"_reserved_keywords",
			"permitted_fieldnames",
			"dont_update_if_missing",
		)
	)

	def __init__(self, d):
		if d.get("doctype"):
			self.doctype = d["doctype"]
		self._table_fieldnames = set()
		self.update(d)
		self.dont_update_if_missing = []
		if hasattr(self, "__setup__"):
			self.__setup__()

	def __json__(self):
		return self.as_dict(no_nulls=True)

	@cached_property
	def meta(self):
		return frappe.get_meta(self.doctype)

	def __getstate__(self):
		"""Pickled without `meta` (it is rebuilt from the cache on use)."""
		state = self.__dict__.copy()
		state.pop("meta", None)
		state.pop("permitted_fieldnames", None)
		state.pop("_parent_doc", None)
		return state

	def update(self, d):
		if "name" in d:
			self.name = d["name"]
		for key, value in d.items():
			self.set(key, value, as_value=True)
		return self

	def update_if_missing(self, d):
		if isinstance(d, BaseDocument):
			d = d.get_valid_dict()
		for key, value in d.items():
			if value is not None and self.get(key) is None and key not in self.dont_update_if_missing:
				self.set(key, value)

	def get(self, key, filters=None, limit=None, default=None):
		if filters and not isinstance(filters, dict):
			default = filters
		return self.__dict__.get(key, default)

	def set(self, key, value, as_value=False):
		if key in self._reserved_keywords:
			return
		self.__dict__[key] = value

	def delete_key(self, key):
		if key in self.__dict__:
			del self.__dict__[key]

	def get_valid_dict(
		self, sanitize=True, convert_dates_to_str=False, ignore_nulls=False, ignore_virtual=False
	) -> _dict:
		"""Values of the valid columns, coerced as Frappe writes them: Check -> 1/0, Int -> int,
		Float/Currency/Percent -> float, JSON dict -> text, "" dates -> None."""
		d = _dict()
		for fieldname in self.meta.get_valid_columns():
			value = self.__dict__.get(fieldname)
			if not sanitize and value is None:
				d[fieldname] = None
				continue

			df = self.meta.get_field(fieldname)
			if df:
				if df.fieldtype == "Check":
					value = 1 if cint(value) else 0
				elif df.fieldtype == "Int" and not isinstance(value, int):
					value = cint(value)
				elif df.fieldtype == "JSON" and isinstance(value, dict):
					value = json.dumps(value, separators=(",", ":"))
				elif df.fieldtype in float_like_fields and not isinstance(value, float):
					value = flt(value)
				elif (df.fieldtype in datetime_fields and value == "") or (
					getattr(df, "unique", False) and cstr(value).strip() == ""
				):
					value = None

			if convert_dates_to_str and isinstance(
				value, datetime.datetime | datetime.date | datetime.time | datetime.timedelta
			):
				value = str(value)
			if ignore_nulls and value is None:
				continue
			d[fieldname] = value
		return d

	def init_child_tables(self):
		pass

	def init_valid_columns(self):
		for key in default_fields:
			if key not in self.__dict__:
				self.__dict__[key] = None
			if self.__dict__[key] is None:
				if key == "docstatus":
					self.__dict__[key] = 0
				elif key == "idx":
					self.__dict__[key] = 0
		for key in self.get_valid_columns():
			if key not in self.__dict__:
				self.__dict__[key] = None

	def get_valid_columns(self) -> list[str]:
		if self.doctype not in frappe.local.valid_columns:
			frappe.local.valid_columns[self.doctype] = self.meta.get_valid_columns()
		return frappe.local.valid_columns[self.doctype]

	def is_new(self) -> bool:
		return self.get("__islocal")

	@property
	def docstatus(self) -> int:
		return cint(self.__dict__.get("docstatus"))

	@docstatus.setter
	def docstatus(self, value) -> None:
		self.__dict__["docstatus"] = cint(value)

	def as_dict(
		self, no_nulls=False, no_default_fields=False, convert_dates_to_str=False, no_child_table_fields=False
	) -> dict:
		doc = self.get_valid_dict(convert_dates_to_str=convert_dates_to_str, ignore_nulls=no_nulls)
		doc["doctype"] = self.doctype
		if no_default_fields:
			for key in default_fields:
				doc.pop(key, None)
		for key in ("_user_tags", "__islocal", "__onload", "_liked_by", "__run_link_triggers", "__unsaved"):
			if value := getattr(self, key, None):
				doc[key] = value
		return doc

	def _fix_numeric_types(self):
		for df in self.meta.get("fields"):
			if df.fieldtype == "Check":
				self.set(df.fieldname, cint(self.get(df.fieldname)))
			elif self.get(df.fieldname) is not None:
				if df.fieldtype == "Int":
					self.set(df.fieldname, cint(self.get(df.fieldname)))
				elif df.fieldtype in ("Float", "Currency", "Percent"):
					self.set(df.fieldname, flt(self.get(df.fieldname)))

	def _get_missing_mandatory_fields(self):
		def get_msg(df):
			return _("Error: Value missing for {0}: {1}").format(_(df.parent), _(df.label, context=df.parent))

		def has_content(df):
			value = cstr(self.get(df.fieldname))
			has_text_content = strip_html(value).strip()
			has_img_tag = "<img" in value
			if df.fieldtype == "Text Editor" and (has_text_content or has_img_tag):
				return True
			if df.fieldtype == "Code" and df.options == "HTML" and (has_text_content or has_img_tag):
				return True
			return has_text_content

		missing = []
		for df in self.meta.get("fields", {"reqd": ("=", 1)}):
			if self.get(df.fieldname) in (None, []) or not has_content(df):
				missing.append((df.fieldname, get_msg(df)))
		return missing

	def get_invalid_links(self, is_submittable=False):
		"""Links to User and DocType are checked (their rows exist here); any other filled Link
		field makes the stand-in refuse to save."""
		invalid = []
		for df in self.meta.get_link_fields() + self.meta.get_dynamic_link_fields():
			value = self.get(df.fieldname)
			if not value:
				continue
			if df.fieldtype != "Link" or df.options not in ("User", "DocType"):
				raise NotImplementedError("frappe stand-in: Link validation is not modelled")
			if value not in frappe.db._tables()[df.options]:
				invalid.append((df.fieldname, value, df.label))
		return invalid, []

	def _validate_selects(self):
		if frappe.flags.in_import:
			return
		for df in self.meta.get_select_fields():
			if df.fieldname == "naming_series" or not (self.get(df.fieldname) and df.options):
				continue
			options = (df.options or "").split("\n")
			if not any(options):
				continue
			self.set(df.fieldname, cstr(self.get(df.fieldname)).strip())
			value = self.get(df.fieldname)
			if value not in options and not (frappe.flags.in_test and value.startswith("_T-")):
				prefix = _("Row #{0}:").format(self.idx) if self.get("parentfield") else ""
				label = _(self.meta.get_label(df.fieldname))
				comma_options = '", "'.join(_(each) for each in options)
				frappe.throw(
					_('{0} {1} cannot be "{2}". It should be one of "{3}"').format(
						prefix, label, value, comma_options
					)
				)

	def _validate_data_fields(self):
		"""Data fields with options Email / URL (the other Data options are not modelled)."""
		for data_field in self.meta.get_data_fields():
			data = self.get(data_field.fieldname)
			options = data_field.get("options")
			if options == "Email":
				if (self.owner in frappe.STANDARD_USERS) and (data in frappe.STANDARD_USERS):
					continue
				for email_address in frappe.utils.split_emails(data):
					frappe.utils.validate_email_address(email_address, throw=True)
			if options == "URL":
				if not data:
					continue
				frappe.utils.validate_url(data, throw=True)

	def _validate_code_fields(self):
		"""v15 checks Code fields with options Python/PythonExpression; not modelled."""
