"""Child processes for the test stack: free ports, bounded readiness waits, clean stops.

Every service is a real process on a loopback port. Readiness is observed (a `READY <port>`
line, a PING, an accepting port), never assumed after a sleep, and every wait is bounded so
a broken service fails the test with its stderr instead of hanging the run.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from raven_ai_agent.realtime.constants import DEV_SERVER_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
# The test stack's Node packages live under tests/, never in the app root: bench runs
# `yarn install` in every app folder with a package.json, on production benches too.
NODE_MODULES = REPO_ROOT / "tests" / "node_modules"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
READY_RE = re.compile(r"^READY (?:(\d+)|unix:(\S+))\s*$")


class ServiceError(RuntimeError):
	"""A service did not start (or died); the message carries its stderr."""


def free_port(host: str = "127.0.0.1") -> int:
	"""A TCP port that was free on `host` a moment ago (the OS picks it)."""
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
		s.bind((host, 0))
		return s.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
	try:
		with socket.create_connection((host, port), timeout=timeout):
			return True
	except OSError:
		return False


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0, proc=None) -> None:
	"""Wait until `host:port` accepts TCP connections; fail early if `proc` exits."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if proc is not None and proc.poll() is not None:
			raise ServiceError(f"process exited with {proc.returncode} before {host}:{port} accepted")
		if port_accepts(port, host):
			return
		time.sleep(0.02)
	raise ServiceError(f"{host}:{port} did not accept connections within {timeout}s")


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02, message: str = "condition"):
	"""Poll `predicate` until it returns something truthy (returned); bounded."""
	deadline = time.monotonic() + timeout
	while True:
		value = predicate()
		if value:
			return value
		if time.monotonic() > deadline:
			raise TimeoutError(f"{message} not met within {timeout}s")
		time.sleep(interval)


def require_tool(name: str) -> str:
	"""The path of a tool a test needs; a missing one is an error, never a skip (scripts/setup
	installs every tool, so a missing one on CI is a broken install that must show)."""
	return require_tools(name)[0]


def require_tools(*names: str) -> list[str]:
	"""The paths of several tools; the error names every one that is missing."""
	paths = [shutil.which(name) for name in names]
	missing = [f"`{name}`" for name, path in zip(names, paths, strict=True) if not path]
	if missing:
		raise ServiceError(
			f"{', '.join(missing)} not found on PATH (scripts/setup installs them: apt, pip or npm)"
		)
	return paths


def node_modules_check() -> None:
	if not (NODE_MODULES / "socket.io").is_dir():
		raise ServiceError(f"{NODE_MODULES} is missing: run `npm ci --prefix tests` (scripts/setup does it)")


class ManagedProcess:
	"""A process owned by a test: started on enter, stopped (terminate, wait, kill) on exit.

	stdout is read by a thread (so the pipe never fills) and scanned for `READY <port>`;
	stderr goes to a file so failures can show it. Subclasses set `argv` and may override
	`wait_ready`.
	"""

	name = "process"

	def __init__(self, argv: list[str], *, env: dict | None = None, cwd: str | Path | None = None):
		self.argv = [str(a) for a in argv]
		self.env = env
		self.cwd = str(cwd) if cwd else None
		self.proc: subprocess.Popen | None = None
		self.port: int | None = None
		self.uds: str | None = None  # the Unix socket path of a service that listens on one
		self.stdout_lines: list[str] = []
		self._ready = threading.Event()
		self._ready_port: int | None = None
		self._logdir = Path(tempfile.mkdtemp(prefix=f"stack-{self.name}-"))
		self.stderr_path = self._logdir / "stderr.log"
		self._stderr_file = None
		self._reader: threading.Thread | None = None

	# -- lifecycle ---------------------------------------------------------------------

	def start(self, timeout: float = START_TIMEOUT):
		self._stderr_file = open(self.stderr_path, "wb")
		self.proc = subprocess.Popen(
			self.argv,
			stdin=subprocess.DEVNULL,
			stdout=subprocess.PIPE,
			stderr=self._stderr_file,
			env=self.env,
			cwd=self.cwd,
			start_new_session=True,
		)
		self._reader = threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True)
		self._reader.start()
		try:
			self.wait_ready(timeout)
		except BaseException:
			self.stop()
			raise
		return self

	def _read_stdout(self):
		for raw in self.proc.stdout:
			line = raw.decode("utf-8", "replace").rstrip("\n")
			self.stdout_lines.append(line)
			m = READY_RE.match(line)
			if m and not self._ready.is_set():
				# A Unix-socket listener has no port: 0 says "ready", `uds` says where.
				self._ready_port = int(m.group(1)) if m.group(1) else 0
				self.uds = m.group(2)
				self._ready.set()
		self._ready.set()  # EOF: wake the waiter, it checks whether the process died

	def wait_ready(self, timeout: float):
		"""Wait for the `READY <port>` line; raise with stderr if it dies or stays silent."""
		if not self._ready.wait(timeout):
			raise ServiceError(f"{self.name} printed no READY line within {timeout}s\n{self.describe()}")
		if self._ready_port is None:
			self.proc.wait(timeout=STOP_TIMEOUT)
			raise ServiceError(
				f"{self.name} exited with {self.proc.returncode} before READY\n{self.describe()}"
			)
		self.port = self._ready_port

	def stop(self, timeout: float = STOP_TIMEOUT):
		proc = self.proc
		if proc is not None and proc.poll() is None:
			proc.terminate()
			try:
				proc.wait(timeout=timeout)
			except subprocess.TimeoutExpired:
				proc.kill()
				proc.wait(timeout=timeout)
		if self._reader is not None:
			self._reader.join(timeout=timeout)
		if proc is not None and proc.stdout and not (self._reader and self._reader.is_alive()):
			proc.stdout.close()
		if self._stderr_file is not None:
			self._stderr_file.close()
			self._stderr_file = None

	def __enter__(self):
		try:
			return self.start()
		except BaseException:
			self.cleanup()
			raise

	def __exit__(self, *exc):
		self.stop()
		self.cleanup()
		return False

	def cleanup(self):
		"""Keep the stderr text in memory, drop the log directory."""
		if self._logdir.exists():
			self._stderr_cache = self.stderr_text()
			shutil.rmtree(self._logdir, ignore_errors=True)

	# -- inspection --------------------------------------------------------------------

	@property
	def returncode(self) -> int | None:
		return None if self.proc is None else self.proc.poll()

	@property
	def running(self) -> bool:
		return self.proc is not None and self.proc.poll() is None

	def stderr_text(self) -> str:
		if self.stderr_path.exists():
			return self.stderr_path.read_text("utf-8", "replace")
		return getattr(self, "_stderr_cache", "")

	def describe(self) -> str:
		return (
			f"command: {' '.join(self.argv)}\nexit code: {self.returncode}\n"
			f"stdout:\n{chr(10).join(self.stdout_lines[-50:])}\nstderr:\n{self.stderr_text()[-4000:]}"
		)


def hermetic_env(**extra) -> dict:
	"""The current environment without FRAPPE_* overrides (the realtime service honours them) or
	DEV_SERVER (the web stand-in does, as Frappe's web process does)."""
	env = {k: v for k, v in os.environ.items() if not k.startswith("FRAPPE_") and k != DEV_SERVER_ENV}
	env.update({k: str(v) for k, v in extra.items()})
	return env
