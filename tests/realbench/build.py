"""Build the real bench the acceptance suite runs on, once per set of inputs.

`python3 -m tests.realbench.build` (the test command calls it) leaves, under the cache folder
(inputs.cache_root(), outside the repo):

    bench-<key>/
      src/          frappe, raven: the upstream archives extracted, each a git repo at its tag
      tools/        the bench CLI's own venv, yarn
      frappe-bench/ bench init + get-app raven + two sites (realtime.test with Raven, other.test)
      mariadb-snapshot/  the database files as the build left them (each run starts on a copy)
      READY         written last: a half-built bench is never reused

Sources come from ../shared/vendor when it is there (checked against their sha256), else from
the upstream repositories (a machine with GitHub); a machine with neither fails here, loudly.
Everything else comes from PyPI, Debian and npm. bench refuses to run as root: as root, the
build runs as the user `raven-bench`.
"""

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from . import inputs
from .host import BenchHost, BuildError, as_bench_user


def _sha256(path: Path) -> str:
	h = hashlib.sha256()
	with open(path, "rb") as f:
		for chunk in iter(lambda: f.read(1 << 20), b""):
			h.update(chunk)
	return h.hexdigest()


def _fetch_source(host: BenchHost, src: inputs.Source, dest: Path) -> None:
	"""Extract the vendored archive into `dest` as a git repo tagged `src.ref`, or clone upstream."""
	archive = inputs.VENDOR / src.archive
	if archive.is_file():
		digest = _sha256(archive)
		if digest != src.sha256:
			raise BuildError(
				f"{archive}: sha256 {digest}, expected {src.sha256} (see {inputs.VENDOR}/README.md)"
			)
		tmp = dest.parent / f".{dest.name}.extract"
		shutil.rmtree(tmp, ignore_errors=True)
		tmp.mkdir(parents=True)
		with tarfile.open(archive) as tar:
			tar.extractall(tmp, filter="tar")
		(top,) = list(tmp.iterdir())
		top.rename(dest)
		tmp.rmdir()
		host.chown(dest)
		git = ["git", "-c", "user.name=raven-bench", "-c", "user.email=bench@raven-bench.invalid"]
		host.run([*git, "init", "-q", "-b", "main"], cwd=dest)
		host.run([*git, "add", "-A"], cwd=dest)
		host.run([*git, "commit", "-q", "-m", f"{src.name} {src.ref} from {src.archive}"], cwd=dest)
		host.run([*git, "tag", src.ref], cwd=dest)
		return
	if shutil.which("git") and _reachable(src.repo):
		host.run(["git", "clone", "-q", "--branch", src.ref, "--depth", "1", src.repo, str(dest)])
		return
	raise BuildError(
		f"no source for {src.name} {src.ref}: {archive} is missing and {src.repo} cannot be reached. "
		f"Put the upstream archive (`git archive` of {src.ref}, sha256 {src.sha256}) at {archive}, "
		f"or run where GitHub is reachable."
	)


def _reachable(url: str) -> bool:
	"""Whether git can list the upstream repository (bounded: 20 s)."""
	try:
		subprocess.run(
			["git", "ls-remote", "-q", "--exit-code", url, "HEAD"],
			capture_output=True,
			timeout=20,
			check=True,
			env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
		)
		return True
	except (subprocess.SubprocessError, OSError):
		return False


def _air_datepicker_mirror(host: BenchHost, mirror: Path) -> None:
	"""Yarn 1 looks for the GitHub tarball of that commit in its offline mirror under the bare hash."""
	mirror.mkdir(parents=True, exist_ok=True)
	src = inputs.AIR_DATEPICKER
	archive = inputs.VENDOR / src.archive
	target = mirror / src.ref
	if archive.is_file():
		if _sha256(archive) != src.sha256:
			raise BuildError(f"{archive}: sha256 does not match {src.sha256}")
		shutil.copyfile(archive, target)
	host.chown(mirror)


def build(force: bool = False) -> Path:
	"""Build the bench for the current inputs unless a finished one is cached; return its folder.

	One build at a time per cache folder (a lock): a second caller waits, then finds it cached."""
	inputs.cache_root().mkdir(parents=True, exist_ok=True)
	with open(inputs.cache_root() / "build.lock", "w") as lock:
		fcntl.flock(lock, fcntl.LOCK_EX)
		return _build(force)


def _build(force: bool) -> Path:
	home = inputs.bench_home()
	if (home / "READY").is_file() and not force:
		print(f"realbench: cached bench {home}")
		return home
	started = time.monotonic()
	host = BenchHost(home, fresh=True)
	host.require_tools()
	print(f"realbench: building {home} (log: {host.log_path})", flush=True)
	for stale in inputs.cache_root().glob("bench-*"):
		if stale != home:
			shutil.rmtree(stale, ignore_errors=True)

	src = home / "src"
	src.mkdir(parents=True, exist_ok=True)
	host.chown(src)
	for source in (inputs.FRAPPE, inputs.RAVEN):
		host.step(f"source {source.name} {source.ref}", _fetch_source, host, source, src / source.name)
	_air_datepicker_mirror(host, host.yarn_mirror)

	host.step("bench CLI and yarn", host.install_tools)
	with host.services_for_build() as ports:
		bench = host.bench_dir
		host.step(
			"bench init",
			host.run,
			[
				"bench",
				"init",
				"--frappe-path",
				str(src / "frappe"),
				"--frappe-branch",
				inputs.FRAPPE.ref,
				"--python",
				"/usr/bin/python3",
				"--skip-redis-config-generation",
				"--no-backups",
				"--verbose",
				bench.name,
			],
			cwd=bench.parent,
		)
		if not host.common_config_path().is_file():
			raise BuildError(f"bench init made no bench at {bench} (log: {host.log_path})")
		host.write_common_config(ports)
		host.step(
			"get-app raven",
			host.run,
			["bench", "get-app", str(src / "raven"), "--branch", inputs.RAVEN.ref],
			cwd=bench,
		)
		host.step(
			"pins for Frappe 15.41",
			host.run,
			[str(bench / "env/bin/pip"), "install", "-q", *inputs.BENCH_ENV_PINS],
		)
		for site in (inputs.SITE, inputs.OTHER_SITE):
			host.step(f"new-site {site}", host.new_site, site, ports["db"])
		host.step("install-app raven", host.bench, inputs.SITE, "install-app", "raven")
		for site in (inputs.SITE, inputs.OTHER_SITE):
			host.step(f"setup wizard {site}", host.complete_setup, site)
	host.step("database snapshot", host.snapshot_database)
	(home / "inputs.json").write_text(
		json.dumps({"key": inputs.cache_key(), "sources": [s.__dict__ for s in inputs.SOURCES]}, indent=1)
	)
	(home / "READY").write_text(f"{time.time():.0f}\n")
	print(f"realbench: built in {time.monotonic() - started:.0f} s", flush=True)
	return home


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--force", action="store_true", help="rebuild even when a finished bench is cached")
	args = parser.parse_args(argv)
	try:
		build(force=args.force)
	except BuildError as e:
		print(f"realbench: build failed: {e}", file=sys.stderr)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main())


__all__ = ["build", "as_bench_user"]
