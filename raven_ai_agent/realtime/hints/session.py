"""Hints for the session: the namespace CONNECT, stickiness, Redis, and delivery of an event."""

from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import SITE_NAME_HEADER, USER_INFO_PATH
from raven_ai_agent.realtime.resolve import COMMON_CONFIG_FILE, RavenConfig

# nginx that builds Origin only when the browser sent none: bench's template overwrites it always,
# which also makes a foreign page look same-origin.
ORIGIN_WHEN_ABSENT = (
	'nginx: `map $http_origin $rt_origin { default $http_origin; "" "$scheme://$http_host"; }` and '
	"`proxy_set_header Origin $rt_origin;`, as `raven-realtime render nginx-vps` writes"
)
# Node's TLS errors, as the auth callback's "Unauthorized: Error: ..." carries them.
_CERTIFICATE_WORDS = ("certificate", "self-signed", "self signed", "unable to verify", "cert_")


def is_certificate_error(message: str) -> bool:
	text = message.lower()
	return any(word in text for word in _CERTIFICATE_WORDS)


# Kinds of CONNECT_ERROR, matched loosely: Frappe's texts differ between versions.
_NO_CREDENTIALS_WORDS = ("no cookie", "missing cookie", "authentication method", "not authenticated")
CONNECT_ORIGIN = "origin"
CONNECT_NAMESPACE = "namespace"
CONNECT_UNAUTHORIZED = "unauthorized"
CONNECT_NO_AUTH = "no_auth"  # no credentials reached the service: not a fault of the route
CONNECT_OTHER = "other"


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
	# 15.41 / v15: "No cookie transmitted."; v16: "Missing cookie and authorization header. Either one
	# needed for authentication."; all: "No authentication method used. Use cookie or authorization header."
	if any(words in text for words in _NO_CREDENTIALS_WORDS):
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
			"--host-header=rewrite; Traefik/cloudflared: no Host override) and, for the socket path, set "
			f"Origin only when the browser sent none ({ORIGIN_WHEN_ABSENT})."
		)
	if kind == CONNECT_NAMESPACE:
		return (
			f"The realtime service derives a site other than {config.site_name} from the request ('Invalid "
			f"namespace'): in the proxy set `proxy_set_header {SITE_NAME_HEADER} {config.site_name};` for "
			f"{config.socketio_path}, or make host_name / the public host match the site name."
		)
	if kind == CONNECT_UNAUTHORIZED and is_certificate_error(message):
		return (
			f"The realtime service's own call back to {origin}/api/method/frappe.realtime.get_user_info "
			f"fails on the TLS certificate ({message}): Node trusts only its bundled CAs, not the system's "
			"or a private one. Start the realtime process with NODE_EXTRA_CA_CERTS=/path/to/ca.pem "
			"(supervisor: `environment=NODE_EXTRA_CA_CERTS=...`; systemd: `Environment=...`), or serve a "
			"certificate from a public CA."
		)
	if kind == CONNECT_UNAUTHORIZED:
		return _unauthorized_hint(config, message, origin)
	return f"The realtime service refused the connection to {config.namespace}: {message}."


def fixed_site_header_hint(finding) -> str:
	"""A proxy fixes Origin or X-Frappe-Site-Name to another name (catalog #17)."""
	return (
		f"{finding.file}:{finding.line} ({finding.text}): {finding.problem}, so the realtime service "
		f"refuses the socket. Fix: {finding.fix} (frappe_docker: FRAPPE_SITE_NAME_HEADER=$host)."
	)


def cookie_dropped_hint(
	config: RavenConfig, reaches_the_port: bool | None, message: str = "No cookie transmitted."
) -> str:
	"""A session was given, and the realtime service saw no cookie (catalog #21); `message` is the
	release's own text for it."""
	path, netloc = config.socketio_path, urlsplit(config.get_external_socketio_url()).netloc
	if reaches_the_port:
		where = (
			f"the same session is accepted on the realtime port itself, so the proxy at {netloc} drops "
			f"the Cookie header on {path}"
		)
	else:
		where = f"a hop between the browser and the realtime service drops the Cookie header on {path}"
	return (
		f"The session's cookie never reaches the realtime service ({message!r}): {where}. "
		"Pass Cookie unchanged (nginx: no `proxy_set_header Cookie ...` for that path; a CDN or WAF: "
		"forward cookies), and in browsers open the page on the site's own origin with "
		f"`withCredentials: true` (a cross-site page's SameSite cookie is never sent). {TOKEN_CLIENTS}"
	)


# Clients that authenticate with an API token (Authorization header), per release
# (realtime/middlewares/authenticate.js): 15.41 and v15 refuse a request without any Cookie header
# before reading Authorization, and 15.41 prefers a sid cookie over it; v16 accepts the header alone.
TOKEN_CLIENTS = (
	"Clients with an API token (Authorization header) must also send a Cookie header without `sid` on "
	"Frappe 15.41 and v15 (a `sid` cookie wins over the token on 15.41); v16 accepts the header alone."
)


def websocket_first_hint(config: RavenConfig, message: str) -> str:
	"""Polling-first sessions connect, WebSocket-first ones are refused (catalog #26)."""
	return (
		f'WebSocket-first clients (`transports: ["websocket"]`: many mobile and agent clients) are '
		f"refused ({message}) while polling-first ones connect: the realtime service authenticates with "
		"the headers of a session's first request, and on an upgrade a proxy in the chain sends "
		"X-Forwarded-Proto: wss (Traefik does); a next hop that builds Origin from it as http:// sends the "
		f"session check to http://{config.host}:80. Where Origin is built, map wss to https and ws to http "
		"(`raven-realtime render nginx-vps` does)."
	)


def _unauthorized_hint(config: RavenConfig, message: str, origin: str) -> str:
	"""The session check failed: where the realtime service sends it decides the fix, and that
	depends on the Frappe release (realtime/utils.js get_url, read per branch):

	- 15.41, the latest v15 and v16 send it to the Origin the browser gave (catalog #18);
	- v16 / develop with developer_mode on: to <origin host>:<webserver_port>, past the proxy (#19);
	- develop with webserver_host and webserver_port: to http://<webserver_host>:<webserver_port>;
	- server_ip is read by no supported release (releases before 15.41 sent it to http://<server_ip>).
	"""
	check = f"{origin}{USER_INFO_PATH}"
	if config.webserver_host:
		target = f"http://{config.webserver_host}:{config.webserver_port}{USER_INFO_PATH}"
		return (
			f"The realtime service's session check fails ({message}), and webserver_host is "
			f"{config.webserver_host} in {COMMON_CONFIG_FILE}: on Frappe develop the check goes to {target}, "
			f"which must answer for this site from the bench host; 15.41, v15 and v16 ignore the key and "
			f"call {check}."
		)
	if config.developer_mode:
		moved = f"{config.host}:{config.webserver_port}"
		return (
			f"The realtime service's session check fails ({message}), and developer_mode is on in "
			f"{COMMON_CONFIG_FILE}: on Frappe v16 / develop the check goes to <origin host>:<webserver_port> "
			f"({moved}), past the proxy, not to {check}. Turn developer_mode off on a proxied site, or make "
			f"that address answer from the bench host. (On 15.41 and v15 the check goes to {check}: then "
			"make that reachable from the bench host.)"
		)
	stale = (
		f" server_ip ({config.server_ip}) does not help: 15.41 and later no longer read it."
		if config.server_ip
		else ""
	)
	return (
		f"The realtime service cannot call back into the web server to check sessions ({message}): it "
		f"calls {check} (the browser's Origin) from the bench host, so make that URL reachable from there "
		"(a hosts entry against hairpin NAT or split DNS; a certificate Node trusts, NODE_EXTRA_CA_CERTS)."
		f"{stale}"
	)


def missing_origin_hint(config: RavenConfig) -> str:
	"""Catalog #4: the proxy adds no Origin, and browsers send none on same-origin polling."""
	return (
		f"The proxy in front of {config.get_external_http_base()} sets no Origin header: browsers send "
		"none on same-origin polling requests, so polling-first clients (Raven's web app, the desk's "
		"fallback) get 'Invalid origin' while WebSocket-first ones pass. For "
		f"{config.socketio_path} set Origin when the request has none ({ORIGIN_WHEN_ABSENT}; Traefik: a "
		"headers middleware, see `raven-realtime render traefik`)."
	)


def connect_reply_hint(config: RavenConfig) -> str:
	"""The namespace CONNECT was sent and never answered."""
	origin = config.get_external_http_base()
	return (
		f"The realtime service never answers the namespace CONNECT: its session check calls "
		f"{origin}/api/method/frappe.realtime.get_user_info and that call hangs; make the URL answer "
		"from the bench host (firewall, hairpin DNS; on Frappe develop, webserver_host)."
	)


def sticky_hint(path: str) -> str:
	return (
		"Requests of one Socket.IO session reach different realtime nodes ('Session ID unknown'): make the "
		f"balancer in front of {path} sticky (`raven-realtime render nginx-vps --upstream HOST:PORT ...` "
		"writes a sticky nginx upstream, `render traefik` a sticky cookie) or run a single realtime node."
	)


# ---- Redis and delivery ----------------------------------------------------------------------


def realtime_and_redis_down_hint(config, url: str) -> str:
	"""Nothing on the realtime port and its Redis unreachable: the service died with its Redis."""
	return (
		f"Start Redis at {url} first (redis_queue in {COMMON_CONFIG_FILE}), then the realtime service: "
		f"nothing listens on 127.0.0.1:{config.socketio_port} either, and Frappe's realtime service "
		"exits when its Redis goes away, so starting it alone fails again (`bench start`, or "
		"`sudo supervisorctl start all`, which starts both). Until then Frappe drops every realtime "
		"event without an error."
	)


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
	"""Whose session it is could not be learnt from the web server."""
	return f"Check that {web_url}{USER_INFO_PATH} answers, or pass the user."


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


def foreign_session_hint(config: RavenConfig) -> str:
	"""The session belongs to no one on this site; if anything accepted it, another site did."""
	return (
		f"Pass a session of {config.site_name} (log in at {config.get_external_http_base()} and take that "
		"browser's sid cookie). If the realtime service accepted this one anyway, the web server that "
		f"checks sessions answers for another site: see web_site, and route by Host."
	)


def wrong_site_hint(config: RavenConfig, web: str, answered: str) -> str:
	"""The web server behind the origin answers as another site (catalog #27)."""
	return (
		f"The web server at {web} answers as site {answered}, not {config.site_name}: the realtime service "
		f"checks {config.site_name}'s sessions against {answered}, so another site's session passes and "
		f"this site's come back Guest. Route by Host (one web server for every site: gunicorn, not "
		"`bench serve` pinned to default_site / currentsite.txt), and let the proxy send "
		f"X-Frappe-Site-Name {config.site_name} (or $host), not a fixed other site."
	)


def guest_socket_hint(config: RavenConfig, user: str) -> str:
	"""The socket connected, but as Guest: the session check lost the credentials (catalog #20)."""
	return (
		f"The realtime service took {user}'s socket for Guest: it hears the site-wide room, never the "
		f"user's. Its session check (GET <Origin>/api/method/frappe.realtime.get_user_info) lost the "
		"session on the way: typically a proxy that builds Origin as http:// behind TLS, whose redirect "
		"to https drops the credentials. Build Origin from X-Forwarded-Proto (bench's nginx and "
		"`raven-realtime render nginx-vps` do) and keep the session check's query and cookie intact."
	)


def doc_subscribe_hint(web_url: str, doc: tuple[str, str], answer: str) -> str:
	"""The user room works, a doc room never joins: the permission callback refuses (catalog #24)."""
	return (
		f"doc_subscribe is refused: the realtime service joins a doc room only when its permission "
		f"callback {web_url}/api/method/frappe.realtime.can_subscribe_doc allows it, and for "
		f"{doc[0]}/{doc[1]} {answer}. Raven streams new messages to doc:Raven Channel/<id> rooms the same "
		"way, so channels update only on reload: make that callback reachable and answer 200 for what "
		"the user may read (route, permissions, a WAF or login gate on /api/method)."
	)


def undelivered_hint(namespace: str) -> str:
	"""Published, never delivered: the two ends of the Redis bridge do not meet."""
	return (
		f"Events are published but never delivered: the realtime service reads another Redis than the "
		f"site publishes to, or emits to a namespace other than {namespace}; compare "
		f"redis_queue for Node and the web workers."
	)


# The verdict of a client URL that connects but hears none of this site's events (issue: a
# foreign realtime service answers the handshake, the upgrade and the namespace).
FOREIGN_SERVICE = (
	"reachable, but the realtime service there does not hear this site's events (another bench's or "
	"another Redis)"
)


def foreign_service_hint(client: str, url: str, socketio_port: int | None, raven_client: bool) -> str:
	"""A client's socket URL reaches a realtime service that is not this site's: the fix for that client."""
	port = socketio_port if socketio_port is not None else "<socketio_port>"
	if raven_client:
		fix = (
			f"rebuild Raven with VITE_SOCKET_PORT={port} (this bench's socketio_port), or serve the site "
			"without a port through the proxy, so Raven's page opens the page's own origin"
		)
	elif client.startswith("Frappe desk"):
		fix = (
			f"the desk opens the page host on socketio_port only with DEV_SERVER on: serve the desk through "
			f"the proxy (DEV_SERVER off), or make the service on {url} this bench's (port {port}, same redis_queue)"
		)
	else:
		fix = (
			f"point this client at this bench's realtime service (socketio_port {port}, or the site's "
			"/socket.io/ through the proxy), or give the service behind it this site's redis_queue"
		)
	return f"{client} connects to {url}: {FOREIGN_SERVICE}. Its page hears no message; {fix}."
