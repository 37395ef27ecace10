"""One bench's worth of services: Redis, the web stand-in and the realtime stand-in."""

import contextlib
import json
import shutil
import tempfile
from pathlib import Path

from . import topologies
from .bench import DEFAULT_SITE, make_bench
from .procs import free_port
from .services import DEFAULT_PROFILE, Nginx, RealtimeServer, RedisServer, WebStandin

ADMIN_SID = "admin-sid"
WEBSITE_SID = "website-sid"
DEFAULT_SESSIONS = {
	ADMIN_SID: {"user": "Administrator", "user_type": "System User"},
	WEBSITE_SID: {"user": "web@example.com", "user_type": "Website User"},
}


def frappe_event_json(event: str, message, room: str | None, namespace: str) -> str:
	"""The JSON frappe.publish_realtime puts on Redis `events` (frappe.as_json: indent 1,
	sorted keys), byte for byte."""
	payload = {"event": event, "message": message, "namespace": namespace, "room": room}
	return json.dumps(payload, indent=1, sort_keys=True, separators=(",", ": "))


class Stack:
	"""`with Stack() as s:` Redis + web stand-in + bench + realtime stand-in, wired like a bench.

	common_site_config gets socketio_port (a free port), webserver_port (the web
	stand-in), redis_queue/redis_cache (the Redis) and default_site; `common` overrides or
	adds keys, `site_config` fills the site's own file (which Node never reads). `profile`
	makes both stand-ins behave as that Frappe release (services.PROFILES).
	"""

	def __init__(
		self,
		site: str = DEFAULT_SITE,
		sessions: dict | None = None,
		common: dict | None = None,
		site_config: dict | None = None,
		static_dir: str | Path | None = None,
		tmp_path: str | Path | None = None,
		verbose: bool = False,
		realtime_env: dict | None = None,
		web_pinned: bool = True,
		web_dev_server: bool | None = None,
		profile: str = DEFAULT_PROFILE,
	):
		self.site = site
		self.profile = profile
		self._sessions = DEFAULT_SESSIONS if sessions is None else sessions
		self._common = dict(common or {})
		self._site_config = site_config
		self._static_dir = static_dir
		self._tmp_path = tmp_path
		self._verbose = verbose
		self._realtime_env = realtime_env
		# True: the web server answers every Host as `site`, as `bench start` does; False: it
		# routes by X-Frappe-Site-Name / Host, as gunicorn does in production.
		self._web_pinned = web_pinned
		# DEV_SERVER of the web process: `bench start` sets it and pins the site, gunicorn neither.
		self._web_dev_server = web_pinned if web_dev_server is None else web_dev_server
		self._exit = contextlib.ExitStack()
		self.extra_nodes: list[RealtimeServer] = []

	def __enter__(self):
		try:
			if self._tmp_path is None:
				tmp = Path(tempfile.mkdtemp(prefix="stack-bench-"))
				self._exit.callback(shutil.rmtree, tmp, ignore_errors=True)
			else:
				tmp = Path(self._tmp_path)
			self.redis = self._exit.enter_context(RedisServer())
			self.socketio_port = self._common.get("socketio_port") or free_port()
			self.web = self._exit.enter_context(
				WebStandin(
					self._sessions,
					static_dir=self._static_dir,
					socketio_port=self.socketio_port,
					verbose=self._verbose,
					site=self.site if self._web_pinned else None,
					dev_server=self._web_dev_server,
					profile=self.profile,
					redis_url=self.redis.url,
				)
			)
			common = {
				"default_site": self.site,
				"redis_cache": self.redis.url,
				"redis_queue": self.redis.url,
				"socketio_port": self.socketio_port,
				"webserver_port": self.web.port,
			}
			common.update(self._common)
			self.common = common
			self.bench = make_bench(tmp, self.site, common=common, site_config=self._site_config)
			self.sites_path = self.bench / "sites"
			self.realtime = self._exit.enter_context(
				RealtimeServer(self.sites_path, env=self._realtime_env, profile=self.profile)
			)
		except BaseException:
			self._exit.close()
			raise
		return self

	def __exit__(self, *exc):
		self._exit.close()
		return False

	# -- helpers -----------------------------------------------------------------------

	@property
	def realtime_url(self) -> str:
		return self.realtime.url

	@property
	def web_url(self) -> str:
		return self.web.url

	def add_realtime_node(self, port: int | None = None) -> RealtimeServer:
		"""Another realtime process on the same bench and Redis (scale-out tests)."""
		node = self._exit.enter_context(
			RealtimeServer(self.sites_path, port=port or free_port(), profile=self.profile)
		)
		self.extra_nodes.append(node)
		return node

	def publish(self, event: str, message, room: str | None = None, namespace: str | None = None) -> int:
		"""Publish like frappe.publish_realtime; returns Redis's subscriber count."""
		data = frappe_event_json(event, message, room, namespace or self.site)
		return self.publish_raw(data)

	def publish_raw(self, data: str) -> int:
		client = self.redis.client()
		try:
			return client.publish("events", data)
		finally:
			client.close()

	def front_conf(self, variant: str = "healthy", listen_port: int | None = None, ports=None, **kw) -> str:
		"""nginx conf text for a topology in front of this stack (see topologies.py).

		`ports` (realtime ports) defaults to this stack's node, plus the extra nodes for
		round_robin/sticky."""
		listen_port = listen_port or free_port()
		if ports is None:
			ports = [self.realtime.port] + [n.port for n in self.extra_nodes]
		if variant not in ("round_robin", "sticky"):
			ports = ports[0] if isinstance(ports, list | tuple) else ports
		kw.setdefault("site", self.site)
		return topologies.render(variant, listen_port, self.web.port, ports, **kw)

	def front(self, variant: str = "healthy", **kw) -> Nginx:
		"""Start nginx with `front_conf(variant, **kw)`; stopped with the stack."""
		return self._exit.enter_context(Nginx(self.front_conf(variant, **kw)))
