"""Every default and wire-level name, defined once.

Ports, paths, rooms, events and header names live here so that no other module
spells them; a reader checks them against Frappe's realtime service in one place.
"""

from urllib.parse import quote, unquote

# Defaults Frappe itself uses when the config files say nothing.
DEFAULT_SOCKETIO_PORT = 9000
DEFAULT_WEBSERVER_PORT = 8000
DEFAULT_SOCKETIO_PATH = "/socket.io/"
DEFAULT_PROBE_TIMEOUT = 3.0
MIN_PROBE_TIMEOUT = 0.5
MAX_PROBE_TIMEOUT = 30.0

# frappe-react-sdk's socket port when Raven's build bakes no VITE_SOCKET_PORT (seen in Raven
# 2.6.4's bundle: `socket_port = port ?? "9000"`). The SDK's own default, not Frappe's.
RAVEN_SDK_DEFAULT_SOCKET_PORT = 9000
# Where a bench keeps Raven's built web app and the env files its build bakes in.
RAVEN_ASSETS_DIR = "apps/raven/raven/public/raven/assets"
RAVEN_FRONTEND_DIR = "apps/raven/frontend"
RAVEN_FRONTEND_ENV_FILES = (".env", ".env.local", ".env.production", ".env.production.local")
VITE_SOCKET_PORT = "VITE_SOCKET_PORT"
# Frappe serves the desk with `window.dev_server` when the web process has this env var set.
DEV_SERVER_ENV = "DEV_SERVER"
# A Guest page of every Frappe site; its head says `window.dev_server = 0|1;` (templates/base.html).
DEV_SERVER_PAGE = "/login"

# Proxy configs (render.py). Engine.IO pings every 25 s and waits 20 s for the pong: a proxy
# that closes an idle upstream sooner than 45 s cuts healthy sockets ("transport close").
ENGINEIO_PING_WINDOW = 45
DEFAULT_PROXY_TIMEOUT = 120  # seconds, for proxy_read_timeout / proxy_send_timeout
DEFAULT_NGINX_ACCESS_LOG = "/var/log/nginx/access.log"  # Debian's and the nginx image's
# Frappe's realtime service checks a session with GET <origin>USER_INFO_PATH?sid=<session id>.
USER_INFO_PATH = "/api/method/frappe.realtime.get_user_info"
# ... and allows a doc_subscribe (doc rooms: Raven streams messages to them) through this one.
CAN_SUBSCRIBE_DOC_PATH = "/api/method/frappe.realtime.can_subscribe_doc"
# This app's answer to "which site are you?" (see checks/web_site.py).
SITE_NAME_PATH = "/api/method/raven_ai_agent.api.realtime.get_site_name"
# Every socket of a site joins this room, Guest's too.
WEBSITE_ROOM = "website"
DEFAULT_LOCAL_UPSTREAM_HOST = "127.0.0.1"  # bench processes on the proxy's own machine
DEFAULT_DOCKER_HOST_GATEWAY = "172.17.0.1"  # the Docker host, seen from a container on the default bridge
DEFAULT_SIDECAR_LISTEN_PORT = 80  # inside the VPS nginx sidecar container; Traefik forwards here
DEFAULT_MULTIPLEXER_HOST = "127.0.0.1"  # the sandbox multiplexer only serves the local tunnel agent
DEFAULT_MULTIPLEXER_PORT = 8080
DEFAULT_TRAEFIK_ENTRYPOINT = "websecure"
DEFAULT_TRAEFIK_CERT_RESOLVER = "letsencrypt"
STICKY_COOKIE_NAME = "raven_realtime_node"  # Traefik's cookie that pins a browser to one realtime node
NGROK_AUTHTOKEN_ENV = "NGROK_AUTHTOKEN"

# What the browser client should try, in order: websocket first passes even behind
# proxies that add no Origin header to same-origin polling requests.
TRANSPORTS = ("websocket", "polling")

# Config keys, as Frappe names them in site_config.json / common_site_config.json.
KEY_HOST_NAME = "host_name"
KEY_SOCKETIO_PORT = "socketio_port"
KEY_WEBSERVER_PORT = "webserver_port"
KEY_REDIS_QUEUE = "redis_queue"  # v15+: frappe.publish_realtime publishes here
KEY_REDIS_SOCKETIO = "redis_socketio"  # v14
# Latest v15 and v16 (realtime/index.js `server.listen(uds || port)`, node_utils.js get_conf, also
# env FRAPPE_SOCKETIO_UDS): set, the realtime service listens on this Unix socket and opens no TCP
# port. 15.41 does not know the key.
KEY_SOCKETIO_UDS = "socketio_uds"
# Where the realtime service listens when it is not on this host (frappe_docker's `websocket`
# container, a Kubernetes Service): the operator names it here, as in Raven Realtime Settings'
# Realtime Address and the CLI's --realtime-address.
REALTIME_ADDRESS_ENV = "RAVEN_REALTIME_INTERNAL_URL"
# frappe_docker's names (compose.yaml, resources/nginx-template.conf): the realtime service's
# container and port, and the frontend's environment that routes to it.
DOCKER_WEBSOCKET_ADDRESS = "websocket:9000"
DOCKER_BACKEND_ADDRESS = "backend:8000"
DOCKER_REDIS_QUEUE_HOST = "redis-queue"
# How this app writes "the realtime service on a Unix socket" as a URL: http+unix://<%-encoded path>.
UNIX_SOCKET_SCHEME = "http+unix"
# Read by the realtime service from common_site_config.json, where they move its session check
# (realtime/utils.js get_url): developer_mode swaps the Origin's port for webserver_port (v16 /
# develop); webserver_host with webserver_port sends it to http://<webserver_host>:<port>
# (develop). server_ip sent it to http://<server_ip> before 15.41; 15.41 and later ignore it.
KEY_DEVELOPER_MODE = "developer_mode"
KEY_SERVER_IP = "server_ip"
KEY_WEBSERVER_HOST = "webserver_host"

# Frappe realtime wire names.
EVENTS_CHANNEL = "events"  # Redis pub/sub channel the Node service relays
SITE_NAME_HEADER = "X-Frappe-Site-Name"
MESSAGE_CREATED = "message_created"
RAVEN_CHANNEL_DOCTYPE = "Raven Channel"
RAVEN_MESSAGE_DOCTYPE = "Raven Message"


def doc_room(doctype: str, name: str) -> str:
	"""Room of one document: Raven publishes messages to its channel's room."""
	return f"doc:{doctype}/{name}"


def user_room(user: str) -> str:
	"""Room every socket of a user joins on connect."""
	return f"user:{user}"


def namespace_for(site_name: str) -> str:
	"""Frappe's realtime service delivers only in the namespace named after the site."""
	return "/" + site_name


def unix_socket_url(path: str) -> str:
	"""`http+unix://%2Fpath%2Fto.sock`: a URL for a Unix socket, so probes take one address form."""
	return f"{UNIX_SOCKET_SCHEME}://{quote(path, safe='')}"


def unix_socket_path(url: str) -> str | None:
	"""The socket path of a unix_socket_url(), else None."""
	prefix = f"{UNIX_SOCKET_SCHEME}://"
	if not url.startswith(prefix):
		return None
	return unquote(url[len(prefix) :].split("/", 1)[0])
