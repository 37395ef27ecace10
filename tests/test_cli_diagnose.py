"""`raven-realtime diagnose`: output, exit codes, options, and the sid kept out of the output."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from tests.stack import ADMIN_SID, free_port


def run(*args, env=None):
	return CliRunner().invoke(cli, ["diagnose", *args], env=env, catch_exceptions=False)


def bench_args(stack, base_url: str, deployment: str = "local") -> list[str]:
	return [
		"--bench",
		str(stack.bench),
		"--site",
		stack.site,
		"--base-url",
		base_url,
		"--deployment-type",
		deployment,
		"--timeout",
		"2",
	]


def test_healthy_exits_0_with_one_line_per_check(stack):
	result = run(*bench_args(stack, stack.web_url))
	assert result.exit_code == 0, result.output
	lines = result.output.splitlines()
	assert lines[0].startswith(
		f"Realtime diagnosis of {stack.site} (local): http://127.0.0.1:{stack.socketio_port}"
	)
	check_lines = lines[1:13]
	names = [line.split()[1] for line in check_lines]
	assert names == [
		"config",
		"boot_context",
		"local_handshake",
		"external_handshake",
		"external_websocket",
		"client_paths",
		"web_site",
		"namespace",
		"websocket_session",
		"sticky_session",
		"redis_bridge",
		"end_to_end",
	]
	skipped = {"boot_context", "end_to_end"}  # no page's context, no session given
	for name, line in zip(names, check_lines, strict=True):
		assert line.startswith("–" if name in skipped else "✔"), line
	assert " ms " in check_lines[2]
	assert lines[-1].startswith("all checks passed")


def test_problem_exits_1_and_prints_the_hint(stack, nginx_factory):
	front = nginx_factory(stack.front_conf("all_to_web"))
	result = run(*bench_args(stack, front.url, "sandbox"))
	assert result.exit_code == 1
	assert "✘ external_handshake" in result.output
	assert "– namespace" in result.output and "not reached: external_handshake failed" in result.output
	hint = result.output.splitlines()[-1]
	assert hint.startswith("hint: Route /socket.io/ to the realtime service")


def test_json_output(stack):
	result = run(*bench_args(stack, stack.web_url), "--json", "--no-external")
	assert result.exit_code == 0, result.output
	report = json.loads(result.output)
	assert report["ok"] is True and report["external_socketio_ok"] is None
	assert report["config"]["site_name"] == stack.site


def test_sid_from_the_environment_is_used_and_never_printed(stack):
	result = run(*bench_args(stack, stack.web_url), "--json", env={"RAVEN_REALTIME_SID": ADMIN_SID})
	assert result.exit_code == 0, result.output
	report = json.loads(result.output)
	assert next(c for c in report["checks"] if c["name"] == "end_to_end")["ok"] is True
	assert ADMIN_SID not in result.output
	human = run(*bench_args(stack, stack.web_url), "--sid", ADMIN_SID)
	assert human.exit_code == 0 and ADMIN_SID not in human.output


def test_realtime_down_exits_1(stack, tmp_path):
	common = tmp_path / "common_site_config.json"
	site = tmp_path / "site_config.json"
	common.write_text(json.dumps({**stack.common, "socketio_port": free_port()}))
	site.write_text("{}")
	result = run(
		"--site-config",
		str(site),
		"--common-config",
		str(common),
		"--site",
		stack.site,
		"--base-url",
		stack.web_url,
		"--deployment-type",
		"local",
		"--timeout",
		"1",
	)
	assert result.exit_code == 1
	assert "✘ local_handshake" in result.output and "hint: Start the realtime service" in result.output


@pytest.mark.parametrize("timeout", ["0.1", "31", "soon", "nan"])
def test_bad_timeout_exits_2(stack, timeout):
	result = run(*bench_args(stack, stack.web_url)[:-2], "--timeout", timeout)
	assert result.exit_code == 2 and "timeout" in result.output


def test_unreadable_config_exits_2(tmp_path):
	bad = tmp_path / "site_config.json"
	bad.write_text("{not json")
	result = run("--site-config", str(bad), "--site", "x.test")
	assert result.exit_code == 2 and "not valid JSON" in result.output
	assert run("--bench", str(tmp_path / "nowhere"), "--site", "x.test").exit_code == 2
	assert run("--bench", str(tmp_path)).exit_code == 2  # no --site


def test_the_installed_entry_point_runs(stack):
	"""The real process, as the README's command runs it."""
	proc = subprocess.run(
		[sys.executable, "-m", "raven_ai_agent.cli", "diagnose", *bench_args(stack, stack.web_url), "--json"],
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert proc.returncode == 0, proc.stdout + proc.stderr
	assert json.loads(proc.stdout)["ok"] is True


def test_every_site_of_a_bench_one_line_each_bench_wide_checks_once(stack):
	"""Without --site: each site's verdict on one line; the realtime port and the Redis bridge,
	which are the bench's, are checked once and shared."""
	other = stack.sites_path / "other.test"
	other.mkdir(exist_ok=True)
	(other / "site_config.json").write_text(json.dumps({"host_name": stack.web_url}))
	(stack.sites_path / stack.site / "site_config.json").write_text(json.dumps({"host_name": stack.web_url}))
	try:
		shown = CliRunner().invoke(cli, ["show", "--bench", str(stack.bench), "--json"])
		assert [s["site_name"] for s in json.loads(shown.stdout)["sites"]] == ["other.test", stack.site]
		result = run("--bench", str(stack.bench), "--timeout", "2")
		lines = result.stdout.splitlines()
		assert [line.split()[1] for line in lines] == ["other.test", stack.site]
		assert lines[1].startswith("✔") and "all checks passed" in lines[1]
		assert lines[0].startswith("✘") and "web_site" in lines[0]  # the web server is realtime.test's
		assert result.exit_code == 1
		reports = json.loads(run("--bench", str(stack.bench), "--timeout", "2", "--json").stdout)["sites"]
		second = {c["name"]: c for c in reports[1]["checks"]}
		assert "(checked once for the bench)" in second["local_handshake"]["detail"]
		assert "(checked once for the bench)" in second["redis_bridge"]["detail"]
		assert run("--bench", str(stack.bench), "--sid", "x").exit_code == 2
	finally:
		(other / "site_config.json").unlink()
		other.rmdir()
		(stack.sites_path / stack.site / "site_config.json").write_text("{}")
