"""Where each real browser client opens its socket, and why, from the resolved config.

Browsers do not read this app's context: Frappe's desk picks its socket URL from
`window.dev_server`, Raven's web app from the socket port its build baked in (else
frappe-react-sdk's default) and the page URL. Modelling each one lets the diagnosis say which
client breaks. Pure: the bench is read by benchfiles.py; no I/O, no frappe import.
"""

from dataclasses import asdict, dataclass
from enum import Enum
from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import (
	DEFAULT_SOCKETIO_PATH,
	RAVEN_SDK_DEFAULT_SOCKET_PORT,
	VITE_SOCKET_PORT,
)
from raven_ai_agent.realtime.hints.route import RENDER_FIX, plain_socket_fix
from raven_ai_agent.realtime.model import DeploymentType, RavenConfig
from raven_ai_agent.realtime.validate import make_origin


class Client(str, Enum):
	"""The browser clients of a Raven site, as an operator names them."""

	DESK = "Frappe desk"
	RAVEN = "Raven web app"
	CONTEXT = "raven_ai_agent context"
	OPERATOR = "operator-added client"


@dataclass(frozen=True)
class RavenBuild:
	"""What decides the socket port of Raven's web app on one bench."""

	installed: bool
	baked_port: int | None = None  # VITE_SOCKET_PORT baked into the built bundle
	source: str = ""  # the file that says so (the bundle, or why there is none)
	sdk_default: int = RAVEN_SDK_DEFAULT_SOCKET_PORT
	env_port: int | None = None  # VITE_SOCKET_PORT in the frontend env: what the next build bakes
	env_source: str = ""

	@property
	def socket_port(self) -> int:
		return self.baked_port if self.baked_port is not None else self.sdk_default

	def port_reason(self) -> str:
		if self.baked_port is not None:
			return f"its build baked {VITE_SOCKET_PORT}={self.baked_port} ({self.source})"
		return f"its build uses the SDK default {self.sdk_default}"


NOT_INSTALLED = RavenBuild(installed=False, source="Raven's built web app was not found")


@dataclass(frozen=True)
class DevServer:
	"""Whether the web process serves the desk with `window.dev_server`, and how we know."""

	on: bool
	source: str


def dev_server_value(value: str) -> bool | None:
	"""DEV_SERVER as Frappe v15 reads it (`int(sbool(value))`): true/1, false/0 (any case), or a
	whole number; None for what Frappe cannot read (its import fails on it)."""
	text = value.strip().lower()
	if text in ("true", "false"):
		return text == "true"
	try:
		return int(text) != 0
	except ValueError:
		return None


@dataclass(frozen=True)
class ClientURL:
	"""One client's socket: origin, path and namespace, and why it is this one."""

	client: Client
	url: str | None  # None: the client is not on this bench
	path: str
	namespace: str
	why: str
	# The site is served through a proxy, and this client goes around it, straight to a port:
	# browsers elsewhere need that port open, which only a tab's own probe can see.
	bypasses_proxy: bool = False

	def as_dict(self) -> dict:
		return {**asdict(self), "client": self.client.value}


def client_urls(
	config: RavenConfig, dev_server: DevServer, raven: RavenBuild, page_origin: str | None = None
) -> tuple[ClientURL, ...]:
	"""The socket each client opens from a page on `page_origin` (default: the site's base URL)."""
	page = urlsplit(page_origin or config.base_url)
	scheme, host = page.scheme, page.hostname or ""
	netloc_host = f"[{host}]" if ":" in host else host
	origin = make_origin(scheme, netloc_host, page.port)
	# A port the browser reports in window.location.port: any explicit, non-default one.
	page_has_port = origin != make_origin(scheme, netloc_host, None)

	if dev_server.on:
		desk_url = make_origin(scheme, netloc_host, config.socketio_port)
		desk_why = (
			f"dev_server is on ({dev_server.source}): page host on socketio_port {config.socketio_port}"
		)
	else:
		desk_url = origin
		desk_why = f"dev_server is off ({dev_server.source}): the page's own origin"
	clients = [ClientURL(Client.DESK, desk_url, DEFAULT_SOCKETIO_PATH, config.namespace, desk_why)]

	if not raven.installed:
		clients.append(ClientURL(Client.RAVEN, None, DEFAULT_SOCKETIO_PATH, config.namespace, raven.source))
	elif page_has_port:
		clients.append(
			ClientURL(
				Client.RAVEN,
				make_origin(scheme, netloc_host, raven.socket_port),
				DEFAULT_SOCKETIO_PATH,
				config.namespace,
				f"the page URL has a port and {raven.port_reason()}",
			)
		)
	else:
		clients.append(
			ClientURL(
				Client.RAVEN,
				origin,
				DEFAULT_SOCKETIO_PATH,
				config.namespace,
				"the page URL has no port: the page's own origin",
			)
		)
	clients.append(
		ClientURL(
			Client.CONTEXT,
			config.socketio_base_url,
			config.socketio_path,
			config.namespace,
			"frappe.boot.raven_realtime, as the resolved config says",
		)
	)
	return tuple(_around_the_proxy(config, c, origin) for c in clients)


def _around_the_proxy(config: RavenConfig, client: ClientURL, page_origin: str) -> ClientURL:
	"""`client`, marked and explained when it bypasses the site's proxy (seen with bench's own
	nginx on a site served on a port: the desk goes through nginx, Raven's page straight to the SDK's default port)."""
	if client.url is None or config.deployment_type is DeploymentType.LOCAL or client.url == page_origin:
		return client
	port = urlsplit(client.url).port
	why = (
		f"{client.why}; it bypasses the site's proxy ({page_origin}) and goes straight to {client.url}: "
		f"browsers elsewhere need port {port} open to them, which only a tab's own probe can see"
	)
	return ClientURL(client.client, client.url, client.path, client.namespace, why, bypasses_proxy=True)


def describe_clients(
	config: RavenConfig, dev_server: DevServer, raven: RavenBuild, extra: tuple[tuple[str, str], ...] = ()
) -> tuple[tuple[ClientURL, ...], list[str]]:
	"""(each client's socket, the warnings about them): what `diagnose(clients=, client_notes=)` takes.

	`extra` are (origin, path) of clients the operator adds (validate.check_client_urls): a
	mobile app, a kiosk, another front end of the site."""
	clients = client_urls(config, dev_server, raven)
	warnings = client_warnings(config, dev_server, raven, clients)
	added = tuple(
		_around_the_proxy(
			config,
			ClientURL(Client.OPERATOR, origin, path, config.namespace, "added by the operator"),
			_page_origin(config),
		)
		for origin, path in extra
	)
	return clients + added, warnings


def _page_origin(config: RavenConfig) -> str:
	page = urlsplit(config.base_url)
	host = page.hostname or ""
	return make_origin(page.scheme, f"[{host}]" if ":" in host else host, page.port)


def distinct_targets(clients: tuple[ClientURL, ...]) -> dict[tuple[str, str], list[Client]]:
	"""Each (URL, path) once, with the clients that use it: the diagnosis probes each once."""
	targets: dict[tuple[str, str], list[Client]] = {}
	for c in clients:
		if c.url is not None:
			targets.setdefault((c.url, c.path), []).append(c.client)
	return targets


def client_warnings(
	config: RavenConfig, dev_server: DevServer, raven: RavenBuild, clients: tuple[ClientURL, ...]
) -> list[str]:
	"""Where a client will not connect where the resolved config says browsers should, and the fix."""
	by_client = {c.client: c for c in clients}
	expected = config.socketio_base_url
	warnings = []
	direct = config.deployment_type is DeploymentType.LOCAL
	desk = by_client[Client.DESK]
	if direct and not dev_server.on and desk.url != expected:
		warnings.append(
			f"{Client.DESK.value} connects to {desk.url}{desk.path} because dev_server is off "
			f"({dev_server.source}), but the deployment type {config.deployment_type.value} sends browsers "
			f"straight to {expected}; without a proxy the web server answers 404 there. Run the web "
			"process with DEV_SERVER=1 (bench start does), or route /socket.io/ through a proxy "
			f"(deployment type vps_prod or sandbox; {RENDER_FIX.format(site=config.site_name)})."
		)
	if not direct and dev_server.on:
		warnings.append(
			f"{Client.DESK.value} connects to {desk.url}{desk.path} because dev_server is on "
			f"({dev_server.source}), but the deployment type {config.deployment_type.value} serves "
			f"realtime same-origin at {expected}; the proxy does not expose port {config.socketio_port}. "
			"Unset DEV_SERVER in the web process (bench start --no-dev, or gunicorn under supervisor)."
		)
	for c in clients:
		if urlsplit(config.base_url).scheme != "https" or not c.url:
			continue
		target = urlsplit(c.url)
		if target.scheme == "http" or target.port == config.socketio_port:
			warnings.append(
				f"{c.client.value} opens {c.url} from an https page, but " + plain_socket_fix(config)
			)
	if config.socketio_uds:
		# latest v15 / v16 with socketio_uds: no TCP port at all, so a client sent to one finds nothing.
		for c in clients:
			if c.url and urlsplit(c.url).port == config.socketio_port:
				warnings.append(
					f"{c.client.value} connects to {c.url}, but the realtime service listens on the Unix "
					f"socket {config.socketio_uds} (socketio_uds) and on no TCP port: serve /socket.io/ "
					f"same-origin through a proxy that reaches the socket ({RENDER_FIX.format(site=config.site_name)})."
				)
	ravens = by_client[Client.RAVEN]
	if ravens.url and ravens.url != expected:
		warnings.append(
			f"{Client.RAVEN.value} connects to {ravens.url} because {ravens.why}, not to {expected}. "
			f"Set socketio_port to {raven.socket_port}, or rebuild Raven with "
			f"{VITE_SOCKET_PORT}={config.socketio_port}, or serve the site without a port through the proxy "
			f"({RENDER_FIX.format(site=config.site_name)})."
		)
	if raven.installed and raven.env_port is not None and raven.env_port != raven.socket_port:
		warnings.append(
			f"{raven.env_source} sets {VITE_SOCKET_PORT}={raven.env_port}: the next Raven build "
			f"bakes it in (the current build uses {raven.socket_port})."
		)
	return warnings
