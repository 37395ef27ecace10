"""The proxy audit: an Origin set on every request is found, a kept Origin is not."""

from pathlib import Path

from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.proxyaudit import audit_proxies, audit_proxy_text
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve

CORPUS = Path(__file__).parent / "audit_corpus" / "proxy"


def found(name: str) -> list[tuple[int, str]]:
	return [(f.line, f.problem.split(":")[0]) for f in audit_proxies([CORPUS / name])]


def test_bench_style_overwrite_is_found_with_why_and_fix():
	origin, log = audit_proxies([CORPUS / "bench_nginx.conf"])
	assert origin.line == 7 and "proxy_set_header Origin $scheme://$http_host;" in origin.text
	assert "Invalid origin" in origin.problem and "map $http_origin" in origin.fix
	# bench's template also logs the session check with its query: live session ids in the log
	assert log.line == 2 and log.text.startswith("location /socket.io")
	assert "stores session ids" in log.problem and "get_user_info" in log.fix


def test_access_log_off_or_a_quiet_session_check_is_not_a_finding():
	quiet = "server {\n\taccess_log off;\n\tlocation /socket.io/ {\n\t\tproxy_pass http://rt;\n\t}\n}\n"
	assert audit_proxy_text(quiet, "quiet.conf") == []


def test_a_kept_origin_and_comments_are_not_findings():
	assert found("kept_origin.conf") == []


def test_traefik_fixed_origin_in_yaml_and_labels():
	assert found("traefik_file.yml") == [(7, "Traefik sets a fixed Origin")]
	assert found("traefik_labels.yml") == [(4, "Traefik sets a fixed Origin")]


def test_caddy_header_up_origin():
	assert found("Caddyfile") == [(3, "Caddy sets Origin on every request")]


def test_the_rendered_nginx_passes_and_the_rendered_traefik_is_flagged():
	config = resolve("erp.example.com", {}, {"host_name": "https://erp.example.com"})
	for target in ("nginx-vps", "nginx-sandbox"):
		assert audit_proxy_text(render(target, config), target) == []  # neither Origin nor sid logs
	for fmt in ("labels", "file"):
		text = render("traefik", config, format=fmt)
		assert len(audit_proxy_text(text, "traefik.yml")) == 1
		assert "foreign page's Origin is replaced too" in text


def test_cli_exit_codes():
	result = CliRunner().invoke(cli, ["audit-proxy", str(CORPUS)])
	assert result.exit_code == 1
	assert result.stdout.count("why: ") == 5 and "5 proxy setting(s)" in result.stderr
	result = CliRunner().invoke(cli, ["audit-proxy", str(CORPUS / "kept_origin.conf")])
	assert result.exit_code == 0 and "no proxy setting" in result.stderr
