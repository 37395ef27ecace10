"""`raven-realtime show` on the example benches, and its errors for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def show(*args: str):
	return CliRunner().invoke(cli, ["show", *args], catch_exceptions=False)


@pytest.mark.parametrize(
	"bench,site,dtype,base,socket",
	[
		("vps_prod", "v2.example.com", "vps_prod", "https://v2.example.com", "https://v2.example.com"),
		(
			"sandbox",
			"sandbox.test",
			"sandbox",
			"https://raven-sandbox.ngrok-free.app",
			"https://raven-sandbox.ngrok-free.app",
		),
		("local", "raven.localhost", "local", "http://raven.localhost:8000", "http://raven.localhost:9000"),
	],
)
def test_example_benches(bench, site, dtype, base, socket):
	result = show("--bench", str(EXAMPLES / bench), "--site", site, "--json")
	assert result.exit_code == 0, result.output
	data = json.loads(result.output)
	assert set(data) == {
		"internal_socketio_url",
		"deployment_type",
		"deployment_reason",
		"base_url",
		"socketio_port",
		"socketio_uds",
		"webserver_port",
		"socketio_path",
		"site_name",
		"external_socketio_url",
		"sources",
		"warnings",
		"context",
		"clients",
		"client_warnings",
	}
	assert (data["deployment_type"], data["base_url"], data["external_socketio_url"]) == (dtype, base, socket)
	assert data["context"]["socketio_namespace"] == f"/{site}"
	assert data["warnings"] == []


def test_human_output_names_sources():
	result = show("--bench", str(EXAMPLES / "vps_prod"), "--site", "v2.example.com")
	assert result.exit_code == 0
	assert "base_url" in result.output and "(site_config.json)" in result.output
	assert "/v2.example.com" in result.output
	assert "why: " in result.output


def test_explicit_files_and_overrides():
	sites = EXAMPLES / "local" / "sites"
	result = show(
		"--site-config",
		str(sites / "raven.localhost" / "site_config.json"),
		"--common-config",
		str(sites / "common_site_config.json"),
		"--site",
		"raven.localhost",
		"--deployment-type",
		"sandbox",
		"--base-url",
		"https://dev.ngrok-free.app",
		"--json",
	)
	data = json.loads(result.output)
	assert data["deployment_type"] == "sandbox"
	assert data["external_socketio_url"] == "https://dev.ngrok-free.app"
	assert data["sources"]["base_url"] == "command line"


def test_missing_site_config_exits_2_naming_the_file(tmp_path):
	result = show("--bench", str(EXAMPLES / "local"), "--site", "nope.localhost")
	assert result.exit_code == 2
	assert "nope.localhost/site_config.json" in result.output and "not found" in result.output


def test_invalid_json_exits_2_naming_file_and_line(tmp_path):
	bad = tmp_path / "site_config.json"
	bad.write_text('{"host_name": "erp.example.com",\n "socketio_port": }\n')
	result = show("--site-config", str(bad), "--site", "erp.example.com")
	assert result.exit_code == 2
	assert str(bad) in result.output and "line 2" in result.output


def test_json_that_is_not_an_object(tmp_path):
	bad = tmp_path / "common_site_config.json"
	bad.write_text("[1, 2]")
	site = tmp_path / "site_config.json"
	site.write_text("{}")
	result = show("--site-config", str(site), "--common-config", str(bad), "--site", "x.test")
	assert result.exit_code == 2 and "JSON object" in result.output


@pytest.mark.parametrize(
	"args,needle",
	[
		(["--bench", "."], "is this a bench folder"),  # without --site: every site of a bench
		(["--site", "x.test"], "--bench DIR"),
		(
			["--bench", str(EXAMPLES / "local"), "--site", "raven.localhost", "--base-url", "ftp://x"],
			"http or https",
		),
		(
			["--bench", str(EXAMPLES / "local"), "--site", "raven.localhost", "--socketio-path", "io"],
			"Socket.IO path",
		),
		(
			["--bench", str(EXAMPLES / "local"), "--site", "raven.localhost", "--deployment-type", "cloud"],
			"cloud",
		),
	],
)
def test_bad_usage_exits_2(args, needle):
	result = show(*args)
	assert result.exit_code == 2, result.output
	assert needle in result.output


def test_console_script_is_installed():
	result = subprocess.run(
		[
			sys.executable,
			"-m",
			"raven_ai_agent.cli",
			"show",
			"--bench",
			str(EXAMPLES / "sandbox"),
			"--site",
			"sandbox.test",
		],
		capture_output=True,
		text=True,
		timeout=60,
	)
	assert result.returncode == 0, result.stderr
	assert "sandbox" in result.stdout


def test_values_given_on_the_command_line_are_labelled_so():
	result = show(
		"--bench", str(EXAMPLES / "vps_prod"), "--site", "v2.example.com", "--json",
		"--base-url", "https://other.example.com", "--deployment-type", "sandbox", "--socketio-path", "/rt/",
	)  # fmt: skip
	assert result.exit_code == 0, result.output
	data = json.loads(result.output)
	for key in ("base_url", "deployment_type", "socketio_path", "external_socketio_url"):
		assert data["sources"][key] == "command line", key
	assert data["deployment_reason"] == "set to sandbox on the command line"


def test_show_names_the_realtime_address_and_its_source():
	result = show(
		"--bench",
		str(EXAMPLES / "vps_prod"),
		"--site",
		"v2.example.com",
		"--realtime-address",
		"websocket:9000",
	)
	assert result.exit_code == 0, result.output
	assert "internal_socketio_url  http://websocket:9000  (command line)" in result.output
