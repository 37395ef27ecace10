"""frappe_docker's split layout, one network namespace per container (netns.py).

Containers as frappe_docker's compose.yaml names them: `backend` (the web server stand-in on
8000; the diagnosis runs here, as `docker compose exec backend bench ...` does), `websocket`
(the realtime stand-in on 9000), `frontend` (real nginx shaped as frappe_docker's template,
driven by its environment: BACKEND, SOCKETIO, FRAPPE_SITE_NAME_HEADER, PROXY_READ_TIMEOUT),
`redis-queue` and `redis-cache` (real Redis). The bench's sites folder is what the
configurator writes: socketio_port 9000, redis_queue redis://redis-queue:6379. The site's
public name resolves to the frontend in every namespace, unless a test says otherwise.

The frontend listens on 8080 as the template does, and on 80: the port the host publishes
for it (`ports: ["80:8080"]`), where the site's public URL and the realtime service's session
check (to the Origin the template sets, http://<FRAPPE_SITE_NAME_HEADER>) arrive.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

from .netns import Namespaces, NsRedis
from .procs import REPO_ROOT, ManagedProcess, ServiceError, require_tool
from .services import Nginx, RealtimeServer, WebStandin

SITE = "erp.test"
SERVICES = ("backend", "websocket", "frontend", "redis-queue", "redis-cache")
SOCKETIO_PORT = 9000
WEB_PORT = 8000
FRONTEND_PORTS = (8080, 80)
# frappe_docker's frontend environment as compose.yaml sets it.
FRONTEND_ENV = {
	"BACKEND": f"backend:{WEB_PORT}",
	"SOCKETIO": f"websocket:{SOCKETIO_PORT}",
	"FRAPPE_SITE_NAME_HEADER": "$host",
	"PROXY_READ_TIMEOUT": "120",
}


def frontend_conf(env: dict, sites: Path) -> str:
	"""The frontend's http{}-level nginx config for `env`, shaped as frappe_docker's template
	(its two upstreams, /socket.io with the site header and an Origin built from it, @webserver)."""
	site_header = env["FRAPPE_SITE_NAME_HEADER"]
	listen = "\n".join(f"\tlisten {port};" for port in FRONTEND_PORTS)
	return f"""
upstream backend-server {{
	server {env["BACKEND"]} fail_timeout=0;
}}
upstream socketio-server {{
	server {env["SOCKETIO"]} fail_timeout=0;
}}
server {{
{listen}
	root {sites};
	location /assets {{
		try_files $uri =404;
	}}
	location /socket.io {{
		proxy_http_version 1.1;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection "upgrade";
		proxy_set_header X-Frappe-Site-Name {site_header};
		proxy_set_header Origin $scheme://{site_header};
		proxy_set_header Host $host;
		proxy_pass http://socketio-server;
	}}
	location / {{
		try_files /{site_header}/public/$uri @webserver;
	}}
	location @webserver {{
		proxy_http_version 1.1;
		proxy_set_header X-Forwarded-For $remote_addr;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_set_header X-Frappe-Site-Name {site_header};
		proxy_set_header Host $host;
		proxy_read_timeout {env["PROXY_READ_TIMEOUT"]};
		proxy_redirect off;
		proxy_pass http://backend-server;
	}}
}}
"""


class NsNginx(Nginx):
	"""nginx in a namespace: `nginx -t` and readiness run there too (upstream names resolve there)."""

	def __init__(self, spaces: Namespaces, service: str, conf_body: str):
		super().__init__(conf_body)
		self.spaces, self.service = spaces, service
		self.argv = spaces.command(service, self.argv)

	def start(self, timeout: float = 15.0):
		check = self.spaces.run(
			self.service,
			[require_tool("nginx"), "-t", "-q", "-p", self.prefix, "-c", self.conf_path, "-e", "stderr"],
		)
		if check.returncode != 0:
			self.cleanup()
			raise ServiceError(f"nginx -t in {self.service} failed:\n{check.stdout}{check.stderr}")
		return ManagedProcess.start(self, timeout)

	def wait_ready(self, timeout: float):
		for _host, port in self.listen:
			self.spaces.wait_port(self.service, port, self, timeout)


class FrappeDockerLayout:
	"""The split layout, started and stopped as one; a context manager that always cleans up.

	`frontend_env` overrides the frontend's environment; `callback_resolves=False` leaves the
	site's public name out of the websocket container's hosts file.
	"""

	def __init__(
		self, frontend_env: dict | None = None, callback_resolves: bool = True, sid: str = "sid-e2e"
	):
		self.frontend_env = {**FRONTEND_ENV, **(frontend_env or {})}
		self.callback_resolves = callback_resolves
		self.sid = sid
		self.bench = Path(tempfile.mkdtemp(prefix="stack-frappe-docker-"))
		self.sites = self.bench / "sites"
		self.spaces = Namespaces(SERVICES, hosts={name: {SITE: "frontend"} for name in SERVICES})
		self.processes: dict[str, ManagedProcess] = {}

	def __enter__(self):
		try:
			self._write_bench()
			self.spaces.__enter__()
			if not self.callback_resolves:
				self.spaces.write_names("websocket", extra={})
			self._start()
		except BaseException:
			self.close()
			raise
		return self

	def __exit__(self, *exc):
		self.close()
		return False

	def _write_bench(self) -> None:
		(self.sites / SITE).mkdir(parents=True)
		common = {
			"socketio_port": SOCKETIO_PORT,
			"redis_queue": "redis://redis-queue:6379",
			"redis_socketio": "redis://redis-queue:6379",
			"redis_cache": "redis://redis-cache:6379",
			"db_host": "db",
		}
		(self.sites / "common_site_config.json").write_text(json.dumps(common, indent=1))
		(self.sites / SITE / "site_config.json").write_text(json.dumps({"host_name": f"http://{SITE}"}))

	def _start(self) -> None:
		spaces = self.spaces
		for name in ("redis-queue", "redis-cache"):
			self.processes[name] = NsRedis(spaces, name).start()
		sessions = {self.sid: {"user": "Administrator", "user_type": "System User"}}
		web = WebStandin(sessions=sessions, port=WEB_PORT, socketio_port=SOCKETIO_PORT)
		web.argv += ["--host", "0.0.0.0"]
		self.processes["backend"] = spaces.inside("backend", web).start()
		self.start_websocket()
		conf = frontend_conf(self.frontend_env, self.sites)
		self.processes["frontend"] = NsNginx(spaces, "frontend", conf).start()

	def start_websocket(self) -> None:
		realtime = RealtimeServer(self.sites, port=SOCKETIO_PORT)
		realtime.argv += ["--host", "0.0.0.0"]
		self.processes["websocket"] = self.spaces.inside("websocket", realtime).start()

	def stop(self, service: str) -> None:
		"""`docker compose stop <service>`."""
		process = self.processes.pop(service)
		process.stop()
		process.cleanup()

	def close(self) -> None:
		for process in reversed(list(self.processes.values())):
			try:
				process.stop()
			finally:
				process.cleanup()
		self.processes.clear()
		self.spaces.close()
		for path in sorted(self.bench.rglob("*"), reverse=True):
			path.unlink() if path.is_file() else path.rmdir()
		self.bench.rmdir()

	def describe(self) -> str:
		return "\n\n".join(f"== {name}\n{p.describe()}" for name, p in self.processes.items())

	# -- running the app's commands in a container -----------------------------------------------

	def cli(self, *args: str, service: str = "backend", env: dict | None = None, timeout: float = 60):
		"""`raven-realtime ARGS` in `service`'s namespace (as `docker compose exec backend ...`)."""
		environment = {k: v for k, v in os.environ.items() if not k.startswith(("FRAPPE_", "RAVEN_REALTIME"))}
		environment["PYTHONPATH"] = str(REPO_ROOT)
		environment.update(env or {})
		code = "from raven_ai_agent.cli import main; main()"
		return self.spaces.run(
			service, [sys.executable, "-c", code, *args], env=environment, cwd=REPO_ROOT, timeout=timeout
		)

	def scheduled_check(self, env: dict | None = None, told: str | None = None) -> dict:
		"""The scheduled check's core (tests/stack/scheduled_check.py) from the backend's namespace,
		as the worker that takes the scheduler's job runs it: {"row", "alert", "state", "report"}."""
		environment = {k: v for k, v in os.environ.items() if not k.startswith(("FRAPPE_", "RAVEN_REALTIME"))}
		environment.update({"PYTHONPATH": str(REPO_ROOT), **(env or {})})
		argv = [
			sys.executable,
			"-m",
			"tests.stack.scheduled_check",
			str(self.bench),
			SITE,
			*([told] if told else []),
		]
		result = self.spaces.run("backend", argv, env=environment, cwd=REPO_ROOT)
		try:
			return json.loads(result.stdout)
		except ValueError:
			raise AssertionError(
				f"no JSON from the scheduled check:\n{result.stdout}\n{result.stderr}"
			) from None

	def diagnose(self, *args: str, env: dict | None = None, with_session: bool = True) -> tuple[int, dict]:
		"""The diagnosis from the backend container, as JSON: (exit code, report)."""
		extra = {"RAVEN_REALTIME_SID": self.sid} if with_session else {}
		result = self.cli(
			"diagnose",
			"--bench",
			str(self.bench),
			"--site",
			SITE,
			"--json",
			"--timeout",
			"8",
			*args,
			env={**extra, **(env or {})},
		)
		try:
			return result.returncode, json.loads(result.stdout)
		except ValueError:
			raise AssertionError(
				f"no JSON from the diagnosis:\n{result.stdout}\n{result.stderr}\n{self.describe()}"
			) from None
