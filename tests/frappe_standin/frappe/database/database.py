"""`frappe.db` (frappe/database/database.py, v15) over an in-memory, transactional store.

Each connection sees the committed store plus its own uncommitted writes; `commit()` publishes
them, `rollback()` and `close()` drop them. Every access runs through `sql()` with the SQL text
Frappe would send (a fixed set of statements, nothing else is understood), so the query count
(`frappe.standin.query_count()`) and FrappeTestCase's `assertQueryCount` mean what they mean on
a real site. Commit/rollback run the v15 CallbackManagers in v15's order.
"""

from __future__ import annotations

import copy
import datetime
import re
from typing import Any

import frappe
from frappe import _
from frappe.utils import CallbackManager, cast, sbool
from frappe.utils.data import now

# committed data of every database: db_name -> tables
_DATABASES: dict[str, dict[str, Any]] = {}
QUERY_LOG: list[str] = []

Q_SINGLES = "select `field`, `value` from `tabSingles` where `doctype`=%s"
Q_SINGLE_VALUE = "select `value` from `tabSingles` where `doctype`=%s and `field`=%s"
Q_SINGLES_DELETE = "delete from `tabSingles` where `doctype`=%s"
Q_SINGLES_DELETE_FIELDS = "delete from `tabSingles` where `doctype`=%s and `field` in %s"
Q_SINGLES_INSERT = "insert into `tabSingles` (`doctype`, `field`, `value`) values (%s, %s, %s)"
Q_DOCTYPE = "select * from `tabDocType` where `name`=%s"
Q_DOCTYPE_INFO = "select `module`, `custom`, `is_tree` from `tabDocType` where `name`=%s"
Q_HAS_ROLE = "select `role` from `tabHas Role` where `parenttype`='User' and `parent`=%s"
Q_ALL_ROLES = "select `name` from `tabRole`"
Q_USER_TYPE = "select `user_type` from `tabUser` where `name`=%s"
# frappe/sessions.py reads tabSessions by sid (its query builder emits this statement).
Q_SESSION_USER = "select `user` from `tabSessions` where `sid`=%s"
Q_DEFAULT = "select `defvalue` from `tabDefaultValue` where `parent`=%s and `defkey`=%s"
_INSERT_ROW = re.compile(r"^insert into `tab(?P<doctype>[^`]+)` \((?P<cols>[^)]*)\) values")


def new_database() -> dict[str, Any]:
	return {
		"Singles": {},
		"DocType": {},
		"User": {},
		"Has Role": {},
		"Sessions": {},  # sid -> user (tabSessions)
		"Role": set(),
		"DefaultValue": {},
		"Error Log": [],
	}


def committed(db_name: str) -> dict[str, Any]:
	"""Stand-in control: the committed tables of a database (created empty on first use)."""
	return _DATABASES.setdefault(db_name, new_database())


def drop_all() -> None:
	_DATABASES.clear()
	QUERY_LOG.clear()


def to_db_text(value):
	"""How a value lands in a text column (tabSingles.value) through pymysql."""
	if value is None:
		return None
	if isinstance(value, bool):
		return "1" if value else "0"
	if isinstance(value, str):
		return value
	return str(value)


def _compare(value, op: str, operand) -> bool:
	from frappe.utils import get_datetime

	op = op.lower()
	if isinstance(value, datetime.datetime) and isinstance(operand, str):
		operand = get_datetime(operand)
	if op == "=":
		return value == operand
	if op == "!=":
		return value != operand
	if op == "in":
		return value in operand
	if op == "not in":
		return value not in operand
	if op == "between":
		low, high = (get_datetime(v) if isinstance(value, datetime.datetime) else v for v in operand)
		return value is not None and low <= value <= high
	if op not in ("<", "<=", ">", ">="):
		raise NotImplementedError(f"stand-in filter operator {op}")
	if value is None:
		return False
	return {"<": value < operand, "<=": value <= operand, ">": value > operand, ">=": value >= operand}[op]


def _match(row: dict, filters) -> bool:
	"""Frappe's filter forms: {"f": v}, {"f": (op, v)}, [["f", op, v]] or [[dt, "f", op, v]]."""
	if not filters:
		return True
	if isinstance(filters, dict):
		conditions = [(f, *c) if isinstance(c, list | tuple) else (f, "=", c) for f, c in filters.items()]
	else:
		conditions = [tuple(c[-3:]) for c in filters]
	return all(_compare(row.get(f), op, v) for f, op, v in conditions)


class Database:
	"""One connection to a site's database."""

	VARCHAR_LEN = 140
	db_type = "mariadb"

	def __init__(self, host=None, user=None, password=None, port=None, cur_db_name=None, socket=None):
		self.host = host
		self.port = port
		self.user = user
		self.password = password
		self.cur_db_name = cur_db_name
		self._tx: dict[str, Any] | None = None
		self._savepoints: dict[str, dict[str, Any] | None] = {}
		self._open = True
		self.last_query: str | None = None
		self.transaction_writes = 0
		self.value_cache: dict = {}
		self.logger = frappe.logger("database")
		self.logger.setLevel("WARNING")
		self.before_commit = CallbackManager()
		self.after_commit = CallbackManager()
		self.before_rollback = CallbackManager()
		self.after_rollback = CallbackManager()

	# -- storage --

	def _tables(self, write: bool = False) -> dict[str, Any]:
		base = committed(self.cur_db_name)
		if write and self._tx is None:
			self._tx = copy.deepcopy(base)
		return self._tx if self._tx is not None else base

	# -- SQL --

	def sql(self, query, values=(), *, as_dict=0, as_list=0, debug=0, pluck=False, **kwargs):
		"""Run one of the statements the stand-in knows; anything else raises NotImplementedError."""
		if not self._open:
			raise RuntimeError("stand-in: this database connection is closed")
		query = str(query).strip()
		if values is not None and not isinstance(values, tuple | list | dict):
			values = (values,)
		self.last_query = f"{query} -- {values!r}" if values else query
		QUERY_LOG.append(self.last_query)

		result = self._run(query, tuple(values or ()))
		if not result:
			return () if result == () else []
		if pluck:
			return [r[0] for r in result]
		if as_list:
			return [list(r) for r in result]
		return result

	def _run(self, query: str, values: tuple):
		lower = query.lower()
		if lower == "commit":
			if self._tx is not None:
				_DATABASES[self.cur_db_name] = self._tx
			self._tx = None
			self._savepoints.clear()
			self.transaction_writes = 0
			return ()
		if lower == "rollback":
			self._tx = None
			self._savepoints.clear()
			self.transaction_writes = 0
			return ()
		if lower.startswith("start transaction"):
			return ()
		if lower.startswith("savepoint "):
			self._savepoints[query.split()[1]] = copy.deepcopy(self._tx)
			return ()
		if lower.startswith("release savepoint "):
			self._savepoints.pop(query.split()[2], None)
			return ()
		if lower.startswith("rollback to savepoint "):
			self._tx = copy.deepcopy(self._savepoints[query.split()[3]])
			return ()

		if query in (Q_SINGLES, Q_SINGLES + " for update"):
			return list(self._tables()["Singles"].get(values[0], {}).items())
		if query == Q_SINGLE_VALUE:
			single = self._tables()["Singles"].get(values[0], {})
			return [(single[values[1]],)] if values[1] in single else []
		if query == Q_SINGLES_DELETE:
			self.transaction_writes += 1
			self._tables(write=True)["Singles"].pop(values[0], None)
			return ()
		if query == Q_SINGLES_DELETE_FIELDS:
			self.transaction_writes += 1
			single = self._tables(write=True)["Singles"].get(values[0], {})
			for field in values[1]:
				single.pop(field, None)
			return ()
		if query == Q_SINGLES_INSERT:
			self.transaction_writes += 1
			doctype, field, value = values
			self._tables(write=True)["Singles"].setdefault(doctype, {})[field] = to_db_text(value)
			return ()
		if query == Q_DOCTYPE:
			row = self._tables()["DocType"].get(values[0])
			return [(row,)] if row else []
		if query == Q_DOCTYPE_INFO:
			row = self._tables()["DocType"].get(values[0])
			return [(row.get("module"), row.get("custom", 0), row.get("is_tree", 0))] if row else []
		if query == Q_HAS_ROLE:
			return [(r,) for r in self._tables()["Has Role"].get(values[0], [])]
		if query == Q_ALL_ROLES:
			return [(r,) for r in sorted(self._tables()["Role"])]
		if query == Q_SESSION_USER:
			user = self._tables()["Sessions"].get(values[0])
			return [(user,)] if user else []
		if query == Q_USER_TYPE:
			row = self._tables()["User"].get(values[0])
			return [(row["user_type"],)] if row else []
		if query == Q_DEFAULT:
			value = self._tables()["DefaultValue"].get((values[0], values[1]))
			return [(value,)] if value is not None else []
		if match := _INSERT_ROW.match(query):
			self.transaction_writes += 1
			cols = [c.strip(" `") for c in match["cols"].split(",")]
			self._tables(write=True).setdefault(match["doctype"], []).append(
				dict(zip(cols, values, strict=True))
			)
			return ()
		raise NotImplementedError(f"frappe stand-in cannot run this query: {query}")

	def _insert_row(self, doctype: str, row: dict) -> None:
		"""Stand-in internal: INSERT one row into a list table (used for Error Log)."""
		cols = list(row)
		self.sql(
			f"insert into `tab{doctype}` ({', '.join('`' + c + '`' for c in cols)}) "
			f"values ({', '.join(['%s'] * len(cols))})",
			[row[c] for c in cols],
		)

	# -- transactions --

	def begin(self, *, read_only=False):
		read_only = read_only or frappe.flags.read_only
		mode = "READ ONLY" if read_only else ""
		self.sql(f"START TRANSACTION {mode}")

	def commit(self):
		"""v15: reset rollback callbacks, run before_commit, COMMIT, begin, run after_commit."""
		self.before_rollback.reset()
		self.after_rollback.reset()
		self.before_commit.run()
		self.sql("commit")
		self.begin()
		self.after_commit.run()

	def rollback(self, *, save_point=None):
		"""v15: to a savepoint, or reset commit callbacks, run before_rollback, ROLLBACK, begin,
		run after_rollback. (v15 has no `chain` argument.)"""
		if save_point:
			self.sql(f"rollback to savepoint {save_point}")
		else:
			self.before_commit.reset()
			self.after_commit.reset()
			self.before_rollback.run()
			self.sql("rollback")
			self.begin()
			self.after_rollback.run()

	def close(self):
		"""Closing the connection discards the open transaction (MariaDB rolls it back)."""
		self._tx = None
		self._open = False

	# -- singles --

	def get_singles_dict(self, doctype, debug=False, *, for_update=False, cast=False):
		"""All stored values of a Single as text (or cast by fieldtype with `cast=True`)."""
		queried_result = self.sql(Q_SINGLES + (" for update" if for_update else ""), (doctype,))
		if not cast:
			return frappe._dict(queried_result)
		meta = frappe.get_meta(doctype)
		out = frappe._dict()
		for fieldname, value in queried_result:
			df = meta.get_field(fieldname)
			out[fieldname] = globals()["cast"](df.fieldtype, value) if df else value
		return out

	def get_single_value(self, doctype: str, fieldname: str, cache: bool = True):
		"""One field of a Single, cast by fieldtype; never-saved gives "" / 0 / 0.0 (not the JSON
		default). Cached per connection in `value_cache` unless `cache=False`."""
		if doctype not in self.value_cache:
			self.value_cache[doctype] = {}
		if cache and fieldname in self.value_cache[doctype]:
			return self.value_cache[doctype][fieldname]

		val = self.sql(Q_SINGLE_VALUE, (doctype, fieldname))
		val = val[0][0] if val else None

		df = frappe.get_meta(doctype).get_field(fieldname)
		if not df:
			frappe.throw(
				_("Field {0} does not exist on {1}").format(frappe.bold(fieldname), frappe.bold(doctype))
			)

		val = cast(df.fieldtype, val)
		self.value_cache[doctype][fieldname] = val
		return val

	@staticmethod
	def _get_update_dict(fieldname, value, *, modified, modified_by, update_modified) -> dict:
		update_dict = fieldname if isinstance(fieldname, dict) else {fieldname: value}
		if update_modified:
			modified = modified or now()
			modified_by = modified_by or frappe.session.user
			update_dict.update({"modified": modified, "modified_by": modified_by})
		return update_dict

	def set_single_value(
		self,
		doctype: str,
		fieldname: str | dict,
		value=None,
		*,
		modified=None,
		modified_by=None,
		update_modified=True,
		debug=False,
	):
		"""Write field(s) of a Single without controller hooks; clears its document cache."""
		to_update = self._get_update_dict(
			fieldname, value, modified=modified, modified_by=modified_by, update_modified=update_modified
		)
		self.sql(Q_SINGLES_DELETE_FIELDS, (doctype, tuple(to_update)))
		for key, val in to_update.items():
			self.sql(Q_SINGLES_INSERT, (doctype, key, sbool(val)))
		frappe.clear_document_cache(doctype, doctype)
		if doctype in self.value_cache:
			del self.value_cache[doctype]

	def get_value(
		self, doctype, filters=None, fieldname="name", ignore=False, as_dict=False, *args, **kwargs
	):
		"""Singles (filters None or the doctype name) and the DocType table only."""
		if doctype == "DocType":
			row = self.sql(Q_DOCTYPE, (filters,))
			if not row:
				return None
			data = row[0][0]
			if isinstance(fieldname, str):
				return data.get(fieldname) if fieldname != "*" else frappe._dict(data)
			values = [data.get(f) for f in fieldname]
			return frappe._dict(zip(fieldname, values, strict=True)) if as_dict else values
		if filters is None or filters == doctype:
			fields = [fieldname] if isinstance(fieldname, str) else list(fieldname)
			single = self.get_singles_dict(doctype)
			if fields == ["*"]:
				return single if single else None
			if not any(f in single for f in fields):
				return None
			values = [single.get(f) for f in fields]
			if as_dict:
				return frappe._dict(zip(fields, values, strict=True))
			return values[0] if len(values) == 1 else values
		if doctype == "User" and isinstance(filters, str) and isinstance(fieldname, str):
			self._log("select from", doctype, filters)
			row = self._tables()["User"].get(filters)
			return None if row is None else row.get(fieldname)
		raise NotImplementedError("frappe stand-in: get_value supports Singles, DocType and User fields")

	def set_value(
		self, dt, dn, field, val=None, modified=None, modified_by=None, update_modified=True, debug=False
	):
		if dn is None or dt == dn:
			self.set_single_value(
				dt, field, val, modified=modified, modified_by=modified_by, update_modified=update_modified
			)
			return
		if isinstance(self._tables().get(dt), list) and isinstance(dn, str):
			self._log("update", dt, dn)
			self.transaction_writes += 1
			values = field if isinstance(field, dict) else {field: val}
			if update_modified:
				values = {
					**values,
					"modified": modified or now(),
					"modified_by": modified_by or frappe.session.user,
				}
			for row in self._tables(write=True)[dt]:
				if row.get("name") == dn:
					row.update(values)
			return
		raise NotImplementedError("frappe stand-in: set_value supports Singles and list tables")

	def get_default(self, key, parent="__default"):
		value = self.sql(Q_DEFAULT, (parent, key))
		return value[0][0] if value else None

	def get_global(self, key, user="__global"):
		return self.get_default(key, user)

	def set_default(self, key, val, parent="__default", parenttype=None):
		"""One value per key here (v15 deletes the key's rows, then inserts)."""
		self.transaction_writes += 1
		self._tables(write=True)["DefaultValue"][(parent, key)] = val

	# -- rows of ordinary DocTypes (list tables: Error Log, the app's logs, Notification Log) --

	def _rows(self, doctype: str) -> list[dict]:
		return self._tables().get(doctype, [])

	def _log(self, statement: str, doctype: str, filters) -> None:
		"""Count a statement the query builder would send (what it does is done in Python)."""
		self.last_query = f"{statement} `tab{doctype}` -- {filters!r}"
		QUERY_LOG.append(self.last_query)

	def get_all(
		self,
		doctype,
		filters=None,
		fields=None,
		order_by="creation desc",
		limit=None,
		pluck=None,
		limit_page_length=None,
		as_list=False,
		**kwargs,
	):
		"""`frappe.get_all` over a list table: dict or list filters (=, !=, <, <=, >, >=, in, not
		in, between), `order_by` "<field> asc|desc", `limit`, `pluck`; fields as names or "*"."""
		if doctype in self._tables() and not isinstance(self._tables()[doctype], list):
			raise NotImplementedError(f"frappe stand-in: get_all on {doctype}")
		self._log("select from", doctype, filters)
		rows = [r for r in self._rows(doctype) if _match(r, filters)]
		if order_by:
			field, _, direction = str(order_by).replace("`", "").partition(" ")
			field = field.rsplit(".", 1)[-1]
			rows.sort(
				key=lambda r: (r.get(field) is not None, r.get(field)),
				reverse=direction.strip().lower() == "desc",
			)
		limit = limit or limit_page_length
		if limit:
			rows = rows[: int(limit)]
		if pluck:
			return [r.get(pluck) for r in rows]
		fields = ["name"] if not fields else ([fields] if isinstance(fields, str) else list(fields))
		if fields == ["*"]:
			return [frappe._dict(r) for r in rows]
		if as_list:
			return [tuple(r.get(f) for f in fields) for r in rows]
		return [frappe._dict({f: r.get(f) for f in fields}) for r in rows]

	def delete(self, doctype: str, filters: dict | list | None = None, debug=False, **kwargs):
		"""DELETE the matching rows (no DocType hooks, as v15)."""
		filters = filters or kwargs.get("conditions")
		self._log("delete from", doctype, filters)
		self.transaction_writes += 1
		table = self._tables(write=True).setdefault(doctype, [])
		table[:] = [r for r in table if not _match(r, filters)]
