"""What the app adds to a desk page load, in headless Chromium on the real-services stack:

- the bytes of the app's scripts (as served, and gzip-compressed at level 6, nginx's usual),
- the requests: its scripts, and everything else it sends (field reports, sockets),

with field reports off (the default) and on. The page is tests/test_browser.py's desk stand-in:
desk's socket.io client, the app's `app_include_js` from hooks.py, desk's own socket on /<site>.
The scripts are counted as on a cold browser cache (desk's asset URLs are versioned and cached,
so a warm page load fetches none of them again). What the settings form loads on demand is listed
for comparison, not counted.

Run: python benchmarks/bench_page.py   (needs redis-server, nginx, node, chromium, tests/node_modules)
"""

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "frappe_standin")]
os.environ.setdefault("PATH", "/usr/sbin:/usr/bin:/bin")

from tests.stack.stack import Stack  # noqa: E402
from tests.test_browser import app_requests, load_desk_page, require_browser, static_root  # noqa: E402

PUBLIC = ROOT / "raven_ai_agent" / "public"
ON_DEMAND = ("raven_realtime.js", "raven_realtime_diagnosis.js", "raven_realtime_history.js")


def _gzip_size(path: Path) -> int:
	return len(gzip.compress(path.read_bytes(), compresslevel=6))


def _asset(url: str) -> Path:
	return PUBLIC / url.split("/assets/raven_ai_agent/", 1)[1].split("?", 1)[0]


def _page_load(result: dict) -> dict:
	"""Bytes and requests the app added to one page load."""
	mine = app_requests(result)
	scripts = [r for r in mine if r["type"] == "script"]
	for r in scripts:  # what was served is the file on disk
		assert r["bytes"] == _asset(r["url"]).stat().st_size, r
	others = [r for r in mine if r["type"] != "script"]
	return {
		"script_requests": len(scripts),
		"raw_bytes": sum(r["bytes"] for r in scripts),
		"gzip_bytes": sum(_gzip_size(_asset(r["url"])) for r in scripts),
		"other_requests": len(others),
		"reports": len(result["reports"]),
		"websockets": len(result["websockets"]) - 1,  # desk's own socket is desk's
	}


def run() -> dict:
	import pytest

	try:
		require_browser()
	except pytest.fail.Exception as e:
		raise RuntimeError(str(e)) from None
	with tempfile.TemporaryDirectory() as tmp:
		tmp_path = Path(tmp)
		root = static_root(tmp_path)
		with Stack(static_dir=root, tmp_path=tmp_path) as stack:
			origin = stack.front("healthy").url
			off = _page_load(load_desk_page(stack, root, origin, 0, tmp_path))
			on = _page_load(load_desk_page(stack, root, origin, 1, tmp_path))
	out = {f"page_off_{k}": v for k, v in off.items()}
	out.update({f"page_on_{k}": v for k, v in on.items()})
	out["form_on_demand_gzip_bytes"] = sum(_gzip_size(PUBLIC / "js" / name) for name in ON_DEMAND)
	out["form_on_demand_raw_bytes"] = sum((PUBLIC / "js" / name).stat().st_size for name in ON_DEMAND)
	return out


if __name__ == "__main__":
	print(json.dumps(run(), indent=1))
