"""The stale-port audit against a corpus of real-looking configs (tests/audit_corpus/).

Every file holds true positives, false-positive bait (Redis ports, versions, timeouts,
web ports, MinIO's 9001, comments), or both; EXPECTED lists exactly what must be found.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime.audit import Finding, audit_ports, audit_text, format_finding
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve

CORPUS = Path(__file__).parent / "audit_corpus"
PORT = 9000
STALE = 9001

# file (relative to the corpus) -> the (line, port) pairs the audit must report, and nothing else.
EXPECTED: dict[str, set[tuple[int, int]]] = {
	"tp01_nginx_location.conf": {(8, STALE)},  # proxy_pass in location /socket.io; `/` on 8000 is fine
	"tp02_nginx_bench_upstream.conf": {(6, STALE)},  # bench's upstream <bench>-socketio-server
	"tp03_nginx_neutral_upstream.conf": {(3, STALE)},  # neutral upstream name, used by /socket.io/
	"tp04_compose_traefik_labels.yml": {(8, STALE)},  # loadbalancer.server.port on a websocket service
	"tp05_traefik_labels_alias.yml": {(12, STALE)},  # service named only by a socket.io router
	"tp06_traefik_file_provider.yml": {(11, STALE)},  # file provider: socket.io router -> service URL
	"tp07_common_site_config.json": {(6, STALE)},  # redis_socketio on 9001 is a Redis: not flagged
	"sites/erp.example.com/site_config.json": {(4, STALE)},  # db_port 9001 is not flagged
	"tp09_frontend.env": {(1, STALE)},  # VITE_SOCKET_PORT; DB_PORT and REDIS_SOCKETIO_PORT are not
	"docker/.env": {(2, STALE)},  # SOCKETIO_PORT; HTTP_PUBLISH_PORT is not
	"tp11_compose_ports.yml": {(5, STALE), (14, STALE)},  # websocket ports + SOCKETIO env; MinIO is not
	"tp12_compose_long_ports.yaml": {(5, STALE), (8, 9002)},  # long syntax + expose; web's is not
	"tp13_start_socketio.sh": {(4, STALE)},  # node socketio.js --port; `sleep 9001`, comment are not
	"tp14_set_config.sh": {(1, STALE), (3, STALE)},  # set-config socketio_port + curl /socket.io/
	"bench_procfile/Procfile": {(4, STALE)},  # socketio: line; redis_socketio and web are not
	"systemd/frappe-bench-frappe-socketio.service": {(6, STALE)},  # unit named after socketio
	"systemd/frappe-bench-frappe-web.service": set(),  # the web unit's port is not realtime
	"supervisor/supervisor.conf": {(7, STALE)},  # [program:...-socketio]; the web program is not
	"caddy/Caddyfile": {(3, STALE)},  # handle /socket.io/* { reverse_proxy }
	"nginx/sites-available/erp": {(5, STALE)},  # `{` on the line after `location /socket.io`
	"tp20_stack.json": {(5, STALE)},  # "socketio": {"port": ...}; "web": {"port": ...} is not
	"fp01_versions.yml": set(),  # image tag v9001, version 9.0.01, --max-old-space-size, 9001ms, 9001s
	"fp02_nginx_timeouts.conf": set(),  # commented proxy_pass, timeouts, `/` on 9001 (a web port)
	"fp03_redis_socketio.conf": set(),  # v14's redis_socketio.conf: `port 9001` is Redis
	"fp04_notes.sh": set(),  # version strings and a timeout next to socket.io words
	"fp05_correct.conf": set(),  # the right port
	"fp07_realtime_named_site.conf": set(),  # a site called realtime.*: its web upstream is not realtime
}


def _by_file(findings: list[Finding]) -> dict[str, set[tuple[int, int]]]:
	out: dict[str, set[tuple[int, int]]] = {}
	for f in findings:
		out.setdefault(Path(f.file).relative_to(CORPUS).as_posix(), set()).add((f.line, f.port))
	return out


def test_corpus_has_enough_cases():
	assert len(EXPECTED) >= 20
	assert sum(1 for v in EXPECTED.values() if v) >= 15
	assert sum(1 for v in EXPECTED.values() if not v) >= 5


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_corpus_file(name):
	found = _by_file(audit_ports([CORPUS / name], PORT))
	assert found.get(name, set()) == EXPECTED[name]


def test_folder_walk_finds_exactly_the_expected():
	found = _by_file(audit_ports([CORPUS], PORT))
	expected = {k: v for k, v in EXPECTED.items() if v}
	assert found == expected


def test_folder_walk_skips_non_config_files_but_an_explicit_file_is_read():
	assert "fp06_notes.md" not in _by_file(audit_ports([CORPUS], PORT))
	assert [(f.line, f.port) for f in audit_ports([CORPUS / "fp06_notes.md"], PORT)] == [(1, STALE)]


def test_the_right_port_makes_every_realtime_line_clean():
	"""With socketio_port 9001 the stale lines are right: only realtime lines on 9000/9002 remain,
	and the baits that are never about the realtime service stay clean."""
	found = audit_ports([CORPUS], STALE)
	assert {f.port for f in found} == {9000, 9002}
	assert not {"fp03_redis_socketio.conf", "fp04_notes.sh"} & {Path(f.file).name for f in found}


def test_finding_fields_and_suggestions():
	[f] = audit_ports([CORPUS / "sites/erp.example.com/site_config.json"], PORT)
	assert f.text == '"socketio_port": 9001'
	assert "remove socketio_port from site_config.json" in f.suggestion
	[f] = audit_ports([CORPUS / "tp09_frontend.env"], PORT)
	assert "rebuild the frontend" in f.suggestion and "VITE_SOCKET_PORT=9000" in f.suggestion
	[f] = audit_ports([CORPUS / "tp01_nginx_location.conf"], PORT)
	assert "port 9000" in f.suggestion
	text = format_finding(f)
	assert text.startswith(f"{f.file}:8: port 9001: proxy_pass") and "fix:" in text


def test_skips_node_modules_git_binary_and_huge_files(tmp_path):
	stale = json.dumps({"socketio_port": STALE})
	for folder in ("node_modules/socket.io", ".git", "env"):
		(tmp_path / folder).mkdir(parents=True)
		(tmp_path / folder / "config.json").write_text(stale)
	(tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
	(tmp_path / "blob.json").write_bytes(b"\0\1\2" + stale.encode())
	(tmp_path / "huge.json").write_text(stale + " " * 1_100_000)
	(tmp_path / "real.json").write_text(stale)
	found = audit_ports([tmp_path], PORT)
	assert [Path(f.file).name for f in found] == ["real.json"]


@pytest.mark.parametrize(
	"target, options",
	[
		("nginx-vps", {}),
		("nginx-vps", {"upstream": ["10.0.0.5:9000", "10.0.0.6:9000"]}),
		("nginx-sandbox", {}),
		("traefik", {}),
		("traefik", {"format": "file"}),
	],
)
def test_rendered_configs_pass_the_audit_and_a_moved_port_is_caught(target, options):
	"""Our own output is audit-clean for its port, and the audit sees it go stale."""
	config = resolve("erp.example.com", {}, {"host_name": "https://erp.example.com", "socketio_port": PORT})
	name = "traefik.yml" if target == "traefik" else "raven.conf"
	text = render(target, config, **options)
	assert audit_text(text, PORT, name) == []
	stale = audit_text(text, 9002, name)
	assert stale and {f.port for f in stale} == {PORT}
	assert all("8000" not in f.text for f in stale)  # the web upstream is never flagged


def test_cli_exit_codes(tmp_path):
	runner = CliRunner()
	bad = runner.invoke(
		cli, ["audit-ports", str(CORPUS / "tp01_nginx_location.conf"), "--socketio-port", "9000"]
	)
	assert bad.exit_code == 1, bad.output
	assert "tp01_nginx_location.conf:8: port 9001" in bad.output and "fix:" in bad.output
	clean = runner.invoke(cli, ["audit-ports", str(CORPUS / "fp05_correct.conf"), "--socketio-port", "9000"])
	assert clean.exit_code == 0, clean.output
	assert runner.invoke(cli, ["audit-ports", str(CORPUS)]).exit_code == 2  # no port source
	assert runner.invoke(cli, ["audit-ports", str(CORPUS), "--socketio-port", "0"]).exit_code == 2
	assert (
		runner.invoke(cli, ["audit-ports", str(tmp_path / "missing"), "--socketio-port", "9000"]).exit_code
		== 2
	)


def test_cli_takes_the_port_from_the_bench(tmp_path):
	sites = tmp_path / "bench" / "sites"
	(sites / "erp.example.com").mkdir(parents=True)
	(sites / "common_site_config.json").write_text(json.dumps({"socketio_port": STALE}))
	(sites / "erp.example.com" / "site_config.json").write_text("{}")
	runner = CliRunner()
	args = ["audit-ports", str(CORPUS / "tp01_nginx_location.conf"), "--bench", str(tmp_path / "bench")]
	assert runner.invoke(cli, [*args, "--site", "erp.example.com"]).exit_code == 0
	common = ["--common-config", str(sites / "common_site_config.json")]
	assert (
		runner.invoke(cli, ["audit-ports", str(CORPUS / "tp02_nginx_bench_upstream.conf"), *common]).exit_code
		== 0
	)
	assert runner.invoke(cli, ["audit-ports", str(CORPUS / "fp05_correct.conf"), *common]).exit_code == 1


def test_diagnose_and_audit_ports_read_the_same_bench_files(tmp_path):
	"""One list: a stale port in the bench's config/nginx.conf, or Raven's frontend env, is found
	by `audit-ports --bench` and by the config check of `diagnose --bench` alike."""
	from click.testing import CliRunner

	from raven_ai_agent.cli import cli
	from raven_ai_agent.realtime.benchfiles import bench_audit_files

	bench = tmp_path / "bench"
	(bench / "sites" / "erp.test").mkdir(parents=True)
	(bench / "sites" / "common_site_config.json").write_text(
		'{"socketio_port": 9012, "webserver_port": 8012}'
	)
	# One line, as a hand-written file: host_name's port is not a realtime port.
	(bench / "sites" / "erp.test" / "site_config.json").write_text('{"host_name": "http://erp.test:8012"}')
	(bench / "config").mkdir()
	(bench / "config" / "nginx.conf").write_text(
		"location /socket.io {\n\tproxy_pass http://127.0.0.1:9013;\n}\n"
	)
	(bench / "apps" / "raven" / "frontend").mkdir(parents=True)
	(bench / "apps" / "raven" / "frontend" / ".env").write_text("VITE_SOCKET_PORT=9001\n")
	files = bench_audit_files(bench / "sites", "erp.test")
	assert [Path(f).name for f in files] == [
		"common_site_config.json",
		"site_config.json",
		"nginx.conf",
		".env",
	]
	args = ["--bench", str(bench), "--site", "erp.test"]
	audit = CliRunner().invoke(cli, ["audit-ports", *args])
	assert audit.exit_code == 1
	assert (
		"nginx.conf:2" in audit.stdout and ".env:1" in audit.stdout and "site_config.json" not in audit.stdout
	)
	diagnosis = CliRunner().invoke(cli, ["diagnose", *args, "--json", "--no-external", "--timeout", "0.5"])
	config_check = next(c for c in json.loads(diagnosis.stdout)["checks"] if c["name"] == "config")
	assert "nginx.conf:2 uses port 9013" in config_check["detail"]
	assert (
		".env:1 uses port 9001" in config_check["detail"] and "rebuild the frontend" in config_check["detail"]
	)
