"""A running real bench for one test session, with this checkout installed on it.

Each session starts from the build's state: a copy of the database snapshot, the sites' config
files as the build left them, and the app copied from this checkout into `apps/` (as
`bench get-app` would), pip-installed into the bench's env, listed in `sites/apps.txt` and
installed on the site with bench's own `install-app`. Then MariaDB, two Redis, Frappe's
realtime service (`node apps/frappe/socketio.js`), the web process (gunicorn) and a worker are
started on free loopback ports. Nothing of a session outlives it but the cache it started from.
"""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import requests

from tests.stack.procs import ManagedProcess, ServiceError, port_accepts
from tests.stack.services import RedisServer
from tests.stack.stack import frappe_event_json

from . import inputs
from .host import BenchHost, BuildError, as_bench_user
from .run import NETNS_ENV

# The suite runs in a network namespace of its own (run.py): a bench's usual ports are free there.
WEB_PORT = 8000
SOCKETIO_PORT = 9000
REDIS_CACHE_PORT = 13000
REDIS_QUEUE_PORT = 11000
# What `bench get-app` would not bring: the checkout's own tooling and caches.
COPY_IGNORE = shutil.ignore_patterns(
	".git", "node_modules", "__pycache__", "*.pyc", "output", ".ruff_cache", "probe_app"
)
SERVICE_TIMEOUT = 90
# A test-only Frappe app that publishes from a request, a job and a rolled-back request.
PROBE_APP = Path(__file__).resolve().parent / "probe_app"


class BenchProcess(ManagedProcess):
	"""A bench process run as the bench user; ready when its port answers `ready_path`."""

	def __init__(
		self, name: str, argv: list[str], env: dict, cwd: Path, port: int | None, ready_path: str | None
	):
		self.name = name
		super().__init__(as_bench_user(argv, env), cwd=cwd)
		self.port = port
		self._ready_path = ready_path

	def wait_ready(self, timeout: float):
		if self.port is None:
			return
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise ServiceError(f"{self.name} exited with {self.proc.returncode}\n{self.describe()}")
			if port_accepts(self.port):
				if self._ready_path is None:
					return
				try:
					if (
						requests.get(f"http://127.0.0.1:{self.port}{self._ready_path}", timeout=5).status_code
						< 500
					):
						return
				except requests.RequestException:
					pass
			time.sleep(0.1)
		raise ServiceError(
			f"{self.name} did not answer on 127.0.0.1:{self.port} within {timeout}s\n{self.describe()}"
		)

	def stop(self, timeout: float = 10):
		# runuser forwards SIGTERM to its child; the group is ours alone (start_new_session).
		if self.proc is not None and self.proc.poll() is None:
			with contextlib.suppress(ProcessLookupError):
				os.killpg(self.proc.pid, 15)
			try:
				self.proc.wait(timeout=timeout)
			except subprocess.TimeoutExpired:
				with contextlib.suppress(ProcessLookupError):
					os.killpg(self.proc.pid, 9)
				self.proc.wait(timeout=timeout)
		super().stop(timeout)


class RealBench:
	"""`with RealBench() as b:` the cached bench, running, with this checkout installed."""

	def __init__(self, dev_server: bool = True):
		if os.environ.get(NETNS_ENV) != "1":
			raise BuildError(
				"the real-bench suite runs in a network namespace of its own: `python3 -m tests.realbench.run`"
			)
		self.home = inputs.bench_home()
		if not (self.home / "READY").is_file():
			raise BuildError(
				f"no finished bench at {self.home}: run `python3 -m tests.realbench.build` first"
			)
		self.host = BenchHost(self.home)
		self.dir = self.host.bench_dir
		self.site = inputs.SITE
		self.other_site = inputs.OTHER_SITE
		self.dev_server = dev_server
		self._exit = contextlib.ExitStack()
		self.procs: dict[str, BenchProcess] = {}
		self.timings: dict[str, float] = {}

	# -- lifecycle ----------------------------------------------------------------------

	def __enter__(self):
		try:
			self._start()
		except BaseException:
			self._exit.close()
			raise
		return self

	def __exit__(self, *exc):
		self._exit.close()
		return False

	def _timed(self, name: str, fn, *args):
		started = time.monotonic()
		result = fn(*args)
		self.timings[name] = round(time.monotonic() - started, 2)
		return result

	def _start(self) -> None:
		lock = open(inputs.cache_root() / "run.lock", "w")
		self._exit.callback(lock.close)
		fcntl.flock(lock, fcntl.LOCK_EX)
		self.run_dir = self.home / "run"
		shutil.rmtree(self.run_dir, ignore_errors=True)
		self.run_dir.mkdir()
		self.host.chown(self.run_dir, recursive=False)

		self._timed("restore", self._restore_pristine)
		datadir = self.run_dir / "mariadb"
		self._timed(
			"database copy",
			lambda: subprocess.run(["cp", "-a", str(self.host.db_snapshot), str(datadir)], check=True),
		)
		self.db_port = self._exit.enter_context(self.host.database(datadir))
		self.redis_cache = self._exit.enter_context(RedisServer(REDIS_CACHE_PORT))
		self.redis_queue = self._exit.enter_context(RedisServer(REDIS_QUEUE_PORT))
		self.socketio_port = SOCKETIO_PORT
		self.web_port = WEB_PORT
		self.write_config()
		self._timed("app install", self._install_app)
		self.start_realtime()
		self.start_web()
		self.start_worker()

	def _restore_pristine(self) -> None:
		"""Undo what an earlier session changed: config files and the app's folder."""
		pristine = self.home / "pristine"
		files = ["sites/apps.txt", "sites/common_site_config.json"] + [
			f"sites/{s}/site_config.json" for s in (self.site, self.other_site)
		]
		if not pristine.exists():
			# The first session after a build sees the build's own state: keep it.
			for rel in files:
				(pristine / rel).parent.mkdir(parents=True, exist_ok=True)
				shutil.copy2(self.dir / rel, pristine / rel)
		for rel in files:
			shutil.copy2(pristine / rel, self.dir / rel)
			self.host.chown(self.dir / rel, recursive=False)
		for app in ("raven_ai_agent", "raven_bench_probe"):
			shutil.rmtree(self.dir / "apps" / app, ignore_errors=True)
			with contextlib.suppress(FileNotFoundError):
				(self.dir / "sites" / "assets" / app).unlink()

	def write_config(self, **common) -> None:
		self.host.update_json(
			self.host.common_config_path(),
			{
				"redis_cache": self.redis_cache.url,
				"redis_queue": self.redis_queue.url,
				"redis_socketio": self.redis_queue.url,
				"socketio_port": self.socketio_port,
				"webserver_port": self.web_port,
				**common,
			},
		)
		for site in (self.site, self.other_site):
			self.host.update_json(
				self.host.site_config_path(site),
				{
					"db_host": "127.0.0.1",
					"db_port": self.db_port,
					"host_name": f"http://{site}:{self.web_port}",
				},
			)

	def _install_app(self) -> None:
		"""This checkout as `bench get-app` leaves an app (a copy under apps/, pip-installed, listed
		in apps.txt), then bench's own install-app; and the test-only probe app beside it."""
		for name, source in (("raven_ai_agent", inputs.REPO_ROOT), ("raven_bench_probe", PROBE_APP)):
			app = self.dir / "apps" / name
			shutil.copytree(source, app, ignore=COPY_IGNORE, symlinks=True)
			self.host.chown(app)
			# No registry in here: run.py installed the app's dependencies and flit_core beforehand.
			pip = [
				str(self.dir / "env/bin/pip"),
				"install",
				"-q",
				"--no-deps",
				"--no-build-isolation",
				"-e",
				str(app),
			]
			self.host.run(pip, cwd=self.dir)
			apps_txt = self.dir / "sites" / "apps.txt"
			names = apps_txt.read_text().split()
			if name not in names:
				apps_txt.write_text("\n".join([*names, name]) + "\n")
			self.bench(self.site, "install-app", name)
		# `bench build` links every app's public/ into sites/assets: the app's JS is served raw.
		self.bench(None, "build", "--app", "raven_ai_agent")

	# -- processes ------------------------------------------------------------------------

	def _start_proc(
		self, name: str, argv: list[str], cwd: Path, port: int | None, ready_path: str | None, **env
	) -> BenchProcess:
		old = self.procs.pop(name, None)
		if old is not None:
			old.stop()
		proc = BenchProcess(name, argv, self.host.env(**env), cwd, port, ready_path)
		proc.start(SERVICE_TIMEOUT)
		self._exit.callback(proc.stop)
		self.procs[name] = proc
		return proc

	def start_realtime(self, name: str = "realtime", port: int | None = None, **env: str) -> BenchProcess:
		"""Frappe's realtime service from this bench; `env` takes node_utils.js's overrides
		(FRAPPE_SOCKETIO_PORT, FRAPPE_REDIS_QUEUE, ...) for a second service, as another bench's."""
		preload = self.run_dir / "loopback.js"
		shutil.copyfile(Path(__file__).with_name("loopback.js"), preload)
		self.host.chown(preload, recursive=False)
		return self._start_proc(
			name,
			["node", "-r", str(preload), "apps/frappe/socketio.js"],
			self.dir,
			port or self.socketio_port,
			"/socket.io/?EIO=4&transport=polling",
			**env,
		)

	def start_web(self, dev_server: bool | None = None) -> BenchProcess:
		dev = self.dev_server if dev_server is None else dev_server
		extra = {"DEV_SERVER": "1"} if dev else {}
		proc = self._start_proc(
			"web",
			[
				str(self.dir / "env/bin/gunicorn"),
				"-b",
				f"127.0.0.1:{self.web_port}",
				"-w",
				"2",
				"--threads",
				"4",
				"-t",
				"120",
				"frappe.app:application_with_statics()",
			],
			self.dir / "sites",
			self.web_port,
			"/api/method/ping",
			**extra,
		)
		proc.dev_server = dev
		return proc

	def start_worker(self) -> BenchProcess:
		return self._start_proc(
			"worker", ["bench", "worker", "--queue", "default,short,long"], self.dir, None, None
		)

	def stop(self, name: str) -> None:
		proc = self.procs.pop(name)
		proc.stop()

	def ensure_running(self) -> None:
		"""Back to the session's layout: only its processes, every one up, the realtime service on
		socketio_port, the web process in its DEV_SERVER mode."""
		for name in set(self.procs) - {"realtime", "web", "worker"}:
			self.stop(name)
		if not self._alive("realtime") or self.procs["realtime"].port != self.socketio_port:
			self.start_realtime()
		if not self._alive("web") or self.procs["web"].dev_server != self.dev_server:
			self.start_web()
		if not self._alive("worker"):
			self.start_worker()

	@contextlib.contextmanager
	def changes(self):
		"""Whatever a test changes (config, processes, Redis), the next starts from the session's
		healthy layout again, even when the test fails."""
		try:
			yield self
		finally:
			self.write_config()
			for site in (self.site, self.other_site):
				self.host.update_json(self.host.site_config_path(site), {"host_name": self.url(site=site)})
			for redis in (self.redis_cache, self.redis_queue):
				if not redis.running:
					redis.start()
			self.ensure_running()

	def set_host_name(self, host_name: str, site: str | None = None) -> None:
		self.host.update_json(self.host.site_config_path(site or self.site), {"host_name": host_name})

	def _alive(self, name: str) -> bool:
		return name in self.procs and self.procs[name].running

	# -- using it ---------------------------------------------------------------------------

	def bench(
		self, site: str | None, *args: str, check: bool = True, timeout: float = 600, **env
	) -> subprocess.CompletedProcess:
		return self.host.bench(site, *args, check=check, timeout=timeout, env=self.host.env(**env))

	def execute(self, method: str, site: str | None = None, **kwargs):
		"""`bench --site S execute method --kwargs ...`: the method's return value, from JSON."""
		args = ["execute", method]
		if kwargs:
			args += ["--kwargs", json.dumps(kwargs)]
		out = self.bench(site or self.site, *args).stdout.strip()
		if not out:
			return None  # bench execute prints nothing for a falsy result
		try:
			return json.loads(out)
		except ValueError:
			return json.loads(out.splitlines()[-1])

	def publish(self, event: str, message, room: str | None, namespace: str | None = None) -> int:
		"""An event on Redis `events` exactly as frappe.publish_realtime puts it; the subscriber count."""
		client = self.redis_queue.client()
		try:
			return client.publish("events", frappe_event_json(event, message, room, namespace or self.site))
		finally:
			client.close()

	def url(self, path: str = "", site: str | None = None) -> str:
		return f"http://{site or self.site}:{self.web_port}{path}"

	def login(
		self,
		user: str = "Administrator",
		password: str = inputs.ADMIN_PASSWORD,
		site: str | None = None,
		base: str | None = None,
	) -> requests.Session:
		"""A logged-in HTTP session, as the desk's login form makes one (at `base`: a proxy's origin)."""
		s = requests.Session()
		url = f"{base}/api/method/login" if base else self.url("/api/method/login", site)
		r = s.post(url, data={"usr": user, "pwd": password}, timeout=30)
		r.raise_for_status()
		return s

	def create_user(
		self, email: str, roles: tuple[str, ...] = (), password: str = "Raven-bench-user-1"
	) -> requests.Session:
		"""A user made through the REST API as an administrator would; its logged-in session."""
		admin = self.login()
		if admin.get(self.url(f"/api/resource/User/{email}"), timeout=30).status_code == 404:
			doc = {
				"email": email,
				"first_name": email.split("@")[0],
				"new_password": password,
				"send_welcome_email": 0,
				"roles": [{"role": role} for role in roles],
			}
			admin.post(self.url("/api/resource/User"), json=doc, timeout=60).raise_for_status()
		return self.login(email, password)
