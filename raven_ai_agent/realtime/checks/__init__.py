"""The checks of a diagnosis, one module each: what a check's verdict is, from its probe's outcome.

Every check is a function `check(run) -> list[Check]` over the shared inputs in `Run`;
diagnose.py lists them with their prerequisites (its CHECKS table), runs them with
schedule.py and builds the report. A check states facts in `detail` and takes its `hint`
(the one sentence naming cause and fix) from hints.py. No frappe import.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from raven_ai_agent.realtime import probe
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.constants import SITE_NAME_HEADER
from raven_ai_agent.realtime.containers import Runtime, frappe_docker_evidence
from raven_ai_agent.realtime.resolve import DeploymentType, RavenConfig
from raven_ai_agent.realtime.schedule import Schedule
from raven_ai_agent.realtime.webpage import local_web

CONFIG = "config"
BOOT_CONTEXT = "boot_context"
LOCAL_HANDSHAKE = "local_handshake"
EXTERNAL_HANDSHAKE = "external_handshake"
EXTERNAL_WEBSOCKET = "external_websocket"
WEB_SITE = "web_site"
NAMESPACE = "namespace"
WEBSOCKET_SESSION = "websocket_session"
STICKY_SESSION = "sticky_session"
REDIS_BRIDGE = "redis_bridge"
END_TO_END = "end_to_end"
CLIENT_PATHS = "client_paths"
CLIENT_DELIVERY = "client_delivery"

# Frappe's own sid for anonymous visitors: it makes the realtime service run its whole
# authentication, callback included, without any credential.
GUEST_SID = "Guest"

# publish(event, message, room) -> whether the event was handed to Redis.
Publish = Callable[[str, dict, str], bool]


@dataclass
class Check:
	"""One check's verdict: ok True/False, or None when skipped or not reached."""

	name: str
	ok: bool | None
	detail: str
	hint: str | None = None
	elapsed_ms: float = 0.0

	def as_dict(self) -> dict:
		return {
			"name": self.name,
			"ok": self.ok,
			"detail": self.detail,
			"hint": self.hint,
			"elapsed_ms": round(self.elapsed_ms, 1),
		}


def passed(name: str, detail: str) -> Check:
	return Check(name, True, detail)


def failed(name: str, detail: str, hint: str) -> Check:
	return Check(name, False, detail, hint)


def skipped(name: str, detail: str) -> Check:
	return Check(name, None, detail)


def not_reached(requires: Sequence[str], prerequisites: dict) -> str | None:
	"""Why a check whose `requires` came out as `prerequisites` (name -> Check or None) must not
	run ("not reached: <name> failed", or a skipped prerequisite's own reason); None: it may."""
	for name in requires:
		check = prerequisites.get(name)
		if check is not None and check.ok is False:
			return f"not reached: {name} failed"
	for name in requires:
		check = prerequisites.get(name)
		if check is not None and check.ok is None:
			# Carry the root reason down: "not reached: external_handshake failed", not a chain.
			return check.detail if check.detail.startswith("not reached:") else f"skipped: {name} was skipped"
	return None


@dataclass
class Run:
	"""What every check of one diagnosis shares: its inputs, the deadline, and the schedule.

	`publish` is called on the thread that runs the diagnosis (`publish_on_caller`): the
	Frappe shell passes frappe.publish_realtime, which needs that thread's frappe.local.
	"""

	config: RavenConfig
	timeout: float
	schedule: Schedule
	external: bool
	sid: str | None
	user: str | None
	publish: Publish | None
	audit_paths: Sequence
	config_warnings: Sequence[str]
	ca_file: str | None = None  # extra CAs every HTTPS probe trusts (probe.tls_context)
	handed_context: object = None  # what a page got as frappe.boot.raven_realtime, when known
	user_type: str | None = None  # of `user`, when the caller knows it ("System User", ...)
	session_owner: str | None = None  # the site's own session store on `sid` ("": unknown there)
	clients: Sequence = ()  # clients.ClientURL of each real client (desk, Raven, this app's context)
	client_notes: Sequence[str] = ()  # clients.client_warnings: why a client goes elsewhere, and the fix
	client_rows: list = field(default_factory=list)  # per-client results, filled by check_clients
	# Without a session: check delivery as Guest through the room every socket of the site joins
	# (scheduled checks run with nobody's session).
	site_wide: bool = False
	# A Raven Channel the session's user belongs to (the shell finds it): its doc room is where
	# Raven streams messages, joined with doc_subscribe as Raven's web app does.
	raven_channel: str | None = None
	# (url, path) of a client socket -> its delivery verdict (ok, detail, hint), filled by
	# check_delivery and merged into the report's client rows.
	client_delivery: dict = field(default_factory=dict)
	delivery_ms: float = 0.0  # how long the delivery sockets could listen (set by check_delivery)
	runtime: Runtime | None = None  # the container this diagnosis runs in (containers.observe)
	local_kind: str | None = None  # what the realtime address answered (probe / handshake kinds)
	redis_down: str | None = None  # the events Redis (safe URL) when redis_bridge found it unreachable

	@property
	def docker(self) -> str | None:
		"""Why the site looks like frappe_docker's split layout (hints in its terms), or None."""
		return frappe_docker_evidence(self.config.redis_url, self.config.realtime_address)

	@property
	def address_given(self) -> bool:
		"""An operator named where the realtime service is (a setting, the environment, the CLI)."""
		return self.config.realtime_address is not None

	@property
	def deadline(self) -> probe.Deadline:
		return self.schedule.deadline

	@property
	def path(self) -> str:
		return self.config.socketio_path

	@property
	def route_check(self) -> str:
		"""The handshake that proves the route the session checks take."""
		return EXTERNAL_HANDSHAKE if self.external else LOCAL_HANDSHAKE

	def wait(self, name: str) -> Check | None:
		"""Another check's result, waiting for it at most until the deadline (for a sharper hint)."""
		return self.schedule.wait(name)

	def route(self, sid: str | None) -> tuple[str, dict]:
		"""(socket.io origin, headers) of a browser's session, or of bench's nginx when not external."""
		config = self.config
		headers = {"Origin": config.get_external_http_base(), "Cookie": f"sid={sid or GUEST_SID}"}
		if self.external:
			return config.get_external_socketio_url(), headers
		# Straight to the realtime port: send what the public route would deliver there.
		headers["Host"] = urlsplit(config.get_external_http_base()).netloc
		if config.deployment_type is not DeploymentType.LOCAL:
			headers[SITE_NAME_HEADER] = config.site_name
		return config.get_internal_socketio_url(), headers

	def other_site_answers(self) -> bool:
		"""The web_site check found the callback served by another site: sessions cannot be judged."""
		site = self.schedule.wait(WEB_SITE) if WEB_SITE in self.schedule.names else None
		return site is not None and site.ok is False

	def web_route(self) -> tuple[str, dict]:
		"""Where the web server is asked about sessions: the public site, or the local web port
		with the site header a proxy adds."""
		if self.external:
			return self.config.get_external_http_base(), {}
		return local_web(self.config)

	def http(self) -> probe.Http:
		return probe.Http(self.deadline, self.timeout, self.ca_file)

	def fetch_user(self, http: probe.Http, web: str, headers: dict) -> tuple:
		"""Whose session `sid` is, asked as the realtime service asks (session.fetch_user)."""
		return polling.fetch_user(http, web, self.sid, headers)

	def publish_on_caller(self, event: str, message: dict, room: str) -> bool:
		"""`publish(...)` run on the diagnosis' own thread, where Frappe's context lives."""
		return bool(self.schedule.on_caller(lambda: self.publish(event, message, room)))
