"""Each real client's socket URL (Frappe desk, Raven's web app, this app's context), and the
warning that names the one client that breaks in each topology."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.benchfiles import infer_dev_server, read_raven_build
from raven_ai_agent.realtime.clients import (
	NOT_INSTALLED,
	Client,
	DevServer,
	RavenBuild,
	client_urls,
	client_warnings,
	describe_clients,
	dev_server_value,
	distinct_targets,
)
from raven_ai_agent.realtime.constants import RAVEN_ASSETS_DIR, RAVEN_FRONTEND_DIR
from raven_ai_agent.realtime.resolve import resolve
from raven_ai_agent.realtime.validate import check_client_url, check_client_urls

BUILDS = Path(__file__).resolve().parent / "fixtures" / "raven_build"
SITE = "site.test"
DEV_ON = DevServer(True, "test")
DEV_OFF = DevServer(False, "test")
SDK_DEFAULT = RavenBuild(installed=True, source="bundle.js")


def local(socketio_port: int = 9000, webserver_port: int = 8000, **settings):
	common = {"socketio_port": socketio_port, "webserver_port": webserver_port}
	return resolve(SITE, {"host_name": f"http://{SITE}:{webserver_port}"}, common, settings)


def vps(host: str = "erp.example.com", socketio_port: int = 9000):
	return resolve(host, {"host_name": f"https://{host}"}, {"socketio_port": socketio_port})


def model(config, dev_server, raven):
	clients = client_urls(config, dev_server, raven)
	return {c.client: c for c in clients}, client_warnings(config, dev_server, raven, clients)


def named(warnings: list[str]) -> set[Client]:
	"""The clients the warnings name (each warning starts with the client or a file)."""
	return {c for c in Client for w in warnings if w.startswith(c.value)}


def test_all_healthy_one_target_no_warning():
	config = local()
	clients, warnings = model(config, DEV_ON, SDK_DEFAULT)
	assert warnings == []
	assert {c.url for c in clients.values()} == {f"http://{SITE}:9000"}
	assert distinct_targets(tuple(clients.values())) == {
		(f"http://{SITE}:9000", "/socket.io/"): [Client.DESK, Client.RAVEN, Client.CONTEXT]
	}
	assert all(c.namespace == f"/{SITE}" for c in clients.values())


def test_raven_page_with_port_and_another_socketio_port():
	config = local(socketio_port=9012, webserver_port=8012)
	clients, warnings = model(config, DEV_ON, SDK_DEFAULT)
	assert clients[Client.RAVEN].url == f"http://{SITE}:9000"
	assert clients[Client.DESK].url == clients[Client.CONTEXT].url == f"http://{SITE}:9012"
	assert named(warnings) == {Client.RAVEN}
	(warning,) = warnings
	assert "SDK default 9000" in warning and "VITE_SOCKET_PORT=9012" in warning
	assert "socketio_port to 9000" in warning
	assert len(distinct_targets(tuple(clients.values()))) == 2


def test_stale_vite_socket_port_in_bundle_and_env(tmp_path):
	bench = tmp_path / "bench"
	(bench / RAVEN_ASSETS_DIR).mkdir(parents=True)
	shutil.copy(BUILDS / "baked_9001.js", bench / RAVEN_ASSETS_DIR / "index-abc123.js")
	(bench / RAVEN_FRONTEND_DIR).mkdir(parents=True)
	(bench / RAVEN_FRONTEND_DIR / ".env.production").write_text(
		"VITE_BASE_NAME='raven'\nVITE_SOCKET_PORT=9001\n"
	)
	raven = read_raven_build(bench)
	assert (raven.installed, raven.baked_port, raven.env_port) == (True, 9001, 9001)
	assert raven.source.endswith("index-abc123.js")
	clients, warnings = model(local(), DEV_ON, raven)
	assert clients[Client.RAVEN].url == f"http://{SITE}:9001"
	assert named(warnings) == {Client.RAVEN}
	assert "baked VITE_SOCKET_PORT=9001" in warnings[0] and "index-abc123.js" in warnings[0]


def test_stale_env_only_warns_about_the_next_build(tmp_path):
	bench = tmp_path / "bench"
	(bench / RAVEN_ASSETS_DIR).mkdir(parents=True)
	shutil.copy(BUILDS / "sdk_default.js", bench / RAVEN_ASSETS_DIR / "index-def456.js")
	(bench / RAVEN_FRONTEND_DIR).mkdir(parents=True)
	(bench / RAVEN_FRONTEND_DIR / ".env").write_text("VITE_SOCKET_PORT=9001\n")
	(bench / RAVEN_FRONTEND_DIR / ".env.production.local").write_text("export VITE_SOCKET_PORT='9002'\n")
	raven = read_raven_build(bench)
	assert (raven.baked_port, raven.socket_port, raven.env_port) == (None, 9000, 9002)
	_, warnings = model(local(), DEV_ON, raven)
	(warning,) = warnings
	assert ".env.production.local sets VITE_SOCKET_PORT=9002" in warning and "uses 9000" in warning


def test_dev_server_off_local_config_names_desk():
	clients, warnings = model(local(), DEV_OFF, SDK_DEFAULT)
	assert clients[Client.DESK].url == f"http://{SITE}:8000"
	assert named(warnings) == {Client.DESK}
	assert "404" in warnings[0] and "DEV_SERVER" in warnings[0]
	assert f"raven-realtime render nginx-vps --bench <bench> --site {SITE}" in warnings[0], (
		"the generated fix"
	)


def test_dev_server_on_behind_tls_names_desk():
	config = vps()
	clients, warnings = model(config, DEV_ON, SDK_DEFAULT)
	assert clients[Client.DESK].url == "https://erp.example.com:9000"
	assert clients[Client.RAVEN].url == clients[Client.CONTEXT].url == "https://erp.example.com"
	assert named(warnings) == {Client.DESK}
	assert any("plain http" in w and "same-origin" in w for w in warnings)
	# Catalog #13: the fix is the proxy, never "add the socket port to host_name".
	assert all("host_name does not help" in w for w in warnings if "host_name" in w)


def test_local_config_with_https_base_url_points_to_the_proxy():
	config = local(base_url="https://site.test", deployment_type="local")
	clients, warnings = model(config, DEV_ON, SDK_DEFAULT)
	assert clients[Client.CONTEXT].url == "https://site.test:9000"  # TLS to a plain-http port
	assert Client.CONTEXT in named(warnings)
	assert any("vps_prod or sandbox" in w for w in warnings)


def test_vps_healthy_without_dev_server():
	clients, warnings = model(vps(), DEV_OFF, SDK_DEFAULT)
	assert warnings == []
	assert len(distinct_targets(tuple(clients.values()))) == 1


def test_raven_not_installed_row_says_so(tmp_path):
	raven = read_raven_build(tmp_path)
	assert not raven.installed and "not installed" in raven.source
	clients, warnings = model(local(), DEV_ON, raven)
	assert clients[Client.RAVEN].url is None and clients[Client.RAVEN].why == raven.source
	assert warnings == []
	assert Client.RAVEN not in {c for cs in distinct_targets(tuple(clients.values())).values() for c in cs}
	assert NOT_INSTALLED.installed is False


def test_bundle_without_provider_call_is_not_a_build(tmp_path):
	(tmp_path / RAVEN_ASSETS_DIR).mkdir(parents=True)
	(tmp_path / RAVEN_ASSETS_DIR / "index-x.js").write_text("console.log(1)")
	raven = read_raven_build(tmp_path)
	assert not raven.installed and "sets socketPort" in raven.source


@pytest.mark.parametrize(
	"environ,files,on",
	[
		({"DEV_SERVER": "1"}, {}, True),
		({"DEV_SERVER": "0"}, {"Procfile": "web: bench serve --port 8000\n"}, False),
		({}, {"Procfile": "web: bench serve  --port 8000\nsocketio: bench socketio\n"}, True),
		({}, {"Procfile": "web: bench serve\n", "config/supervisor.conf": "[program:x]\n"}, False),
		({}, {"Procfile": "web: gunicorn frappe.app:application\n"}, False),
		({}, {}, False),
	],
)
def test_infer_dev_server(tmp_path, environ, files, on):
	for name, text in files.items():
		(tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
		(tmp_path / name).write_text(text)
	found = infer_dev_server(tmp_path, environ)
	assert found.on is on and found.source


def test_show_prints_client_rows(tmp_path, monkeypatch):
	monkeypatch.delenv("DEV_SERVER", raising=False)
	sites = tmp_path / "sites"
	(sites / SITE).mkdir(parents=True)
	(sites / "common_site_config.json").write_text(
		json.dumps({"socketio_port": 9012, "webserver_port": 8012})
	)
	(sites / SITE / "site_config.json").write_text(json.dumps({"host_name": f"http://{SITE}:8012"}))
	(tmp_path / "Procfile").write_text("web: bench serve --port 8012\n")
	(tmp_path / RAVEN_ASSETS_DIR).mkdir(parents=True)
	shutil.copy(BUILDS / "sdk_default.js", tmp_path / RAVEN_ASSETS_DIR / "index-1.js")
	run = CliRunner().invoke(cli, ["show", "--bench", str(tmp_path), "--site", SITE, "--json"])
	assert run.exit_code == 0, run.output
	data = json.loads(run.output)
	urls = {row["client"]: row["url"] for row in data["clients"]}
	assert urls == {
		Client.DESK.value: f"http://{SITE}:9012",
		Client.RAVEN.value: f"http://{SITE}:9000",
		Client.CONTEXT.value: f"http://{SITE}:9012",
	}
	assert named(data["client_warnings"]) == {Client.RAVEN}
	human = CliRunner().invoke(cli, ["show", "--bench", str(tmp_path), "--site", SITE, "--no-dev-server"])
	assert f"client {Client.DESK.value}: http://{SITE}:8012/socket.io/" in human.output
	assert human.output.count("warning: ") == 2  # desk (dev_server off) and Raven (SDK default port)
	bench_wide = CliRunner().invoke(cli, ["show", "--bench", str(tmp_path), "--json"])
	assert json.loads(bench_wide.output)["sites"][0]["clients"] == data["clients"]


@pytest.mark.parametrize(
	"value,on",
	[("1", True), ("true", True), ("TRUE", True), ("2", True), ("0", False), ("false", False), ("yes", None)],
)
def test_dev_server_value_reads_like_frappe(value, on):
	assert dev_server_value(value) is on


@pytest.mark.parametrize("value", ["0", "1", "true", "False"])
def test_the_standin_reads_dev_server_like_frappe(value):
	"""v15 `int(sbool(os.environ["DEV_SERVER"]))`: DEV_SERVER=0 is off, not a truthy string."""
	standin = Path(__file__).resolve().parent / "frappe_standin"
	code = "import frappe; print(frappe._dev_server)"
	env = {**os.environ, "DEV_SERVER": value, "PYTHONPATH": str(standin)}
	out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
	assert bool(int(out.stdout)) is dev_server_value(value)


def test_a_client_going_around_the_sites_proxy_is_named():
	"""bench's own nginx on a site served on port 8001: the desk goes through nginx, Raven's page
	(SDK default: the page URL has a port) straight to :9000."""
	config = resolve(
		SITE,
		{"host_name": f"http://{SITE}:8001"},
		{"socketio_port": 9000},
		{"deployment_type": "vps_prod"},
	)
	clients, _ = model(config, DEV_OFF, SDK_DEFAULT)
	raven, desk = clients[Client.RAVEN], clients[Client.DESK]
	assert raven.url == f"http://{SITE}:9000" and raven.bypasses_proxy
	assert f"bypasses the site's proxy (http://{SITE}:8001)" in raven.why and "port 9000 open" in raven.why
	assert desk.url == f"http://{SITE}:8001" and not desk.bypasses_proxy
	assert raven.as_dict()["bypasses_proxy"] is True


def test_without_a_proxy_nothing_is_going_around_it():
	clients, _ = model(local(), DEV_ON, SDK_DEFAULT)
	assert not any(c.bypasses_proxy for c in clients.values())


@pytest.mark.parametrize(
	"text,expected",
	[
		("http://erp.example.com:9000", ("http://erp.example.com:9000", "/socket.io/")),
		("https://erp.example.com:443/socket.io/", ("https://erp.example.com", "/socket.io/")),
		(" http://10.0.0.5:9001/rt ", ("http://10.0.0.5:9001", "/rt/")),
		("http://[::1]:9000", ("http://[::1]:9000", "/socket.io/")),
	],
)
def test_an_operator_client_url_is_read_as_origin_and_path(text, expected):
	assert check_client_url(text) == expected


@pytest.mark.parametrize(
	"text,why",
	[
		("erp.example.com:9000", "not a client URL"),
		("ftp://erp.example.com", "not a client URL"),
		("http://user:pw@erp.example.com", "credentials"),
		("http://erp.example.com/socket.io/?EIO=4", "query"),
		("http://erp.example.com:99999", "invalid port"),
		("", "not a client URL"),
		("http://erp.example.com:9000/", "Socket.IO path"),
	],
)
def test_a_bad_operator_client_url_says_what_is_allowed(text, why):
	with pytest.raises(ValueError, match=why):
		check_client_url(text)


def test_operator_client_urls_one_per_line_and_bounded():
	assert check_client_urls("http://a.test:9000\n\n  https://b.test/socket.io/ \n") == [
		("http://a.test:9000", "/socket.io/"),
		("https://b.test", "/socket.io/"),
	]
	with pytest.raises(ValueError, match="at most 10"):
		check_client_urls("\n".join(f"http://h{i}.test" for i in range(11)))


def test_operator_clients_join_the_model_and_are_named_around_the_proxy():
	config = vps()
	clients, _ = describe_clients(
		config, DEV_OFF, SDK_DEFAULT, (("http://erp.example.com:9000", "/socket.io/"),)
	)
	added = clients[-1]
	assert added.client is Client.OPERATOR and added.url == "http://erp.example.com:9000"
	assert added.bypasses_proxy and "bypasses the site's proxy" in added.why
