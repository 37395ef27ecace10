"""Every operator-facing sentence of the diagnosis: what a finding means, and what to change.

diagnose.py runs the checks and states facts in each check's `detail`; the `hint` (one
sentence naming the cause and the fix) comes from here, so all advice can be read and
reworded in one place. Plain functions of plain values: the config, a probe's outcome (its
kind, detail, status, ...), the timeout. No I/O, no frappe import.
"""

from urllib.parse import urljoin, urlsplit

from raven_ai_agent.realtime import engineio, probe
from raven_ai_agent.realtime.constants import DEFAULT_SOCKETIO_PATH, SITE_NAME_HEADER
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

# Kinds of CONNECT_ERROR, matched loosely: Frappe's texts differ between versions.
CONNECT_ORIGIN = "origin"
CONNECT_NAMESPACE = "namespace"
CONNECT_UNAUTHORIZED = "unauthorized"
CONNECT_NO_AUTH = "no_auth"  # no credentials reached the service: not a fault of the route
CONNECT_OTHER = "other"


# ---- any check -------------------------------------------------------------------------------


def config_hint(problem: str) -> str:
	return f"Fix the config: {problem}."


def crashed_hint(name: str, error: str) -> str:
	return f"The {name} check crashed ({error}); report it with this output."


def unfinished_hint(name: str, timeout: float) -> str:
	"""A check that had no verdict when the diagnosis' time was up."""
	return (
		f"The {name} check got no answer within {timeout:g} s: something on its path accepts "
		"connections but never answers (a hung proxy, a DNS server that does not reply); "
		"see its detail and retry with a longer --timeout."
	)


# ---- the realtime port -----------------------------------------------------------------------


def local_hint(config: RavenConfig, handshake: Handshake, timeout: float) -> str:
	"""The fix for a realtime port (127.0.0.1:socketio_port) that does not answer as Engine.IO."""
	port, path = config.socketio_port, config.socketio_path
	kind = handshake.kind
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


def is_other_version(kind: str, engine_error: engineio.EngineError | None) -> bool:
	"""A server of another Engine.IO protocol version answered: a v3 open packet, or error code 5."""
	return kind == OTHER_VERSION or (
		engine_error is not None and engine_error.code == engineio.UNSUPPORTED_PROTOCOL_VERSION
	)


# ---- the public URL --------------------------------------------------------------------------


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
	answers, which tells a proxy's stale upstream from a stopped service.
	"""
	base = config.get_external_socketio_url()
	parts = urlsplit(base)
	netloc, host = parts.netloc, parts.hostname or ""
	port, web_port, path = config.socketio_port, config.webserver_port, config.socketio_path
	if kind == FRAPPE_PAGE:
		return (
			f"Route {path} to the realtime service: {netloc} sends it to Frappe's web server. In the proxy, "
			f"send {path} to the socketio port 127.0.0.1:{port} (socketio_port, with the Upgrade headers) "
			f"and everything else to the web port {web_port}; with a tunnel (ngrok, cloudflared), point it at "
			f"that proxy instead of port {web_port}."
		)
	if kind == PROXY_ERROR:
		cause = (
			f"the realtime service is up on 127.0.0.1:{port}, so the proxy's upstream port for {path} is "
			f"stale or wrong; point it at 127.0.0.1:{port} (socketio_port) and reload the proxy."
			if local_ok
			else f"the realtime service is down or the proxy's upstream port is wrong; start it and point the "
			f"upstream at 127.0.0.1:{port} (socketio_port)."
		)
		return f"The proxy at {netloc} gets no answer from its upstream for {path} (HTTP {status}): {cause}"
	if kind == NOT_FOUND:
		return (
			f"{netloc} answers 404 for {path}: the proxy changes the path on the way or routes it elsewhere; "
			f"pass {path} unchanged to 127.0.0.1:{port} (nginx: `proxy_pass http://<upstream>;` without a "
			"URI part)."
		)
	if is_other_version(kind, engine_error):
		return (
			f"The server answering {path} at {netloc} speaks another Socket.IO major version: "
			f"{SOCKETIO_REQUIREMENT}. Route {path} to Frappe's realtime service on 127.0.0.1:{port} "
			"(socketio_port) instead of an older Socket.IO server, and update its Node dependencies "
			"(`bench setup requirements --node`)."
		)
	if kind == ENGINEIO_ERROR and engine_error is not None:
		if engine_error.code in (engineio.TRANSPORT_UNKNOWN, engineio.BAD_REQUEST):
			return (
				f"The realtime service behind {netloc} gets a mangled request ({engine_error.message}): the "
				f"proxy drops or rewrites the query string of {path}; pass the URI unchanged."
			)
		if engine_error.code == engineio.FORBIDDEN:
			return f"The realtime service behind {netloc} refuses the request (Forbidden): check its CORS/allowRequest settings."
	if kind == REDIRECT:
		return redirect_hint(base, location or "", path, port)
	if kind == probe.CERTIFICATE:
		return (
			f"The TLS certificate of {host} is not trusted (see the detail): browsers refuse it too unless "
			"every device trusts it, so the socket never opens. Install a certificate from a public CA for "
			f"{host} (certbot / Let's Encrypt, or the proxy's ACME resolver) and serve the full chain."
		)
	if kind == probe.PLAIN_PORT:
		return (
			f"{netloc} speaks plain http, not TLS: a scheme/port mismatch (https sent to an http port). Use "
			f"http://{netloc} in host_name / the base URL, or serve TLS on that port (nginx: `listen "
			f"{parts.port or 443} ssl;` with a certificate)."
		)
	if kind == probe.TLS_PORT:
		return (
			f"{netloc} speaks TLS (https), not plain http: a scheme/port mismatch (http sent to an https "
			f"port). Use https://{netloc} in host_name / the base URL."
		)
	if kind == probe.TLS:
		return (
			f"TLS with {host} fails ({detail}): install a certificate valid for {host} (e.g. with certbot) or "
			"use the scheme the site really serves in host_name / the base URL."
		)
	if kind == probe.DNS:
		return (
			f"{host} does not resolve from this server: fix its DNS record (on a local bench, add it to "
			"/etc/hosts), or correct host_name / the base URL."
		)
	if kind == probe.REFUSED:
		if config.deployment_type is DeploymentType.LOCAL:
			return (
				f"Nothing accepts connections at {netloc}: the browser connects there directly, so the realtime "
				f"service must listen on that host at port {port}; start it, or set host_name to a host that "
				"reaches this bench."
			)
		return (
			f"Nothing accepts connections at {netloc}: start the proxy or tunnel that serves the site, or "
			"correct host_name / the base URL."
		)
	if kind == probe.TIMEOUT:
		return (
			f"{netloc} accepts the connection but does not answer {path} in full within {timeout:g} s (timed "
			"out): a firewall, a hung proxy, or a proxy waiting on a dead upstream; check the route of "
			f"{path} to 127.0.0.1:{port}."
		)
	if kind == probe.RESET:
		return (
			f"{netloc} breaks off the connection (reset) instead of answering {path} in full: the upstream "
			"crashed or a proxy limit (body size, time) cut the answer; read the error logs of the proxy and "
			"of the realtime service."
		)
	if kind == probe.BAD_RESPONSE:
		return (
			f"{netloc} answers {path} with something that is not valid HTTP: another protocol listens there, "
			f"or a broken proxy; route {path} to 127.0.0.1:{port} (socketio_port)."
		)
	if kind == NOT_ENGINEIO:
		return (
			f"{netloc} answers {path} with HTTP {status}, but not with an Engine.IO handshake: a default "
			"site, an SPA fallback (`try_files ... /index.html`), a login page or another app catches the "
			f"path before the realtime service; route {path} to 127.0.0.1:{port} (socketio_port) ahead of "
			"those rules, without rewriting the body."
		)
	if status in (401, 403):
		return (
			f"An access rule blocks {path} at {netloc} (HTTP {status}: basic auth, a firewall, Cloudflare "
			f"Access): let {path} through, as the site's pages are."
		)
	return (
		f"{netloc} does not answer {path} like Frappe's realtime service ({detail}): route {path} to "
		f"127.0.0.1:{port} (socketio_port)."
	)


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


# ---- the namespace and the session -------------------------------------------------------------


def classify_connect_error(message: str) -> str:
	"""What a CONNECT_ERROR text means, by case-insensitive substring."""
	text = message.lower()
	if "namespace" in text:
		return CONNECT_NAMESPACE
	if "origin" in text:
		return CONNECT_ORIGIN
	if "unauthorized" in text or "unauthorised" in text:
		return CONNECT_UNAUTHORIZED
	if "no cookie" in text or "authentication method" in text or "not authenticated" in text:
		return CONNECT_NO_AUTH
	return CONNECT_OTHER


def connect_hint(config: RavenConfig, message: str) -> str:
	"""The fix for a namespace CONNECT the realtime service refused with `message`."""
	kind = classify_connect_error(message)
	origin = config.get_external_http_base()
	if kind == CONNECT_ORIGIN:
		return (
			"A proxy or tunnel rewrites the Host header (or sends no Origin), so the realtime service rejects "
			"the connection as 'Invalid origin': keep Host as the browser sent it (ngrok: no "
			"--host-header=rewrite; Traefik/cloudflared: no Host override) and set `proxy_set_header Origin "
			"$scheme://$http_host;` for the socket path, as bench's nginx does."
		)
	if kind == CONNECT_NAMESPACE:
		return (
			f"The realtime service derives a site other than {config.site_name} from the request ('Invalid "
			f"namespace'): in the proxy set `proxy_set_header {SITE_NAME_HEADER} {config.site_name};` for "
			f"{config.socketio_path}, or make host_name / the public host match the site name."
		)
	if kind == CONNECT_UNAUTHORIZED:
		return (
			f"The realtime service cannot call back into the web server to check sessions ({message}): it "
			f"calls {origin}/api/method/frappe.realtime.get_user_info from the bench host, so make that URL "
			"reachable from there (a hosts entry against hairpin DNS, server_ip in common_site_config.json, a "
			"trusted certificate); on Frappe v16, also turn developer_mode off behind a proxy (it sends the "
			"callback to webserver_port)."
		)
	return f"The realtime service refused the connection to {config.namespace}: {message}."


def missing_origin_hint(config: RavenConfig) -> str:
	"""Catalog #4: the proxy adds no Origin, and browsers send none on same-origin polling."""
	return (
		f"The proxy in front of {config.get_external_http_base()} sets no Origin header: browsers send "
		"none on same-origin polling requests, so polling-first clients (Raven's web app, the desk's "
		"fallback) get 'Invalid origin' while WebSocket-first ones pass. For "
		f"{config.socketio_path} set `proxy_set_header Origin $scheme://$http_host;` as bench's nginx does "
		"(Traefik: a headers middleware, see `raven-realtime render traefik`)."
	)


def connect_reply_hint(config: RavenConfig) -> str:
	"""The namespace CONNECT was sent and never answered."""
	origin = config.get_external_http_base()
	return (
		f"The realtime service never answers the namespace CONNECT: its session check calls "
		f"{origin}/api/method/frappe.realtime.get_user_info and that call hangs; make the URL answer "
		"from the bench host (firewall, hairpin DNS, server_ip)."
	)


def sticky_hint(path: str) -> str:
	return (
		"Requests of one Socket.IO session reach different realtime nodes ('Session ID unknown'): make the "
		f"balancer in front of {path} sticky (`raven-realtime render nginx-vps --upstream HOST:PORT ...` "
		"writes a sticky nginx upstream, `render traefik` a sticky cookie) or run a single realtime node."
	)


# ---- Redis and delivery ----------------------------------------------------------------------


def redis_unreachable_hint(url: str) -> str:
	return (
		f"Start Redis at {url} or fix redis_queue in {COMMON_CONFIG_FILE}: while it is unreachable "
		"Frappe drops every realtime event without an error."
	)


def redis_unheard_hint(url: str) -> str:
	"""PUBLISH reached no subscriber: no realtime service listens on that Redis."""
	return (
		f"No realtime service listens on {url}: the web workers publish there, so point the realtime "
		f"service at the same Redis (redis_queue in {COMMON_CONFIG_FILE}; FRAPPE_REDIS_QUEUE overrides it "
		"for Node) and restart it."
	)


def unknown_user_hint(web_url: str) -> str:
	return f"Check that {web_url}/api/method/frappe.realtime.get_user_info answers, or pass the user."


GUEST_SESSION_HINT = "Log in and pass the sid cookie of that browser session (it changes on every login)."
PUBLISH_FAILED_HINT = (
	"Publishing fails: check the Redis the site publishes to (redis_queue) and that the realtime "
	"service subscribes to it."
)


def publish_raised_hint(error: str, where: str, redis_state: str) -> str:
	"""The publish call itself raised: a fault in the code that publishes, not in Redis."""
	return (
		f"The publish call raised {error} in {where}; {redis_state}, so this is not a Redis problem: "
		"the code that publishes failed there and never handed the event to Redis; fix that code."
	)


NO_RESULT_HINT = "Retry the diagnosis with a longer --timeout."


def undelivered_hint(namespace: str) -> str:
	"""Published, never delivered: the two ends of the Redis bridge do not meet."""
	return (
		f"Events are published but never delivered: the realtime service reads another Redis than the "
		f"site publishes to, or emits to a namespace other than {namespace}; compare "
		f"redis_queue for Node and the web workers."
	)
