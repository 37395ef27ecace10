"""What the app puts on a production bench: no Node packages (bench runs `yarn install` in every
app folder whose package.json it finds), and on every desk page only the small always-loaded
script (the rest on demand)."""

import gzip
import json
from pathlib import Path

from raven_ai_agent import hooks

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "raven_ai_agent" / "public"
DEPENDENCY_KEYS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def test_the_app_root_has_no_package_json_with_dependencies():
	"""bench's update_yarn_packages runs in the app root; the test stack's packages live in tests/."""
	root_package = ROOT / "package.json"
	if root_package.exists():
		declared = json.loads(root_package.read_text())
		assert not any(declared.get(key) for key in DEPENDENCY_KEYS), declared
	assert not (ROOT / "package-lock.json").exists() and not (ROOT / "yarn.lock").exists()
	tests_package = json.loads((ROOT / "tests" / "package.json").read_text())
	assert "playwright-core" in tests_package["dependencies"], "the test stack's packages moved, not lost"


def test_every_desk_page_loads_one_small_script_and_the_form_loads_the_rest():
	includes = hooks.app_include_js if isinstance(hooks.app_include_js, list) else [hooks.app_include_js]
	assert includes == ["/assets/raven_ai_agent/js/raven_realtime_desk.js"]
	files = [PUBLIC / src.removeprefix("/assets/raven_ai_agent/") for src in includes]
	assert sum(len(gzip.compress(f.read_bytes(), compresslevel=6)) for f in files) <= 5 * 1024
	form = (
		ROOT / "raven_ai_agent/raven_ai_agent/doctype/raven_realtime_settings/raven_realtime_settings.js"
	).read_text()
	for name in ("raven_realtime.js", "raven_realtime_diagnosis.js", "raven_realtime_history.js"):
		assert f"/assets/raven_ai_agent/js/{name}" in form, f"the form requires {name} itself"
