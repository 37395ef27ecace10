"""A machine missing a tool the tests need fails the run: a skipped test would hide it."""

import os
import subprocess
import sys
from pathlib import Path

from tests.stack.procs import REPO_ROOT, require_tool


def test_without_nginx_traefik_and_redis_the_tests_fail_not_skip(tmp_path):
	bare = tmp_path / "bin"
	bare.mkdir()
	# Only Python and Node: no nginx, no traefik, no redis-server.
	(bare / "python3").symlink_to(sys.executable)
	(bare / "node").symlink_to(require_tool("node"))
	env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")}
	env.update(PATH=str(bare), CI="1")
	targets = [
		"tests/test_render_nginx.py::test_traefik_file_provider_served_for_real",
		"tests/test_render_nginx.py::test_two_sites_in_one_conf_d_do_not_clash",
		"tests/test_publish.py::test_payload_equals_raven_2_6_4_key_for_key",
	]
	missing = [t for t in targets if not _exists(t)]
	assert not missing, f"renamed tests: update this list ({missing})"
	result = subprocess.run(
		[str(bare / "python3"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *targets],
		cwd=REPO_ROOT,
		env=env,
		capture_output=True,
		text=True,
		timeout=120,
	)
	out = result.stdout + result.stderr
	assert result.returncode == 1, out
	assert "skipped" not in out.lower(), out
	assert "3 errors" in out or "3 failed" in out, out
	assert "`nginx`, `traefik` not found on PATH" in out, out
	assert "`redis-server` not found on PATH" in out, out


def _exists(node_id: str) -> bool:
	path, _, name = node_id.partition("::")
	return f"def {name}(" in Path(REPO_ROOT, path).read_text()
