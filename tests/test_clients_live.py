"""`diagnose` probes each real client's socket URL on a live stack, and names the one that breaks."""

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.clients import NOT_INSTALLED, Client, DevServer, describe_clients
from raven_ai_agent.realtime.constants import RAVEN_ASSETS_DIR
from raven_ai_agent.realtime.diagnose import diagnose as core_diagnose
from tests.hostile import self_signed_cert
from tests.stack import Nginx, Stack, free_port
from tests.stack.tls import tls_front

BUILDS = Path(__file__).resolve().parent / "fixtures" / "raven_build"


@pytest.fixture
def bench(stack, tmp_path):
	"""A copy of the stack's bench that a test may give a Raven build and a Procfile."""
	root = tmp_path / "bench"
	shutil.copytree(stack.bench / "sites", root / "sites")
	return root


def raven_built_with(bench: Path, port: int | None) -> None:
	assets = bench / RAVEN_ASSETS_DIR
	assets.mkdir(parents=True)
	text = (BUILDS / "sdk_default.js").read_text()
	if port is not None:
		text = text.replace("socketPort:void 0", f'socketPort:"{port}"')
	(assets / "index-test.js").write_text(text)


def diagnose(stack, bench: Path, *extra: str) -> tuple[int, dict]:
	args = ["diagnose", "--bench", str(bench), "--site", stack.site, "--base-url", stack.web_url]
	args += ["--deployment-type", "local", "--timeout", "2", "--json", *extra]
	result = CliRunner().invoke(cli, args, catch_exceptions=False)
	return result.exit_code, json.loads(result.output)


def rows(report: dict) -> dict:
	return {row["client"]: row for row in report["clients"]}


def test_healthy_every_client_ok_and_one_url_probed_once(stack, bench):
	raven_built_with(bench, stack.socketio_port)
	code, report = diagnose(stack, bench, "--dev-server")
	assert code == 0, report["hint"]
	by_client = rows(report)
	assert set(by_client) == {c.value for c in Client if c is not Client.OPERATOR}
	assert all(row["ok"] is True for row in by_client.values())
	assert {row["url"] for row in by_client.values()} == {f"{stack.realtime_url}/socket.io/"}
	# The one URL is the resolved one: external_handshake's verdict, not a second probe.
	assert all(row["detail"].startswith("the resolved URL") for row in by_client.values())


def test_dev_server_off_without_proxy_names_the_desk(stack, bench):
	raven_built_with(bench, stack.socketio_port)
	code, report = diagnose(stack, bench, "--no-dev-server")
	assert code == 1
	by_client = rows(report)
	assert by_client[Client.DESK.value]["ok"] is False
	assert by_client[Client.DESK.value]["url"] == f"{stack.web_url}/socket.io/"
	assert by_client[Client.RAVEN.value]["ok"] is by_client[Client.CONTEXT.value]["ok"] is True
	assert report["hint"].startswith(Client.DESK.value) and "DEV_SERVER" in report["hint"]
	failing = [c["name"] for c in report["checks"] if c["ok"] is False]
	assert failing == ["client_paths"]


def test_stale_raven_build_port_names_raven(stack, bench):
	stale = free_port()  # nothing listens there
	raven_built_with(bench, stale)
	code, report = diagnose(stack, bench, "--dev-server")
	assert code == 1
	by_client = rows(report)
	assert by_client[Client.RAVEN.value]["url"].endswith(f":{stale}/socket.io/")
	assert by_client[Client.RAVEN.value]["ok"] is False
	assert by_client[Client.DESK.value]["ok"] is True
	assert report["hint"].startswith(Client.RAVEN.value)
	assert f"VITE_SOCKET_PORT={stale}" in report["hint"]
	assert f"VITE_SOCKET_PORT={stack.socketio_port}" in report["hint"]


def test_no_raven_build_is_said_not_failed(stack, bench):
	code, report = diagnose(stack, bench, "--dev-server")
	assert code == 0, report["hint"]
	raven = rows(report)[Client.RAVEN.value]
	assert raven["url"] is None and raven["ok"] is None and "not installed" in raven["detail"]


def test_a_client_url_takes_handshake_upgrade_and_namespace(stack, bench, nginx_factory):
	"""A client URL other than the resolved one gets the whole path: upgrade and namespace too."""
	front = nginx_factory(stack.front_conf("no_upgrade"))  # handshakes pass, upgrades do not
	raven_built_with(bench, front.port)
	code, report = diagnose(stack, bench, "--dev-server")
	raven = rows(report)[Client.RAVEN.value]
	assert code == 1 and raven["ok"] is False
	assert raven["detail"].startswith("handshake ok; WebSocket upgrade:"), raven["detail"]
	assert report["hint"].startswith(Client.RAVEN.value)


def test_a_healthy_client_url_elsewhere_passes_every_step(stack, bench, nginx_factory):
	front = nginx_factory(stack.front_conf("healthy"))
	raven_built_with(bench, stack.socketio_port)  # the page goes through the proxy, Raven straight
	args = ["--base-url", front.url, "--deployment-type", "vps_prod", "--no-dev-server"]
	result = CliRunner().invoke(
		cli, ["diagnose", "--bench", str(bench), "--site", stack.site, "--timeout", "2", "--json", *args]
	)
	report = json.loads(result.output)
	raven = rows(report)[Client.RAVEN.value]
	assert raven["url"] == f"{stack.realtime_url}/socket.io/"
	assert raven["ok"] is True and raven["detail"].startswith(
		"handshake, WebSocket upgrade and connected to /"
	)
	assert rows(report)[Client.DESK.value]["detail"].startswith("the resolved URL")


@pytest.fixture(scope="module")
def trusting(tmp_path_factory):
	"""A stack whose realtime service trusts the TLS front's certificate (its session callback
	goes to the https Origin), so the only thing an https page can break is the client's URL."""
	cert, _ = self_signed_cert()
	with Stack(tmp_path=tmp_path_factory.mktemp("tls"), realtime_env={"NODE_EXTRA_CA_CERTS": str(cert)}) as s:
		yield s


def diagnose_behind_tls(stack, deployment_type: str, dev_server: bool) -> dict:
	cert, _ = self_signed_cert()
	body, config = tls_front(stack, deployment_type)
	clients, notes = describe_clients(config, DevServer(dev_server, "DEV_SERVER in the test"), NOT_INSTALLED)
	with Nginx(body):
		return core_diagnose(config, timeout=5, ca_file=str(cert), clients=clients, client_notes=notes)


def test_dev_server_on_behind_tls_names_the_desk_and_routes_it_same_origin(trusting):
	"""https page, DEV_SERVER=1: desk opens https://<host>:<socketio_port>, a plain-http port."""
	report = diagnose_behind_tls(trusting, "vps_prod", dev_server=True)
	desk = rows(report)[Client.DESK.value]
	assert desk["url"] == f"https://127.0.0.1:{trusting.socketio_port}/socket.io/"
	assert desk["ok"] is False and "TLS" in desk["detail"], desk["detail"]
	assert rows(report)[Client.CONTEXT.value]["ok"] is True
	failing = [c["name"] for c in report["checks"] if c["ok"] is False]
	assert failing == ["client_paths"]
	assert report["hint"].startswith(Client.DESK.value)
	assert "Unset DEV_SERVER" in report["hint"] and "same-origin" in report["hint"]
	assert "host_name" not in report["hint"]


def test_dev_server_off_behind_tls_is_green(trusting):
	report = diagnose_behind_tls(trusting, "vps_prod", dev_server=False)
	assert report["ok"], report["hint"]
	assert rows(report)[Client.DESK.value]["url"].startswith("https://127.0.0.1:")
	assert rows(report)[Client.DESK.value]["ok"] is True


def test_local_config_with_an_https_base_url_gives_the_proxy_fix_not_host_name(trusting):
	"""A local-type config on an https page: every client goes to the plain-http socket port."""
	report = diagnose_behind_tls(trusting, "local", dev_server=True)
	assert report["ok"] is False
	socket_url = f"https://127.0.0.1:{trusting.socketio_port}/socket.io/"
	assert {r["url"] for r in report["clients"] if r["url"]} == {socket_url}
	assert "same-origin" in report["hint"] and "vps_prod" in report["hint"], report["hint"]
	assert "put the socket port into host_name" not in report["hint"]


def test_the_running_web_process_beats_the_procfile(tmp_path):
	"""A bench whose Procfile says `bench serve` but whose site gunicorn serves without DEV_SERVER
	(as on a hand-run bench): the desk's row follows the live page, not the Procfile."""
	with Stack(tmp_path=tmp_path, web_dev_server=False) as gunicorn_like:
		root = tmp_path / "copy"
		shutil.copytree(gunicorn_like.bench / "sites", root / "sites")
		(root / "Procfile").write_text(
			"web: bench serve --port 8000\nsocketio: node apps/frappe/socketio.js\n"
		)
		code, report = diagnose(gunicorn_like, root)
	desk = rows(report)[Client.DESK.value]
	assert desk["url"] == f"{gunicorn_like.web_url}/socket.io/"
	assert desk["why"].startswith("dev_server is off (window.dev_server = 0 on http://127.0.0.1:")
	assert code == 1 and report["hint"].startswith(Client.DESK.value)


def test_a_site_that_cannot_be_asked_falls_back_to_the_procfile_and_says_so(stack, bench):
	common = bench / "sites" / "common_site_config.json"
	values = json.loads(common.read_text())
	values["webserver_port"] = free_port()  # nothing answers there, nor at the public URL
	common.write_text(json.dumps(values))
	(bench / "Procfile").write_text("web: bench serve --port 8000\n")
	_, report = diagnose(stack, bench, "--base-url", f"http://127.0.0.1:{free_port()}")
	why = rows(report)[Client.DESK.value]["why"]
	assert why.startswith("dev_server is on (Procfile runs `bench serve`")
	assert f"the running site could not be asked: http://127.0.0.1:{values['webserver_port']}/login" in why


def test_raven_on_the_sdk_default_port_with_nothing_there_names_raven(stack, bench):
	"""A page URL with a port, a build without VITE_SOCKET_PORT: Raven goes to the SDK's default.

	The SDK default is rewritten to a free port here (the real one, 9000, may be taken on the
	machine that runs the tests); the path through the model is the same."""
	default = free_port()
	assets = bench / RAVEN_ASSETS_DIR
	assets.mkdir(parents=True)
	text = (BUILDS / "sdk_default.js").read_text()
	sdk = re.sub(r':"\d+"', f':"{default}"', text, count=1)
	assert sdk != text
	(assets / "index-sdk.js").write_text(sdk)
	code, report = diagnose(stack, bench, "--dev-server")
	raven = rows(report)[Client.RAVEN.value]
	assert raven["url"] == f"http://127.0.0.1:{default}/socket.io/" and raven["ok"] is False
	assert raven["why"] == f"the page URL has a port and its build uses the SDK default {default}"
	assert code == 1 and report["hint"].startswith(Client.RAVEN.value)
	assert f"Set socketio_port to {default}" in report["hint"]
	assert f"VITE_SOCKET_PORT={stack.socketio_port}" in report["hint"]
