"""The real bench's processes in frappe_docker's split layout, one network namespace per container.

Nested in the suite's own namespace (run.py), as tests/stack/frappe_docker.py lays out the
stand-ins: `backend` (gunicorn `frappe.app:application` on 0.0.0.0:8000, as frappe_docker's
backend runs it; bench commands run here, as `docker compose exec backend bench ...`),
`websocket` (`node apps/frappe/socketio.js` without the loopback preload: it listens on its
container's address), `frontend` (real nginx from frappe_docker's template), `redis-queue` and
`redis-cache` (real Redis on 6379), and `db`: the session's MariaDB, reachable as db:3306
through a relay. The config is what frappe_docker's configurator writes (db_host db,
redis_* redis://redis-*:6379, socketio_port 9000) and the site's name resolves to the frontend.

The session's own processes (web, realtime, worker) are stopped while the layout runs and the
session's layout is put back on exit, whatever happened: config, processes, namespaces.
"""

import contextlib
import time
from pathlib import Path

import requests

from tests.stack.frappe_docker import FRONTEND_ENV, NsNginx, frontend_conf
from tests.stack.netns import Namespaces, NsRedis, Relay
from tests.stack.procs import ServiceError

from .host import as_bench_user
from .session import SERVICE_TIMEOUT, BenchProcess, RealBench

SERVICES = ("backend", "websocket", "frontend", "redis-queue", "redis-cache", "db")
WEB_PORT = 8000
SOCKETIO_PORT = 9000
REDIS_PORT = 6379
DB_PORT = 3306
FRONT_PORT = 80  # where the host publishes the frontend's 8080: the site's public URL
# The session's processes this layout replaces while it runs.
REPLACED = ("web", "realtime", "worker")


class ContainerProcess(BenchProcess):
	"""A bench process (as the bench user) in a container's namespace, ready when `ready_path`
	answers on the container's own address."""

	def __init__(
		self,
		spaces: Namespaces,
		service: str,
		argv: list[str],
		env: dict,
		cwd: Path,
		port: int,
		ready_path: str,
	):
		super().__init__(service, argv, env, cwd, port, ready_path)
		self.spaces, self.service = spaces, service
		spaces.inside(service, self)

	def wait_ready(self, timeout: float):
		url = f"http://{self.spaces.addresses[self.service]}:{self.port}{self._ready_path}"

		def answers() -> bool:
			with requests.Session() as s:
				s.trust_env = False  # the namespace has no proxy
				try:
					return s.get(url, timeout=5).status_code < 500
				except requests.RequestException:
					return False

		deadline = time.monotonic() + timeout
		while not self.spaces.call_in(self.service, answers):
			if self.proc.poll() is not None:
				raise ServiceError(f"{self.service} exited with {self.proc.returncode}\n{self.describe()}")
			if time.monotonic() > deadline:
				raise ServiceError(
					f"{self.service}: {url} did not answer within {timeout}s\n{self.describe()}"
				)
			time.sleep(0.2)


class SplitLayout:
	"""`with SplitLayout(bench) as layout:` the bench's processes as frappe_docker's containers."""

	def __init__(self, bench: RealBench):
		self.bench = bench
		sites = (bench.site, bench.other_site)
		self.spaces = Namespaces(
			SERVICES, hosts={name: dict.fromkeys(sites, "frontend") for name in SERVICES}
		)
		self.processes: dict[str, object] = {}
		self._exit = contextlib.ExitStack()

	# -- lifecycle ---------------------------------------------------------------------------

	def __enter__(self):
		# Last out: the session's layout back (its config, Redis and processes), and the
		# configurator's db keys gone from common_site_config.json.
		self._exit.enter_context(self.bench.changes())
		self._exit.callback(self.bench.write_config, db_host=None, db_port=None)
		try:
			self._exit.enter_context(self.spaces)
			self._start()
		except BaseException:
			self._exit.close()
			raise
		return self

	def __exit__(self, *exc):
		self._exit.close()
		return False

	def _start(self) -> None:
		bench, spaces = self.bench, self.spaces
		for name in REPLACED:
			if name in bench.procs:
				bench.stop(name)
		for name in ("redis-queue", "redis-cache"):
			self._keep(name, NsRedis(spaces, name, REDIS_PORT).start())
		self._exit.enter_context(Relay(spaces, "db", DB_PORT, ("127.0.0.1", bench.db_port)))
		self.write_configurator_config()
		self.start_backend()
		self.start_websocket()
		conf = frontend_conf(FRONTEND_ENV, bench.dir / "sites")
		self._keep("frontend", NsNginx(spaces, "frontend", conf).start())

	def _keep(self, name: str, process) -> None:
		self.processes[name] = process
		self._exit.callback(self._stop_process, name)

	def _stop_process(self, name: str) -> None:
		process = self.processes.pop(name, None)
		if process is not None:
			process.stop()
			process.cleanup()

	def write_configurator_config(self) -> None:
		"""What frappe_docker's `configurator` service writes (its compose.yaml), db by name."""
		bench = self.bench
		redis = {name: f"redis://{name}:{REDIS_PORT}" for name in ("redis-queue", "redis-cache")}
		bench.host.update_json(
			bench.host.common_config_path(),
			{
				"db_host": "db",
				"db_port": DB_PORT,
				"redis_cache": redis["redis-cache"],
				"redis_queue": redis["redis-queue"],
				"redis_socketio": redis["redis-queue"],
				"socketio_port": SOCKETIO_PORT,
			},
		)
		for site in (bench.site, bench.other_site):
			# The sites' own db_host/db_port (the session's loopback ones) would win over common's.
			bench.host.update_json(
				bench.host.site_config_path(site),
				{"db_host": None, "db_port": None, "host_name": f"http://{site}"},
			)

	# -- containers --------------------------------------------------------------------------

	def start_backend(self) -> None:
		bench = self.bench
		argv = [
			str(bench.dir / "env/bin/gunicorn"),
			"--bind",
			f"0.0.0.0:{WEB_PORT}",
			"--threads",
			"4",
			"--workers",
			"2",
			"--worker-class",
			"gthread",
			"--timeout",
			"120",
			"frappe.app:application",
		]
		process = ContainerProcess(
			self.spaces, "backend", argv, bench.host.env(), bench.dir / "sites", WEB_PORT, "/api/method/ping"
		)
		self._keep("backend", process.start(SERVICE_TIMEOUT))

	def start_websocket(self) -> None:
		bench = self.bench
		argv = ["node", "apps/frappe/socketio.js"]  # no loopback preload: the container's address
		process = ContainerProcess(
			self.spaces,
			"websocket",
			argv,
			bench.host.env(),
			bench.dir,
			SOCKETIO_PORT,
			"/socket.io/?EIO=4&transport=polling",
		)
		self._keep("websocket", process.start(SERVICE_TIMEOUT))

	def stop(self, name: str) -> None:
		"""`docker compose stop <name>`."""
		self._stop_process(name)

	# -- in a container ----------------------------------------------------------------------

	def bench_cmd(self, *args: str, service: str = "backend", timeout: float = 300, **env):
		"""`docker compose exec <service> bench --site <site> ARGS` (exit code not checked)."""
		argv = as_bench_user(["bench", "--site", self.bench.site, *args], self.bench.host.env(**env))
		return self.spaces.run(service, argv, cwd=self.bench.dir, timeout=timeout)

	def call_in(self, service: str, fn, timeout: float = 180):
		return self.spaces.call_in(service, fn, timeout)

	def public_url(self, path: str = "") -> str:
		"""The site's public URL as an address (the test process' own hosts file names nothing
		here); requests to it carry the site's name as Host."""
		return f"http://{self.spaces.addresses['frontend']}:{FRONT_PORT}{path}"
