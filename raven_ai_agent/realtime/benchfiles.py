"""Read a bench's config files the way Frappe lays them out.

`sites/common_site_config.json` is shared by every site and is the only file Frappe's
Node realtime service reads; `sites/<site>/site_config.json` belongs to one site.
Reads are cached on (path, mtime), so a process that asks on every request pays a stat.
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from raven_ai_agent.realtime.clients import NOT_INSTALLED, DevServer, RavenBuild, dev_server_value
from raven_ai_agent.realtime.constants import (
	DEV_SERVER_ENV,
	RAVEN_ASSETS_DIR,
	RAVEN_FRONTEND_DIR,
	RAVEN_FRONTEND_ENV_FILES,
	RAVEN_SDK_DEFAULT_SOCKET_PORT,
	VITE_SOCKET_PORT,
)
from raven_ai_agent.realtime.resolve import COMMON_CONFIG_FILE, SITE_CONFIG_FILE


class ConfigFileError(Exception):
	"""A config file that cannot be used; the message names the file and the reason."""

	def __init__(self, path: os.PathLike | str, reason: str):
		self.path = str(path)
		super().__init__(f"{self.path}: {reason}")


_cache: dict[str, tuple[int, dict]] = {}


def read_config_file(path: os.PathLike | str, missing_ok: bool = False) -> dict:
	"""The JSON object in `path`; `{}` for a missing file when `missing_ok`."""
	path = os.fspath(path)
	try:
		mtime = os.stat(path).st_mtime_ns
	except FileNotFoundError:
		if missing_ok:
			return {}
		raise ConfigFileError(path, "file not found") from None
	except OSError as e:
		raise ConfigFileError(path, f"cannot be read ({e.strerror})") from None
	cached = _cache.get(path)
	if cached and cached[0] == mtime:
		return cached[1]
	try:
		with open(path, encoding="utf-8") as f:
			data = json.load(f)
	except (OSError, UnicodeDecodeError) as e:
		raise ConfigFileError(path, f"cannot be read ({e})") from None
	except json.JSONDecodeError as e:
		raise ConfigFileError(
			path, f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
		) from None
	if not isinstance(data, dict):
		raise ConfigFileError(path, f"must hold a JSON object, not {type(data).__name__}")
	_cache[path] = (mtime, data)
	return data


def find_sites_path(bench: os.PathLike | str) -> Path:
	"""Accept a bench folder or its `sites/` folder."""
	bench = Path(bench)
	for candidate in (bench / "sites", bench):
		if (candidate / COMMON_CONFIG_FILE).is_file():
			return candidate
	raise ConfigFileError(bench / "sites" / COMMON_CONFIG_FILE, "file not found: is this a bench folder?")


def read_bench(sites_path: os.PathLike | str, site: str) -> tuple[dict, dict]:
	"""(site_config, common_config) of `site` in a bench's sites folder."""
	sites_path = Path(sites_path)
	if not site or "/" in site or site in (".", ".."):
		raise ConfigFileError(sites_path / str(site), "is not a site name")
	common = read_config_file(sites_path / COMMON_CONFIG_FILE, missing_ok=True)
	site_config = read_config_file(sites_path / site / SITE_CONFIG_FILE)
	return site_config, common


# A bench's own files that route, start or bake in the realtime port: the stale-port audit reads
# them, for `diagnose` (its config check) and `audit-ports` alike. Raven's frontend env files
# hold VITE_SOCKET_PORT, which its build bakes into the /raven page.
BENCH_AUDIT_FILES = (
	"Procfile",
	"config/nginx.conf",
	"config/supervisor.conf",
	"config/redis_queue.conf",
	*(f"{RAVEN_FRONTEND_DIR}/{name}" for name in RAVEN_FRONTEND_ENV_FILES),
)


def bench_audit_files(sites_path: os.PathLike | str, site: str) -> list[str]:
	"""The files of one bench and site the stale-port audit reads, those that exist."""
	sites_path = Path(sites_path).resolve()
	candidates = [sites_path / COMMON_CONFIG_FILE, sites_path / site / SITE_CONFIG_FILE]
	candidates += [sites_path.parent / name for name in BENCH_AUDIT_FILES]
	return [str(path) for path in candidates if path.is_file()]


def list_sites(sites_path: os.PathLike | str) -> list[str]:
	"""The sites of a bench: the folders of `sites/` that hold a site_config.json, sorted."""
	sites_path = Path(sites_path)
	return sorted(p.parent.name for p in sites_path.glob(f"*/{SITE_CONFIG_FILE}") if p.is_file())


# Raven's build bakes the socket port into the provider call: `socketPort:"<port>"` (or `void 0`,
# no port). frappe-react-sdk's default shows as `socket_port = x != null ? x : "<port>"`.
_BAKED_PORT_RE = re.compile(r"""\bsocketPort\s*:\s*(?:["'](\d{1,5})["']|(\d{1,5})\b|(void 0|undefined)\b)""")
_SDK_DEFAULT_RE = re.compile(r"""\bsocket_port\s*=\s*\w+\s*!=\s*null\s*\?\s*\w+\s*:\s*["'](\d{1,5})["']""")
_ENV_PORT_RE = re.compile(rf"""^\s*(?:export\s+)?{VITE_SOCKET_PORT}\s*=\s*["']?(\d{{1,5}})["']?\s*$""", re.M)


def read_raven_build(bench_root: os.PathLike | str) -> RavenBuild:
	"""What Raven's built web app on this bench uses as its socket port; never fails.

	The bundle decides what browsers do today; the frontend env files decide the next build.
	"""
	bench_root = Path(bench_root)
	assets = bench_root / RAVEN_ASSETS_DIR
	env_port, env_source = _frontend_env_port(bench_root / RAVEN_FRONTEND_DIR)
	# The entry chunk (index-<hash>.js) holds the provider call; look there first.
	bundles = (
		sorted(assets.glob("*.js"), key=lambda p: (not p.name.startswith("index-"), p.name))
		if assets.is_dir()
		else []
	)
	for bundle in bundles:
		try:
			text = bundle.read_text(encoding="utf-8", errors="replace")
		except OSError:
			continue
		baked = _BAKED_PORT_RE.search(text)
		if not baked:
			continue
		default = _SDK_DEFAULT_RE.search(text)
		port = baked.group(1) or baked.group(2)
		return RavenBuild(
			installed=True,
			baked_port=int(port) if port else None,
			source=str(bundle),
			sdk_default=int(default.group(1)) if default else RAVEN_SDK_DEFAULT_SOCKET_PORT,
			env_port=env_port,
			env_source=env_source,
		)
	reason = (
		f"Raven's built web app was not found: no bundle in {assets} sets socketPort"
		if bundles
		else f"Raven is not installed or not built on this bench ({assets} has no .js files)"
	)
	return replace(NOT_INSTALLED, source=reason, env_port=env_port, env_source=env_source)


def _frontend_env_port(frontend: Path) -> tuple[int | None, str]:
	"""VITE_SOCKET_PORT as Vite reads it for a production build: the last file that sets it wins."""
	port, source = None, ""
	for name in RAVEN_FRONTEND_ENV_FILES:
		path = frontend / name
		try:
			text = path.read_text(encoding="utf-8", errors="replace")
		except OSError:
			continue
		found = _ENV_PORT_RE.findall(text)
		if found:
			port, source = int(found[-1]), str(path)
	return port, source


def infer_dev_server(
	bench_root: os.PathLike | str | None, environ: Mapping[str, str], assume: bool | None = None
) -> DevServer:
	"""Whether the web process sets DEV_SERVER: from the environment, else from how the bench starts.

	`bench start` (the Procfile's `bench serve`) sets DEV_SERVER; gunicorn under supervisor does
	not. With no evidence, `assume` (what the deployment type implies) is used and said so.
	"""
	if DEV_SERVER_ENV in environ:
		on = dev_server_value(environ[DEV_SERVER_ENV])
		if on is not None:
			return DevServer(on, f"{DEV_SERVER_ENV}={environ[DEV_SERVER_ENV]} in the environment")
		unreadable = (
			f"{DEV_SERVER_ENV}={environ[DEV_SERVER_ENV]!r} in the environment, which Frappe cannot read"
		)
		return DevServer(False, f"{unreadable} (it takes true, false, 1 or 0)")
	unknown = f"{DEV_SERVER_ENV} is not set here and the bench has no Procfile"
	if bench_root is not None:
		bench_root = Path(bench_root)
		if (bench_root / "config" / "supervisor.conf").is_file():
			return DevServer(False, "config/supervisor.conf runs the web process without DEV_SERVER")
		try:
			text = (bench_root / "Procfile").read_text(encoding="utf-8", errors="replace")
		except OSError:
			text = None
		if text is not None:
			if re.search(r"^\s*web\s*:.*\bbench\s+serve\b", text, re.M):
				return DevServer(
					True, "Procfile runs `bench serve` under `bench start`, which sets DEV_SERVER"
				)
			return DevServer(False, "the Procfile's web process is not `bench serve`")
	if assume is None:
		return DevServer(False, unknown)
	return DevServer(assume, f"assumed from the deployment type: {unknown}")
