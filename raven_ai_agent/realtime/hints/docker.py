"""Hints for a split layout (frappe_docker, frappe/helm): the realtime service in a container of
its own, the fix named in frappe_docker's own terms (the compose service and the environment
variable of its frontend template: BACKEND, SOCKETIO, FRAPPE_SITE_NAME_HEADER,
PROXY_READ_TIMEOUT; the websocket service's extra_hosts), never a hand-edited nginx file.

`evidence` is why the site looks like frappe_docker's (containers.frappe_docker_evidence);
`runtime` the container this diagnosis runs in, when it can tell (containers.Runtime).
"""

from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import (
	DOCKER_BACKEND_ADDRESS,
	DOCKER_WEBSOCKET_ADDRESS,
	REALTIME_ADDRESS_ENV,
	SITE_NAME_HEADER,
	USER_INFO_PATH,
)
from raven_ai_agent.realtime.containers import Runtime, likely_address
from raven_ai_agent.realtime.model import SETTINGS_DOCTYPE, RavenConfig

# How an operator points the diagnosis (and the scheduled checks) at the realtime service.
POINT_AT_IT = (
	f"set Realtime Address in {SETTINGS_DOCTYPE}, which every container reads (or {REALTIME_ADDRESS_ENV} "
	"in a container's environment, or `--realtime-address` on the command line)"
)
COMPOSE_RENDER = "`raven-realtime render frappe-docker --site {site}` writes the compose override"


def _where(config: RavenConfig) -> str:
	"""The internal address probed, as an operator writes it."""
	parts = urlsplit(config.get_internal_socketio_url())
	return parts.netloc if parts.scheme == "http" else config.get_internal_socketio_url()


def not_on_this_host(
	config: RavenConfig, runtime: Runtime | None, evidence: str | None, delivered: bool | None
) -> str:
	"""Nothing on this host's realtime port, while the public path reaches this site's realtime
	service: it runs elsewhere (another container or host), which is healthy."""
	reached = (
		"the public path reaches this site's realtime service and an event was delivered through it"
		if delivered
		else "the public path reaches this site's realtime service (its namespace accepted the session)"
	)
	where = f"{runtime.describe()}. " if runtime else (f"The site's {evidence}. " if evidence else "")
	likely = likely_address(runtime) if (runtime or evidence) else "its host:port or Unix socket"
	return (
		f"The realtime service is not on this host: nothing answers {_where(config)}, but {reached}. "
		f"{where}To check it directly, {POINT_AT_IT}: likely {likely}."
	)


def local_hint(config: RavenConfig, kind: str, runtime: Runtime | None, evidence: str, given: bool) -> str:
	"""The realtime address does not answer, in a split layout: the websocket container is down
	or the address is not the one it listens on. `given`: an operator named the address."""
	where = _where(config)
	if given:
		source = config.sources.get("realtime_address")
		named = f"; the realtime address, from {source.value}" if source else ""
		return (
			f"Nothing answers at {where} ({kind}{named}): the websocket container is down or listens "
			"elsewhere: `docker compose ps websocket`, `docker compose up -d websocket`, and its log (`docker "
			"compose logs websocket`: Redis refused, a crash); it listens on socketio_port of the "
			f"configurator's common_site_config.json ({DOCKER_WEBSOCKET_ADDRESS} by default)."
		)
	return (
		f"Nothing answers at {where} ({kind}), and {evidence}: the realtime service runs in a container "
		"of its own, not on this host, so `bench start` and supervisor do not apply. If the public path "
		"fails too, that container is down: `docker compose up -d websocket` (`docker compose logs "
		f"websocket`). Point the diagnosis at it: {POINT_AT_IT}; likely {likely_address(runtime)}."
	)


def in_a_container(runtime: Runtime) -> str:
	"""Said after the usual "start it" when the diagnosis runs in a container."""
	return (
		f"{runtime.describe()}: if the realtime service runs in another container or host, "
		f"point the diagnosis at it: {POINT_AT_IT}, e.g. {likely_address(runtime)}."
	)


def proxy_error_hint(config: RavenConfig, status: int | None, local_ok: bool, address_given: bool) -> str:
	"""The frontend's nginx gets no answer from its socketio upstream (502/504)."""
	netloc = urlsplit(config.get_external_socketio_url()).netloc
	head = f"The frontend at {netloc} gets no answer from its SOCKETIO upstream for {config.socketio_path} (HTTP {status}): "
	if local_ok:
		return head + (
			f"the realtime service answers at {_where(config)}, so the frontend's upstream is wrong: set "
			f"`SOCKETIO: {_where(config)}` in the frontend service's environment and `docker compose up -d "
			"frontend`."
		)
	if address_given:
		return head + (
			f"the realtime service does not answer at {_where(config)} either: the websocket container is "
			"down; `docker compose up -d websocket` and read `docker compose logs websocket`. The frontend's "
			f"SOCKETIO must name it ({DOCKER_WEBSOCKET_ADDRESS})."
		)
	return head + (
		"the websocket container is down, or the frontend's SOCKETIO names the wrong service (unset, "
		"frappe_docker's entrypoint defaults it to the frontend itself): `docker compose up -d "
		f"websocket`, and keep `SOCKETIO: {DOCKER_WEBSOCKET_ADDRESS}` on the frontend. To tell which, {POINT_AT_IT}."
	)


def backend_answers_hint(config: RavenConfig) -> str:
	"""The socket path reached Frappe's web server: SOCKETIO points at the backend."""
	return (
		f"The frontend sends {config.socketio_path} to Frappe's web server: its SOCKETIO names the backend. "
		f"Set `SOCKETIO: {DOCKER_WEBSOCKET_ADDRESS}` (and `BACKEND: {DOCKER_BACKEND_ADDRESS}`) in the "
		"frontend service's environment, then `docker compose up -d frontend`."
	)


def site_header_hint(config: RavenConfig, answered: str | None = None) -> str:
	"""The frontend's FRAPPE_SITE_NAME_HEADER does not name this site: its template sends it as
	X-Frappe-Site-Name and builds Origin from it, so the realtime service refuses the socket."""
	seen = f" (the web server answered as {answered!r})" if answered else ""
	return (
		f"The frontend's FRAPPE_SITE_NAME_HEADER does not name {config.site_name}{seen}: frappe_docker's "
		f"template sends it as {SITE_NAME_HEADER} and as the Origin of {config.socketio_path}, so the "
		"realtime service refuses the socket ('Invalid namespace' / 'Invalid origin'). Set "
		f"`FRAPPE_SITE_NAME_HEADER: {config.site_name}` on the frontend service (or `$$host` when every "
		"site's public host name is its site name), then `docker compose up -d frontend`."
	)


def callback_hint(config: RavenConfig, message: str) -> str:
	"""The websocket container's session check cannot reach the site's public name."""
	# frappe_docker's template sets Origin to $scheme://<FRAPPE_SITE_NAME_HEADER>: the frontend's own
	# scheme (http behind the TLS proxy) and the site's name, no port.
	host = config.host or config.site_name
	origin = f"http://{host}"
	localhost = (
		f" Browsers resolve {host} to their own machine (*.localhost); a container does not."
		if host.endswith(".localhost")
		else ""
	)
	return (
		f"The websocket container cannot call the session check back ({message}): Frappe's realtime "
		f"service calls {origin}{USER_INFO_PATH} (the Origin the frontend sets), and {host} does not resolve, "
		"or hairpins, inside the container network. Give the websocket service a route to it: "
		f'`extra_hosts: ["{host}:host-gateway"]` (the Docker host, which publishes the site; or the IP '
		f"address that serves it); {COMPOSE_RENDER.format(site=config.site_name)}.{localhost}"
	)
