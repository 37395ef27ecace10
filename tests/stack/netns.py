"""Container-shaped test topologies: one network namespace per container, names per namespace.

Each container of a layout (frappe_docker's `backend`, `websocket`, `frontend`, `redis-queue`,
...) gets a network namespace of its own, with one veth into a bridge that lives in a
namespace of its own too (the "switch"): every address exists only inside namespaces this
module creates, nothing is routed to the host's networks. Names resolve per namespace through
`/etc/netns/<ns>/hosts` and `resolv.conf` (which `ip netns exec` mounts over /etc), so a
container can be left without a name another one has (the session check's callback name).

Processes run with `ip netns exec <ns> ...` (any ManagedProcess, whose argv `inside()` prefixes);
the test process itself reaches a namespace from a thread switched into it (`call_in`).
`Namespaces` is a context manager: every namespace and /etc/netns folder it made is removed on
exit, whatever happened. `require_netns()` raises when namespaces cannot be made: the tests
that need them fail loudly instead of skipping.
"""

import ctypes
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from itertools import count
from pathlib import Path

from .procs import ManagedProcess, ServiceError, require_tool

CLONE_NEWNET = 0x40000000
NETNS_RUN = Path("/var/run/netns")
NETNS_ETC = Path("/etc/netns")
PREFIX = "rvns"  # every namespace this module makes starts so (and names its pid)
SUBNET = "10.77.0"  # /24, inside the switch namespace only
_serial = count(1)
_libc = ctypes.CDLL(None, use_errno=True)


class NetnsError(RuntimeError):
	"""Namespaces cannot be made here (not root, no CAP_SYS_ADMIN, no iproute2)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
	result = subprocess.run([require_tool("ip"), *args], capture_output=True, text=True, timeout=20)
	if check and result.returncode != 0:
		raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip() or result.returncode}")
	return result


def require_netns() -> None:
	"""Make and remove one namespace; raise NetnsError saying why when that is impossible."""
	if os.geteuid() != 0:
		raise NetnsError("network namespaces need root: run the container-layout tests as root")
	name = f"{PREFIX}{os.getpid()}probe"
	try:
		_ip("netns", "add", name)
	finally:
		_ip("netns", "del", name, check=False)


class Namespaces:
	"""Namespaces named `services`, each with one address on a private bridge.

	`hosts` maps a namespace to extra `name -> service` entries of its hosts file (the site's
	public name to the frontend, say); every namespace resolves every service by its name.
	"""

	def __init__(self, services: Iterable[str], hosts: Mapping[str, Mapping[str, str]] | None = None):
		self.services = list(services)
		self.tag = f"{PREFIX}{os.getpid()}x{next(_serial)}"
		self.switch = f"{self.tag}-sw"
		self.addresses = {name: f"{SUBNET}.{10 + i}" for i, name in enumerate(self.services)}
		self._hosts = {name: dict((hosts or {}).get(name, {})) for name in self.services}
		self._made: list[str] = []

	# -- lifecycle -------------------------------------------------------------------------------

	def __enter__(self):
		try:
			self._create()
		except BaseException:
			self.close()
			raise
		return self

	def __exit__(self, *exc):
		self.close()
		return False

	def _create(self) -> None:
		require_netns()
		self._add(self.switch)
		_ip("-n", self.switch, "link", "set", "lo", "up")
		_ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
		_ip("-n", self.switch, "link", "set", "br0", "up")
		for i, service in enumerate(self.services):
			ns = self.ns(service)
			self._add(ns)
			_ip("-n", ns, "link", "set", "lo", "up")
			_ip(
				"-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", f"p{i}", "netns", self.switch
			)
			_ip("-n", self.switch, "link", "set", f"p{i}", "master", "br0", "up")
			_ip("-n", ns, "addr", "add", f"{self.addresses[service]}/24", "dev", "eth0")
			_ip("-n", ns, "link", "set", "eth0", "up")
			self.write_names(service)

	def _add(self, ns: str) -> None:
		_ip("netns", "add", ns)
		self._made.append(ns)

	def close(self) -> None:
		"""Remove every namespace and /etc/netns folder made; never raises."""
		for ns in reversed(self._made):
			_ip("netns", "del", ns, check=False)
			shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
		self._made.clear()

	# -- names -----------------------------------------------------------------------------------

	def ns(self, service: str) -> str:
		return f"{self.tag}-{service}"

	def write_names(
		self, service: str, extra: Mapping[str, str] | None = None, omit: Iterable[str] = ()
	) -> None:
		"""(Re)write `service`'s hosts file: every service by name, plus `extra` (name -> service),
		minus the names in `omit`; no DNS server (unknown names fail at once)."""
		if extra is not None:
			self._hosts[service] = dict(extra)
		folder = NETNS_ETC / self.ns(service)
		folder.mkdir(parents=True, exist_ok=True)
		omit = set(omit)
		lines = ["127.0.0.1 localhost", f"{self.addresses[service]} {service}"]
		lines += [f"{self.addresses[other]} {other}" for other in self.services if other != service]
		lines += [f"{self.addresses[target]} {name}" for name, target in self._hosts[service].items()]
		kept = [line for line in lines if line.split()[1] not in omit]
		(folder / "hosts").write_text("\n".join(kept) + "\n")
		(folder / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

	# -- processes -------------------------------------------------------------------------------

	def command(self, service: str, argv: Iterable) -> list[str]:
		return [require_tool("ip"), "netns", "exec", self.ns(service), *map(str, argv)]

	def inside(self, service: str, process: ManagedProcess) -> ManagedProcess:
		"""`process`, to be started in `service`'s namespace."""
		process.argv = self.command(service, process.argv)
		return process

	def run(self, service: str, argv: Iterable, **kwargs) -> subprocess.CompletedProcess:
		kwargs.setdefault("capture_output", True)
		kwargs.setdefault("text", True)
		kwargs.setdefault("timeout", 60)
		return subprocess.run(self.command(service, argv), **kwargs)

	def call_in(self, service: str, fn: Callable[[], object], timeout: float = 30.0):
		"""fn() on a thread switched into `service`'s network namespace (its sockets live there)."""
		outcome: dict = {}

		def target():
			fd = os.open(NETNS_RUN / self.ns(service), os.O_RDONLY)
			try:
				if _libc.setns(fd, CLONE_NEWNET) != 0:
					err = ctypes.get_errno()
					raise NetnsError(f"setns {self.ns(service)}: {os.strerror(err)}")
			finally:
				os.close(fd)
			try:
				outcome["value"] = fn()
			except BaseException as e:  # handed to the caller
				outcome["error"] = e

		thread = threading.Thread(target=target, name=f"netns-{service}", daemon=True)
		thread.start()
		thread.join(timeout)
		if thread.is_alive():
			raise ServiceError(f"call in {service} did not return within {timeout}s")
		if "error" in outcome:
			raise outcome["error"]
		return outcome.get("value")

	def accepts(self, service: str, target: str, port: int, timeout: float = 0.3) -> bool:
		"""Whether `target:port` (a service name or an address) accepts TCP from `service`."""
		address = self.addresses.get(target, target)

		def attempt() -> bool:
			try:
				with socket.create_connection((address, port), timeout=timeout):
					return True
			except OSError:
				return False

		return bool(self.call_in(service, attempt))

	def wait_port(
		self, service: str, port: int, process: ManagedProcess | None = None, timeout: float = 15.0
	):
		"""Until `service`'s own address accepts on `port` (from its own namespace)."""
		deadline = time.monotonic() + timeout
		while not self.accepts(service, service, port):
			if process is not None and process.proc is not None and process.proc.poll() is not None:
				raise ServiceError(f"{process.name} in {service} exited\n{process.describe()}")
			if time.monotonic() > deadline:
				raise ServiceError(f"{service}:{port} not accepting within {timeout}s")
			time.sleep(0.05)


class NsRedis(ManagedProcess):
	"""redis-server on 0.0.0.0:6379 of a namespace, no persistence; ready when it answers PING."""

	name = "redis"

	def __init__(self, spaces: Namespaces, service: str, port: int = 6379):
		super().__init__([])
		self.spaces, self.service, self.port = spaces, service, port
		options = {
			"port": port,
			"bind": "0.0.0.0",
			"protected-mode": "no",  # other namespaces connect, as other containers do
			"save": "",
			"appendonly": "no",
			"dir": self._logdir,
		}
		argv = [require_tool("redis-server")] + [str(x) for k, v in options.items() for x in (f"--{k}", v)]
		self.argv = spaces.command(service, argv)

	def wait_ready(self, timeout: float):
		deadline = time.monotonic() + timeout
		address = self.spaces.addresses[self.service]

		def ping() -> bool:
			try:
				with socket.create_connection((address, self.port), timeout=0.3) as s:
					s.sendall(b"PING\r\n")
					return s.recv(16).startswith(b"+PONG")
			except OSError:
				return False

		while not self.spaces.call_in(self.service, ping):
			if self.proc.poll() is not None or time.monotonic() > deadline:
				raise ServiceError(f"redis in {self.service} not ready\n{self.describe()}")
			time.sleep(0.05)


class Relay:
	"""`service`'s address:`port` forwarded to `target` in the test process' own namespace: a
	service the test already runs on its loopback (the real bench's MariaDB) reachable by name
	from the containers, as frappe_docker's `db` is. The listening socket is made in `service`'s
	namespace (call_in); each connection is relayed by two threads until either side closes."""

	def __init__(self, spaces: Namespaces, service: str, port: int, target: tuple[str, int]):
		self.spaces, self.service, self.port, self.target = spaces, service, port, target
		self._server: socket.socket | None = None
		self._open: list[socket.socket] = []

	def __enter__(self):
		self._server = self.spaces.call_in(
			self.service, lambda: socket.create_server(("0.0.0.0", self.port), backlog=64)
		)
		threading.Thread(target=self._serve, name=f"relay-{self.service}", daemon=True).start()
		return self

	def __exit__(self, *exc):
		self.close()
		return False

	def _serve(self) -> None:
		while True:
			try:
				conn, _ = self._server.accept()
			except OSError:  # closed: the relay is done
				return
			try:
				upstream = socket.create_connection(self.target, timeout=5)
			except OSError:
				conn.close()  # the client sees the refusal as a closed connection
				continue
			upstream.settimeout(None)
			self._open += [conn, upstream]
			for src, dst in ((conn, upstream), (upstream, conn)):
				threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

	@staticmethod
	def _pump(src: socket.socket, dst: socket.socket) -> None:
		try:
			while data := src.recv(65536):
				dst.sendall(data)
		except OSError:
			pass
		finally:
			try:
				dst.shutdown(socket.SHUT_WR)
			except OSError:
				pass

	def close(self) -> None:
		"""Stop accepting and drop every relayed connection; never raises."""
		if self._server is not None:
			for how in (lambda s: s.shutdown(socket.SHUT_RDWR), lambda s: s.close()):
				try:
					how(self._server)  # shutdown wakes the accept() blocked in _serve
				except OSError:
					pass
			self._server = None
		for s in self._open:
			try:
				s.close()
			except OSError:
				pass
		self._open.clear()
