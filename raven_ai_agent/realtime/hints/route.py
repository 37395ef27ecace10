"""Hints for the route: the realtime port, the public URL, and the WebSocket upgrade."""

from urllib.parse import urljoin, urlsplit

from raven_ai_agent.realtime import engineio, probe
from raven_ai_agent.realtime.constants import DEFAULT_SOCKETIO_PATH
from raven_ai_agent.realtime.handshake import (
	ENGINEIO_ERROR,
	FRAPPE_PAGE,
	NOT_ENGINEIO,
	NOT_FOUND,
	OTHER_VERSION,
	PROXY_ERROR,
	REDIRECT,
	Handshake,
	is_redirect_loop,
)
from raven_ai_agent.realtime.resolve import COMMON_CONFIG_FILE, DeploymentType, RavenConfig
from raven_ai_agent.realtime.upgrade import BAD_ACCEPT, NOT_UPGRADED, OTHER_SERVICE, Upgrade

# What every client and server of the path must speak; a Socket.IO v2 server (EIO=3) cannot serve it.
SOCKETIO_REQUIREMENT = (
	"Frappe v15 needs socket.io v4 on both ends (Engine.IO protocol v4, EIO=4), as its own realtime "
	"service and the desk's client are"
)

# Where a fix is "route /socket.io/ through a proxy", the command that writes that proxy's config.
RENDER_FIX = (
	"`raven-realtime render nginx-vps --bench <bench> --site {site}` or `render nginx-sandbox` writes it"
)


def plain_socket_fix(config: RavenConfig) -> str:
	"""An https page cannot use Frappe's realtime port: Node speaks plain http there, always.

	So "put the socket port into host_name" never helps; the socket has to be same-origin
	(catalog #13)."""
	return (
		f"the realtime service on port {config.socketio_port} speaks plain http, and an https page "
		"needs TLS for its socket too (browsers block or fail it). Serve /socket.io/ same-origin "
		"through the proxy that terminates TLS (deployment type vps_prod or sandbox; "
		f"{RENDER_FIX.format(site=config.site_name)}); putting the socket port into host_name does not help."
	)


# ---- the realtime port -----------------------------------------------------------------------


def local_hint(config: RavenConfig, handshake: Handshake, timeout: float) -> str:
	"""The fix for a realtime port (127.0.0.1:socketio_port) that does not answer as Engine.IO."""
	port, path = config.socketio_port, config.socketio_path
	kind = handshake.kind
	if kind == probe.REFUSED and config.socketio_uds:
		return (
			f"Nothing listens on the Unix socket {config.socketio_uds} (socketio_uds in {COMMON_CONFIG_FILE}): "
			"start the realtime service (`bench start`, `sudo supervisorctl start all`). The latest v15 and "
			"v16 listen there and on no TCP port; Frappe 15.41 does not know socketio_uds and listens on "
			f"socketio_port {port}: on 15.41 remove socketio_uds, or upgrade."
		)
	if kind == probe.REFUSED:
		return (
			f"Start the realtime service: nothing listens on 127.0.0.1:{port} (socketio_port in "
			f"{COMMON_CONFIG_FILE}); run `bench start` or `sudo supervisorctl start all`, and read its log "
			"if it exits (Node version, Redis refusing connections)."
		)
	if kind == probe.TIMEOUT:
		return (
			f"Port {port} accepts connections but does not answer within {timeout:g} s: the realtime "
			f"service is hung or another program holds the port; check `ss -ltnp | grep {port}` and restart "
			"the realtime service."
		)
	if kind == FRAPPE_PAGE:
		return (
			f"Port {port} is Frappe's web server, not the realtime service: set socketio_port in "
			f"{COMMON_CONFIG_FILE} to the port Node listens on (not webserver_port {config.webserver_port})."
		)
	if kind == NOT_FOUND and path != DEFAULT_SOCKETIO_PATH:
		return (
			f"The service on port {port} does not serve {path}: Frappe's realtime service answers on "
			f"{DEFAULT_SOCKETIO_PATH}; set the Socket.IO path back to {DEFAULT_SOCKETIO_PATH}."
		)
	if is_other_version(kind, handshake.engine_error):
		return (
			f"The server on port {port} speaks another Socket.IO major version: {SOCKETIO_REQUIREMENT}. "
			"Run Frappe's own realtime service there (`bench setup requirements --node`, then restart it), "
			f"or set socketio_port in {COMMON_CONFIG_FILE} to the port it listens on."
		)
	if kind == probe.TLS_PORT:
		return (
			f"Port {port} speaks TLS (https), but Frappe's realtime service listens on plain http: it is a "
			f"TLS proxy or another service; set socketio_port in {COMMON_CONFIG_FILE} to the port Node "
			"listens on."
		)
	return (
		f"Port {port} does not answer like Frappe's realtime service ({handshake.detail}): check what "
		f"listens there (`ss -ltnp | grep {port}`) and socketio_port in {COMMON_CONFIG_FILE}."
	)


def local_upgrade_hint(config: RavenConfig, detail: str) -> str:
	"""The realtime port itself does not take a WebSocket upgrade as Frappe's service does."""
	port = config.socketio_port
	return (
		f"The server on 127.0.0.1:{port} does not take WebSocket upgrades like Frappe's realtime service "
		f"({detail}): WebSocket-first clients cannot connect even before any proxy. Check what listens "
		f"there (`ss -ltnp | grep {port}`), and run Frappe's own realtime service on socketio_port."
	)


def is_other_version(kind: str, engine_error: engineio.EngineError | None) -> bool:
	"""A server of another Engine.IO protocol version answered: a v3 open packet, or error code 5."""
	return kind == OTHER_VERSION or (
		engine_error is not None and engine_error.code == engineio.UNSUPPORTED_PROTOCOL_VERSION
	)


# ---- the public URL --------------------------------------------------------------------------


# What each kind of answer at the public URL means, and the fix; filled by external_hint.
_EXTERNAL = {
	FRAPPE_PAGE: (
		"Route {path} to the realtime service: {netloc} sends it to Frappe's web server. In the proxy, "
		"send {path} to the socketio port 127.0.0.1:{port} (socketio_port, with the Upgrade headers) "
		"and everything else to the web port {web_port}; with a tunnel (ngrok, cloudflared), point it at "
		"that proxy instead of port {web_port}."
	),
	NOT_FOUND: (
		"{netloc} answers 404 for {path}: the proxy changes the path on the way or routes it elsewhere; "
		"pass {path} unchanged to 127.0.0.1:{port} (nginx: `proxy_pass http://<upstream>;` without a "
		"URI part)."
	),
	probe.CERTIFICATE: (
		"The TLS certificate of {host} is not trusted (see the detail): browsers refuse it too unless "
		"every device trusts it, so the socket never opens. Install a certificate from a public CA for "
		"{host} (certbot / Let's Encrypt, or the proxy's ACME resolver) and serve the full chain. If a "
		"private CA signed it on purpose, let the diagnosis trust that CA: `--ca-file CA.pem` (or CA File "
		"in Raven Realtime Settings)."
	),
	probe.PLAIN_PORT: (
		"{netloc} speaks plain http, not TLS: a scheme/port mismatch (https sent to an http port). Use "
		"http://{netloc} in host_name / the base URL, or serve TLS on that port (nginx: `listen "
		"{tls_port} ssl;` with a certificate)."
	),
	probe.TLS_PORT: (
		"{netloc} speaks TLS (https), not plain http: a scheme/port mismatch (http sent to an https "
		"port). Use https://{netloc} in host_name / the base URL."
	),
	probe.TLS: (
		"TLS with {host} fails ({detail}): install a certificate valid for {host} (e.g. with certbot) or "
		"use the scheme the site really serves in host_name / the base URL."
	),
	probe.DNS: (
		"{host} does not resolve from this server: fix its DNS record (on a local bench, add it to "
		"/etc/hosts), or correct host_name / the base URL."
	),
	probe.REFUSED: (
		"Nothing accepts connections at {netloc}: start the proxy or tunnel that serves the site, or "
		"correct host_name / the base URL."
	),
	probe.TIMEOUT: (
		"{netloc} accepts the connection but does not answer {path} in full within {timeout:g} s (timed "
		"out): a firewall, a hung proxy, or a proxy waiting on a dead upstream; check the route of "
		"{path} to 127.0.0.1:{port}."
	),
	probe.RESET: (
		"{netloc} breaks off the connection (reset) instead of answering {path} in full: the upstream "
		"crashed or a proxy limit (body size, time) cut the answer; read the error logs of the proxy and "
		"of the realtime service."
	),
	probe.BAD_RESPONSE: (
		"{netloc} answers {path} with something that is not valid HTTP: another protocol listens there, "
		"or a broken proxy; route {path} to 127.0.0.1:{port} (socketio_port)."
	),
	NOT_ENGINEIO: (
		"{netloc} answers {path} with HTTP {status}, but not with an Engine.IO handshake: a default "
		"site, an SPA fallback (`try_files ... /index.html`), a login page or another app catches the "
		"path before the realtime service; route {path} to 127.0.0.1:{port} (socketio_port) ahead of "
		"those rules, without rewriting the body."
	),
}
_EXTERNAL_REFUSED_LOCAL = (
	"Nothing accepts connections at {netloc}: the browser connects there directly, so the realtime "
	"service must listen on that host at port {port}; start it, or set host_name to a host that "
	"reaches this bench."
)
_EXTERNAL_PROXY_ERROR = "The proxy at {netloc} gets no answer from its upstream for {path} (HTTP {status}): "
_EXTERNAL_UPSTREAM_STALE = (
	"the realtime service is up on 127.0.0.1:{port}, so the proxy's upstream port for {path} is "
	"stale or wrong; point it at 127.0.0.1:{port} (socketio_port) and reload the proxy."
)
_EXTERNAL_UPSTREAM_DOWN = (
	"the realtime service is down or the proxy's upstream port is wrong; start it and point the "
	"upstream at 127.0.0.1:{port} (socketio_port)."
)
_EXTERNAL_OTHER_VERSION = (
	"The server answering {path} at {netloc} speaks another Socket.IO major version: "
	"{requirement}. Route {path} to Frappe's realtime service on 127.0.0.1:{port} "
	"(socketio_port) instead of an older Socket.IO server, and update its Node dependencies "
	"(`bench setup requirements --node`)."
)
_EXTERNAL_MANGLED = (
	"The realtime service behind {netloc} gets a mangled request ({message}): the "
	"proxy drops or rewrites the query string of {path}; pass the URI unchanged."
)
_EXTERNAL_FORBIDDEN = "The realtime service behind {netloc} refuses the request (Forbidden): check its CORS/allowRequest settings."
_EXTERNAL_BLOCKED = (
	"An access rule blocks {path} at {netloc} (HTTP {status}: basic auth, a firewall, Cloudflare "
	"Access): let {path} through, as the site's pages are."
)
_EXTERNAL_OTHER = (
	"{netloc} does not answer {path} like Frappe's realtime service ({detail}): route {path} to "
	"127.0.0.1:{port} (socketio_port)."
)


def external_hint(
	config: RavenConfig,
	kind: str,
	detail: str,
	*,
	timeout: float,
	status: int | None = None,
	location: str | None = None,
	engine_error: engineio.EngineError | None = None,
	local_ok: bool = False,
) -> str:
	"""The fix for a public URL that does not reach the realtime service.

	`kind`, `detail`, `status`, `location` and `engine_error` describe what answered (a
	handshake, an upgrade or a session step); `local_ok` says whether the realtime port itself
	answers, which tells a proxy's stale upstream from a stopped service. The sentences are
	the _EXTERNAL table; the cases below it need more than the kind.
	"""
	base = config.get_external_socketio_url()
	parts = urlsplit(base)
	values = {
		"netloc": parts.netloc,
		"host": parts.hostname or "",
		"tls_port": parts.port or 443,
		"port": config.socketio_port,
		"web_port": config.webserver_port,
		"path": config.socketio_path,
		"timeout": timeout,
		"status": status,
		"detail": detail,
		"requirement": SOCKETIO_REQUIREMENT,
	}
	if kind == PROXY_ERROR:
		cause = _EXTERNAL_UPSTREAM_STALE if local_ok else _EXTERNAL_UPSTREAM_DOWN
		return (_EXTERNAL_PROXY_ERROR + cause).format(**values)
	if is_other_version(kind, engine_error):
		return _EXTERNAL_OTHER_VERSION.format(**values)
	if kind == ENGINEIO_ERROR and engine_error is not None:
		if engine_error.code in (engineio.TRANSPORT_UNKNOWN, engineio.BAD_REQUEST):
			return _EXTERNAL_MANGLED.format(message=engine_error.message, **values)
		if engine_error.code == engineio.FORBIDDEN:
			return _EXTERNAL_FORBIDDEN.format(**values)
	if kind == REDIRECT:
		return redirect_hint(base, location or "", config.socketio_path, config.socketio_port)
	if kind == probe.PLAIN_PORT and parts.port == config.socketio_port:
		return (
			f"The page is https and the browser opens {parts.netloc} for the socket, but "
			+ plain_socket_fix(config)
		)
	if kind == probe.REFUSED and config.deployment_type is DeploymentType.LOCAL:
		return _EXTERNAL_REFUSED_LOCAL.format(**values)
	template = _EXTERNAL.get(kind)
	if template is None:
		template = _EXTERNAL_BLOCKED if status in (401, 403) else _EXTERNAL_OTHER
	return template.format(**values)


def redirect_hint(base: str, location: str, path: str, port: int) -> str:
	"""The fix for a redirect of the socket path: to https, to itself, or to another host."""
	url = engineio.endpoint_url(base, path)
	here, there = urlsplit(base), urlsplit(urljoin(url, location))
	if there.hostname in (None, here.hostname) and here.scheme == "http" and there.scheme == "https":
		return (
			f"{here.netloc} redirects {path} to https: set the public URL to https (host_name "
			f"'https://{here.hostname}' or the base URL in Raven Realtime Settings) so the browser opens the "
			"socket there directly."
		)
	if is_redirect_loop(url, location):
		return (
			f"{here.netloc} redirects {path} to itself (a redirect loop): a proxy rule (an https or "
			f"trailing-slash redirect, a login gate) matches its own target; route {path} to "
			f"127.0.0.1:{port} (socketio_port) without a redirect."
		)
	if there.hostname and there.hostname != here.hostname:
		return (
			f"The proxy at {here.netloc} redirects {path} elsewhere, to {there.netloc}: browsers do not carry "
			f"the socket and its cookies there. Proxy {path} straight to 127.0.0.1:{port} (socketio_port) and "
			"keep the Host header as the browser sent it (nginx: `proxy_set_header Host $host;`); if "
			f"{there.netloc} is the site's real address, set host_name / the base URL to "
			f"{there.scheme}://{there.netloc} instead."
		)
	return f"{here.netloc} redirects {path} to {location}: route {path} to the realtime service without a redirect."


def upgrade_hint(config: RavenConfig, upgrade: Upgrade, timeout: float) -> str:
	"""The fix for a WebSocket upgrade of the public URL that does not reach the realtime service."""
	netloc = urlsplit(config.get_external_socketio_url()).netloc
	path, port = config.socketio_path, config.socketio_port
	if upgrade.kind == NOT_UPGRADED:
		code3 = upgrade.engine_error is not None and upgrade.engine_error.code == engineio.BAD_REQUEST
		why = (
			"the realtime service got the request without its Upgrade/Connection headers"
			if code3
			else f"the upgrade is answered with HTTP {upgrade.status}"
		)
		return (
			f"The proxy or tunnel at {netloc} does not pass the WebSocket upgrade ({why}): for {path} set "
			"`proxy_http_version 1.1;`, `proxy_set_header Upgrade $http_upgrade;` and `proxy_set_header "
			'Connection "upgrade";` (never HTTP/2 to the upstream; on Cloudflare turn WebSockets on). '
			"Until then browsers stay on slower long-polling."
		)
	if upgrade.kind == BAD_ACCEPT:
		return (
			f"Something between the browser and the realtime service at {netloc} answers the upgrade itself "
			"with a wrong Sec-WebSocket-Accept: pass WebSocket traffic through to the realtime service unchanged."
		)
	if upgrade.kind == OTHER_SERVICE:
		return (
			f"The WebSocket upgrade of {path} at {netloc} is taken by something other than Frappe's realtime "
			"service (a proxy's own WebSocket endpoint, or another app's), while polling on the same path "
			f"reaches it: send upgrade requests for {path} to the same upstream as polling, 127.0.0.1:{port} "
			"(socketio_port), with the Upgrade headers."
		)
	return external_hint(
		config,
		upgrade.kind,
		upgrade.detail,
		timeout=timeout,
		status=upgrade.status,
		location=upgrade.location,
		engine_error=upgrade.engine_error,
	)
