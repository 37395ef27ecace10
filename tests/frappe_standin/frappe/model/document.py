"""Document (frappe/model/document.py, v15) for Single DocTypes.

The save path keeps v15's order: permission check (unless `ignore_permissions`), timestamp
check, before_validate, validate, before_save, field validation, write to tabSingles, on_update,
clear the document cache (now and after commit/rollback), publish `doc_update` after commit,
on_change. Not modelled: child tables, naming, links, versions, notifications, webhooks, server
scripts, workflows, submit/cancel.
"""

from __future__ import annotations

import frappe
from frappe import _, msgprint
from frappe.model.base_document import BaseDocument, get_controller
from frappe.utils import cstr
from frappe.utils.data import now


def get_doc(*args, **kwargs):
	"""`get_doc(doc)` as is, `get_doc(doctype[, name])` from the DB, `get_doc({...})` / kwargs new."""
	if args:
		if isinstance(args[0], BaseDocument):
			return args[0]
		elif isinstance(args[0], str):
			doctype = args[0]
		elif isinstance(args[0], dict):
			kwargs = args[0]
		else:
			raise ValueError("First non keyword argument must be a string or dict")

	if len(args) < 2 and kwargs:
		if "doctype" in kwargs:
			doctype = kwargs["doctype"]
		else:
			raise ValueError('"doctype" is a required key')

	controller = get_controller(doctype)
	if controller:
		return controller(*args, **kwargs)
	raise ImportError(doctype)


class Document(BaseDocument):
	"""All controllers inherit from `Document`."""

	def __init__(self, *args, **kwargs):
		self.doctype = None
		self.name = None
		self.flags = frappe._dict()

		if args and args[0]:
			if isinstance(args[0], str):
				self.doctype = args[0]
				self.name = self.doctype if len(args) == 1 else args[1]
				self.flags.for_update = kwargs.get("for_update")
				self.load_from_db()
				return
			if isinstance(args[0], dict):
				kwargs = args[0]

		if kwargs:
			super().__init__(kwargs)
			self.init_child_tables()
			self.init_valid_columns()
		else:
			raise ValueError("Illegal arguments")

	def load_from_db(self):
		"""A Single: its tabSingles rows, or (never saved) a new doc with the JSON defaults."""
		self.flags.ignore_children = True
		if not self.meta.issingle:
			raise NotImplementedError("frappe stand-in: only Single DocTypes can be loaded")
		single_doc = frappe.db.get_singles_dict(self.doctype, for_update=self.flags.for_update)
		if not single_doc:
			single_doc = frappe.new_doc(self.doctype, as_dict=True)
			single_doc["name"] = self.doctype
			del single_doc["__islocal"]
		super().__init__(single_doc)
		self.init_valid_columns()
		self._fix_numeric_types()
		self.flags.pop("ignore_children", None)
		if hasattr(self, "__setup__"):
			self.__setup__()
		return self

	def check_permission(self, permtype="read", permlevel=None):
		"""Raise PermissionError unless `has_permission(permtype)`."""
		if not self.has_permission(permtype):
			self.raise_no_permission_to(permtype)

	def has_permission(self, permtype="read", *, debug=False, user=None) -> bool:
		if self.flags.ignore_permissions:
			return True
		import frappe.permissions

		return frappe.permissions.has_permission(self.doctype, permtype, self, debug=debug, user=user)

	def raise_no_permission_to(self, perm_type):
		frappe.flags.error_message = _(
			"You need the '{0}' permission on {1} {2} to perform this action."
		).format(_(perm_type), frappe.bold(_(self.doctype)), self.name or "")
		raise frappe.PermissionError

	def insert(
		self,
		ignore_permissions=None,
		ignore_links=None,
		ignore_if_duplicate=False,
		ignore_mandatory=None,
		set_name=None,
		set_child_names=True,
	):
		"""Insert a new Single (checks `create` permission), with v15's hook order."""
		if self.flags.in_print:
			return self
		self.flags.notifications_executed = []
		if ignore_permissions is not None:
			self.flags.ignore_permissions = ignore_permissions
		if ignore_links is not None:
			self.flags.ignore_links = ignore_links
		if ignore_mandatory is not None:
			self.flags.ignore_mandatory = ignore_mandatory

		self.set("__islocal", True)
		self._set_defaults()
		self.set_user_and_timestamp()
		self.check_if_latest()
		self._validate_links()
		self.check_permission("create")
		self.run_method("before_insert")
		self.set_new_name(set_name=set_name)

		self.flags.in_insert = True
		self.run_before_save_methods()
		self._validate()
		self.flags.in_insert = False

		if self.meta.issingle:
			self.update_single(self.get_valid_dict())
		else:
			self.db_insert()
		self.run_method("after_insert")
		self.flags.in_insert = True
		self.run_post_save_methods()
		self.flags.in_insert = False

		if hasattr(self, "__islocal") or "__islocal" in self.__dict__:
			self.__dict__.pop("__islocal", None)
		self.__dict__.pop("__unsaved", None)
		return self

	def save(self, *args, **kwargs):
		return self._save(*args, **kwargs)

	def _save(self, ignore_permissions=None, ignore_version=None):
		"""Save: `write` permission (unless ignored), validate hooks, write, on_update, notify."""
		if self.flags.in_print:
			return None
		self.flags.notifications_executed = []
		if ignore_permissions is not None:
			self.flags.ignore_permissions = ignore_permissions
		self.flags.ignore_version = frappe.flags.in_test if ignore_version is None else ignore_version

		if self.get("__islocal") or not self.get("name"):
			return self.insert()

		self._set_defaults()
		self.check_permission("write", "save")
		self.set_user_and_timestamp()
		self.check_if_latest()
		self._validate_links()
		self.run_before_save_methods()
		self._validate()

		if not self.meta.issingle:
			raise NotImplementedError("frappe stand-in: only Single DocTypes can be saved")
		self.update_single(self.get_valid_dict())
		self.run_post_save_methods()
		self.__dict__.pop("__unsaved", None)
		return self

	def set_new_name(self, set_name=None):
		"""Singles are named after their DocType; others by `set_name`, a name already set, or
		autoname "hash" (v15 `make_autoname("hash")`: 10 characters). Other naming rules are not
		modelled."""
		if self.meta.issingle:
			self.name = self.doctype
		elif set_name:
			self.name = set_name
		elif not self.name:
			if (self.meta.autoname or "hash").lower() != "hash":
				raise NotImplementedError(f"frappe stand-in: autoname {self.meta.autoname!r}")
			self.name = frappe.generate_hash(length=10)
		self.flags.name_set = True

	def db_insert(self, ignore_if_duplicate=False):
		"""INSERT the row into `tab<DocType>` (BaseDocument.db_insert): one statement."""
		from frappe.utils import get_datetime

		row = self.get_valid_dict()
		row.pop("doctype", None)
		for fieldname in ("creation", "modified"):
			row[fieldname] = get_datetime(row.get(fieldname))
		for df in self.meta.fields:
			if df.fieldtype == "Datetime" and row.get(df.fieldname):
				row[df.fieldname] = get_datetime(row[df.fieldname])  # as MariaDB hands it back
		frappe.db._insert_row(self.doctype, row)

	def update_single(self, d):
		"""Replace the Single's rows in tabSingles (one DELETE, one INSERT per field)."""
		frappe.db.sql("delete from `tabSingles` where `doctype`=%s", (self.doctype,))
		for field, value in d.items():
			if field != "doctype":
				frappe.db.sql(
					"insert into `tabSingles` (`doctype`, `field`, `value`) values (%s, %s, %s)",
					(self.doctype, field, value),
				)
		if self.doctype in frappe.db.value_cache:
			del frappe.db.value_cache[self.doctype]

	def set_user_and_timestamp(self):
		self._original_modified = self.modified
		self.modified = now()
		self.modified_by = frappe.session.user
		if self.is_new() and not (
			frappe.flags.in_install or frappe.flags.in_patch or frappe.flags.in_migrate
		):
			self.creation = self.modified
			self.owner = self.modified_by
		frappe.flags.currently_saving.append((self.doctype, self.name))

	def _set_defaults(self):
		if frappe.flags.in_import:
			return
		if self.is_new():
			new_doc = frappe.new_doc(self.doctype, as_dict=True)
			self.update_if_missing(new_doc)

	def check_if_latest(self):
		"""TimestampMismatchError when the stored `modified` differs from the one loaded."""
		self.load_doc_before_save(raise_exception=True)
		self._action = "save"
		previous = self._doc_before_save
		if not previous:
			return
		if cstr(previous.modified) != cstr(self._original_modified):
			frappe.msgprint(
				_("Error: Document has been modified after you have opened it")
				+ (f" ({previous.modified}, {self.modified}). ")
				+ _("Please refresh to get the latest document."),
				raise_exception=frappe.TimestampMismatchError,
			)

	def load_doc_before_save(self, *, raise_exception: bool = False):
		self._doc_before_save = None
		if self.is_new():
			return
		try:
			self._doc_before_save = frappe.get_doc(self.doctype, self.name, for_update=True)
		except frappe.DoesNotExistError:
			if raise_exception:
				raise
			frappe.clear_last_message()

	def get_doc_before_save(self):
		return getattr(self, "_doc_before_save", None)

	def _validate(self):
		self._validate_mandatory()
		self._validate_data_fields()
		self._validate_selects()
		self._validate_code_fields()

	def _validate_mandatory(self):
		if self.flags.ignore_mandatory:
			return
		missing = self._get_missing_mandatory_fields()
		if not missing:
			return
		for _idx, msg in missing:
			msgprint(msg)
		raise frappe.MandatoryError(
			"[{doctype}, {name}]: {fields}".format(
				fields=", ".join(each[0] for each in missing), doctype=self.doctype, name=self.name
			)
		)

	def _validate_links(self):
		if self.flags.ignore_links:
			return
		invalid, _cancelled = self.get_invalid_links()
		if invalid:
			msg = ", ".join(f"{label}: {value}" for _field, value, label in invalid)
			frappe.throw(_("Could not find {0}").format(msg), frappe.LinkValidationError)

	def run_method(self, method, *args, **kwargs):
		"""The controller method (if any), then `doc_events` hooks for this DocType and "*"."""

		def fn(self, *args, **kwargs):
			method_object = getattr(self, method, None)
			if method in self.__dict__ or callable(method_object):
				return method_object(*args, **kwargs)

		fn.__name__ = str(method)
		return Document.hook(fn)(self, *args, **kwargs)

	def run_before_save_methods(self):
		"""before_validate, then (unless `flags.ignore_validate`) validate and before_save."""
		if self._action in ("save", "submit"):
			self.run_method("before_validate")
		if self.flags.ignore_validate:
			return
		if self._action == "save":
			self.run_method("validate")
			self.run_method("before_save")

	def run_post_save_methods(self):
		"""on_update, clear cache, `doc_update` realtime (after commit), on_change."""
		if self._action == "save":
			self.run_method("on_update")
		self.clear_cache()
		if self.flags.get("notify_update", True):
			self.notify_update()
		self.run_method("on_change")
		if (self.doctype, self.name) in frappe.flags.currently_saving:
			frappe.flags.currently_saving.remove((self.doctype, self.name))

	def clear_cache(self):
		frappe.clear_document_cache(self.doctype, self.name)

	def notify_update(self):
		"""Publish `doc_update` to the document's room after commit (v15 does this on every save)."""
		if frappe.flags.in_patch:
			return
		frappe.publish_realtime(
			"doc_update",
			{"modified": self.modified, "doctype": self.doctype, "name": self.name},
			doctype=self.doctype,
			docname=self.name,
			after_commit=True,
		)
		if not self.meta.get("read_only") and not self.meta.get("issingle") and not self.meta.get("istable"):
			data = {"doctype": self.doctype, "name": self.name, "user": frappe.session.user}
			frappe.publish_realtime("list_update", data, after_commit=True)

	def db_set(self, fieldname, value=None, update_modified=True, notify=False, commit=False):
		"""Set and write field(s) without validate/on_update (runs before_change/on_change)."""
		if isinstance(fieldname, dict):
			self.update(fieldname)
		else:
			self.set(fieldname, value)

		if update_modified and (self.doctype, self.name) not in frappe.flags.currently_saving:
			self.set("modified", now())
			self.set("modified_by", frappe.session.user)

		if not self.get_doc_before_save():
			self.load_doc_before_save()

		self.run_method("before_change")

		if self.name is None:
			return

		if self.meta.issingle:
			frappe.db.set_single_value(
				self.doctype,
				fieldname,
				value,
				modified=self.modified,
				modified_by=self.modified_by,
				update_modified=update_modified,
			)
		else:
			raise NotImplementedError("frappe stand-in: db_set supports Single DocTypes only")

		self.run_method("on_change")
		if notify:
			self.notify_update()
		if commit:
			frappe.db.commit()

	@staticmethod
	def hook(f):
		"""Wrap a controller method so `doc_events` hooks run after it (return values collated)."""

		def add_to_return_value(self, new_return_value):
			if new_return_value is None:
				self._return_value = self.get("_return_value")
				return
			if isinstance(new_return_value, dict):
				if not self.get("_return_value"):
					self._return_value = {}
				self._return_value.update(new_return_value)
			else:
				self._return_value = new_return_value

		def compose(fn, *hooks):
			def runner(self, method, *args, **kwargs):
				add_to_return_value(self, fn(self, *args, **kwargs))
				for f in hooks:
					add_to_return_value(self, f(self, method, *args, **kwargs))
				return self.__dict__.pop("_return_value", None)

			return runner

		def composer(self, *args, **kwargs):
			hooks = []
			method = f.__name__
			doc_events = frappe.get_doc_hooks()
			for handler in doc_events.get(self.doctype, {}).get(method, []) + doc_events.get("*", {}).get(
				method, []
			):
				hooks.append(frappe.get_attr(handler))
			composed = compose(f, *hooks)
			return composed(self, method, *args, **kwargs)

		return composer

	def log_error(self, title=None, message=None):
		return frappe.log_error(
			message=message, title=title, reference_doctype=self.doctype, reference_name=self.name
		)
