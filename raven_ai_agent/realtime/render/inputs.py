"""The validated inputs of a render: the config values every target needs, and each option.

The templates are not escaped, so every value is checked here before it reaches one: a hostile
setting cannot add a directive or a label. A bad value raises RenderError naming the option
and what it allows.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from raven_ai_agent.realtime.constants import ENGINEIO_PING_WINDOW
from raven_ai_agent.realtime.validate import (
	MAX_IDENTIFIER_LENGTH,
	HostPart,
	check_base_url,
	check_host,
	check_identifier,
	check_port,
	check_site_name,
	check_socketio_path,
	check_unix_socket_path,
	check_upstream,
	split_host_name,
)

MAX_PROXY_TIMEOUT = 86400  # a day: longer only hides dead upstreams


class RenderError(ValueError):
	"""A render option or config value that cannot go into a proxy config; the message says what can."""


@dataclass(frozen=True)
class Site:
	"""The config values every target needs, validated once."""

	site_name: str
	host: str
	base_url: str
	socketio_path: str
	socketio_port: int
	webserver_port: int
	socketio_uds: str | None = None  # the realtime service listens there (and on no port) when set


def site_of(config) -> Site:
	"""Re-validate the config: it may have been built by hand, not by resolve()."""
	values = {}
	for field, check in (
		("site_name", check_site_name),
		("host", check_host),
		("base_url", check_base_url),
		("socketio_path", check_socketio_path),
		("socketio_port", check_port),
		("webserver_port", check_port),
	):
		try:
			values[field] = check(getattr(config, field))
		except ValueError as e:
			raise RenderError(f"config {field}: {e}") from None
	uds = getattr(config, "socketio_uds", None)
	if uds is not None:
		try:
			values["socketio_uds"] = check_unix_socket_path(uds)
		except ValueError as e:
			raise RenderError(f"config socketio_uds: {e}") from None
	site = Site(**values)
	if split_host_name(site.base_url).host != site.host:
		raise RenderError(
			f"config host {site.host!r} is not the host of base_url {site.base_url!r}: "
			"the realtime service compares them, so they must agree"
		)
	return site


def checked(option: str, check: Callable, value):
	"""Run a validate.check_* on an option; its ValueError becomes a RenderError naming the option."""
	try:
		return check(value)
	except ValueError as e:
		raise RenderError(f"--{option.replace('_', '-')}: {e}") from None


def as_list(value) -> list:
	if value is None:
		return []
	return [value] if isinstance(value, str | int) else list(value)


def addr(part: HostPart) -> str:
	return f"{part.netloc_host}:{part.port}"


def listen_at(value) -> HostPart:
	"""`PORT` or `HOST:PORT`: where a proxy listens."""
	if isinstance(value, int) or (isinstance(value, str) and value.strip().isdecimal()):
		return HostPart(scheme=None, host="", port=checked("listen", check_port, value))
	return checked("listen", check_upstream, value)


# Site names whose slug (every run of other characters -> "_") is one-to-one: lower-case
# labels joined by single dots. Any other name ("realtime-b.test", "a_b.test", "ERP.test")
# could share its slug with another site's ("realtime.b.test"), so it gets a hash of itself.
_PLAIN_SITE_RE = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9]+)*$")


def default_name(site_name: str) -> str:
	"""`raven_<site>`: unique per site, so every site's config can share one conf.d (nginx fails
	on a duplicate upstream). A lossy slug or a long name keeps a short hash of the site name."""
	slug = re.sub(r"[^a-z0-9]+", "_", site_name.lower()).strip("_")
	name = "raven_" + slug
	if _PLAIN_SITE_RE.fullmatch(site_name) and len(name) <= MAX_IDENTIFIER_LENGTH:
		return name
	digest = hashlib.sha1(site_name.encode()).hexdigest()[:6]
	return name[: MAX_IDENTIFIER_LENGTH - len(digest) - 1].rstrip("_-") + "_" + digest


def name_of(value, site: Site) -> str:
	return default_name(site.site_name) if value is None else checked("name", check_identifier, value)


def nodes_of(upstream, host: str, port: int) -> list[HostPart]:
	"""The realtime nodes: each `--upstream HOST:PORT`, or the one at `host` on the bench's port."""
	nodes = [checked("upstream", check_upstream, u) for u in as_list(upstream)]
	return nodes or [HostPart(scheme=None, host=host, port=port)]


def unix_upstream(upstream, site: Site, target: str) -> str | None:
	"""`unix:<socketio_uds>` when the realtime service listens on a Unix socket and no --upstream
	names another node; a target that cannot reach a Unix socket says so."""
	if not site.socketio_uds or as_list(upstream):
		return None
	if target != "nginx":
		raise RenderError(
			f"socketio_uds is {site.socketio_uds}: the realtime service listens on that Unix socket and "
			f"on no TCP port, and {target} cannot forward to a Unix socket: route through the nginx "
			"sidecar (`render traefik --shape sidecar` with `render nginx-vps`), or name a TCP node "
			"with --upstream HOST:PORT"
		)
	return f"unix:{site.socketio_uds}"


def sticky_of(value, nodes: int) -> bool:
	"""Auto: sticky as soon as there are several nodes (Engine.IO state lives in one process)."""
	if value is None:
		return nodes > 1
	if not isinstance(value, bool):
		raise RenderError(f"--sticky: {value!r} is not a yes/no value: use True, False or leave it unset")
	return value


def proxy_timeout_of(value) -> int:
	if (
		isinstance(value, bool)
		or not isinstance(value, int)
		or not ENGINEIO_PING_WINDOW < value <= MAX_PROXY_TIMEOUT
	):
		raise RenderError(
			f"--proxy-timeout: {value!r} is not allowed: use whole seconds above pingInterval + pingTimeout "
			f"({ENGINEIO_PING_WINDOW} s) and at most {MAX_PROXY_TIMEOUT}"
		)
	return value
