"""Whether the diagnosis runs in a container, and whether the site looks like frappe_docker's.

In frappe_docker (and frappe/helm) the realtime service runs in a container of its own: the
backend and scheduler containers, where the diagnosis runs, read the configurator's `socketio_port` but no
realtime service listens on their 127.0.0.1. The hints say so, and name frappe_docker's terms,
only on evidence: the facts of this process' machine (read by `observe`, handed to the
diagnosis as an input) say where it runs; the site's own config (the configurator's
`redis-queue` host, a `websocket` realtime address) says it is frappe_docker's layout.
Nothing here probes the network.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import (
	DEFAULT_SOCKETIO_PORT,
	DOCKER_REDIS_QUEUE_HOST,
	DOCKER_WEBSOCKET_ADDRESS,
)

DOCKER = "docker"
KUBERNETES = "kubernetes"
PODMAN = "podman"
# Set in every pod by the kubelet.
KUBERNETES_ENV = "KUBERNETES_SERVICE_HOST"
# What a cgroup line of PID 1 names inside a container runtime.
_CGROUP_MARKS = (("kubepods", KUBERNETES), ("libpod", PODMAN), ("docker", DOCKER), ("containerd", DOCKER))


@dataclass(frozen=True)
class Runtime:
	"""Where the diagnosis runs: a container runtime and the fact that gave it away."""

	kind: str  # DOCKER, KUBERNETES or PODMAN
	evidence: str  # e.g. "/.dockerenv exists"

	def describe(self) -> str:
		return f"This diagnosis runs in a {self.kind} container ({self.evidence})"


def classify(
	*, dockerenv: bool = False, containerenv: bool = False, cgroup: str = "", environ: Mapping | None = None
) -> Runtime | None:
	"""The runtime these facts show, or None. Pure: the caller reads the facts (observe())."""
	environ = environ or {}
	if environ.get(KUBERNETES_ENV):
		return Runtime(KUBERNETES, f"{KUBERNETES_ENV} is set")
	for mark, kind in _CGROUP_MARKS:
		if mark in cgroup:
			return Runtime(kind, f"/proc/1/cgroup names {mark}")
	if containerenv:
		return Runtime(PODMAN, "/run/.containerenv exists")
	if dockerenv:
		return Runtime(DOCKER, "/.dockerenv exists")
	return None


def observe(root: str = "/", environ: Mapping | None = None) -> Runtime | None:
	"""Read this machine's facts (marker files, PID 1's cgroups, the environment) and classify them.
	Never raises: an unreadable file is no evidence."""
	try:
		with open(os.path.join(root, "proc/1/cgroup"), encoding="utf-8", errors="replace") as f:
			cgroup = f.read(65536)
	except OSError:
		cgroup = ""
	return classify(
		dockerenv=os.path.exists(os.path.join(root, ".dockerenv")),
		containerenv=os.path.exists(os.path.join(root, "run/.containerenv")),
		cgroup=cgroup,
		environ=os.environ if environ is None else environ,
	)


def frappe_docker_evidence(redis_url: str | None, realtime_address: str | None) -> str | None:
	"""Why this site looks like frappe_docker's split layout, in words; None without evidence.
	The site's own config decides, not the runtime: many benches run whole in one container."""
	for url, what, name in (
		(redis_url, "redis_queue", DOCKER_REDIS_QUEUE_HOST),
		(realtime_address, "the realtime address", DOCKER_WEBSOCKET_ADDRESS.split(":")[0]),
	):
		try:
			host = urlsplit(url).hostname if url else None
		except ValueError:
			host = None
		if host == name:
			return f"{what} names frappe_docker's {name} service"
	return None


def likely_address(runtime: Runtime | None) -> str:
	"""Where the realtime service most likely is, in frappe_docker's (and frappe/helm's) terms."""
	if runtime is not None and runtime.kind == KUBERNETES:
		return f"the realtime (socketio) Service of the release, e.g. <release>-socketio:{DEFAULT_SOCKETIO_PORT} (frappe_docker: {DOCKER_WEBSOCKET_ADDRESS})"
	return f"frappe_docker's websocket service, {DOCKER_WEBSOCKET_ADDRESS}"
