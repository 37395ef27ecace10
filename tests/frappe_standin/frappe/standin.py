"""Test control of the Frappe stand-in. NOT part of Frappe: application code must never import it.

    frappe.standin.reset(apps=("raven_ai_agent",), site_config={...})
    frappe.standin.create_user("jane@example.com", roles=["System Manager"])
    status, body, exc = frappe.standin.call_api("/api/method/app.api.fn", "POST", user="jane@example.com", x=1)
    frappe.standin.published()          # what reached Redis channel `events`

`reset` lays out a bench folder (sites/apps.txt, common_site_config.json, <site>/site_config.json),
"migrates" the DocType JSON files of the apps into the in-memory database, and leaves frappe
initialised and connected as Administrator, with `frappe.flags.in_test` set as `bench run-tests`
does. `request()` / `call_api()` run code as one HTTP request would on a live server (own
`frappe.local`, `flags.in_test` False, commit for POST/PUT/DELETE/PATCH, rollback otherwise).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import frappe
import frappe.deferred_insert
import frappe.handler
import frappe.realtime
from frappe.database import database as _db
from frappe.utils import CallbackManager
from frappe.utils import background_jobs as _bg
from frappe.utils import logger as _logger
from frappe.utils import redis_wrapper as _redis

DEFAULT_SITE = "test.localhost"
UNSAFE_HTTP_METHODS = ("POST", "PUT", "DELETE", "PATCH")
BUILTIN_ROLES = ("Administrator", "System Manager", "Guest", "All", "Desk User")

_state: dict[str, Any] = {"site": None, "sites_path": None, "apps": ()}


@dataclass
class ApiResponse:
	"""What `call_api` returns: HTTP status, the JSON body as a dict, and the exception if any."""

	status_code: int
	body: dict = field(default_factory=dict)
	exc: BaseException | None = None

	def __iter__(self):
		return iter((self.status_code, self.body, self.exc))


@dataclass
class _Request:
	method: str = "GET"
	path: str = "/"
	headers: dict = field(default_factory=dict)
	cookies: dict = field(default_factory=dict)
	after_response: CallbackManager = field(default_factory=CallbackManager)


# --- the release it behaves as -----------------------------------------------------------------

# 15.41 as captured on the real bench; 16.4.1 as the version-16 sources read (no v16 bench can be
# built here; get_user_info re-read at 16.4.1): frappe.tests' UnitTestCase/IntegrationTestCase
# exist and FrappeTestCase warns (frappe/tests/classes/, frappe/deprecation_dumpster.py),
# get_user_info adds installed_apps (frappe/realtime.py, no socket secret: that is develop).
VERSIONS = ("15.41.0", "16.4.1")
DEFAULT_VERSION = "15.41.0"


def set_version(version: str) -> None:
	"""Behave as Frappe `version` (one of VERSIONS) until the next reset."""
	if version not in VERSIONS:
		raise ValueError(f"version {version!r}: the stand-in knows {', '.join(VERSIONS)}")
	frappe.__version__ = version


def major() -> int:
	"""The major version the stand-in behaves as."""
	return int(frappe.__version__.split(".", 1)[0])


# --- bench / site ------------------------------------------------------------------------------


def reset(
	site: str = DEFAULT_SITE,
	sites_path: str | None = None,
	*,
	apps: Iterable[str] = ("raven_ai_agent",),
	site_config: dict | None = None,
	common_site_config: dict | None = None,
	in_test: bool = True,
	connect: bool = True,
	version: str = DEFAULT_VERSION,
) -> str:
	"""Start from nothing: empty DB, cache, event logs; write the bench folder; init + connect.
	`version` is the Frappe release the stand-in behaves as (VERSIONS; see set_version).

	`apps` are on the bench (apps.txt) and installed on the site, as after `bench get-app` +
	`install-app`. Returns `sites_path` (a new temporary
	folder unless given)."""
	if getattr(frappe.local, "initialised", None):
		frappe.destroy()
	set_version(version)
	frappe.local._swap({})
	_redis.flush_all()
	_db.drop_all()
	_bg._reset_connection()
	frappe.realtime.PUBLISHED.clear()
	frappe.SENT_MAIL.clear()
	frappe.realtime.DROPPED.clear()
	_logger.RECORDS.clear()
	frappe.loggers.clear()
	frappe.controllers.clear()

	sites_path = sites_path or tempfile.mkdtemp(prefix="frappe-standin-sites-")
	apps = tuple(a for a in apps if a != "frappe")
	os.makedirs(os.path.join(sites_path, site), exist_ok=True)
	with open(os.path.join(sites_path, "apps.txt"), "w") as f:
		f.write("\n".join(("frappe", *apps)) + "\n")
	_write_json(os.path.join(sites_path, "common_site_config.json"), common_site_config or {})
	db_name = "_" + hashlib.sha1(site.encode()).hexdigest()[:16]
	_write_json(
		os.path.join(sites_path, site, "site_config.json"),
		{"db_name": db_name, "db_password": "standin", **(site_config or {})},
	)

	tables = _db.committed(db_name)
	tables["DefaultValue"][("__global", "installed_apps")] = json.dumps(["frappe", *apps])
	tables["Role"].update(BUILTIN_ROLES)
	tables["User"]["Administrator"] = {"user_type": "System User", "enabled": 1, "email": "admin@example.com"}
	tables["User"]["Guest"] = {"user_type": "Website User", "enabled": 1}
	tables["Has Role"]["Administrator"] = ["Administrator", "System Manager"]
	tables["Has Role"]["Guest"] = ["Guest"]
	_sync_doctypes("frappe", tables)  # the few of Frappe's own DocTypes the stand-in models
	for app in apps:
		_sync_doctypes(app, tables)

	_state.update(site=site, sites_path=sites_path, apps=apps, db_name=db_name)
	if connect:
		frappe.init(site, sites_path)
		frappe.connect()
		frappe.flags.in_test = in_test
	return sites_path


def _write_json(path: str, data: dict) -> None:
	with open(path, "w") as f:
		json.dump(data, f, indent=1)


def _sync_doctypes(app: str, tables: dict) -> None:
	"""What `bench migrate` does for us here: every `<module>/doctype/<dt>/<dt>.json` into tabDocType."""
	app_path = os.path.dirname(importlib.import_module(app).__file__)
	for module in frappe.get_file_items(os.path.join(app_path, "modules.txt")):
		doctype_dir = os.path.join(app_path, frappe.scrub(module), "doctype")
		if not os.path.isdir(doctype_dir):
			continue
		for name in sorted(os.listdir(doctype_dir)):
			path = os.path.join(doctype_dir, name, name + ".json")
			if not os.path.isfile(path):
				continue
			with open(path) as f:
				data = json.load(f)
			if data.get("doctype") != "DocType":
				continue
			tables["DocType"][data["name"]] = data
			tables["Role"].update(p["role"] for p in data.get("permissions", []) if p.get("role"))


def enable_scheduler(enabled: bool = True) -> None:
	"""System Settings' enable_scheduler, committed (`bench --site X enable-scheduler`)."""
	_db.committed(_state["db_name"])["Singles"].setdefault("System Settings", {})["enable_scheduler"] = (
		"1" if enabled else "0"
	)


def rows(doctype: str) -> list[dict]:
	"""The committed rows of an ordinary DocType (its list table)."""
	return [dict(r) for r in _db.committed(_state["db_name"]).get(doctype, [])]


def sent_mail() -> list[dict]:
	"""What `frappe.sendmail` queued (its Email Queue), oldest first."""
	return list(frappe.SENT_MAIL)


def sites_path() -> str:
	return _state["sites_path"]


def create_session(sid: str, user: str) -> None:
	"""A logged-in session of this site, as Frappe keeps it after a login: a row in tabSessions
	and the session data in the Redis cache (hash `session`)."""
	_db.committed(_state["db_name"])["Sessions"][sid] = user
	if getattr(frappe.local, "initialised", None) and frappe.cache:
		frappe.cache.hset("session", sid, frappe._dict(user=user, sid=sid, data=frappe._dict(user=user)))


def create_user(
	name: str, roles: Iterable[str] = (), user_type: str = "System User", enabled: bool = True
) -> None:
	"""A committed User with these roles; user_type "System User" | "Website User"."""
	tables = _db.committed(_state["db_name"])
	tables["User"][name] = {
		"user_type": user_type,
		"enabled": int(enabled),
		"email": name if "@" in name else None,
	}
	tables["Has Role"][name] = list(roles)
	tables["Role"].update(roles)
	if getattr(frappe.local, "initialised", None):
		frappe.clear_cache(user=name)  # as saving a User does


# --- requests ----------------------------------------------------------------------------------


@contextlib.contextmanager
def request(
	method: str = "GET",
	user: str = "Guest",
	*,
	sid: str | None = None,
	path: str = "/",
	form: dict | None = None,
	headers: dict | None = None,
) -> Iterator[None]:
	"""Run the body as one request of a live server would (the caller's frappe.local is restored
	after): fresh `frappe.local`, own DB connection, session of `user`, `request.method`.

	On success: commit for POST/PUT/DELETE/PATCH (or `frappe.local.flags.commit`), else rollback.
	On an exception: rollback for unsafe methods; a GET's open transaction dies with the
	connection. The exception propagates."""
	outer = frappe.local._swap({})
	try:
		_init_request(method, user, sid, path, form, headers)
		try:
			yield
		except BaseException:
			if method in UNSAFE_HTTP_METHODS and frappe.db:
				frappe.db.rollback()
			raise
		else:
			_sync_database()
		finally:
			_end_request()
	finally:
		frappe.local._swap(outer)


def _init_request(method, user, sid, path, form, headers) -> None:
	frappe.init(_state["site"], _state["sites_path"], force=True)
	frappe.local.request = _Request(method=method.upper(), path=path, headers=dict(headers or {}))
	frappe.local.is_ajax = False
	# v15 init_request: X-Forwarded-For's first address, else the socket's peer
	forwarded = (headers or {}).get("X-Forwarded-For")
	frappe.local.request_ip = forwarded.split(",")[0].strip() if forwarded else "127.0.0.1"
	frappe.connect(set_admin_as_user=False)
	frappe.local.form_dict = frappe._dict(form or {})
	frappe.local.form_dict.pop("_", None)
	_start_session(user, sid)


def _start_session(user: str, sid: str | None) -> None:
	row = _db.committed(_state["db_name"])["User"].get(user)
	if row is None:
		raise ValueError(f"frappe stand-in: no user {user!r}; create it with frappe.standin.create_user")
	if user == "Guest":
		sid = "Guest"
	frappe.local.session = frappe._dict(
		user=user,
		sid=sid or frappe.generate_hash(),
		data=frappe._dict(user=user, user_type=row["user_type"]),
	)
	frappe.local.cookie_manager = None


def _sync_database() -> None:
	"""frappe.app.sync_database: commit for unsafe methods (or flags.commit), else rollback."""
	if frappe.db and (frappe.local.flags.commit or frappe.local.request.method in UNSAFE_HTTP_METHODS):
		frappe.db.commit()
	elif frappe.db:
		frappe.db.rollback()


def _end_request() -> None:
	request_obj = getattr(frappe.local, "request", None)
	if request_obj is not None:
		request_obj.after_response.run()
	frappe.destroy()


def call_api(
	path: str,
	http_method: str = "GET",
	user: str = "Guest",
	sid: str | None = None,
	*,
	raise_exc: bool = False,
	headers: dict | None = None,
	**form: Any,
) -> ApiResponse:
	"""`/api/method/<dotted.path>` (or just the dotted path) as v15's app + handler run it:
	whitelist and guest check, allowed HTTP methods, call with `form` as arguments, commit for
	POST/PUT/DELETE/PATCH, rollback otherwise; an exception becomes its `http_status_code`
	(500 if none; 5xx also files a deferred Error Log) and a rollback (for unsafe methods).
	Body: {"message": result} or {"exc_type", "exception", "_server_messages"}."""
	cmd = path.removeprefix("/api/method/").split("/")[0]
	method = http_method.upper()
	outer = frappe.local._swap({})
	result = ApiResponse(200)
	try:
		rollback = True
		try:
			_init_request(method, user, sid, f"/api/method/{cmd}", form, headers)
			frappe.local.form_dict.cmd = cmd
			frappe.handler.handle()
			result.body = _build_body()
		except Exception as e:
			result = _handle_exception(e)
		else:
			_sync_database()
			rollback = False
		finally:
			if rollback and method in UNSAFE_HTTP_METHODS and frappe.db:
				frappe.db.rollback()
			if getattr(frappe.local, "initialised", None):
				_end_request()
	finally:
		frappe.local._swap(outer)
	if raise_exc and result.exc is not None:
		raise result.exc
	return result


def _build_body() -> dict:
	body = dict(frappe.local.response)
	if "docs" in body and not body["docs"]:
		del body["docs"]
	if frappe.local.message_log:
		body["_server_messages"] = json.dumps([json.dumps(d, default=str) for d in frappe.local.message_log])
	return body


def _handle_exception(e: Exception) -> ApiResponse:
	status = getattr(e, "http_status_code", 500)
	if getattr(frappe.local, "session", None) is not None and not frappe.session.user:
		frappe.session.user = "Guest"
	if status >= 500 and getattr(frappe.local, "initialised", None):
		try:
			frappe.log_error(title=str(e), defer_insert=True)
		except Exception:
			pass
	body = {"exc_type": type(e).__name__, "exception": f"{type(e).__module__}.{type(e).__name__}: {e}"}
	if getattr(frappe.local, "message_log", None):
		body["_server_messages"] = json.dumps([json.dumps(d, default=str) for d in frappe.local.message_log])
	return ApiResponse(status, body, e)


@contextlib.contextmanager
def background() -> Iterator[None]:
	"""Run the body with a fresh frappe.local (another process/job), as Administrator."""
	outer = frappe.local._swap({})
	try:
		frappe.init(_state["site"], _state["sites_path"])
		frappe.connect()
		yield
	finally:
		frappe.destroy()
		frappe.local._swap(outer)


def invoke_command(command, args: Iterable[str] = (), site: str | None = None):
	"""Invoke a bench click command as `bench --site <site> <command> <args>` (cwd = sites)."""
	from click.testing import CliRunner

	obj = frappe._dict(sites=[site] if site else [], force=False, verbose=False, profile=False)
	outer = frappe.local._swap({})
	cwd = os.getcwd()
	try:
		os.chdir(_state["sites_path"])
		return CliRunner().invoke(command, list(args), obj=obj, catch_exceptions=True)
	finally:
		os.chdir(cwd)
		if getattr(frappe.local, "initialised", None):
			frappe.destroy()
		frappe.local._swap(outer)


# --- observation -------------------------------------------------------------------------------


def published() -> list[dict]:
	"""Every PUBLISH that reached Redis: {"channel", "data" (raw JSON text), "receivers", "message"}."""
	return [dict(p, message=json.loads(p["data"])) for p in frappe.realtime.PUBLISHED]


def dropped() -> list[dict]:
	"""Events lost because Redis was unreachable (v15 swallows the ConnectionError)."""
	return list(frappe.realtime.DROPPED)


def realtime_queue() -> list:
	"""[event, message, room] queued with after_commit in the current frappe.local."""
	return list(getattr(frappe.local, "_realtime_log", []))


def error_logs(include_deferred: bool = True) -> list[dict]:
	"""Error Log rows visible to the current connection (committed + own uncommitted), then
	those parked by `defer_insert` (marked `deferred: True`)."""
	tables = frappe.db._tables() if frappe.db else _db.committed(_state["db_name"])
	rows = [dict(r) for r in tables.get("Error Log", [])]
	if include_deferred:
		key = f"{_state['db_name']}|{frappe.deferred_insert.queue_prefix}Error Log".encode()
		for raw in _redis._DATA.get(key, []):
			rows.extend(dict(r, deferred=True) for r in json.loads(raw))
	return rows


def flush_deferred_inserts() -> None:
	"""Insert the records parked by `defer_insert`, as the scheduler would."""
	frappe.deferred_insert.save_to_db()


def log_records(logger: str | None = None) -> list:
	"""Records let through by `frappe.logger(...)` loggers (optionally one logger name)."""
	return [r for r in _logger.RECORDS if logger is None or r.name == logger]


def query_count() -> int:
	"""SQL statements run on any connection since reset / reset_counters."""
	return len(_db.QUERY_LOG)


def queries() -> list[str]:
	return list(_db.QUERY_LOG)


def cache_round_trips() -> int:
	"""Commands sent to the (in-memory) Redis cache since reset / reset_counters."""
	return len(_redis.COMMANDS)


def cache_commands() -> list[tuple]:
	return list(_redis.COMMANDS)


def reset_counters() -> None:
	_db.QUERY_LOG.clear()
	_redis.COMMANDS.clear()


def single_values(doctype: str) -> dict:
	"""Committed tabSingles rows of a Single, as stored (text)."""
	return dict(_db.committed(_state["db_name"])["Singles"].get(doctype, {}))
