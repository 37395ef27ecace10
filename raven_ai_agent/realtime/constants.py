"""Every default and wire-level name, defined once.

Ports, paths, rooms, events and header names live here so that no other module
spells them; a reader checks them against Frappe's realtime service in one place.
"""

# Defaults Frappe itself uses when the config files say nothing.
DEFAULT_SOCKETIO_PORT = 9000
DEFAULT_WEBSERVER_PORT = 8000
DEFAULT_SOCKETIO_PATH = "/socket.io/"
DEFAULT_PROBE_TIMEOUT = 3.0
MIN_PROBE_TIMEOUT = 0.5
MAX_PROBE_TIMEOUT = 30.0

# What the browser client should try, in order: websocket first passes even behind
# proxies that add no Origin header to same-origin polling requests.
TRANSPORTS = ("websocket", "polling")

# Config keys, as Frappe names them in site_config.json / common_site_config.json.
KEY_HOST_NAME = "host_name"
KEY_SOCKETIO_PORT = "socketio_port"
KEY_WEBSERVER_PORT = "webserver_port"
KEY_REDIS_QUEUE = "redis_queue"  # v15+: frappe.publish_realtime publishes here
KEY_REDIS_SOCKETIO = "redis_socketio"  # v14
KEY_DEVELOPER_MODE = "developer_mode"
KEY_SERVER_IP = "server_ip"

# Frappe realtime wire names.
EVENTS_CHANNEL = "events"  # Redis pub/sub channel the Node service relays
SITE_NAME_HEADER = "X-Frappe-Site-Name"
MESSAGE_CREATED = "message_created"
RAVEN_CHANNEL_DOCTYPE = "Raven Channel"


def doc_room(doctype: str, name: str) -> str:
	"""Room of one document: Raven publishes messages to its channel's room."""
	return f"doc:{doctype}/{name}"


def user_room(user: str) -> str:
	"""Room every socket of a user joins on connect."""
	return f"user:{user}"


def namespace_for(site_name: str) -> str:
	"""Frappe's realtime service delivers only in the namespace named after the site."""
	return "/" + site_name
