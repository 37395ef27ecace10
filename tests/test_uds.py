"""socketio_uds (latest v15, v16): the realtime service listens on a Unix socket and opens no TCP
port. Resolved with its source, probed over the socket, rendered as `server unix:...` in nginx
(served for real), audited as the place every realtime route must go, and refused clearly where
a target cannot reach a socket. The stand-ins' v15/v16 profiles listen on the socket as Frappe
does; 15.41 ignores the key."""

import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.audit import audit_text
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.model import Source
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.render.inputs import RenderError
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import ADMIN_SID, Nginx, Stack, free_port, port_accepts

SITE = "erp.example.com"


def checks(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


@pytest.fixture(scope="module")
def short_dir():
	"""A short folder: a Unix socket path holds at most 107 bytes."""
	folder = tempfile.mkdtemp(prefix="uds-")
	yield Path(folder)
	shutil.rmtree(folder, ignore_errors=True)


# ---- resolution ----------------------------------------------------------------------------------


def test_resolved_from_the_common_config_with_its_source():
	config = resolve(SITE, {}, {"socketio_uds": "/run/frappe/socketio.sock", "host_name": f"https://{SITE}"})
	assert config.socketio_uds == "/run/frappe/socketio.sock"
	assert config.sources["socketio_uds"] is Source.COMMON_CONFIG
	assert config.get_internal_socketio_url() == "http+unix://%2Frun%2Ffrappe%2Fsocketio.sock"
	assert config.as_dict()["socketio_uds"] == "/run/frappe/socketio.sock" and not config.warnings


def test_bad_or_misplaced_values_are_named_and_ignored():
	config = resolve(SITE, {"socketio_uds": "/site/only.sock"}, {"socketio_uds": "relative.sock"})
	assert config.socketio_uds is None
	bad = next(w for w in config.warnings if "socketio_uds = 'relative.sock'" in w)
	misplaced = next(w for w in config.warnings if "/site/only.sock" in w)
	assert "common_site_config.json: socketio_uds = 'relative.sock' is invalid" in bad
	assert "absolute path" in bad
	assert "site_config.json: socketio_uds = '/site/only.sock' is ignored" in misplaced
	too_long = "/" + "a" * 120
	assert any("at most 107 bytes" in w for w in resolve(SITE, {}, {"socketio_uds": too_long}).warnings)


def test_a_local_site_on_a_unix_socket_is_warned_about():
	config = resolve(SITE, {}, {"socketio_uds": "/tmp/s.sock"}, {"deployment_type": "local"})
	assert any("reach nothing" in w and "render nginx-sandbox" in w for w in config.warnings)


# ---- rendering --------------------------------------------------------------------------------------


def test_nginx_upstream_is_the_socket_and_passes_nginx_t(short_dir):
	config = resolve(SITE, {}, {"socketio_uds": str(short_dir / "a.sock"), "host_name": f"https://{SITE}"})
	for target in ("nginx-vps", "nginx-sandbox"):
		body = render(target, config)
		assert f"server unix:{short_dir / 'a.sock'};" in body
		assert ":9000" not in body
	# An explicit --upstream still wins (a TCP node elsewhere).
	assert "server 10.0.0.5:9000;" in render("nginx-vps", config, upstream="10.0.0.5:9000")


def test_traefik_cannot_reach_a_socket_and_says_what_to_do():
	config = resolve(SITE, {}, {"socketio_uds": "/tmp/s.sock", "host_name": f"https://{SITE}"})
	with pytest.raises(RenderError, match="socketio_uds is /tmp/s.sock.*cannot forward to a Unix socket"):
		render("traefik", config)
	assert "sidecar" in render("traefik", config, shape="sidecar")


def test_a_hand_built_config_with_a_hostile_socket_path_is_refused():
	config = resolve(SITE, {}, {"host_name": f"https://{SITE}"})
	object.__setattr__(config, "socketio_uds", "/tmp/x.sock; include /etc/passwd")
	with pytest.raises(RenderError, match="config socketio_uds"):
		render("nginx-vps", config)


# ---- audit ----------------------------------------------------------------------------------------


def test_the_audit_sends_every_realtime_route_to_the_socket():
	nginx = "location /socket.io {\n\tproxy_pass http://127.0.0.1:9000;\n}\n"
	(finding,) = audit_text(nginx, 9000, "site.conf", socketio_uds="/run/s.sock")
	assert finding.port == 9000 and "unix:/run/s.sock" in finding.suggestion
	assert audit_text(nginx, 9000, "site.conf") == []  # without the socket, 9000 is right
	common = '{\n "socketio_port": 9000,\n "socketio_uds": "/run/s.sock"\n}\n'
	assert audit_text(common, 9000, "common_site_config.json", socketio_uds="/run/s.sock") == []


def test_audit_ports_cli_reads_the_socket_from_the_bench(tmp_path):
	bench = tmp_path / "bench"
	(bench / "sites" / SITE).mkdir(parents=True)
	(bench / "sites" / "common_site_config.json").write_text(
		'{"socketio_port": 9000, "socketio_uds": "/run/s.sock"}'
	)
	(bench / "sites" / SITE / "site_config.json").write_text("{}")
	conf = tmp_path / "front.conf"
	conf.write_text("location /socket.io/ {\n\tproxy_pass http://127.0.0.1:9000;\n}\n")
	result = CliRunner().invoke(cli, ["audit-ports", "--bench", str(bench), "--site", SITE, str(conf)])
	assert result.exit_code == 1 and "unix:/run/s.sock" in result.output


# ---- live: the v16 stand-in on a socket --------------------------------------------------------


@pytest.fixture(scope="module")
def uds_stack(short_dir, tmp_path_factory):
	uds = str(short_dir / "rt.sock")
	with Stack(tmp_path=tmp_path_factory.mktemp("uds"), profile="v16", common={"socketio_uds": uds}) as s:
		assert s.realtime.uds == uds and not port_accepts(s.socketio_port)
		yield s


def test_the_diagnosis_probes_the_socket_and_is_green_behind_the_rendered_nginx(uds_stack):
	stack = uds_stack
	port = free_port()
	settings = {"deployment_type": "vps_prod", "base_url": f"http://127.0.0.1:{port}"}
	config = resolve(stack.site, {}, stack.common, settings)
	assert config.socketio_uds == stack.realtime.uds
	with Nginx(render("nginx-vps", config, upstream_host="127.0.0.1", listen=f"127.0.0.1:{port}")):
		report = diagnose(config, timeout=3, sid=ADMIN_SID)
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"], failing
	assert "http+unix://" in checks(report)["local_handshake"]["detail"]
	assert "socketio_uds" in checks(report)["config"]["detail"]
	assert checks(report)["end_to_end"]["ok"] is True


def test_without_the_proxy_the_socket_itself_takes_sessions_and_websockets(uds_stack):
	stack = uds_stack
	settings = {"deployment_type": "vps_prod", "base_url": stack.web_url}
	config = resolve(stack.site, {}, stack.common, settings)
	report = diagnose(config, timeout=3, external=False, sid=ADMIN_SID)
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	for name in ("local_handshake", "namespace", "websocket_session", "end_to_end"):
		assert checks(report)[name]["ok"] is not False, failing


def test_nothing_on_the_socket_names_the_release_that_ignores_it(short_dir):
	"""15.41 ignores socketio_uds and listens on its port: the socket stays empty, the hint says why."""
	config = resolve(SITE, {}, {"socketio_uds": str(short_dir / "none.sock"), "host_name": f"https://{SITE}"})
	report = diagnose(config, timeout=1, external=False)
	local = checks(report)["local_handshake"]
	assert local["ok"] is False and f"unix:{short_dir / 'none.sock'}" in local["detail"]
	assert "15.41 does not know socketio_uds" in local["hint"]


def test_clients_sent_to_the_socket_port_are_named():
	"""socketio_uds: the desk in dev-server mode (and this app's local context) knock on a port
	nothing opens; behind a proxy (same origin) no client does."""
	from raven_ai_agent.realtime.clients import Client, DevServer, RavenBuild, describe_clients

	common = {"socketio_uds": "/tmp/s.sock", "socketio_port": 9000, "webserver_port": 8000}
	local = resolve(SITE, {"host_name": f"http://{SITE}:8000"}, common, {"deployment_type": "local"})
	clients, warnings = describe_clients(local, DevServer(True, "test"), RavenBuild(installed=False))
	named = {c.value for c in Client for w in warnings if w.startswith(c.value) and "Unix socket" in w}
	assert Client.DESK.value in named and "/tmp/s.sock" in warnings[-1]
	proxied = resolve(SITE, {"host_name": f"https://{SITE}"}, common, {})
	_, warnings = describe_clients(proxied, DevServer(False, "test"), RavenBuild(installed=False))
	assert not [w for w in warnings if "Unix socket" in w]
