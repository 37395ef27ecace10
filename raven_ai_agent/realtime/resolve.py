"""Plain config dicts in, one RavenConfig out: where the browser must connect, and why.

Pure and deterministic: no I/O, no frappe import, no network. Every value carries its
source, and every questionable input becomes a warning that names the file, the key and
the value, instead of an exception or a silent fallback.
"""

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from raven_ai_agent.realtime.constants import (
	DEFAULT_SOCKETIO_PATH,
	DEFAULT_SOCKETIO_PORT,
	DEFAULT_WEBSERVER_PORT,
	KEY_DEVELOPER_MODE,
	KEY_HOST_NAME,
	KEY_REDIS_QUEUE,
	KEY_REDIS_SOCKETIO,
	KEY_SERVER_IP,
	KEY_SOCKETIO_PORT,
	KEY_SOCKETIO_UDS,
	KEY_WEBSERVER_HOST,
	KEY_WEBSERVER_PORT,
	REALTIME_ADDRESS_ENV,
)
from raven_ai_agent.realtime.model import (  # noqa: F401 - re-exported: the names resolution speaks in
	AUTO,
	COMMON_CONFIG_FILE,
	SETTINGS_DOCTYPE,
	SITE_CONFIG_FILE,
	DeploymentType,
	RavenConfig,
	Source,
)
from raven_ai_agent.realtime.validate import (
	check_base_url,
	check_port,
	check_realtime_address,
	check_socketio_path,
	check_unix_socket_path,
	is_local_host,
	make_origin,
	split_host_name,
)

NGROK_SUFFIXES = (".ngrok.io", ".ngrok.app", ".ngrok-free.app", ".ngrok.dev", ".ngrok-free.dev")

# Where an override was given, as warnings and reasons name it.
_OVERRIDE_PLACES = {Source.SETTINGS: SETTINGS_DOCTYPE, Source.COMMAND_LINE: "the command line"}

# Only these keys can change the result: they form the memoisation key.
_SITE_KEYS = (
	KEY_HOST_NAME,
	KEY_SOCKETIO_PORT,
	KEY_WEBSERVER_PORT,
	KEY_REDIS_QUEUE,
	KEY_REDIS_SOCKETIO,
	KEY_DEVELOPER_MODE,
	KEY_SERVER_IP,
	KEY_WEBSERVER_HOST,
	KEY_SOCKETIO_UDS,
)
_SETTINGS_KEYS = ("deployment_type", "base_url", "socketio_path", "realtime_address")


def resolve(
	site_name: str,
	site_config: Mapping | None = None,
	common_config: Mapping | None = None,
	settings: Mapping | None = None,
	overrides_from: Source | None = None,
	environment: Mapping | None = None,
) -> RavenConfig:
	"""Resolve the realtime config of `site_name`.

	`site_config` may be the site's own `site_config.json` or Frappe's merged conf (site over
	common): a key whose value equals the common one is attributed to the common file.
	`settings` holds the Raven Realtime Settings overrides; empty values and "Auto" mean
	"not overridden"; `overrides_from` says where they were given (Source.SETTINGS, the
	default, or Source.COMMAND_LINE), for provenance. `environment` (the process' environment,
	passed in by the caller) may name the realtime service's address (REALTIME_ADDRESS_ENV).
	Results are memoised on the few keys that matter, so a warm call
	costs a tuple build and a dict lookup.
	"""
	site_config = site_config or {}
	common_config = common_config or {}
	settings = settings or {}
	origin = overrides_from or Source.SETTINGS
	# Types are part of the key: 0 == 0.0 == False for a dict, not for a port check; and a
	# float's text too: -0.0 == 0.0, but a warning must name the value as it was written.
	key = (
		site_name,
		tuple(map(_key_of, map(site_config.get, _SITE_KEYS))),
		tuple(map(_key_of, map(common_config.get, _SITE_KEYS))),
		tuple(map(_key_of, map(settings.get, _SETTINGS_KEYS))),
		origin,
		_key_of((environment or {}).get(REALTIME_ADDRESS_ENV)),
	)
	try:
		return _resolve_cached(key)
	except TypeError:  # an unhashable value (a list, a dict) where a scalar belongs
		return _resolve(*_unpack(key))


def _key_of(value) -> tuple:
	return (value, value.__class__, repr(value) if value.__class__ is float else None)


def _unpack(key: tuple) -> tuple:
	site_name, site_values, common_values, settings_values, origin, (env_address, *_) = key
	return (
		site_name,
		{k: v for k, (v, *_) in zip(_SITE_KEYS, site_values, strict=True) if v is not None},
		{k: v for k, (v, *_) in zip(_SITE_KEYS, common_values, strict=True) if v is not None},
		{k: v for k, (v, *_) in zip(_SETTINGS_KEYS, settings_values, strict=True) if v is not None},
		origin,
		env_address,
	)


@lru_cache(maxsize=256)
def _resolve_cached(key: tuple) -> RavenConfig:
	return _resolve(*_unpack(key))


def _resolve(
	site_name: str, site: dict, common: dict, settings: dict, overridden_by: Source, env_address=None
) -> RavenConfig:
	warnings: list[str] = []
	given = _OVERRIDE_PLACES[overridden_by]
	sources: dict[str, Source] = {"site_name": Source.SITE}

	socketio_port = _resolve_socketio_port(site, common, sources, warnings)
	socketio_uds = _resolve_socketio_uds(site, common, sources, warnings)
	realtime_address = _resolve_realtime_address(
		settings, overridden_by, given, env_address, sources, warnings
	)
	webserver_port = _resolve_webserver_port(site, common, sources, warnings)
	socketio_path = _resolve_socketio_path(settings, overridden_by, given, sources, warnings)
	host_part, host_source = _resolve_host(site_name, site, common, warnings)
	deployment_type, deployment_reason = _resolve_deployment_type(
		settings, overridden_by, given, host_part, host_source, site_name, webserver_port, sources, warnings
	)

	if socketio_uds and deployment_type is DeploymentType.LOCAL:
		warnings.append(
			f"{COMMON_CONFIG_FILE}: socketio_uds = {socketio_uds!r}: the realtime service listens on that "
			f"Unix socket and on no TCP port, so a local site's browsers, sent to port {socketio_port}, reach "
			"nothing: route /socket.io/ through a proxy (`raven-realtime render nginx-sandbox`) and open "
			"the site there"
		)
	override = _setting_base_url(settings, given, warnings)
	if override:
		base_url = override
		sources["base_url"] = overridden_by
	else:
		base_url = _infer_base_url(deployment_type, host_part, webserver_port)
		sources["base_url"] = host_source
	origin = split_host_name(base_url)
	socketio_base_url = (
		make_origin(origin.scheme or "http", origin.netloc_host, socketio_port)
		if deployment_type is DeploymentType.LOCAL
		else base_url  # proxied deployments route <socketio_path> on the site's own origin
	)
	sources["external_socketio_url"] = overridden_by if override else Source.INFERRED

	redis_url = _pick(site, common, KEY_REDIS_QUEUE) or _pick(site, common, KEY_REDIS_SOCKETIO)
	if redis_url is not None and not isinstance(redis_url, str):
		warnings.append(f"redis_queue is {redis_url!r}, not a redis:// URL: the Redis checks are skipped")
		redis_url = None

	return RavenConfig(
		deployment_type=deployment_type,
		base_url=base_url,
		socketio_port=socketio_port,
		webserver_port=webserver_port,
		socketio_path=socketio_path,
		site_name=site_name,
		socketio_base_url=socketio_base_url,
		host=origin.host,
		sources=MappingProxyType(sources),
		warnings=tuple(warnings),
		redis_url=redis_url,
		deployment_reason=deployment_reason,
		developer_mode=bool(common.get(KEY_DEVELOPER_MODE))
		and common.get(KEY_DEVELOPER_MODE) not in ("0", 0),
		server_ip=common.get(KEY_SERVER_IP) if isinstance(common.get(KEY_SERVER_IP), str) else None,
		webserver_host=_text(common.get(KEY_WEBSERVER_HOST)),
		socketio_uds=socketio_uds,
		realtime_address=realtime_address,
	)


def _text(value: object) -> str | None:
	"""A non-empty string from a config file, else None."""
	return value if isinstance(value, str) and value else None


def _pick(site: dict, common: dict, key: str):
	"""Frappe's merged view: a site's value wins over the common one."""
	value = site.get(key)
	return common.get(key) if value is None else value


def _resolve_socketio_port(site: dict, common: dict, sources: dict, warnings: list) -> int:
	"""The port the Node service really listens on: it reads only common_site_config.json."""
	port, sources["socketio_port"] = DEFAULT_SOCKETIO_PORT, Source.DEFAULT
	raw = common.get(KEY_SOCKETIO_PORT)
	if raw is not None:
		try:
			port, sources["socketio_port"] = check_port(raw), Source.COMMON_CONFIG
		except ValueError as e:
			warnings.append(
				f"{COMMON_CONFIG_FILE}: socketio_port = {raw!r} is invalid ({e}); using {DEFAULT_SOCKETIO_PORT}"
			)
	site_raw = site.get(KEY_SOCKETIO_PORT)
	if site_raw is not None and site_raw != raw:
		try:
			site_port = check_port(site_raw)
		except ValueError as e:
			warnings.append(f"{SITE_CONFIG_FILE}: socketio_port = {site_raw!r} is invalid ({e}); ignored")
		else:
			if site_port != port:
				warnings.append(
					f"{SITE_CONFIG_FILE}: socketio_port = {site_port} differs from the port the realtime "
					f"service listens on ({port}, from {sources['socketio_port'].value}); using {port}. "
					f"Remove socketio_port from {SITE_CONFIG_FILE} and keep it in {COMMON_CONFIG_FILE} only"
				)
	return port


def _resolve_socketio_uds(site: dict, common: dict, sources: dict, warnings: list) -> str | None:
	"""The realtime service's Unix socket (latest v15, v16): like its port, read from
	common_site_config.json only; set, the service opens no TCP port."""
	raw = common.get(KEY_SOCKETIO_UDS)
	uds = None
	if raw not in (None, ""):
		try:
			uds = check_unix_socket_path(raw)
			sources["socketio_uds"] = Source.COMMON_CONFIG
		except ValueError as e:
			warnings.append(f"{COMMON_CONFIG_FILE}: socketio_uds = {raw!r} is invalid ({e}); ignored")
	site_raw = site.get(KEY_SOCKETIO_UDS)
	if site_raw not in (None, "") and site_raw != raw:
		warnings.append(
			f"{SITE_CONFIG_FILE}: socketio_uds = {site_raw!r} is ignored: the realtime service reads it "
			f"from {COMMON_CONFIG_FILE} only"
		)
	return uds


def _resolve_realtime_address(
	settings: dict, origin: Source, given: str, env_address, sources: dict, warnings: list
) -> str | None:
	"""Where the realtime service is when it is not on this host: the command line, then the
	environment (REALTIME_ADDRESS_ENV, set on a container), then Raven Realtime Settings; None
	for this host (socketio_uds or 127.0.0.1:socketio_port)."""
	named = []
	for raw, source, where in (
		(settings.get("realtime_address"), origin, given),
		(env_address, Source.ENVIRONMENT, f"environment {REALTIME_ADDRESS_ENV}"),
	):
		if raw in (None, ""):
			continue
		try:
			named.append((check_realtime_address(raw), source, where))
		except ValueError as e:
			warnings.append(f"{where}: {e}; ignored")
	rank = {Source.COMMAND_LINE: 0, Source.ENVIRONMENT: 1, Source.SETTINGS: 2}
	named.sort(key=lambda n: rank[n[1]])
	if not named:
		sources["realtime_address"] = Source.DEFAULT
		return None
	(address, source, where), *others = named
	for other, _source, other_where in others:
		if other != address:
			warnings.append(
				f"{other_where} names the realtime service at {other}, {where} at {address}: using {address} "
				f"({where} wins); remove one of them"
			)
	sources["realtime_address"] = source
	return address


def _resolve_webserver_port(site: dict, common: dict, sources: dict, warnings: list) -> int:
	for conf, source, filename in (
		(site, Source.SITE_CONFIG, SITE_CONFIG_FILE),
		(common, Source.COMMON_CONFIG, COMMON_CONFIG_FILE),
	):
		raw = conf.get(KEY_WEBSERVER_PORT)
		if raw is None or (conf is site and raw == common.get(KEY_WEBSERVER_PORT)):
			continue
		try:
			port = check_port(raw)
		except ValueError as e:
			warnings.append(f"{filename}: webserver_port = {raw!r} is invalid ({e}); ignored")
			continue
		sources["webserver_port"] = source
		return port
	sources["webserver_port"] = Source.DEFAULT
	return DEFAULT_WEBSERVER_PORT


def _resolve_socketio_path(settings: dict, origin: Source, given: str, sources: dict, warnings: list) -> str:
	raw = settings.get("socketio_path")
	if raw not in (None, ""):
		try:
			path = check_socketio_path(raw)
		except ValueError as e:
			warnings.append(f"{given}: Socket.IO path: {e}; using {DEFAULT_SOCKETIO_PATH}")
		else:
			sources["socketio_path"] = origin if path != DEFAULT_SOCKETIO_PATH else Source.DEFAULT
			return path
	sources["socketio_path"] = Source.DEFAULT
	return DEFAULT_SOCKETIO_PATH


def _resolve_host(site_name: str, site: dict, common: dict, warnings: list):
	"""The public host from `host_name`, or the site name when host_name is absent or invalid."""
	raw = site.get(KEY_HOST_NAME)
	filename, source = SITE_CONFIG_FILE, Source.SITE_CONFIG
	if raw is None or (raw == common.get(KEY_HOST_NAME)):
		raw = common.get(KEY_HOST_NAME) if raw is None else raw
		filename, source = COMMON_CONFIG_FILE, Source.COMMON_CONFIG
	if raw not in (None, ""):
		try:
			part = split_host_name(raw)
		except ValueError as e:
			warnings.append(f"{filename}: host_name = {raw!r} is invalid ({e}); ignored")
		else:
			if part.dropped:
				warnings.append(
					f"{filename}: host_name = {raw!r} carries {', '.join(part.dropped)}, which a host name "
					"cannot use; ignored those parts"
				)
			return part, source
	try:
		part = split_host_name(site_name)
	except ValueError:
		part = split_host_name("localhost")
		warnings.append(f"site name {site_name!r} is not a host name; assuming localhost")
	return part, Source.INFERRED


def _resolve_deployment_type(
	settings: dict,
	origin: Source,
	given: str,
	host_part,
	host_source: Source,
	site_name: str,
	webserver_port: int,
	sources: dict,
	warnings: list,
) -> tuple[DeploymentType, str]:
	"""The deployment type and, in words, why (what `show` prints).

	A browser talks to the bench itself only when the page is served on the bench's own web
	port over plain http; any other page port means something in front of the bench (a proxy,
	a tunnel), which then routes the socket path on the page's own origin. A host_name with
	neither scheme nor port says nothing of the page's port: the host decides (a local name
	is a developer's bench).
	"""
	raw = settings.get("deployment_type")
	if raw not in (None, "", AUTO):
		try:
			value = DeploymentType(raw)
		except ValueError:
			allowed = ", ".join([AUTO] + [d.value for d in DeploymentType])
			warnings.append(f"{given}: deployment type {raw!r} is not one of {allowed}; inferring it")
		else:
			sources["deployment_type"] = origin
			where = "on the command line" if origin is Source.COMMAND_LINE else f"in {given}"
			return value, f"set to {value.value} {where}"
	sources["deployment_type"] = Source.INFERRED
	host = host_part.host
	if host_source is Source.INFERRED:
		# No host_name: a bench without a public name is a developer's bench.
		if not is_local_host(host):
			warnings.append(
				f"host_name is not set in {SITE_CONFIG_FILE} or {COMMON_CONFIG_FILE}; assuming a local "
				f"bench for site {site_name!r}. Set host_name (or the deployment type in {SETTINGS_DOCTYPE}) "
				"for a public site"
			)
		return DeploymentType.LOCAL, "no host_name: a developer's bench, browsers reach it directly"
	named = f"host_name {host_part.netloc_host}"
	if host.endswith(NGROK_SUFFIXES):
		return DeploymentType.SANDBOX, f"{named} is an ngrok domain: a tunnel serves the site"
	if host_part.scheme is None and host_part.port is None:
		if is_local_host(host):
			return (
				DeploymentType.LOCAL,
				f"{named} has no scheme or port and is a local name: a developer's bench, browsers "
				f"reach it on its web port {webserver_port}",
			)
		return DeploymentType.VPS_PROD, f"{named} is a public name: a proxy serves the site on its origin"
	scheme = host_part.scheme or "http"
	page_port = host_part.port or (443 if scheme == "https" else 80)
	if scheme == "http" and page_port == webserver_port:
		return (
			DeploymentType.LOCAL,
			f"the page is on the bench's own web port {webserver_port} (host_name): browsers reach "
			"the bench directly",
		)
	return (
		DeploymentType.VPS_PROD,
		f"the page is on {scheme} port {page_port} (host_name), not the bench's web port "
		f"{webserver_port}: a proxy serves the site and routes the socket path on its origin",
	)


def _setting_base_url(settings: dict, given: str, warnings: list) -> str | None:
	raw = settings.get("base_url")
	if raw in (None, ""):
		return None
	try:
		return check_base_url(raw)
	except ValueError as e:
		warnings.append(f"{given}: base URL: {e}; inferring it from host_name")
		return None


def _infer_base_url(deployment_type: DeploymentType, part, webserver_port: int) -> str:
	if deployment_type is DeploymentType.LOCAL:
		return make_origin(part.scheme or "http", part.netloc_host, part.port or webserver_port)
	return make_origin(part.scheme or "https", part.netloc_host, part.port)
