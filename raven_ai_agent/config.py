"""Public API: the realtime config of the current site, and its diagnosis.

    from raven_ai_agent.config import get_config, diagnose_realtime, DeploymentType, RavenConfig
    config = get_config()
    config.get_external_socketio_url()

A thin Frappe shell: it gathers Frappe's conf, the bench's common config and the
Raven Realtime Settings overrides, and hands them to the pure resolver in
`raven_ai_agent.realtime`. Importing this module does not import frappe.
"""

import os
from collections.abc import Sequence
from dataclasses import replace
from types import MappingProxyType

from raven_ai_agent.realtime.benchfiles import (
	bench_audit_files,
	read_bench,
	read_config_file,
	read_raven_build,
)
from raven_ai_agent.realtime.clients import ClientURL, DevServer, describe_clients
from raven_ai_agent.realtime.constants import MIN_PROBE_TIMEOUT
from raven_ai_agent.realtime.containers import observe as observe_runtime
from raven_ai_agent.realtime.context import check_context
from raven_ai_agent.realtime.resolve import (
	COMMON_CONFIG_FILE,
	SETTINGS_DOCTYPE,
	DeploymentType,
	RavenConfig,
	Source,
	resolve,
)
from raven_ai_agent.realtime.validate import bounded_timeout, check_client_urls
from raven_ai_agent.realtime.webpage import site_dev_server

__all__ = [
	"DeploymentType",
	"RavenConfig",
	"Source",
	"SETTINGS_DOCTYPE",
	"get_config",
	"get_frontend_context",
	"diagnose_realtime",
]

OVERRIDE_FIELDS = ("deployment_type", "base_url", "socketio_path", "realtime_address")


def get_config(site: str | None = None, realtime_address: str | None = None) -> RavenConfig:
	"""The resolved realtime config of `site` (default: the current site).

	Never raises for bad config values: they fall back to defaults and appear in
	`config.warnings`. Settings overrides apply to the current site only; the realtime address
	may also come from this process' environment (RAVEN_REALTIME_INTERNAL_URL, set on a container).
	"""
	import frappe

	current = frappe.local.site
	if site and site != current:
		site_config, common = read_bench(frappe.local.sites_path, site)
		return resolve(site, site_config, common, environment=os.environ)
	common = read_config_file(os.path.join(frappe.local.sites_path, COMMON_CONFIG_FILE), missing_ok=True)
	settings = get_settings_overrides()
	if realtime_address:  # given on the command line: it wins over the environment and the settings
		cli = resolve(
			current, frappe.get_conf(), common, {"realtime_address": realtime_address}, Source.COMMAND_LINE
		)
		base = resolve(current, frappe.get_conf(), common, settings)
		sources = {**base.sources, "realtime_address": Source.COMMAND_LINE}
		return replace(base, realtime_address=cli.realtime_address, sources=MappingProxyType(sources))
	return resolve(current, frappe.get_conf(), common, settings, environment=os.environ)


def get_frontend_context() -> dict:
	"""Where browsers connect, checked by the rule raven_realtime.js applies (ContextError if a
	config ever produced a context a browser would refuse)."""
	return check_context(get_config().get_frontend_context())


def get_settings_overrides() -> dict:
	"""The override fields of Raven Realtime Settings; `{}` before the app is installed."""
	import frappe

	try:
		doc = frappe.get_cached_doc(SETTINGS_DOCTYPE)
	except (frappe.DoesNotExistError, ImportError):  # v15: ImportError when the DocType is not synced yet
		return {}
	overrides = {field: doc.get(field) for field in OVERRIDE_FIELDS}
	# the form stores words ("Production VPS"); the resolver speaks identifiers
	overrides["deployment_type"] = DeploymentType.from_setting(overrides["deployment_type"])
	return overrides


def field_reports_enabled() -> bool:
	"""Whether Raven Realtime Settings lets browsers send field reports (off until a System
	Manager turns it on; off before the app is installed)."""
	import frappe

	try:
		doc = frappe.get_cached_doc(SETTINGS_DOCTYPE)
	except (frappe.DoesNotExistError, ImportError):  # v15: ImportError when the DocType is not synced yet
		return False
	return bool(doc.get("field_reports"))


def diagnose_realtime(
	config: RavenConfig | None = None,
	timeout: float | None = None,
	external: bool | None = None,
	sid: str | None = None,
	user: str | None = None,
	ca_file: str | None = None,
	handed_context: object = None,
	proxy_configs: Sequence[str] = (),
	user_type: str | None = None,
	site_wide: bool = False,
	client_urls: Sequence[tuple[str, str]] = (),
) -> dict:
	"""Walk the browser's path to the realtime service; say in one line what is wrong.

	Defaults come from Raven Realtime Settings. With `sid` (a session id) it also checks
	delivery end to end through Frappe's own publish path, on this thread (the checks run in
	threads of their own, where frappe.local is unbound; the diagnosis hands the publish back
	here). Without `sid`, `site_wide` checks delivery as Guest in the room every socket of the
	site joins (the scheduled checks, which run with nobody's session). `client_urls` ((origin,
	path), validate.check_client_url) add clients to the Extra Client URLs of the settings. Never raises; the
	session id never appears in the result.
	"""
	from raven_ai_agent.publish import publish
	from raven_ai_agent.realtime.diagnose import diagnose

	config = config or get_config()
	settings = _diagnosis_settings()
	owner = user
	if sid and not user:
		# Whose session it is comes from the site's own store: no round trip to the web server,
		# which may not be reachable from here at the address the browser uses.
		owner, owner_type = session_owner(sid)
		user, user_type = owner or None, user_type or owner_type
	timeout = timeout if timeout is not None else settings["probe_timeout"]
	ca_file = ca_file or settings["ca_file"]
	external = external if external is not None else settings["check_external"]
	extra, warning = operator_clients(settings["extra_client_urls"])
	extra = tuple(dict.fromkeys((*extra, *client_urls)))  # the settings' and the command's, once each
	clients, notes, timeout = client_paths(config, timeout, external, ca_file, extra)
	channel = raven_channel_of(user) if sid and user else None
	return diagnose(
		config,
		timeout=timeout,
		external=external,
		sid=sid,
		user=user,
		publish=lambda event, message, room: publish(event, message, room=room, after_commit=False),
		audit_paths=[*bench_config_files(config.site_name), *proxy_configs],
		ca_file=ca_file,
		handed_context=handed_context,
		user_type=user_type,
		session_owner=owner,
		clients=clients,
		client_notes=notes,
		site_wide=site_wide,
		raven_channel=channel,
		config_warnings=[*config.warnings, warning] if warning else None,
		runtime=observe_runtime(),
	)


def operator_clients(stored: str | None) -> tuple[tuple[tuple[str, str], ...], str | None]:
	"""The client URLs the operator added in the settings, and a warning when the stored value
	cannot be read (it was checked on save: only a hand edit gets here)."""
	try:
		return tuple(check_client_urls(stored)), None
	except ValueError as e:
		return (), f"Extra Client URLs in {SETTINGS_DOCTYPE} ignored: {e}"


def raven_channel_of(user: str) -> str | None:
	"""A Raven Channel `user` is a member of, when Raven is installed: the diagnosis checks that
	its room (doc:Raven Channel/<id>, where Raven streams messages) hears this site's events.
	Read only, on this thread; nothing is created."""
	import frappe

	if "raven" not in frappe.get_installed_apps():
		return None
	rows = frappe.get_all(
		"Raven Channel Member",
		filters={"user_id": user},
		pluck="channel_id",
		limit=1,
		order_by="creation asc",
	)
	return rows[0] if rows else None


def client_paths(
	config: RavenConfig, timeout: object, external: bool, ca_file: str | None, extra: tuple = ()
) -> tuple[tuple[ClientURL, ...], list[str], object]:
	"""(each real client's socket URL on this site's pages, the warnings about them, the timeout
	left for the diagnosis).

	The desk follows the web process's `window.dev_server`: in a web request that is this
	process's frappe.local.dev_server; anywhere else (a bench command, a background job) this
	process is not the web server, so the site's own page is asked, within a quarter of the
	timeout. Raven's port is whatever its build on this bench baked in."""
	import frappe

	bench = os.path.dirname(os.path.abspath(frappe.local.sites_path))
	raven = read_raven_build(bench)
	if getattr(frappe.local, "request", None) is not None:
		value = getattr(frappe.local, "dev_server", 0)
		dev_server = DevServer(bool(value), f"frappe.local.dev_server = {value} in this web process")
		return (*describe_clients(config, dev_server, raven, extra), timeout)
	bounded, note = bounded_timeout(timeout)
	dev_server, spent = site_dev_server(
		config, bench, os.environ, bounded / 4, external=external, ca_file=ca_file
	)
	# Out of range, the diagnosis is given the value as it came, so that its report says so.
	left = timeout if note else max(bounded - spent, MIN_PROBE_TIMEOUT)
	return (*describe_clients(config, dev_server, raven, extra), left)


def session_owner(sid: str) -> tuple[str, str | None]:
	"""(user, user_type) of `sid` in this site's own session store, ("", None) when it does not
	know it (another site's session, or one that ended): Frappe's session cache, then tabSessions;
	the user type from the session data, else from the User."""
	import frappe

	data = frappe.cache.hget("session", sid)
	if data and data.get("user"):
		user, user_type = data.get("user"), (data.get("data") or {}).get("user_type")
	else:
		rows = frappe.db.sql("select `user` from `tabSessions` where `sid`=%s", (sid,))
		if not rows:
			return "", None
		user, user_type = rows[0][0], None
	if not user_type:
		rows = frappe.db.sql("select `user_type` from `tabUser` where `name`=%s", (user,))
		user_type = rows[0][0] if rows else None
	return user, user_type


def _diagnosis_settings() -> dict:
	"""The stored probe timeout (as stored: the diagnosis brings it into range and says so) and
	whether to probe the public URL."""
	import frappe

	try:
		doc = frappe.get_cached_doc(SETTINGS_DOCTYPE)
		timeout, external, ca_file = doc.get("probe_timeout"), doc.get("check_external"), doc.get("ca_file")
		extra = doc.get("extra_client_urls")
	except (frappe.DoesNotExistError, ImportError):  # v15: ImportError when the DocType is not synced yet
		timeout, external, ca_file, extra = None, None, None, None
	return {
		"probe_timeout": timeout or None,
		"check_external": True if external is None else bool(external),
		"ca_file": ca_file or None,
		"extra_client_urls": extra or None,
	}


def bench_config_files(site: str) -> list[str]:
	"""The bench's own files that can carry a realtime port (for the stale-port audit)."""
	import frappe

	return bench_audit_files(frappe.local.sites_path, site)
