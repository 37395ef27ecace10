"""The resolved realtime config of a site, and the names it is described with.

RavenConfig is what resolve.py builds from plain config dicts: where browsers connect, with
the source of every value and the warnings; DeploymentType and Source name the choices.
No I/O, no frappe import.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from raven_ai_agent.realtime.constants import TRANSPORTS, namespace_for, unix_socket_url

SITE_CONFIG_FILE = "site_config.json"
COMMON_CONFIG_FILE = "common_site_config.json"
SETTINGS_DOCTYPE = "Raven Realtime Settings"
AUTO = "Auto"


class DeploymentType(str, Enum):
	"""The three ways a bench meets browsers; only the client's connection differs."""

	VPS_PROD = "vps_prod"
	SANDBOX = "sandbox"
	LOCAL = "local"

	@property
	def label(self) -> str:
		"""What the settings form shows and stores (Deployment Type): words, not the identifier."""
		return DEPLOYMENT_TYPE_LABELS[self]

	@classmethod
	def from_setting(cls, value: object) -> object:
		"""The identifier for a stored setting: a label ("Production VPS") or, as stored before
		the form showed words, the identifier itself; anything else is returned as it came, for
		the resolver to warn about."""
		for member, label in DEPLOYMENT_TYPE_LABELS.items():
			if value == label:
				return member.value
		return value


DEPLOYMENT_TYPE_LABELS = {
	DeploymentType.VPS_PROD: "Production VPS",
	DeploymentType.SANDBOX: "Sandbox tunnel",
	DeploymentType.LOCAL: "Local bench",
}


class Source(str, Enum):
	"""Where a resolved value came from, so an operator can see why it was chosen."""

	SETTINGS = "settings override"
	COMMAND_LINE = "command line"
	ENVIRONMENT = "environment"
	SITE_CONFIG = SITE_CONFIG_FILE
	COMMON_CONFIG = COMMON_CONFIG_FILE
	INFERRED = "inferred"
	DEFAULT = "default"
	SITE = "site"


@dataclass(frozen=True)
class RavenConfig:
	"""The resolved realtime configuration of one site. Immutable; build it with `resolve()`."""

	deployment_type: DeploymentType
	base_url: str
	socketio_port: int
	webserver_port: int
	socketio_path: str
	site_name: str
	socketio_base_url: str
	host: str = ""  # host name of the public origin: what the realtime service compares with Origin
	sources: Mapping[str, Source] = field(default_factory=dict)
	warnings: tuple[str, ...] = ()
	# Internal: never part of the frontend context.
	redis_url: str | None = None
	deployment_reason: str = ""  # why this deployment type, in words (`show` prints it)
	# What the realtime service reads from common_site_config.json besides its port.
	developer_mode: bool = False
	server_ip: str | None = None
	webserver_host: str | None = None  # develop: the realtime service's session checks go there
	socketio_uds: str | None = None  # latest v15 / v16: the realtime service's Unix socket, no TCP port
	# The realtime service's internal address when an operator named it (not on this host: a
	# container, a Kubernetes Service): http://host:port or http+unix://...; None: this host.
	realtime_address: str | None = None

	@property
	def namespace(self) -> str:
		return namespace_for(self.site_name)

	def get_external_http_base(self) -> str:
		"""The site's public origin, e.g. `https://erp.example.com` (no trailing slash)."""
		return self.base_url

	def get_external_socketio_url(self) -> str:
		"""The origin the browser opens `<socketio_path>` on."""
		return self.socketio_base_url

	def get_internal_socketio_url(self) -> str:
		"""Where the diagnosis reaches the realtime service: the address an operator named (its
		container, its Service), else this host's Unix socket (`http+unix://...`,
		constants.unix_socket_url) when socketio_uds is set, else 127.0.0.1:socketio_port."""
		if self.realtime_address:
			return self.realtime_address
		if self.socketio_uds:
			return unix_socket_url(self.socketio_uds)
		return f"http://127.0.0.1:{self.socketio_port}"

	def get_frontend_context(self) -> dict:
		"""What a browser needs to connect; nothing internal (no ports behind a proxy, no Redis)."""
		return {
			"deployment_type": self.deployment_type.value,
			"socketio_base_url": self.socketio_base_url,
			"socketio_path": self.socketio_path,
			"socketio_namespace": self.namespace,
			"transports": list(TRANSPORTS),
		}

	def as_dict(self) -> dict:
		"""JSON-ready summary, as `raven-realtime show --json` prints it."""
		return {
			"deployment_type": self.deployment_type.value,
			"deployment_reason": self.deployment_reason,
			"base_url": self.base_url,
			"socketio_port": self.socketio_port,
			"socketio_uds": self.socketio_uds,
			"internal_socketio_url": self.get_internal_socketio_url(),
			"webserver_port": self.webserver_port,
			"socketio_path": self.socketio_path,
			"site_name": self.site_name,
			"external_socketio_url": self.socketio_base_url,
			"sources": {k: v.value for k, v in self.sources.items()},
			"warnings": list(self.warnings),
			"context": self.get_frontend_context(),
		}
