"""The real services of the test stack: Redis, the Frappe stand-ins, nginx, a black hole."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests

from raven_ai_agent.realtime.constants import DEV_SERVER_ENV

from .procs import (
	REPO_ROOT,
	START_TIMEOUT,
	STOP_TIMEOUT,
	ManagedProcess,
	ServiceError,
	free_port,
	hermetic_env,
	node_modules_check,
	port_accepts,
	require_tool,
)

REALTIME_JS = REPO_ROOT / "tests" / "stack" / "realtime" / "server.js"
WEB_JS = REPO_ROOT / "tests" / "stack" / "web" / "server.js"


class RedisServer(ManagedProcess):
	"""A throwaway redis-server on a free loopback port, no persistence."""

	name = "redis"

	def __init__(self, port: int | None = None):
		self._fixed_port = port
		super().__init__([])

	def start(self, timeout: float = START_TIMEOUT):
		binary = require_tool("redis-server")
		# A port picked by free_port() can be taken before redis binds it: retry a few times.
		for _attempt in range(3):
			self.port = self._fixed_port or free_port()
			options = {
				"port": self.port,
				"bind": "127.0.0.1",
				"save": "",
				"appendonly": "no",
				"daemonize": "no",
				"dir": self._logdir,
				"logfile": "",
			}
			self.argv = [binary] + [str(x) for k, v in options.items() for x in (f"--{k}", v)]
			try:
				return super().start(timeout)
			except ServiceError as e:
				if self._fixed_port or "Address already in use" not in str(e):
					raise
				self._ready.clear()
		raise ServiceError("redis-server: no free port after 3 attempts")

	def wait_ready(self, timeout: float):
		"""PING until it answers."""
		deadline = time.monotonic() + timeout
		client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, socket_timeout=1)
		try:
			while time.monotonic() < deadline:
				if self.proc.poll() is not None:
					self._reader.join(timeout=STOP_TIMEOUT)
					raise ServiceError(f"redis-server exited with {self.proc.returncode}\n{self.describe()}")
				try:
					if client.ping():
						return
				except redis.exceptions.ConnectionError:
					time.sleep(0.02)
		finally:
			client.close()
		raise ServiceError(f"redis-server did not answer PING within {timeout}s\n{self.describe()}")

	@property
	def url(self) -> str:
		return f"redis://127.0.0.1:{self.port}"

	def client(self) -> redis.Redis:
		return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)


# The Frappe releases the stand-ins can behave as (tests/stack/realtime/server.js PROFILES):
# 15.41 as captured in tests/fixtures, the latest v15, and v16 as a v16.4.1 release reads (no socket secret).
PROFILES = ("v15.41", "v15", "v16")
DEFAULT_PROFILE = "v15.41"


class RealtimeServer(ManagedProcess):
	"""The Frappe realtime stand-in (tests/stack/realtime/server.js) for a bench.

	Like Frappe it reads `<sites_path>/common_site_config.json`; `port` overrides
	socketio_port (two nodes on one bench). Start-up fails with ServiceError, carrying the
	process's stderr, when it exits first (Redis refused: the real service dies too).
	`profile` picks the release it behaves as (PROFILES); on v15 and v16 a `socketio_uds` in the
	config makes it listen on that Unix socket only (`uds` is then set, `port` is 0).
	"""

	name = "realtime"

	def __init__(
		self,
		sites_path: str | Path,
		port: int | None = None,
		env: dict | None = None,
		profile: str = DEFAULT_PROFILE,
	):
		node_modules_check()
		argv = [require_tool("node"), REALTIME_JS, "--sites-path", Path(sites_path), "--profile", profile]
		if port is not None:
			argv += ["--port", port]
		super().__init__(argv, env=hermetic_env(**(env or {})), cwd=REPO_ROOT)
		self.sites_path = Path(sites_path)
		self.profile = profile

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"


class WebStandin(ManagedProcess):
	"""The Frappe web-server stand-in (tests/stack/web/server.js).

	`sessions` maps a sid (or a whole Authorization header value) to
	`{"user", "user_type", optional "allow"/"deny" lists}`; see the JS file for the rules.
	"""

	name = "web"

	def __init__(
		self,
		sessions: dict | None = None,
		static_dir: str | Path | None = None,
		port: int = 0,
		socketio_port: int | None = None,
		verbose: bool = False,
		site: str | None = None,
		dev_server: bool | None = None,
		profile: str = DEFAULT_PROFILE,
		redis_url: str | None = None,
	):
		node_modules_check()
		# DEV_SERVER as the web process gets it: unset (off) unless the test says.
		env = {} if dev_server is None else {DEV_SERVER_ENV: int(dev_server)}
		super().__init__([], env=hermetic_env(**env))
		self.profile = profile
		self.sessions_path = self._logdir / "sessions.json"
		self._sessions = dict(sessions or {})
		self._write_sessions()
		argv = [require_tool("node"), WEB_JS, "--port", port, "--sessions", self.sessions_path]
		if static_dir is not None:
			argv += ["--static", Path(static_dir)]
		if socketio_port is not None:
			argv += ["--socketio-port", socketio_port]
		if site is not None:
			argv += ["--site", site]  # pinned, as `bench start` pins the default site
		if verbose:
			argv.append("--verbose")
		argv += ["--profile", profile]
		if redis_url is not None:
			argv += ["--redis-url", redis_url]  # redis_queue: where this app's send_probe_event publishes
		self.argv = [str(a) for a in argv]

	def _write_sessions(self):
		# Atomic replace: the server re-reads the file when its inode/size/mtime change.
		tmp = self.sessions_path.with_suffix(".tmp")
		tmp.write_text(json.dumps(self._sessions, indent=1))
		os.replace(tmp, self.sessions_path)

	def add_session(self, sid: str, user: str, user_type: str | None = "System User", **extra) -> None:
		"""Make `sid` a logged-in session (extra keys: allow=[...], deny=[...])."""
		self._sessions[sid] = {"user": user, "user_type": user_type, **extra}
		self._write_sessions()

	def remove_session(self, sid: str) -> None:
		self._sessions.pop(sid, None)
		self._write_sessions()

	@property
	def sessions(self) -> dict:
		return dict(self._sessions)

	def requests(self, path: str | None = None) -> list[dict]:
		"""Requests it answered, oldest first (method, path, query, host, origin, cookie,
		authorization, site, status), optionally only those for `path`."""
		seen = requests.get(f"{self.url}/__standin__/requests", timeout=5).json()["requests"]
		return [r for r in seen if path is None or r["path"] == path]

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"


# ---- nginx -----------------------------------------------------------------------------

LISTEN_RE = re.compile(r"^\s*listen\s+([^\s;]+)", re.MULTILINE)


def _listen_ports(conf_body: str) -> list[tuple[str, int]]:
	out = []
	for spec in LISTEN_RE.findall(conf_body):
		host, _, port = spec.rpartition(":")
		host = host.strip("[]") or "127.0.0.1"
		if host in ("*", "0.0.0.0", "::"):
			host = "127.0.0.1"
		out.append((host, int(port)))
	return out


def _render_nginx_conf(prefix: Path, conf_body: str) -> str:
	"""A complete nginx.conf around `conf_body`; everything nginx writes stays in `prefix`."""
	user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
	mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
	return f"""{user}worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;

events {{
	worker_connections 512;
}}

http {{
	{mime}
	default_type application/octet-stream;
	log_format stack '$remote_addr "$request" $status upstream=$upstream_addr';
	access_log {prefix}/access.log stack;
	client_body_temp_path {prefix}/client_body;
	proxy_temp_path {prefix}/proxy;
	fastcgi_temp_path {prefix}/fastcgi;
	uwsgi_temp_path {prefix}/uwsgi;
	scgi_temp_path {prefix}/scgi;

{conf_body}
}}
"""


def _nginx_t(prefix: Path, conf_path: Path) -> tuple[bool, str]:
	result = subprocess.run(
		[require_tool("nginx"), "-t", "-q", "-p", str(prefix), "-c", str(conf_path), "-e", "stderr"],
		capture_output=True,
		text=True,
		timeout=30,
	)
	return result.returncode == 0, (result.stdout + result.stderr).strip()


def nginx_test(conf_body: str) -> tuple[bool, str]:
	"""`nginx -t` on `conf_body` wrapped like Nginx() wraps it: (ok, nginx's message)."""
	prefix = Path(tempfile.mkdtemp(prefix="stack-nginx-t-"))
	try:
		conf_path = prefix / "nginx.conf"
		conf_path.write_text(_render_nginx_conf(prefix, conf_body))
		return _nginx_t(prefix, conf_path)
	finally:
		shutil.rmtree(prefix, ignore_errors=True)


class Nginx(ManagedProcess):
	"""nginx in the foreground with its own prefix dir; `conf_body` is the http{}-level content.

	`nginx -t` runs first and a bad config raises ServiceError with nginx's message. Ready
	when every `listen` port in the body accepts connections.
	"""

	name = "nginx"

	def __init__(self, conf_body: str):
		super().__init__([])
		self.conf_body = conf_body
		self.prefix = self._logdir
		self.conf_path = self.prefix / "nginx.conf"
		self.conf_path.write_text(_render_nginx_conf(self.prefix, conf_body))
		self.listen = _listen_ports(conf_body)
		self.port = self.listen[0][1] if self.listen else None
		self.argv = [require_tool("nginx"), "-p", str(self.prefix), "-c", str(self.conf_path), "-e", "stderr"]

	def start(self, timeout: float = START_TIMEOUT):
		ok, message = _nginx_t(self.prefix, self.conf_path)
		if not ok:
			self.cleanup()
			raise ServiceError(f"nginx -t failed:\n{message}")
		return super().start(timeout)

	def wait_ready(self, timeout: float):
		deadline = time.monotonic() + timeout
		pending = list(self.listen)
		while pending:
			if self.proc.poll() is not None:
				raise ServiceError(f"nginx exited with {self.proc.returncode}\n{self.describe()}")
			if time.monotonic() > deadline:
				raise ServiceError(f"nginx: {pending} not accepting within {timeout}s\n{self.describe()}")
			if port_accepts(pending[0][1], pending[0][0]):
				pending.pop(0)
			else:
				time.sleep(0.02)

	def error_log(self) -> str:
		path = self.prefix / "error.log"
		return path.read_text("utf-8", "replace") if path.exists() else ""

	def access_log(self) -> str:
		path = self.prefix / "access.log"
		return path.read_text("utf-8", "replace") if path.exists() else ""

	def describe(self) -> str:
		return f"{super().describe()}\nerror.log:\n{self.error_log()[-4000:]}"

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"


# ---- a server that never answers -------------------------------------------------------


class BlackHole:
	"""Accepts TCP connections and never replies: a hung upstream or auth callback.

	A thread, not a process; `.accepted` counts connections, for assertions.
	"""

	def __init__(self, host: str = "127.0.0.1", port: int = 0):
		self.host = host
		self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		self._sock.bind((host, port))
		self.port = self._sock.getsockname()[1]
		self._conns: list[socket.socket] = []
		self._stop = threading.Event()
		self._thread: threading.Thread | None = None
		self.accepted = 0

	def __enter__(self):
		self._sock.listen(64)
		self._sock.settimeout(0.1)
		self._thread = threading.Thread(target=self._serve, name="black-hole", daemon=True)
		self._thread.start()
		return self

	def _serve(self):
		while not self._stop.is_set():
			try:
				conn, _addr = self._sock.accept()
			except TimeoutError:
				continue
			except OSError:
				return
			self._conns.append(conn)
			self.accepted += 1

	def __exit__(self, *exc):
		self._stop.set()
		if self._thread is not None:
			self._thread.join(timeout=STOP_TIMEOUT)
		for conn in self._conns:
			conn.close()
		self._sock.close()
		return False

	@property
	def url(self) -> str:
		return f"http://{self.host}:{self.port}"
