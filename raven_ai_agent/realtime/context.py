"""The context a browser connects with (`frappe.boot.raven_realtime`, the REST endpoint): its check.

RavenConfig.get_frontend_context() builds it; raven_realtime.js validate_context() refuses a
bad one in the browser. check_context is the same rule on the server, so a broken context is
caught where it is made; tests/fixtures/contexts.json holds the cases both must agree on.
No frappe import.
"""

from raven_ai_agent.realtime.resolve import DeploymentType
from raven_ai_agent.realtime.validate import check_base_url, check_site_name, check_socketio_path

# What socket.io-client knows; the app itself offers TRANSPORTS.
KNOWN_TRANSPORTS = ("websocket", "polling", "webtransport")
KEYS = ("deployment_type", "socketio_base_url", "socketio_path", "socketio_namespace", "transports")


class ContextError(ValueError):
	"""A context a browser could not connect with; `key` names the field."""

	def __init__(self, key: str, problem: str):
		self.key = key
		super().__init__(f"context {key}: {problem}")


def check_context(context: object) -> dict:
	"""`context` if a browser can connect with it; ContextError naming the first bad key."""
	if not isinstance(context, dict):
		raise ContextError("context", "must be an object")
	types = [d.value for d in DeploymentType]
	if context.get("deployment_type") not in types:
		raise ContextError("deployment_type", f"must be one of {', '.join(types)}")
	base = context.get("socketio_base_url")
	try:
		normal = check_base_url(base)
	except ValueError as e:
		raise ContextError("socketio_base_url", str(e)) from None
	if normal != base:
		raise ContextError("socketio_base_url", f"must be the normalised origin {normal!r}")
	try:
		check_socketio_path(context.get("socketio_path"))
	except ValueError as e:
		raise ContextError("socketio_path", str(e)) from None
	namespace = context.get("socketio_namespace")
	if namespace == "/":
		raise ContextError(
			"socketio_namespace",
			'is "/": Frappe emits events only in "/<site name>"; a socket on "/" hears nothing',
		)
	try:
		if not isinstance(namespace, str) or not namespace.startswith("/"):
			raise ValueError(f"{namespace!r} does not start with '/'")
		check_site_name(namespace[1:])
	except ValueError as e:
		raise ContextError("socketio_namespace", f'must be "/" and the site name ({e})') from None
	transports = context.get("transports")
	if not isinstance(transports, list) or not transports:
		raise ContextError("transports", "must be a non-empty list")
	for i, transport in enumerate(transports):
		if transport not in KNOWN_TRANSPORTS:
			raise ContextError(f"transports[{i}]", f"must be one of {', '.join(KNOWN_TRANSPORTS)}")
	return context
