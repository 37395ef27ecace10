"""The machine side of the real bench: its user, its tools, its database and the commands run on it.

Used by build.py (once per set of inputs) and by session.py (once per test run). bench refuses
to run as root, so as root every bench command runs as `raven-bench` (created if missing).
"""

import contextlib
import json
import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.stack.procs import free_port, port_accepts
from tests.stack.services import RedisServer

from . import inputs

# The environment a registry client needs here, handed to the bench user's commands.
PASSTHROUGH = re.compile(
	r"^(.*_proxy|.*_PROXY|.*CA_CERTS?|.*CA_BUNDLE|.*CAINFO|SSL_CERT_(FILE|DIR)|PIP_.*|npm_config_.*)$"
)
# Generous bounds for the slow steps of a cold build on 2 cores; a hung step still ends.
STEP_TIMEOUT = 1500
DB_START_TIMEOUT = 60


class BuildError(RuntimeError):
	"""A step of the bench build or start failed; the message says which and how."""


def as_bench_user(argv: list[str], env: dict[str, str]) -> list[str]:
	"""The argv that runs `argv` as the bench user with exactly `env`."""
	assignments = [f"{k}={v}" for k, v in env.items()]
	if os.geteuid() == 0:
		return ["runuser", "-u", inputs.BENCH_USER, "--", "env", "-i", *assignments, *argv]
	return ["env", "-i", *assignments, *argv]


class BenchHost:
	"""Paths, environment and commands of one cached bench (`home` = bench-<key>)."""

	def __init__(self, home: Path, fresh: bool = False):
		self.home = home
		self.root = home.parent
		self.tools = home / "tools"
		self.bench_dir = home / "frappe-bench"
		self.user_home = home / "home"
		self.yarn_mirror = home / "yarn-mirror"
		self.pkg_cache = self.root / "pkg"
		self.db_snapshot = home / "mariadb-snapshot"
		self.log_path = home / "build.log"
		if fresh:
			shutil.rmtree(home, ignore_errors=True)
		for path in (self.root, home, self.user_home, self.pkg_cache):
			path.mkdir(parents=True, exist_ok=True)
		self.ensure_user()
		for path in (home, self.user_home, self.pkg_cache):
			self.chown(path, recursive=False)
		self.db_port: int | None = None
		self.db_dir: Path | None = None

	# -- the user and its environment ---------------------------------------------------

	def ensure_user(self) -> None:
		if os.geteuid() != 0:
			return
		try:
			pwd.getpwnam(inputs.BENCH_USER)
		except KeyError:
			subprocess.run(
				[
					"useradd",
					"--system",
					"--no-create-home",
					"--home-dir",
					str(self.user_home),
					"--shell",
					"/bin/bash",
					inputs.BENCH_USER,
				],
				check=True,
			)

	def chown(self, path: Path, recursive: bool = True) -> None:
		if os.geteuid() != 0:
			return
		user = pwd.getpwnam(inputs.BENCH_USER)
		paths = [path] + (list(path.rglob("*")) if recursive and path.is_dir() else [])
		for p in paths:
			os.lchown(p, user.pw_uid, user.pw_gid)

	def env(self, **extra: str) -> dict[str, str]:
		path = ":".join(
			[
				str(self.tools / "bench-cli" / "bin"),
				str(self.tools / "yarn" / "node_modules" / ".bin"),
				str(self.bench_dir / "env" / "bin"),
				"/usr/local/bin",
				"/usr/bin",
				"/bin",
				"/usr/sbin",
				"/sbin",
			]
		)
		env = {
			"PATH": path,
			"HOME": str(self.user_home),
			"LANG": "C.UTF-8",
			"YARN_CACHE_FOLDER": str(self.pkg_cache / "yarn"),
			"YARN_YARN_OFFLINE_MIRROR": str(self.yarn_mirror),
			"PIP_CACHE_DIR": str(self.pkg_cache / "pip"),
			"PIP_DISABLE_PIP_VERSION_CHECK": "1",
			"npm_config_cache": str(self.pkg_cache / "npm"),
			"npm_config_update_notifier": "false",
			"CI": "1",
		}
		# How this machine reaches the registries (CA bundle, proxies, pip's and npm's settings).
		env.update({k: v for k, v in os.environ.items() if PASSTHROUGH.match(k)})
		env.update(extra)
		return env

	# -- running things -------------------------------------------------------------------

	def run(
		self,
		argv: list[str],
		cwd: Path | None = None,
		timeout: float = STEP_TIMEOUT,
		env: dict | None = None,
		check: bool = True,
	) -> subprocess.CompletedProcess:
		"""Run as the bench user; output goes to the build log and is returned."""
		full = as_bench_user([str(a) for a in argv], env or self.env())
		with open(self.log_path, "a") as log:
			log.write(f"\n$ {' '.join(str(a) for a in argv)}  (cwd {cwd or self.home})\n")
			log.flush()
			try:
				proc = subprocess.run(
					full,
					cwd=cwd or self.home,
					stdin=subprocess.DEVNULL,
					capture_output=True,
					text=True,
					timeout=timeout,
				)
			except subprocess.TimeoutExpired as e:
				raise BuildError(
					f"`{' '.join(map(str, argv))}` did not finish in {timeout:.0f} s (log: {self.log_path})"
				) from e
			log.write(proc.stdout)
			log.write(proc.stderr)
		if check and proc.returncode != 0:
			tail = (proc.stdout + proc.stderr)[-3000:]
			raise BuildError(f"`{' '.join(map(str, argv))}` exited {proc.returncode}:\n{tail}")
		return proc

	def step(self, name: str, fn, *args, **kw):
		started = time.monotonic()
		print(f"realbench: {name} ...", flush=True)
		result = fn(*args, **kw)
		print(f"realbench: {name} done in {time.monotonic() - started:.1f} s", flush=True)
		return result

	def bench(
		self,
		site: str | None,
		*args: str,
		timeout: float = STEP_TIMEOUT,
		check: bool = True,
		env: dict | None = None,
	) -> subprocess.CompletedProcess:
		"""`bench [--site site] args...` in the bench folder."""
		argv = ["bench"] + (["--site", site] if site else []) + list(args)
		return self.run(argv, cwd=self.bench_dir, timeout=timeout, check=check, env=env)

	def require_tools(self) -> None:
		missing = [
			t
			for t in ("git", "node", "npm", "mariadbd", "mariadb-install-db", "mariadb", "redis-server")
			if not shutil.which(t, path=self.env()["PATH"])
		]
		if not Path("/usr/bin/python3").exists():
			missing.append("/usr/bin/python3 (Debian's python3, python3-venv, python3-dev)")
		if missing:
			raise BuildError(
				f"missing tools for the real bench: {', '.join(missing)} (scripts/setup installs them from Debian)"
			)

	def install_tools(self) -> None:
		self.tools.mkdir(parents=True, exist_ok=True)
		self.chown(self.tools)
		self.run(["/usr/bin/python3", "-m", "venv", str(self.tools / "bench-cli")])
		self.run([str(self.tools / "bench-cli" / "bin" / "pip"), "install", "-q", inputs.BENCH_CLI])
		(self.tools / "yarn").mkdir(exist_ok=True)
		self.chown(self.tools / "yarn")
		self.run(
			[
				"npm",
				"install",
				"--silent",
				"--no-audit",
				"--no-fund",
				"--prefix",
				str(self.tools / "yarn"),
				inputs.YARN,
			]
		)

	# -- configuration ----------------------------------------------------------------------

	def common_config_path(self) -> Path:
		return self.bench_dir / "sites" / "common_site_config.json"

	def update_json(self, path: Path, values: dict) -> None:
		data = json.loads(path.read_text()) if path.exists() else {}
		for key, value in values.items():
			if value is None:
				data.pop(key, None)
			else:
				data[key] = value
		path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
		self.chown(path, recursive=False)

	def write_common_config(self, ports: dict) -> None:
		self.update_json(
			self.common_config_path(),
			{
				"redis_cache": f"redis://127.0.0.1:{ports['redis_cache']}",
				"redis_queue": f"redis://127.0.0.1:{ports['redis_queue']}",
				"redis_socketio": f"redis://127.0.0.1:{ports['redis_queue']}",
				"socketio_port": ports.get("socketio", 9000),
				"webserver_port": ports.get("web", 8000),
			},
		)

	def site_config_path(self, site: str) -> Path:
		return self.bench_dir / "sites" / site / "site_config.json"

	# -- the database ------------------------------------------------------------------------

	def _mariadb_cnf(self, datadir: Path, port: int) -> Path:
		cnf = datadir.parent / f"{datadir.name}.cnf"
		cnf.write_text(
			"\n".join(
				[
					"[mysqld]",
					f"datadir={datadir}",
					f"socket={datadir.parent / (datadir.name + '.sock')}",
					f"pid-file={datadir.parent / (datadir.name + '.pid')}",
					f"log-error={datadir.parent / (datadir.name + '.err')}",
					f"port={port}",
					"bind-address=127.0.0.1",
					"skip-name-resolve",
					"skip-log-bin",
					"character-set-server=utf8mb4",
					"collation-server=utf8mb4_unicode_ci",
					"character-set-client-handshake=FALSE",
					"innodb_buffer_pool_size=256M",
					"innodb_flush_log_at_trx_commit=2",
					"innodb_doublewrite=0",
					"",
					"[client]",
					"default-character-set=utf8mb4",
					"",
				]
			)
		)
		self.chown(cnf, recursive=False)
		return cnf

	def init_database(self, datadir: Path) -> None:
		datadir.mkdir(parents=True, exist_ok=True)
		self.chown(datadir)
		cnf = self._mariadb_cnf(datadir, 0)
		self.run(
			[
				"mariadb-install-db",
				f"--defaults-file={cnf}",
				"--auth-root-authentication-method=normal",
				"--skip-test-db",
			]
		)

	@contextlib.contextmanager
	def database(self, datadir: Path, set_root_password: bool = False):
		"""mariadbd on a free loopback port over `datadir`, stopped cleanly on exit."""
		port = free_port()
		cnf = self._mariadb_cnf(datadir, port)
		log = open(datadir.parent / f"{datadir.name}.stdout", "ab")
		proc = subprocess.Popen(
			as_bench_user(["mariadbd", f"--defaults-file={cnf}"], self.env()),
			stdin=subprocess.DEVNULL,
			stdout=log,
			stderr=subprocess.STDOUT,
			start_new_session=True,
		)
		sock = datadir.parent / f"{datadir.name}.sock"
		try:
			deadline = time.monotonic() + DB_START_TIMEOUT
			while not port_accepts(port):
				if proc.poll() is not None or time.monotonic() > deadline:
					err = (datadir.parent / f"{datadir.name}.err").read_text(errors="replace")[-3000:]
					raise BuildError(f"mariadbd did not start on 127.0.0.1:{port}:\n{err}")
				time.sleep(0.1)
			if set_root_password:
				sql = (
					f"ALTER USER root@localhost IDENTIFIED BY '{inputs.DB_ROOT_PASSWORD}';"
					f"CREATE USER IF NOT EXISTS root@'127.0.0.1';"
					f"ALTER USER root@'127.0.0.1' IDENTIFIED BY '{inputs.DB_ROOT_PASSWORD}';"
					"GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
				)
				self.run(["mariadb", f"--socket={sock}", "-uroot", "-e", sql])
			self.db_port, self.db_dir = port, datadir
			yield port
		finally:
			if proc.poll() is None:
				proc.terminate()  # SIGTERM: mariadbd shuts down cleanly
				try:
					proc.wait(timeout=60)
				except subprocess.TimeoutExpired:
					proc.kill()
					proc.wait()
			log.close()

	@contextlib.contextmanager
	def services_for_build(self):
		"""MariaDB (a new data folder) and two Redis on free loopback ports, for the build's steps."""
		datadir = self.home / "mariadb"
		self.init_database(datadir)
		with (
			self.database(datadir, set_root_password=True) as db,
			RedisServer() as cache,
			RedisServer() as queue,
		):
			yield {"db": db, "redis_cache": cache.port, "redis_queue": queue.port}

	def new_site(self, site: str, db_port: int) -> None:
		self.bench(
			None,
			"new-site",
			site,
			"--db-host",
			"127.0.0.1",
			"--db-port",
			str(db_port),
			"--db-root-username",
			"root",
			"--db-root-password",
			inputs.DB_ROOT_PASSWORD,
			"--admin-password",
			inputs.ADMIN_PASSWORD,
		)
		self.update_json(self.site_config_path(site), {"allow_tests": True})

	def complete_setup(self, site: str) -> None:
		"""What the setup wizard does, so the desk opens (and the site's scheduler is on)."""
		args = {
			"language": "English",
			"country": "India",
			"timezone": "Asia/Kolkata",
			"currency": "INR",
			"full_name": "Raven Bench",
			"email": "bench@raven-bench.invalid",
			"password": inputs.ADMIN_PASSWORD,
		}
		self.bench(
			site,
			"execute",
			"frappe.desk.page.setup_wizard.setup_wizard.setup_complete",
			"--kwargs",
			json.dumps({"args": args}),
		)

	def snapshot_database(self) -> None:
		"""The data folder as the build left it (mariadbd stopped): each run starts on a copy."""
		shutil.rmtree(self.db_snapshot, ignore_errors=True)
		(self.home / "mariadb").rename(self.db_snapshot)
