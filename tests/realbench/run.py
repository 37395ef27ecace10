"""Run the real-bench suite: `python3 -m tests.realbench.run [pytest args]`.

1. Build the bench, or take it from the cache (build.py; this needs the package registries).
2. Install what the app under test declares (pyproject's dependencies) into the bench's env,
   still with the registries in reach.
3. Re-run itself in a network and mount namespace of its own (`unshare --net --mount`), where
   only loopback exists, a bench's usual ports (8000, 9000, 13000, 11000, 3306, 80) are free,
   and the sites' names resolve to 127.0.0.1 through a hosts file mounted over /etc/hosts for
   this process tree only. Every process the suite starts lives and dies in there; the machine's
   own /etc/hosts and ports are never touched.
4. Inside: pytest on tests/realbench (marked `bench`).

It needs root (namespaces, and bench runs as the `raven-bench` user). It never skips: a
machine that cannot build or isolate the bench fails here, saying what is missing.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

NETNS_ENV = "RAVEN_BENCH_NETNS"
# TEST-NET-1 (RFC 5737, documentation only): the dummy link's address, inside the namespace alone.
DUMMY_ADDRESS = "192.0.2.1"
HERE = Path(__file__).resolve().parent


def _app_requirements() -> list[str]:
	from .inputs import REPO_ROOT

	with open(REPO_ROOT / "pyproject.toml", "rb") as f:
		project = tomllib.load(f)["project"]
	# flit_core: the app is installed editable without build isolation inside the namespace.
	return ["flit_core>=3.4,<4", *project.get("dependencies", [])]


def outside(pytest_args: list[str]) -> int:
	from .build import build
	from .host import BenchHost, BuildError

	if os.geteuid() != 0:
		print(
			"realbench: the real-bench suite needs root (network namespaces, the bench user)", file=sys.stderr
		)
		return 2
	if not shutil.which("unshare"):
		print("realbench: `unshare` (util-linux) is missing", file=sys.stderr)
		return 2
	try:
		home = build()
		host = BenchHost(home)
		host.run(
			[str(host.bench_dir / "env/bin/pip"), "install", "-q", *_app_requirements()], cwd=host.bench_dir
		)
	except BuildError as e:
		print(f"realbench: {e}", file=sys.stderr)
		return 1
	argv = [
		"unshare",
		"--net",
		"--mount",
		"--fork",
		"--",
		sys.executable,
		"-m",
		"tests.realbench.run",
		"--inside",
		*pytest_args,
	]
	return subprocess.call(argv, env={**os.environ, NETNS_ENV: "1"})


def inside(pytest_args: list[str]) -> int:
	from . import inputs

	subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
	# Chromium reports navigator.onLine = false on a host with nothing but loopback, and Frappe's
	# desk then sends no request at all. A veth pair with both ends in here and a default route
	# into it (a black hole: nothing leaves this namespace) makes the page online without a way out.
	for cmd in (
		["ip", "link", "add", "realbench0", "type", "veth", "peer", "name", "realbench1"],
		["ip", "addr", "add", f"{DUMMY_ADDRESS}/24", "dev", "realbench0"],
		["ip", "link", "set", "realbench0", "up"],
		["ip", "link", "set", "realbench1", "up"],
		["ip", "route", "add", "default", "dev", "realbench0"],
	):
		subprocess.run(cmd, check=True)
	hosts = Path(tempfile.mkdtemp(prefix="realbench-hosts-")) / "hosts"
	hosts.write_text(
		f"127.0.0.1 localhost {inputs.SITE} {inputs.OTHER_SITE}\n::1 localhost ip6-localhost ip6-loopback\n"
	)
	hosts.chmod(0o644)
	subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
	import pytest

	return pytest.main(["-m", "bench", str(HERE), *pytest_args])


def main(argv: list[str]) -> int:
	if argv[:1] == ["--inside"]:
		if os.environ.get(NETNS_ENV) != "1":
			print("realbench: --inside is for run.py's own namespace", file=sys.stderr)
			return 2
		return inside(argv[1:])
	return outside(argv)


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
