"""A small stand-in for the Frappe v15 Python API, for the tests of `raven_ai_agent` only.

Every public name here mirrors the function of the same name in frappe/__init__.py of Frappe
v15 (read from the version-15 source, see ../README.md): same signature, same observable
behaviour for what the app uses. Storage is in memory (a transactional "tabSingles", an
in-memory Redis cache); `frappe.publish_realtime` talks to a real Redis. Test control lives in
`frappe.standin`, which the app must never import.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from .exceptions import *  # noqa: F403 - real frappe re-exports its exceptions the same way
from .exceptions import (
	AppNotInstalledError,
	IncorrectSitePath,
	PermissionError,
	ValidationError,
)

__version__ = "15.41.0"  # frappe.standin.set_version() makes it behave as another release
__title__ = "Frappe Framework (test stand-in)"

STANDARD_USERS = ("Guest", "Administrator")


class _dict(dict):
	"""dict with attribute access; missing keys read as None (frappe._dict)."""

	__slots__ = ()
	__getattr__ = dict.get
	__setattr__ = dict.__setitem__
	__delattr__ = dict.__delitem__
	__setstate__ = dict.update

	def __getstate__(self):
		return self

	def update(self, *args, **kwargs):
		"""Update and return self, like frappe._dict."""
		super().update(*args, **kwargs)
		return self

	def copy(self):
		return _dict(self)


# --- request-local state (werkzeug.local.Local / LocalProxy in real Frappe) ---------------------


class _Storage(threading.local):
	def __init__(self) -> None:
		self.d: dict[str, Any] = {}


class Local:
	"""Per-thread (per-"request") attribute bag, like `werkzeug.local.Local`."""

	def __init__(self) -> None:
		object.__setattr__(self, "_storage", _Storage())

	def __getattr__(self, name: str) -> Any:
		try:
			return self._storage.d[name]
		except KeyError:
			raise AttributeError(name) from None

	def __setattr__(self, name: str, value: Any) -> None:
		self._storage.d[name] = value

	def __delattr__(self, name: str) -> None:
		try:
			del self._storage.d[name]
		except KeyError:
			raise AttributeError(name) from None

	def __call__(self, name: str) -> LocalProxy:
		return LocalProxy(self, name)

	def _swap(self, new: dict[str, Any]) -> dict[str, Any]:
		"""Stand-in only: replace the whole state (a new request), return the old one."""
		old = self._storage.d
		self._storage.d = new
		return old


def release_local(local_obj: Local) -> None:
	local_obj._storage.d = {}


class LocalProxy:
	"""Forwards to `local.<name>`; falsy when unbound (as werkzeug's proxy)."""

	__slots__ = ("_local", "_name")

	def __init__(self, local_obj: Local, name: str) -> None:
		object.__setattr__(self, "_local", local_obj)
		object.__setattr__(self, "_name", name)

	def _get_current_object(self) -> Any:
		try:
			return getattr(self._local, self._name)
		except AttributeError:
			raise RuntimeError("object is not bound") from None  # werkzeug's exact text

	@property
	def __class__(self):  # noqa: F811 - like werkzeug: isinstance() and __class__ see the object
		try:
			return type(self._get_current_object())
		except RuntimeError:
			return LocalProxy

	def __getattr__(self, name: str) -> Any:
		return getattr(self._get_current_object(), name)

	def __setattr__(self, name: str, value: Any) -> None:
		setattr(self._get_current_object(), name, value)

	def __delattr__(self, name: str) -> None:
		delattr(self._get_current_object(), name)

	def __bool__(self) -> bool:
		try:
			return bool(self._get_current_object())
		except RuntimeError:
			return False

	def __getitem__(self, key):
		return self._get_current_object()[key]

	def __setitem__(self, key, value):
		self._get_current_object()[key] = value

	def __delitem__(self, key):
		del self._get_current_object()[key]

	def __contains__(self, key) -> bool:
		return key in self._get_current_object()

	def __iter__(self):
		return iter(self._get_current_object())

	def __len__(self) -> int:
		return len(self._get_current_object())

	def __eq__(self, other) -> bool:
		return self._get_current_object() == other

	def __ne__(self, other) -> bool:
		return self._get_current_object() != other

	__hash__ = None  # type: ignore[assignment]

	def __call__(self, *args, **kwargs):
		return self._get_current_object()(*args, **kwargs)

	def __str__(self) -> str:
		return str(self._get_current_object())

	def __repr__(self) -> str:
		try:
			return repr(self._get_current_object())
		except RuntimeError:
			return f"<unbound frappe.local.{self._name}>"


local = Local()
controllers: dict[str, dict] = {}
cache = None  # the RedisWrapper, set by frappe.init() like v15 `setup_redis_cache_connection`
loggers: dict = {}
log_level: int | None = None


def _sbool(value):
	"""v15 frappe.utils.sbool: "true"/"1" and "false"/"0" (any case) become bools, the rest stays."""
	if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
		return value.lower() in ("true", "1")
	return value


_dev_server = int(_sbool(os.environ.get("DEV_SERVER", False)))  # as v15: DEV_SERVER=0 is off

db = local("db")
qb = local("qb")
conf = local("conf")
form_dict = local("form_dict")
form = form_dict
request = local("request")
job = local("job")
response = local("response")
session = local("session")
user = local("user")
flags = local("flags")
error_log = local("error_log")
debug_log = local("debug_log")
message_log = local("message_log")
lang = local("lang")


def _(msg: str, lang: str | None = None, context: str | None = None) -> str:
	"""Translate; the stand-in has no translations, so the message comes back unchanged."""
	if not hasattr(local, "lang"):
		local.lang = lang or "en"
	return msg


def as_unicode(text, encoding: str = "utf-8") -> str:
	if isinstance(text, str):
		return text
	elif text is None:
		return ""
	elif isinstance(text, bytes):
		return str(text, encoding)
	return str(text)


def safe_decode(param, encoding: str = "utf-8", fallback_map: dict | None = None):
	try:
		param = param.decode(encoding)
	except Exception:
		pass
	return param


# --- site init / config ------------------------------------------------------------------------


def init(site: str, sites_path: str = ".", new_site: bool = False, force: bool = False) -> None:
	"""Initialise `frappe.local` for a site (v15 `frappe.init`): flags, conf, session, cache."""
	if getattr(local, "initialised", None) and not force:
		return

	local.error_log = []
	local.message_log = []
	local.debug_log = []
	local.flags = _dict(
		{
			"currently_saving": [],
			"redirect_location": "",
			"in_install_db": False,
			"in_install_app": False,
			"in_import": False,
			"in_test": False,
			"mute_messages": False,
			"ignore_links": False,
			"mute_emails": False,
			"has_dataurl": False,
			"new_site": new_site,
			"read_only": False,
		}
	)
	local.locked_documents = []
	local.test_objects = {}
	local.site = site
	local.sites_path = sites_path
	local.site_path = os.path.join(sites_path, site)
	local.all_apps = None
	local.request_ip = None
	local.response = _dict({"docs": []})
	local.task_id = None
	local.conf = _dict(get_site_config())
	local.lang = local.conf.lang or "en"
	local.module_app = None
	local.app_modules = None
	local.user = None
	local.user_perms = None
	local.session = None
	local.role_permissions = {}
	local.valid_columns = {}
	local.new_doc_templates = {}
	local.jenv = None
	local.jloader = None
	local.cache = {}
	local.form_dict = _dict()
	local.preload_assets = {"style": [], "script": [], "icons": []}
	local.session = _dict()
	local.dev_server = _dev_server
	setup_redis_cache_connection()
	local.initialised = True


def connect(site: str | None = None, db_name: str | None = None, set_admin_as_user: bool = True) -> None:
	"""Open the site's (in-memory) database; asserts like v15 that the site config is complete."""
	from frappe.database import get_db

	if site:
		init(site)

	assert db_name or local.conf.db_name, "site must be fully initialized, db_name missing"
	assert local.conf.db_password, "site must be fully initialized, db_password missing"

	local.db = get_db(
		host=local.conf.db_host,
		port=local.conf.db_port,
		user=local.conf.db_name or db_name,
		password=local.conf.db_password,
		cur_db_name=local.conf.db_name or db_name,
	)
	if set_admin_as_user:
		set_user("Administrator")


def get_site_config(sites_path: str | None = None, site_path: str | None = None) -> _dict:
	"""`site_config.json` merged over `common_site_config.json`, then v15's env overrides/defaults."""
	config = _dict()

	sites_path = sites_path or getattr(local, "sites_path", None)
	site_path = site_path or getattr(local, "site_path", None)

	if sites_path:
		config.update(get_common_site_config(sites_path))

	if site_path:
		site_config = os.path.join(site_path, "site_config.json")
		if os.path.exists(site_config):
			try:
				config.update(get_file_json(site_config))
			except Exception as error:
				print(f"{local.site}/site_config.json is invalid")
				print(error)
		elif local.site and not local.flags.new_site:
			raise IncorrectSitePath(f"{local.site} does not exist")

	config["redis_queue"] = (
		os.environ.get("FRAPPE_REDIS_QUEUE") or config.get("redis_queue") or "redis://127.0.0.1:11311"
	)
	config["redis_cache"] = (
		os.environ.get("FRAPPE_REDIS_CACHE") or config.get("redis_cache") or "redis://127.0.0.1:13311"
	)
	config["db_type"] = os.environ.get("FRAPPE_DB_TYPE") or config.get("db_type") or "mariadb"
	config["db_socket"] = os.environ.get("FRAPPE_DB_SOCKET") or config.get("db_socket")
	config["db_host"] = os.environ.get("FRAPPE_DB_HOST") or config.get("db_host") or "127.0.0.1"
	config["db_port"] = (
		os.environ.get("FRAPPE_DB_PORT")
		or config.get("db_port")
		or (3306 if config["db_type"] == "mariadb" else 5432)
	)
	return config


def get_common_site_config(sites_path: str | None = None) -> _dict:
	"""`sites/common_site_config.json` alone (v15 has this helper)."""
	sites_path = sites_path or getattr(local, "sites_path", None)
	common_site_config = os.path.join(sites_path, "common_site_config.json")
	if os.path.exists(common_site_config):
		try:
			return _dict(get_file_json(common_site_config))
		except Exception as error:
			print("common_site_config.json is invalid")
			print(error)
	return _dict()


def get_conf(site: str | None = None) -> _dict:
	"""`frappe.local.conf` when initialised (the argument is then ignored), else a throwaway init."""
	if hasattr(local, "conf"):
		return local.conf

	with init_site(site):
		return local.conf


class init_site:
	def __init__(self, site: str | None = None) -> None:
		self.site = site or ""

	def __enter__(self):
		init(self.site)
		return local

	def __exit__(self, type, value, traceback):
		destroy()


def destroy() -> None:
	"""Close the connection (dropping its open transaction) and release `frappe.local`."""
	if db:
		db.close()
	release_local(local)


def setup_redis_cache_connection() -> None:
	"""Define `frappe.cache` (v15: a RedisWrapper instance, also callable as `frappe.cache()`)."""
	global cache
	if not cache:
		from frappe.utils.redis_wrapper import setup_cache

		cache = setup_cache()


def get_file_json(path: str):
	with open(path) as f:
		return json.load(f)


def read_file(path: str, raise_not_found: bool = False):
	if os.path.exists(path):
		with open(path) as f:
			return as_unicode(f.read())
	elif raise_not_found:
		raise OSError(f"{path} Not Found")
	return None


def get_file_items(path: str, raise_not_found: bool = False, ignore_empty_lines: bool = True) -> list[str]:
	content = read_file(path, raise_not_found=raise_not_found)
	if content:
		content = content.strip()
		return [
			p.strip()
			for p in content.splitlines()
			if (not ignore_empty_lines) or (p.strip() and not p.startswith("#"))
		]
	return []


def get_all_apps(with_internal_apps: bool = True, sites_path: str | None = None) -> list[str]:
	"""Apps on the bench, from `sites/apps.txt`, frappe first."""
	if not sites_path:
		sites_path = local.sites_path
	apps = get_file_items(os.path.join(sites_path, "apps.txt"), raise_not_found=True)
	if with_internal_apps:
		for app in get_file_items(os.path.join(local.site_path, "apps.txt")):
			if app not in apps:
				apps.append(app)
	if "frappe" in apps:
		apps.remove("frappe")
	apps.insert(0, "frappe")
	return apps


def request_cache(func: Callable) -> Callable:
	"""Memoise for the current request in `frappe.local.request_cache` (frappe.utils.caching)."""

	@functools.wraps(func)
	def wrapper(*args, **kwargs):
		if not getattr(local, "initialised", None):
			return func(*args, **kwargs)
		if not hasattr(local, "request_cache"):
			local.request_cache = {}
		key = (func, args, tuple(sorted(kwargs.items())))
		store = local.request_cache
		if key not in store:
			store[key] = func(*args, **kwargs)
		return store[key]

	return wrapper


def get_installed_apps(*, _ensure_on_bench: bool = False) -> list[str]:
	"""Installed apps of the site, read from the DB global `installed_apps`."""
	if getattr(flags, "in_install_db", True):
		return []
	if not db:
		connect()
	installed = json.loads(db.get_global("installed_apps") or "[]")
	if _ensure_on_bench:
		all_apps = cache.get_value("all_apps", get_all_apps)
		installed = [app for app in installed if app in all_apps]
	return installed


# --- messages / errors -------------------------------------------------------------------------


def msgprint(
	msg: str,
	title: str | None = None,
	raise_exception: bool | type[Exception] | Exception = False,
	as_table: bool = False,
	as_list: bool = False,
	indicator: str | None = None,
	alert: bool = False,
	primary_action: str | None = None,
	is_minimizable: bool = False,
	wide: bool = False,
	*,
	realtime: bool = False,
) -> None:
	"""Queue a message for the response (`message_log`) and optionally raise."""
	msg = safe_decode(msg)
	out = _dict(message=msg)

	def _raise_exception():
		if raise_exception:
			if inspect.isclass(raise_exception) and issubclass(raise_exception, Exception):
				exc = raise_exception(msg)
			elif isinstance(raise_exception, Exception):
				exc = raise_exception
				exc.args = (msg,)
			else:
				exc = ValidationError(msg)
			raise exc

	if flags.mute_messages:
		_raise_exception()
		return

	if as_table and type(msg) in (list, tuple):
		out.as_table = 1
	if as_list and type(msg) in (list, tuple):
		out.as_list = 1
	out.title = title or _("Message", context="Default title of the message dialog")
	if not indicator and raise_exception:
		indicator = "red"
	if indicator:
		out.indicator = indicator
	if is_minimizable:
		out.is_minimizable = is_minimizable
	if alert:
		out.alert = 1
	if raise_exception:
		out.raise_exception = 1
	if primary_action:
		out.primary_action = primary_action
	if wide:
		out.wide = wide

	if realtime:
		publish_realtime(event="msgprint", message=out)
	else:
		message_log.append(out)
	_raise_exception()


def throw(
	msg: str,
	exc: type[Exception] | Exception = ValidationError,
	title: str | None = None,
	is_minimizable: bool = False,
	wide: bool = False,
	as_list: bool = False,
	primary_action=None,
) -> None:
	"""msgprint in red, then raise `exc` (a class or an instance) with `msg`."""
	msgprint(
		msg,
		raise_exception=exc,
		title=title,
		indicator="red",
		is_minimizable=is_minimizable,
		wide=wide,
		as_list=as_list,
		primary_action=primary_action,
	)


def clear_last_message() -> None:
	if len(local.message_log) > 0:
		local.message_log = local.message_log[:-1]


def get_traceback(with_context: bool = False) -> str:
	"""The current exception's traceback as text (frappe.utils.get_traceback)."""
	from frappe.utils import get_traceback as _get_traceback

	return _get_traceback(with_context=with_context)


def bold(text) -> str:
	return f"<strong>{text}</strong>"


def generate_hash(txt: str | None = None, length: int = 56) -> str:
	import math
	import secrets

	if not length:
		length = 56
	return secrets.token_hex(math.ceil(length / 2))[:length]


def scrub(txt: str) -> str:
	"""`Sales Order` -> `sales_order`."""
	from frappe.utils.data import cstr

	return cstr(txt).replace(" ", "_").replace("-", "_").lower()


# --- users, roles, permissions -----------------------------------------------------------------


def set_user(username: str) -> None:
	"""Become `username`: v15 also sets `session.sid = username` and drops request caches."""
	local.session.user = username
	local.session.sid = username
	local.cache = {}
	local.form_dict = _dict()
	local.jenv = None
	local.session.data = _dict()
	local.role_permissions = {}
	local.new_doc_templates = {}
	local.user_perms = None


def get_roles(username: str | None = None) -> list[str]:
	"""Roles of `username` (default: session user); ["Guest"] without a session."""
	if not local.session or not local.session.user:
		return ["Guest"]
	import frappe.permissions

	return frappe.permissions.get_roles(username or local.session.user)


def has_permission(
	doctype=None,
	ptype="read",
	doc=None,
	user=None,
	throw=False,
	*,
	parent_doctype=None,
	debug=False,
	ignore_share_permissions=False,
) -> bool:
	"""Role permission of the DocType's `permissions` rows (permlevel 0); raises with `throw`."""
	import frappe.permissions

	if not doctype and doc:
		doctype = doc.doctype

	out = frappe.permissions.has_permission(
		doctype,
		ptype,
		doc=doc,
		user=user,
		raise_exception=throw,
		parent_doctype=parent_doctype,
		debug=debug,
		ignore_share_permissions=ignore_share_permissions,
	)

	if throw and not out:
		document_label = f"{_(doctype)} {doc if isinstance(doc, str) else doc.name}" if doc else _(doctype)
		flags.error_message = _("No permission for {0}").format(document_label)
		raise PermissionError

	return out


# --- whitelist ---------------------------------------------------------------------------------

whitelisted: set[Callable] = set()
guest_methods: set[Callable] = set()
xss_safe_methods: set[Callable] = set()
allowed_http_methods_for_whitelisted_func: dict[Callable, list[str]] = {}


def whitelist(allow_guest=False, xss_safe=False, methods=None):
	"""Register a function as callable over HTTP (`/api/method/<dotted.path>`).

	v15: default methods GET/POST/PUT/DELETE; annotated arguments are type-checked when called
	inside a request or under `flags.in_test`."""
	if not methods:
		methods = ["GET", "POST", "PUT", "DELETE"]

	def innerfn(fn):
		from frappe.utils.typing_validations import validate_argument_types

		def in_request_or_test():
			return getattr(local, "request", None) or (getattr(local, "flags", None) or {}).get("in_test")

		method = None
		if hasattr(fn, "__func__"):
			method = validate_argument_types(fn, apply_condition=in_request_or_test)
			fn = method.__func__
		else:
			fn = validate_argument_types(fn, apply_condition=in_request_or_test)

		whitelisted.add(fn)
		allowed_http_methods_for_whitelisted_func[fn] = methods

		if allow_guest:
			guest_methods.add(fn)
			if xss_safe:
				xss_safe_methods.add(fn)

		return method or fn

	return innerfn


def is_whitelisted(method) -> None:
	"""Throw PermissionError ("Method Not Allowed") unless whitelisted (and guest-allowed for Guest).

	Not modelled: v15 also HTML-sanitises `form_dict` strings for Guest calls."""
	is_guest = session["user"] == "Guest"
	if method not in whitelisted or (is_guest and method not in guest_methods):
		summary = _("You are not permitted to access this resource. Login to access")
		detail = _("Function {0} is not whitelisted.").format(bold(f"{method.__module__}.{method.__name__}"))
		msg = f"<details><summary>{summary}</summary>{detail}</details>"
		throw(msg, PermissionError, title=_("Method Not Allowed"))


# --- hooks, attrs, calls -----------------------------------------------------------------------


def get_module(modulename: str):
	return importlib.import_module(modulename)


def get_attr(method_string: str) -> Any:
	"""Import `a.b.c` and return `c`; throws AppNotInstalledError for apps not installed."""
	app_name = method_string.split(".", 1)[0]
	if not local.flags.in_uninstall and not local.flags.in_install and app_name not in get_installed_apps():
		throw(_("App {0} is not installed").format(app_name), AppNotInstalledError)

	modulename = ".".join(method_string.split(".")[:-1])
	methodname = method_string.split(".")[-1]
	return getattr(get_module(modulename), methodname)


def call(fn: str | Callable, *args, **kwargs):
	"""Call `fn` with only the keyword arguments it accepts."""
	if isinstance(fn, str):
		fn = get_attr(fn)
	newargs = get_newargs(fn, kwargs)
	return fn(*args, **newargs)


def get_newargs(fn: Callable, kwargs: dict[str, Any]) -> dict[str, Any]:
	"""Drop kwargs `fn` does not take; always drops `ignore_permissions` and `flags`."""
	varkw_exist = False
	signature = inspect.signature(fn)
	fnargs = list(signature.parameters)
	for param_name, parameter in signature.parameters.items():
		if parameter.kind == inspect.Parameter.VAR_KEYWORD:
			varkw_exist = True
			fnargs.remove(param_name)
			break

	newargs = {}
	for a in kwargs:
		if (a in fnargs) or varkw_exist:
			newargs[a] = kwargs.get(a)

	newargs.pop("ignore_permissions", None)
	newargs.pop("flags", None)
	return newargs


@request_cache
def _load_app_hooks(app_name: str | None = None) -> dict:
	import types

	hooks: dict = {}
	apps = [app_name] if app_name else get_installed_apps(_ensure_on_bench=True)
	for app in apps:
		try:
			app_hooks = get_module(f"{app}.hooks")
		except ImportError as e:
			print(f'Could not find app "{app}": \n{e}')
			raise

		def _is_valid_hook(obj):
			return not isinstance(obj, types.ModuleType | types.FunctionType | type)

		for key, value in inspect.getmembers(app_hooks, predicate=_is_valid_hook):
			if not key.startswith("_"):
				append_hook(hooks, key, value)
	return hooks


def get_hooks(
	hook: str | None = None, default: Any | None = "_KEEP_DEFAULT_LIST", app_name: str | None = None
):
	"""Hooks of the installed apps (frappe first); cached in Redis key `app_hooks` unless developer_mode."""
	if app_name:
		hooks = _dict(_load_app_hooks(app_name))
	elif conf.developer_mode:
		hooks = _dict(_load_app_hooks())
	else:
		hooks = _dict(cache.get_value("app_hooks", _load_app_hooks))

	if hook:
		return hooks.get(hook, ([] if default == "_KEEP_DEFAULT_LIST" else default))
	return hooks


def append_hook(target: dict, key: str, value) -> None:
	if isinstance(value, dict):
		target.setdefault(key, {})
		for inkey in value:
			append_hook(target[key], inkey, value[inkey])
	else:
		target.setdefault(key, [])
		if not isinstance(value, list):
			value = [value]
		target[key].extend(value)


def get_doc_hooks() -> dict:
	if not getattr(local, "doc_events_hooks", None):
		hooks = get_hooks("doc_events", {})
		out: dict = {}
		for key, value in hooks.items():
			if isinstance(key, tuple):
				for doctype in key:
					append_hook(out, doctype, value)
			else:
				append_hook(out, key, value)
		local.doc_events_hooks = out
	return local.doc_events_hooks


def override_whitelisted_method(original_method: str) -> str:
	overrides = get_hooks("override_whitelisted_methods", {}).get(original_method, [])
	return overrides[-1] if overrides else original_method


# --- documents ---------------------------------------------------------------------------------


def get_meta(doctype, cached=True):
	import frappe.model.meta

	return frappe.model.meta.get_meta(doctype, cached=cached)


def get_doc(*args: Any, **kwargs: Any):
	"""A Document: `get_doc(doctype)` for a Single, `get_doc({...})` for a new one."""
	import frappe.model.document

	return frappe.model.document.get_doc(*args, **kwargs)


def get_single(doctype: str):
	"""The Single as a Document, read from the DB each call (defaults filled if never saved)."""
	return get_doc(doctype, doctype)


def new_doc(
	doctype: str, *, parent_doc=None, parentfield: str | None = None, as_dict: bool = False, **kwargs
):
	"""A new document with JSON/static defaults applied."""
	from frappe.model.create_new import get_new_doc

	new_doc = get_new_doc(doctype, parent_doc, parentfield, as_dict=as_dict)
	return new_doc.update(kwargs)


def get_document_cache_key(doctype: str, name: str) -> str:
	return f"document_cache::{doctype}::{name}"


def can_cache_doc(args) -> str | None:
	if not args:
		return None
	doctype = args[0]
	name = doctype if len(args) == 1 or args[1] is None else args[1]
	if isinstance(doctype, str) and isinstance(name, str):
		return get_document_cache_key(doctype, name)
	return None


def get_cached_doc(*args: Any, **kwargs: Any):
	"""v15: Redis key `document_cache::<dt>::<name>` via `cache.get_value` (which also keeps the
	object in `frappe.local.cache` for the rest of the request), else `get_doc` and store."""
	if (key := can_cache_doc(args)) and (doc := cache.get_value(key)):
		return doc

	doc = get_doc(*args, **kwargs)
	if not key:
		key = get_document_cache_key(doc.doctype, doc.name)
	_set_document_in_cache(key, doc)
	return doc


def _set_document_in_cache(key: str, doc) -> None:
	cache.set_value(key, doc)


def clear_document_cache(doctype: str, name: str | None = None) -> None:
	"""Drop the cached document now, and again after the next commit or rollback."""

	def clear_in_redis():
		if name is not None:
			cache.delete_value(get_document_cache_key(doctype, name))
		else:
			cache.delete_keys(get_document_cache_key(doctype, ""))

	clear_in_redis()
	if hasattr(db, "after_commit"):
		db.after_commit.add(clear_in_redis)
		db.after_rollback.add(clear_in_redis)

	if doctype == "System Settings" and hasattr(local, "system_settings"):
		delattr(local, "system_settings")
	if doctype == "Website Settings" and hasattr(local, "website_settings"):
		delattr(local, "website_settings")


def get_all(doctype, *args, **kwargs):
	"""Rows of an ordinary DocType without permission checks (see `Database.get_all`)."""
	return db.get_all(doctype, *args, **kwargs)


SENT_MAIL: list[dict] = []


def sendmail(recipients=None, sender="", subject="No Subject", message="No Message", now=None, **kwargs):
	"""Queue an email (v15 writes an Email Queue row, sent by the scheduler); kept in SENT_MAIL."""
	if isinstance(recipients, str):
		recipients = [r.strip() for r in recipients.split(",") if r.strip()]
	SENT_MAIL.append({"recipients": list(recipients or []), "subject": subject, "message": message})


def clear_cache(user: str | None = None, doctype: str | None = None) -> None:
	"""Clear the cache of one user (drops its `bootinfo`); see cache_manager."""
	import frappe.cache_manager

	frappe.cache_manager.clear_cache(user=user, doctype=doctype)


# --- JSON --------------------------------------------------------------------------------------


def as_json(obj: dict | list, indent=1, separators=None, ensure_ascii=True) -> str:
	"""`json.dumps` with sorted keys, indent 1 and Frappe's default handler (dates, docs)."""
	from frappe.utils.response import json_handler

	if separators is None:
		separators = (",", ": ")
	try:
		return json.dumps(
			obj,
			indent=indent,
			sort_keys=True,
			default=json_handler,
			separators=separators,
			ensure_ascii=ensure_ascii,
		)
	except TypeError:
		sorted_obj = dict(sorted(obj.items(), key=lambda kv: str(kv[0])))
		return json.dumps(
			sorted_obj, indent=indent, default=json_handler, separators=separators, ensure_ascii=ensure_ascii
		)


# --- realtime, logging -------------------------------------------------------------------------


def publish_realtime(*args, **kwargs):
	"""See `frappe.realtime.publish_realtime`."""
	import frappe.realtime

	return frappe.realtime.publish_realtime(*args, **kwargs)


def logger(module=None, with_more_info=False, allow_site=True, filter=None, max_size=100_000, file_count=20):
	"""A `logging.Logger` named `<module>-<site>`, level ERROR (WARNING on a dev server)."""
	from frappe.utils.logger import get_logger

	return get_logger(
		module=module,
		with_more_info=with_more_info,
		allow_site=allow_site,
		filter=filter,
		max_size=max_size,
		file_count=file_count,
	)


from frappe.utils.error import log_error as log_error  # noqa: E402 - v15 imports it here too
