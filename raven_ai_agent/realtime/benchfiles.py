"""Read a bench's config files the way Frappe lays them out.

`sites/common_site_config.json` is shared by every site and is the only file Frappe's
Node realtime service reads; `sites/<site>/site_config.json` belongs to one site.
Reads are cached on (path, mtime), so a process that asks on every request pays a stat.
"""

import json
import os
from pathlib import Path

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
	"apps/raven/frontend/.env",
	"apps/raven/frontend/.env.local",
	"apps/raven/frontend/.env.production",
	"apps/raven/frontend/.env.production.local",
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
