"""A bench directory with just the files the realtime service and our app read."""

import json
from pathlib import Path

DEFAULT_SITE = "realtime.test"


def _write_json(path: Path, data: dict) -> None:
	path.parent.mkdir(parents=True, exist_ok=True)
	# Frappe writes its config files with indent 1 and sorted keys.
	path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def make_bench(
	tmp_path: str | Path,
	site: str = DEFAULT_SITE,
	common: dict | None = None,
	site_config: dict | None = None,
	apps: tuple[str, ...] = ("frappe",),
) -> Path:
	"""Create `<tmp_path>/bench` and return it.

	Writes `sites/common_site_config.json` (`common`), `sites/<site>/site_config.json`
	(`site_config`) and `sites/apps.txt`, as `bench init` + `bench new-site` leave them.
	No `currentsite.txt`: a real bench has one only after `bench use`.
	"""
	bench = Path(tmp_path) / "bench"
	sites = bench / "sites"
	_write_json(sites / "common_site_config.json", dict(common or {}))
	_write_json(sites / site / "site_config.json", dict(site_config or {}))
	(sites / "apps.txt").write_text("\n".join(apps) + "\n")
	(bench / "apps").mkdir(exist_ok=True)
	return bench
