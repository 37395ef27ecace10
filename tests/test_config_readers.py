"""Proxy configs read the way their servers read them (tests/config_corpus/).

Every nginx file of the corpus is accepted by real `nginx -t`, so none of it is a made-up
syntax; each finding of audit-proxy, the timeout audit and audit-ports is asserted with its
file:line; reflowing the tokens of a valid config (any blanks and line breaks between them)
changes no finding.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime import caddyfile, nginxconf, traefikconf
from raven_ai_agent.realtime.audit import audit_ports, audit_text
from raven_ai_agent.realtime.configfiles import read_configs
from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError
from raven_ai_agent.realtime.constants import ENGINEIO_PING_WINDOW
from raven_ai_agent.realtime.nginxconf import NginxSyntaxError, parse_text, serving_location, tokenize
from raven_ai_agent.realtime.proxyaudit import (
	audit_proxies,
	audit_proxy_text,
	audit_timeout_text,
	audit_timeouts,
)
from tests.stack import nginx_test
from tests.stack.procs import require_tool

CORPUS = Path(__file__).parent / "config_corpus"
WINDOW = ENGINEIO_PING_WINDOW

ORIGIN = "nginx sets Origin on every request"
SID_LOG = "the access log stores session ids"
SHORT = "is shorter than Engine.IO's heartbeat window"
DROPPED = "is not inherited here"
TRAEFIK = "Traefik sets a fixed Origin"
CADDY = "Caddy sets Origin on every request"

# (file, line, directive as written, what the finding says): everything audit-proxy must report.
EXPECTED_PROXY = {
	("bench/nginx.conf", 29, "location /socket.io {", SID_LOG),  # bench logs the session check
	("bench/nginx.conf", 34, "proxy_set_header Origin $scheme://$http_host;", ORIGIN),
	("frappe_docker/default.conf", 36, "location /socket.io {", SID_LOG),
	("frappe_docker/default.conf", 41, "proxy_set_header Origin $scheme://$host;", ORIGIN),
	# the socket location sets Host, so the server's (included) Upgrade and Connection are dropped
	("etc_nginx/conf.d/erp.conf", 6, "proxy_set_header Host $host;", "`proxy_set_header Upgrade"),
	("etc_nginx/conf.d/erp.conf", 6, "proxy_set_header Host $host;", "`proxy_set_header Connection"),
	# the 8085 server logs with a format that records $request
	("modifiers/locations.conf", 45, "location /socket.io {", SID_LOG),
	# Traefik through its parsers: a YAML flow mapping, a quoted TOML key, a compose label map
	(
		"traefik/dynamic.yml",
		11,
		'customRequestHeaders: {X-Frappe-Site-Name: erp.example.com, Origin: "https://erp.example.com"}',
		TRAEFIK,
	),
	("traefik/dynamic.toml", 11, '"Origin" = "https://erp.example.com"', TRAEFIK),
	(
		"compose/compose.yml",
		11,
		"traefik.http.middlewares.rt.headers.customrequestheaders.Origin: https://erp.example.com",
		TRAEFIK,
	),
	("caddy/Caddyfile", 11, 'header_up +Origin "https://erp.example.com"', CADDY),
}
EXPECTED_TIMEOUTS = {
	# the operator's compact line: the socket location's own 30 s
	("compact/site.conf", 6, "proxy_read_timeout 30s;", SHORT),
	# inherited from http in the main file, through `include conf.d/*.conf`
	("etc_nginx/nginx.conf", 5, "proxy_read_timeout 20s;", SHORT),
	# the regex beats the plain prefix (whose 5 s is never in force)
	("modifiers/locations.conf", 10, "proxy_read_timeout 10s;", SHORT),
	# `^~` stops the regex search (whose 1 s is never in force); the quoted value is read
	("modifiers/locations.conf", 19, 'proxy_send_timeout "15s";', SHORT),
	# a regex nested in `location /` serves; `= /socket.io` and `/socket.io/x` do not
	("modifiers/locations.conf", 35, "proxy_read_timeout 20;", SHORT),
	# Caddy: the reverse_proxy the @socket matcher sends it to; the catch-all's 5 s is not on it
	("caddy/Caddyfile", 13, "read_timeout 30s", SHORT),
}
# audit-ports with socketio_port 9000: (file, line, port).
EXPECTED_PORTS = {
	("bench/nginx.conf", 6, 9001),  # upstream frappe-bench-socketio-server
	("etc_nginx/conf.d/erp.conf", 7, 9001),  # read through the main file's include
	("compose/compose.yml", 4, 9001),  # a command written as a YAML list
	("compose/compose.yml", 6, 9001),  # environment, map form (REDIS_SOCKETIO beside it is Redis)
	("compose/compose.yml", 16, 9001),  # environment, list form
	("traefik/dynamic.toml", 14, 9001),  # the service of the socket.io router, [[...servers]]
}


def _rel(file: str) -> str:
	return Path(file).resolve().relative_to(CORPUS.resolve()).as_posix()


def _proxy(findings) -> set[tuple[str, int, str, str]]:
	out = set()
	for f in findings:
		kind = next(
			k
			for k in (
				ORIGIN,
				SID_LOG,
				SHORT,
				TRAEFIK,
				CADDY,
				"`proxy_set_header Upgrade",
				"`proxy_set_header Connection",
			)
			if k in f.problem
		)
		out.add((_rel(f.file), f.line, f.text, kind))
	return out


def test_audit_proxy_reports_each_finding_with_its_file_and_line():
	assert _proxy(audit_proxies([CORPUS])) == EXPECTED_PROXY
	dropped = [f for f in audit_proxies([CORPUS]) if DROPPED in f.problem]
	assert all(
		"etc_nginx/snippets/upgrade.conf:" in f.problem and "long-polling" in f.problem for f in dropped
	)


def test_timeouts_in_force_where_nginx_serves_the_socket_path():
	assert _proxy(audit_timeouts([CORPUS], WINDOW)) == EXPECTED_TIMEOUTS


def test_audit_ports_reads_nginx_by_directive():
	found = {(_rel(f.file), f.line, f.port) for f in audit_ports([CORPUS], 9000)}
	assert found == EXPECTED_PORTS
	# the right port: nothing; the included file is read once, through its includer
	assert audit_ports([CORPUS], 9001) and all(f.port != 9001 for f in audit_ports([CORPUS], 9001))


def test_cli_output_and_counts():
	result = CliRunner().invoke(cli, ["audit-proxy", str(CORPUS)])
	assert result.exit_code == 1
	total = len(EXPECTED_PROXY) + len(EXPECTED_TIMEOUTS)
	assert f"{total} proxy setting(s)" in result.stderr and result.stdout.count("why: ") == total
	assert f"{CORPUS / 'compact/site.conf'}:6: proxy_read_timeout 30s;" in result.stdout
	ports = CliRunner().invoke(cli, ["audit-ports", str(CORPUS), "--socketio-port", "9000"])
	assert ports.exit_code == 1 and f"{len(EXPECTED_PORTS)} place(s)" in ports.stderr
	assert (
		f"{CORPUS / 'bench/nginx.conf'}:6: port 9001: server 127.0.0.1:9001 fail_timeout=0;" in ports.stdout
	)


# ---- the operator's report: a compact file, the short timeout next to other directives ----------


def test_the_compact_socket_location_is_flagged_by_the_diagnosis_and_audit_proxy(tmp_path):
	bench = tmp_path / "bench"
	(bench / "sites" / "erp.test").mkdir(parents=True)
	(bench / "sites" / "common_site_config.json").write_text('{"socketio_port": 9000}')
	(bench / "sites" / "erp.test" / "site_config.json").write_text("{}")
	compact = tmp_path / "compact.conf"
	compact.write_text(
		"server { listen 80; location /socket.io/ { proxy_pass http://127.0.0.1:9000; "
		"proxy_http_version 1.1; proxy_read_timeout 30s; proxy_set_header Upgrade $http_upgrade; } }\n"
	)
	args = ["diagnose", "--bench", str(bench), "--site", "erp.test", "--json", "--no-external"]
	result = CliRunner().invoke(cli, [*args, "--timeout", "0.5", "--proxy-config", str(compact)])
	config = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "config")
	assert config["ok"] is False and f"{compact}:1 (proxy_read_timeout 30s;)" in config["detail"]
	assert result.exit_code != 0
	audit = CliRunner().invoke(cli, ["audit-proxy", str(compact)])
	assert audit.exit_code == 1 and f"{compact}:1: proxy_read_timeout 30s;" in audit.stdout
	# the same settings one per line are flagged the same way, on their own line
	spread = compact.read_text().replace("; ", ";\n").replace("{ ", "{\n")
	[finding] = audit_timeout_text(spread, WINDOW, "spread.conf")
	assert (finding.line, finding.text) == (6, "proxy_read_timeout 30s;")


# ---- real nginx accepts every nginx file of the corpus ------------------------------------------


def _nginx_files() -> list[Path]:
	"""The nginx files of the corpus that no other one includes (those are read through it)."""
	return [c.path for c in read_configs([CORPUS]) if c.nginx is not None]


def _wrapper(path: Path, top: list[nginxconf.Directive]) -> str:
	"""What nginx needs around a file written for inclusion: the main context's events/http, or
	a server for a bare list of locations."""
	names = {d.name for d in top}
	if "http" in names or "events" in names:
		return ""
	body = f"include {path};"
	if "location" in names:
		body = f"server {{ listen 127.0.0.1:8099; {body} }}"
	return f"pid nginx.pid; events {{ worker_connections 64; }} http {{ {body} }}\n"


@pytest.mark.parametrize("path", _nginx_files(), ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_nginx_accepts_every_nginx_file_of_the_corpus(path, tmp_path):
	nginx = require_tool("nginx")
	copy = tmp_path / "conf"
	shutil.copytree(CORPUS, copy)
	(tmp_path / "logs").mkdir()
	target = copy / path.relative_to(CORPUS)
	wrapper = _wrapper(target, parse_text(target.read_text(), str(target)))
	if wrapper:
		conf = tmp_path / "wrapper.conf"
		conf.write_text(wrapper)
	else:
		conf = target
	result = subprocess.run(
		[nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert result.returncode == 0, result.stderr
	assert "test is successful" in result.stderr


CADDYFILES = [
	CORPUS / "caddy/Caddyfile",
	CORPUS.parent / "audit_corpus/caddy/Caddyfile",
	CORPUS.parent / "audit_corpus/proxy/Caddyfile",
]


@pytest.mark.parametrize("path", CADDYFILES, ids=lambda p: p.relative_to(CORPUS.parent).as_posix())
def test_caddy_accepts_every_caddyfile_of_the_corpora(path):
	result = subprocess.run(
		[require_tool("caddy"), "adapt", "--config", str(path), "--adapter", "caddyfile"],
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert result.returncode == 0, result.stderr
	assert caddyfile.parse(path.read_text(), str(path))


def test_a_caddyfile_caddy_refuses_is_refused_at_the_same_line(tmp_path):
	bad = tmp_path / "Caddyfile"
	bad.write_text("a.example {\n\treverse_proxy 127.0.0.1:9000 { transport http }\n}\n")
	result = subprocess.run(
		[require_tool("caddy"), "adapt", "--config", str(bad), "--adapter", "caddyfile"],
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert result.returncode != 0 and f"{bad}:2" in result.stderr
	with pytest.raises(ConfigSyntaxError, match=f"{bad}:2: unexpected next token after"):
		caddyfile.parse(bad.read_text(), str(bad))
	assert CliRunner().invoke(cli, ["audit-proxy", str(bad)]).exit_code == 2


def test_the_corpus_covers_the_shapes_the_issue_names():
	files = {p.relative_to(CORPUS).as_posix() for p in _nginx_files()}
	assert {
		"bench/nginx.conf",
		"frappe_docker/default.conf",
		"compact/site.conf",
		"etc_nginx/nginx.conf",
	} <= files
	files |= {"etc_nginx/conf.d/erp.conf", "etc_nginx/snippets/upgrade.conf"}  # read through the include
	text = "\n".join((CORPUS / f).read_text() for f in files)
	for shape in (
		"include conf.d/*.conf",
		"location ~* ",
		"location ^~ ",
		"location = ",
		"if (",
		"map $http_origin",
		'"1; mode=block"',
		"  # ",
	):
		assert shape in text, shape


# ---- the grammar -----------------------------------------------------------------------------------


def test_tokens_quotes_escapes_comments_and_variables():
	text = 'add_header X "a;b # {c}" \'it\\\'s\';  # comment ; {\nset ${x}y "\\"q\\"";\nlocation ~ \\.php$ {}'
	directives = parse_text(text, "t.conf")
	assert [(d.name, d.args, d.line) for d in directives] == [
		("add_header", ("X", "a;b # {c}", "it's"), 1),
		("set", ("${x}y", '"q"'), 2),
		("location", ("~", "\\.php$"), 3),
	]
	assert directives[0].text == "add_header X \"a;b # {c}\" 'it\\'s';"


def test_a_directive_across_lines_takes_the_line_it_starts_on():
	[server] = parse_text("server {\n\tserver_name\n\t\ta.example\n\t\t;\n}\n", "t.conf")
	[name] = server.block
	assert (name.line, name.args, name.text) == (2, ("a.example",), "server_name a.example;")


@pytest.mark.parametrize(
	"text, line, message",
	[
		("server { listen 80;", 1, "never closed"),
		("listen 80", 1, 'expecting ";"'),
		("a;\n}\n", 2, 'unexpected "}"'),
		('a "b;\n', 1, "unterminated"),
		('a "b"c;', 1, 'unexpected "c"'),
		("a;\n;", 2, 'unexpected ";"'),
	],
)
def test_syntax_errors_name_file_and_line(text, line, message):
	with pytest.raises(NginxSyntaxError) as raised:
		parse_text(text, "bad.conf")
	assert raised.value.file == "bad.conf" and message in raised.value.message
	assert str(raised.value).startswith(f"bad.conf:{line}:") and raised.value.line == line


def test_a_file_nginx_would_refuse_is_a_clear_error_at_the_line_nginx_names(tmp_path):
	bad = tmp_path / "site.conf"
	bad.write_text("server {\n\tlocation /socket.io/ {\n\t\tproxy_read_timeout 30s\n\t}\n}\n")
	(tmp_path / "logs").mkdir()
	(tmp_path / "wrapper.conf").write_text(_wrapper(bad, []))
	nginx = subprocess.run(
		[
			require_tool("nginx"),
			"-t",
			"-p",
			str(tmp_path),
			"-c",
			str(tmp_path / "wrapper.conf"),
			"-e",
			"stderr",
		],
		capture_output=True,
		text=True,
		timeout=30,
	)
	assert nginx.returncode == 1 and f'unexpected "}}" in {bad}:4' in nginx.stderr
	result = CliRunner().invoke(cli, ["audit-proxy", str(bad)])
	assert result.exit_code == 2 and f'{bad}:4: unexpected "}}"' in result.output
	result = CliRunner().invoke(cli, ["audit-ports", str(bad), "--socketio-port", "9000"])
	assert result.exit_code == 2 and f"{bad}:4:" in result.output


def test_includes_follow_the_prefix_globs_in_order_and_loops_are_refused(tmp_path):
	(tmp_path / "nginx.conf").write_text("http { include sites-enabled/*; }\n")
	(tmp_path / "sites-enabled").mkdir()
	(tmp_path / "snippets").mkdir()
	(tmp_path / "sites-enabled" / "b").write_text(
		"server { include snippets/ws.conf; location /socket.io/ { proxy_pass http://127.0.0.1:9000; } }\n"
	)
	(tmp_path / "sites-enabled" / "a").write_text("server { listen 81; include snippets/missing.conf; }\n")
	(tmp_path / "snippets" / "ws.conf").write_text("proxy_read_timeout 10s;\n")
	config = nginxconf.load(tmp_path / "sites-enabled" / "b")  # prefix: the folder of nginx.conf
	assert [d.name for d in config.directives[0].block] == ["proxy_read_timeout", "location"]
	whole = nginxconf.load(tmp_path / "nginx.conf")
	assert [Path(f).name for f in whole.files] == ["nginx.conf", "a", "missing.conf", "b", "ws.conf"][:1] + [
		"a",
		"b",
		"ws.conf",
	]
	assert [d.args for d in whole.missing_includes] == [("snippets/missing.conf",)]
	[finding] = audit_timeouts([tmp_path / "nginx.conf"], WINDOW)
	assert (Path(finding.file).name, finding.line) == ("ws.conf", 1)
	(tmp_path / "snippets" / "ws.conf").write_text("include sites-enabled/b;\n")
	with pytest.raises(NginxSyntaxError, match="include loop"):
		nginxconf.load(tmp_path / "nginx.conf")


@pytest.mark.parametrize(
	"locations, serving",
	[
		("location /socket.io {} location / {}", "location /socket.io {"),
		("location / {} location /socket.io/ {} location /socket.io {}", "location /socket.io/ {"),
		("location /socket.io/ {} location ~ ^/socket {}", "location ~ ^/socket {"),
		("location ^~ /socket.io {} location ~ ^/socket {}", "location ^~ /socket.io {"),
		("location ~ ^/SOCKET {} location ~* ^/SOCKET {}", "location ~* ^/SOCKET {"),
		("location = /socket.io/ {} location ~ socket {}", "location = /socket.io/ {"),
		("location =/socket.io/ {} location ~ socket {}", "location =/socket.io/ {"),
		("location / { location ~ io/$ {} } location ~ socket {}", "location ~ io/$ {"),
		("location /s { location /socket.io/ {} } location ~ socket {}", "location ~ socket {"),
		("location ^~ /s { location /socket.io/ {} } location ~ socket {}", "location /socket.io/ {"),
		("location @socket.io {} location /api {}", None),
	],
)
def test_location_matching_follows_nginx(locations, serving):
	found = serving_location(parse_text(locations, "t.conf"), "/socket.io/")
	assert (found.text if found else None) == serving


# ---- fuzz: blanks and line breaks between tokens change nothing ----------------------------------

SEPARATORS = st.sampled_from([" ", "\n", "\t", "  ", "\n\n\t", " \r\n "])


def _reflow(text: str, file: str, data) -> str:
	"""The file's tokens (comments dropped) joined by random blanks: a word needs one before the
	next token, punctuation needs none."""
	out, previous_word = [], False
	for token in tokenize(text, file):
		if out:
			out.append(
				data.draw(SEPARATORS) if previous_word else data.draw(st.sampled_from(["", " ", "\n"]))
			)
		out.append(token.raw)
		previous_word = token.word
	return "".join(out) + "\n"


def _findings(text: str, file: str) -> list[tuple]:
	found = audit_proxy_text(text, file) + audit_timeout_text(text, WINDOW, file)
	ports = audit_text(text, 9000, file)
	return sorted((_rel(f.file), f.text, f.problem) for f in found) + sorted(
		(_rel(f.file), f.text, f.port) for f in ports
	)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(min_value=0, max_value=len(_nginx_files()) - 1))
def test_blanks_and_line_breaks_between_tokens_change_no_finding(data, index):
	path = _nginx_files()[index]
	text = path.read_text()
	reflowed = _reflow(text, str(path), data)
	assert _findings(reflowed, str(path)) == _findings(text, str(path))
	lines = reflowed.splitlines()
	for f in audit_proxy_text(reflowed, str(path)) + audit_timeout_text(reflowed, WINDOW, str(path)):
		if Path(f.file) == path:  # the reflowed file's own findings stand on their directive's line
			assert f.text.split()[0] in lines[f.line - 1]


def test_toml_settings_carry_the_line_their_statement_starts_on():
	text = (CORPUS / "traefik/dynamic.toml").read_text()
	found = {s.path: s.line for s in traefikconf.toml_settings(text, "dynamic.toml")}
	assert found[("http", "routers", "rt", "middlewares")] == 4  # a multi-line array: its first line
	assert found[("http", "services", "rt", "loadBalancer", "servers", "0", "url")] == 14
	with pytest.raises(ConfigSyntaxError, match="dynamic.toml"):
		traefikconf.toml_settings("[http\n", "dynamic.toml")


def test_yaml_labels_in_list_and_map_form_are_one_setting_each():
	text = (CORPUS / "compose/compose.yml").read_text()
	labels = {
		s.path: (s.line, s.value)
		for s in traefikconf.yaml_settings(text, "compose.yml")
		if s.path[0] == "traefik"
	}
	assert labels[("traefik", "http", "routers", "web", "rule")] == (19, "Host(`erp.example.com`)")
	assert labels[("traefik", "enable")] == (9, "true")
	environment = {
		s.text: s.line for s in traefikconf.yaml_settings(text, "compose.yml") if "environment" in s.where
	}
	assert environment["SOCKETIO_PORT: 9001"] == 6 and environment["- SOCKETIO=websocket:9001"] == 16


@pytest.mark.parametrize(
	"text, serving",
	[
		("a.example {\n\treverse_proxy /socket.io/* 127.0.0.1:9000\n\treverse_proxy 127.0.0.1:8000\n}\n", 2),
		(
			"a.example\nhandle /api/* {\n\treverse_proxy 127.0.0.1:8000\n}\nhandle {\n\treverse_proxy 127.0.0.1:9000\n}\n",
			6,
		),
		("a.example {\n\troute /socket.io* {\n\t\treverse_proxy 127.0.0.1:9000\n\t}\n}\n", 3),
	],
)
def test_caddy_reverse_proxy_serving_the_socket_path(text, serving):
	[proxy] = caddyfile.serving_proxies(caddyfile.parse(text, "Caddyfile"), "/socket.io/")
	assert proxy.line == serving


BLANKS = st.sampled_from([" ", "\t", "   ", " \t "])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_caddy_blanks_between_tokens_and_blank_lines_change_no_finding(data):
	"""In a Caddyfile a line break ends a directive, so only blanks on a line and whole blank lines
	may move."""
	path = CORPUS / "caddy/Caddyfile"
	text = path.read_text()
	out = []
	for line in text.splitlines():
		words = [t.raw for t in caddyfile._tokens(line, str(path))]
		if words:
			out.append(
				data.draw(BLANKS)
				+ data.draw(BLANKS).join(words)
				+ data.draw(st.sampled_from(["", " ", "\t"]))
			)
		out.extend([""] * data.draw(st.integers(min_value=0, max_value=2)))
	reflowed = "\n".join(out) + "\n"

	def findings(source: str) -> list[tuple]:
		found = audit_proxy_text(source, str(path)) + audit_timeout_text(source, WINDOW, str(path))
		return sorted((f.text, f.problem) for f in found) + sorted(
			(f.text, f.port) for f in audit_text(source, 9001, str(path))
		)

	assert findings(reflowed) == findings(text) and findings(text)


@pytest.mark.parametrize(
	"text, expected",
	[
		# "" removes the header: no overwrite
		('server { access_log off; location /socket.io/ { proxy_set_header Origin ""; } }', []),
		# no access_log anywhere: nginx logs `combined`, query included
		("server { location /socket.io/ { proxy_pass http://127.0.0.1:9000; } }", [(1, SID_LOG)]),
		# a nested socket location setting its own header drops its parent location's upgrade headers
		(
			"server { access_log off; location / { proxy_set_header Upgrade $http_upgrade;\n"
			"location /socket.io/ { proxy_set_header Host $host; proxy_pass http://127.0.0.1:9000; } } }",
			[(2, "`proxy_set_header Upgrade")],
		),
		# setting none of its own, the socket location inherits them: nothing lost
		(
			"server { access_log off; proxy_set_header Upgrade $http_upgrade;\n"
			"location /socket.io/ { proxy_pass http://127.0.0.1:9000; } }",
			[],
		),
		# repeating them is the fix
		(
			"server { access_log off; proxy_set_header Connection upgrade;\n"
			"location /socket.io/ { proxy_set_header connection upgrade; proxy_set_header Host $host; } }",
			[],
		),
	],
)
def test_inheritance_as_nginx_applies_it(text, expected):
	found = [
		(f.line, next(k for k in (SID_LOG, ORIGIN, "`proxy_set_header Upgrade") if k in f.problem))
		for f in audit_proxy_text(text, "site.conf")
	]
	assert found == expected
	ok, message = nginx_test(text)  # each case is nginx, not a made-up syntax
	assert ok, message
