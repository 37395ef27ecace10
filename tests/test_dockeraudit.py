"""Compose files as the audits read them (composefile), and audit-proxy's frappe_docker findings."""

from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.composefile import is_compose_file, read_services
from raven_ai_agent.realtime.dockeraudit import audit_frappe_docker

FRONTEND = """\
x-image: &image
  image: frappe/erpnext:v15
services:
  frontend:
    <<: *image
    command:
      - nginx-entrypoint.sh
    environment:
{env}
  websocket:
    <<: *image
    command: [node, /home/frappe/frappe-bench/apps/frappe/socketio.js]
    extra_hosts:
      - "erp.example.com:host-gateway"
"""


def compose(env: str) -> str:
	return FRONTEND.format(env=env or "      {}")


def test_reads_services_environment_in_both_forms_with_lines():
	services = read_services(
		compose(
			"      SOCKETIO: ${SOCKETIO:-websocket:9000}\n      BACKEND: backend:8000\n      FRAPPE_SITE_NAME_HEADER: ${SITE}"
		)
	)
	frontend = services["frontend"]
	assert frontend.environment["SOCKETIO"].text == "websocket:9000"
	assert frontend.environment["SOCKETIO"].line == 9
	assert frontend.environment["FRAPPE_SITE_NAME_HEADER"].text is None  # from the shell, unknown here
	assert "nginx-entrypoint.sh" in frontend.command
	assert [h.text for h in services["websocket"].extra_hosts] == ["erp.example.com:host-gateway"]
	listed = read_services("services:\n  web:\n    environment:\n      - SOCKETIO=websocket:9000\n")
	assert listed["web"].environment["SOCKETIO"].text == "websocket:9000"


def test_not_compose():
	assert read_services("server { listen 80; }") is None
	assert read_services("services: [a, b]") is None
	assert read_services("a: [unclosed") is None
	assert is_compose_file("compose.yaml") and is_compose_file("docker-compose.override.yml")
	assert is_compose_file("compose.https.yaml") and not is_compose_file("values.yaml")


def findings_for(tmp_path, env: str):
	(tmp_path / "compose.yaml").write_text(compose(env))
	return audit_frappe_docker([tmp_path])


def test_healthy_frontend_has_no_finding(tmp_path):
	env = "      BACKEND: backend:8000\n      SOCKETIO: websocket:9000\n      PROXY_READ_TIMEOUT: 120"
	assert findings_for(tmp_path, env) == []


def test_socketio_unset_goes_to_the_frontend_itself(tmp_path):
	(finding,) = findings_for(tmp_path, "      BACKEND: backend:8000")
	assert "0.0.0.0:9000" in finding.problem and finding.line == 4
	assert finding.fix == "set `SOCKETIO: websocket:9000` in the frontend service's environment"


def test_socketio_to_the_backend(tmp_path):
	(finding,) = findings_for(
		tmp_path, "      BACKEND: backend:8000\n      SOCKETIO: ${SOCKETIO:-backend:8000}"
	)
	assert "Frappe's web server" in finding.problem and finding.line == 10


def test_misspelled_read_timeout(tmp_path):
	(finding,) = findings_for(tmp_path, "      SOCKETIO: websocket:9000\n      PROXY_READ_TIMOUT: 300")
	assert finding.fix.startswith("rename it to PROXY_READ_TIMEOUT") and finding.line == 10


def test_audit_proxy_prints_them(tmp_path):
	(tmp_path / "compose.yaml").write_text(compose("      BACKEND: backend:8000"))
	result = CliRunner().invoke(cli, ["audit-proxy", str(tmp_path)])
	assert result.exit_code == 1
	assert "compose.yaml:4" in result.output and "SOCKETIO: websocket:9000" in result.output


def test_audit_ports_reads_socketio_in_compose(tmp_path):
	(tmp_path / "compose.yaml").write_text(compose("      SOCKETIO: websocket:9001"))
	result = CliRunner().invoke(cli, ["audit-ports", str(tmp_path), "--socketio-port", "9000"])
	assert result.exit_code == 1 and "port 9001: SOCKETIO: websocket:9001" in result.output
