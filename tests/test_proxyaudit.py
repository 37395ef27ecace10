"""The proxy audit: an Origin set on every request is found, a kept Origin is not."""

import json
from pathlib import Path

from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.proxyaudit import (
	audit_proxies,
	audit_proxy_text,
	audit_timeout_text,
	duration_seconds,
)
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


# ---- catalog #8: idle timeouts on the socket path ----------------------------------------------

NGINX_TIMEOUTS = """http {
	proxy_read_timeout 30s;
	server {
		location /socket.io {
			proxy_pass http://socketio;
		}
		location / {
			proxy_read_timeout 10;
		}
		location ^~ /socket.io/ {
			proxy_pass http://socketio;
			proxy_read_timeout 1m;
			proxy_send_timeout 40;
		}
	}
}
"""


def test_the_timeout_in_force_where_nginx_serves_the_socket_path_is_judged():
	"""`^~ /socket.io/` is the longest prefix for /socket.io/?EIO=4: it serves, and its own read
	timeout (1m) beats http's 30 s; its send timeout is short. `location /socket.io` never serves."""
	findings = audit_timeout_text(NGINX_TIMEOUTS, 45, "nginx.conf")
	assert [(f.line, f.text) for f in findings] == [(13, "proxy_send_timeout 40;")]
	assert all("transport close" in f.problem and "above it" in f.fix for f in findings)
	# without it, `location /socket.io` serves the socket path and inherits http's 30 s
	alone = NGINX_TIMEOUTS.replace("^~ /socket.io/", "/static/")
	assert [(f.line, f.text) for f in audit_timeout_text(alone, 45, "nginx.conf")] == [
		(2, "proxy_read_timeout 30s;")
	]


def test_durations_and_caddy_stream_timeouts():
	assert [duration_seconds(v) for v in ("30", "30s", "1m", "500ms", "1h", "x")] == [
		30,
		30,
		60,
		0.5,
		3600,
		None,
	]
	caddy = "erp.example.com {\n\treverse_proxy /socket.io/* 127.0.0.1:9000 {\n\t\ttransport http {\n\t\t\tread_timeout 20s\n\t\t}\n\t}\n}\n"
	[finding] = audit_timeout_text(caddy, 45, "Caddyfile")
	assert finding.line == 4 and "20 s" in finding.problem


def test_the_rendered_nginx_has_no_short_timeout():
	config = resolve("erp.example.com", {}, {"host_name": "https://erp.example.com"})
	for target in ("nginx-vps", "nginx-sandbox"):
		assert audit_timeout_text(render(target, config), 45, target) == []


def test_diagnose_reads_the_bench_nginx_and_given_proxy_configs(tmp_path):
	"""The config check reports a short timeout in the bench's config/nginx.conf, or in a file
	given with --proxy-config; raising it turns the check green."""
	bench = tmp_path / "bench"
	(bench / "sites" / "erp.test").mkdir(parents=True)
	(bench / "sites" / "common_site_config.json").write_text('{"socketio_port": 9012}')
	(bench / "sites" / "erp.test" / "site_config.json").write_text("{}")
	(bench / "config").mkdir()
	nginx = bench / "config" / "nginx.conf"
	nginx.write_text(
		"location /socket.io {\n\tproxy_pass http://127.0.0.1:9012;\n\tproxy_read_timeout 30;\n}\n"
	)
	args = [
		"diagnose",
		"--bench",
		str(bench),
		"--site",
		"erp.test",
		"--json",
		"--no-external",
		"--timeout",
		"0.5",
	]

	def config_check(*extra):
		result = CliRunner().invoke(cli, [*args, *extra])
		return next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "config")

	found = config_check()
	assert found["ok"] is False and "nginx.conf:3 (proxy_read_timeout 30;)" in found["detail"]
	nginx.write_text(nginx.read_text().replace("30;", "120;"))
	assert config_check()["ok"] is True
	elsewhere = tmp_path / "edge.conf"
	elsewhere.write_text("location /socket.io/ {\n\tproxy_send_timeout 20s;\n}\n")
	found = config_check("--proxy-config", str(elsewhere))
	assert found["ok"] is False and "edge.conf:2 (proxy_send_timeout 20s;)" in found["detail"]
