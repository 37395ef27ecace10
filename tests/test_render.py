"""Rendering of the proxy/tunnel configs, read back: nginx text, Traefik and ngrok YAML, the CLI.

The real-nginx (and real-Traefik) runs are in test_render_nginx.py.
"""

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime import constants
from raven_ai_agent.realtime.render import (
	TARGETS,
	RenderError,
	options_of,
	render,
	render_nginx_sandbox,
	render_nginx_vps,
	render_ngrok,
	render_traefik,
)
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import nginx_test

SITE = "erp.example.com"


@pytest.fixture
def config():
	return resolve(SITE, {}, {"host_name": f"https://{SITE}", "socketio_port": 9000, "webserver_port": 8000})


@pytest.fixture
def sandbox():
	return resolve("abc.ngrok-free.app", {}, {"host_name": "https://abc.ngrok-free.app"})


def _block(text: str, header: str) -> str:
	"""The body of the nginx block whose header starts with `header`."""
	start = text.index(header)
	depth, i = 0, text.index("{", start)
	for j in range(i, len(text)):
		depth += {"{": 1, "}": -1}.get(text[j], 0)
		if depth == 0:
			return text[i + 1 : j]
	raise AssertionError(f"unclosed block {header}")


def _directives(body: str) -> list[str]:
	return [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]


# ---- nginx ------------------------------------------------------------------------------


def test_nginx_vps_defaults(config):
	text = render("nginx-vps", config)
	socketio = _directives(_block(text, "upstream raven_erp_example_com_socketio"))
	assert socketio == ["server 172.17.0.1:9000;"]
	assert _directives(_block(text, "upstream raven_erp_example_com_web")) == ["server 172.17.0.1:8000;"]
	server = _block(text, "server {")
	assert "listen 80;" in server and f"server_name {SITE};" in server
	location = _directives(_block(text, "location ^~ /socket.io/"))
	assert "proxy_pass http://raven_erp_example_com_socketio;" in location  # no URI: path unchanged
	assert "proxy_http_version 1.1;" in location
	assert "proxy_set_header Upgrade $http_upgrade;" in location
	assert "proxy_set_header Connection $raven_erp_example_com_connection;" in location
	assert "proxy_set_header Host $http_host;" in location
	assert "proxy_set_header Origin $raven_erp_example_com_origin;" in location
	assert f'proxy_set_header X-Frappe-Site-Name "{SITE}";' in location
	assert "proxy_set_header X-Forwarded-Proto $raven_erp_example_com_proto;" in location
	assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in location
	assert "proxy_buffering off;" in location
	for directive in ("proxy_read_timeout", "proxy_send_timeout"):
		[value] = [d for d in location if d.startswith(directive)]
		assert int(re.search(r"(\d+)s;", value).group(1)) > 45  # pingInterval + pingTimeout
	web = _directives(_block(text, "location / "))
	assert "proxy_pass http://raven_erp_example_com_web;" in web
	assert f'proxy_set_header X-Frappe-Site-Name "{SITE}";' in web
	assert "hash " not in text and "ip_hash" not in text  # one node: nothing to stick to


def test_nginx_maps_do_not_force_upgrade_trust_known_schemes_and_keep_the_origin(config):
	text = render_nginx_vps(config)
	connection = _directives(_block(text, "map $http_upgrade"))
	assert connection == ["default upgrade;", '""      close;']
	proto = _directives(_block(text, "map $http_x_forwarded_proto"))
	assert proto == ["default $scheme;", "https   https;", "http    http;", "wss     https;", "ws      http;"]
	origin = _directives(_block(text, "map $http_origin"))
	assert origin == ["default $http_origin;", '""      "$raven_erp_example_com_proto://$http_host";']


def test_nginx_output_is_http_level_only(config):
	"""Droppable into conf.d/ or an http{} block: no events{}, http{}, worker or pid lines."""
	for target in ("nginx-vps", "nginx-sandbox"):
		text = render(target, config)
		for top_level in ("events", "http {", "worker_processes", "pid ", "daemon", "user "):
			assert not any(line.startswith(top_level) for line in text.splitlines()), top_level
		assert text.count("{") == text.count("}")


def test_nginx_sandbox_defaults(config):
	text = render_nginx_sandbox(config)
	assert "listen 127.0.0.1:8080;" in text
	assert "server 127.0.0.1:9000;" in text and "server 127.0.0.1:8000;" in text
	assert "location ^~ /socket.io/ {" in text and "location / {" in text


def test_nginx_options(config):
	text = render(
		"nginx-sandbox",
		config,
		upstream_host="localhost",
		web_upstream="[::1]:8001",
		listen=8090,
		name="erp-sandbox",
		proxy_timeout=300,
	)
	assert "server localhost:9000;" in text and "server [::1]:8001;" in text
	assert "listen 8090;" in text
	assert "upstream erp_sandbox_socketio {" in text  # '-' is not allowed in nginx variables
	assert "proxy_read_timeout 300s;" in text


def test_custom_socketio_path(config):
	config = dataclasses.replace(config, socketio_path="/rt/socket.io/")
	assert "location ^~ /rt/socket.io/ {" in render("nginx-vps", config)
	labels = yaml.safe_load(render("traefik", config))["labels"]
	assert any(label.endswith("PathPrefix(`/rt/socket.io`)") for label in labels)


def test_scale_out_is_sticky(config):
	nodes = ["10.0.0.5:9000", "10.0.0.6:9002"]
	text = render("nginx-vps", config, upstream=nodes)
	# Where the hash is written, its limits and the alternative are said.
	assert "behind a CDN whose edge addresses rotate" in text and "behind one NAT" in text
	assert "Traefik's sticky cookie" in text
	upstream = _directives(_block(text, "upstream raven_erp_example_com_socketio"))
	assert upstream == [
		"hash $raven_erp_example_com_client consistent;",
		"server 10.0.0.5:9000;",
		"server 10.0.0.6:9002;",
	]
	client = _directives(_block(text, "map $http_x_forwarded_for"))
	assert client == ["default $http_x_forwarded_for;", '""      $remote_addr;']
	assert "hash " not in render("nginx-vps", config, upstream=nodes, sticky=False)
	assert "hash $" in render("nginx-vps", config, sticky=True)
	assert "server 10.0.0.5:9000;" in render("nginx-vps", config, upstream="10.0.0.5:9000")


# ---- hostile values ---------------------------------------------------------------------


@pytest.mark.parametrize(
	"target, option, value",
	[
		("nginx-vps", "upstream_host", "x; include /etc/passwd"),
		("nginx-vps", "upstream_host", "evil.com}"),
		("nginx-vps", "upstream", ["10.0.0.5:9000;"]),
		("nginx-vps", "upstream", ["10.0.0.5"]),  # no port
		("nginx-vps", "upstream", ["http://10.0.0.5:9000"]),
		("nginx-vps", "upstream", ["10.0.0.5:70000"]),
		("nginx-vps", "web_upstream", "10.0.0.5:8000 backup"),
		("nginx-sandbox", "listen", "80; ssl"),
		("nginx-sandbox", "listen", 0),
		("nginx-sandbox", "name", "a b"),
		("nginx-sandbox", "name", "x${y}"),
		("nginx-sandbox", "name", "1abc"),
		("nginx-vps", "proxy_timeout", 45),
		("nginx-vps", "proxy_timeout", "120"),
		("nginx-vps", "sticky", "yes"),
		("traefik", "entrypoint", "web secure"),
		("traefik", "cert_resolver", "le`x`"),
		("traefik", "name", "r.x"),
		("traefik", "format", "toml"),
		("ngrok", "listen", "localhost"),
	],
)
def test_hostile_or_bad_options_are_refused(config, target, option, value):
	with pytest.raises(RenderError) as e:
		render(target, config, **{option: value})
	assert option.replace("_", "-") in str(e.value)


@pytest.mark.parametrize(
	"field, value",
	[
		("site_name", 'erp"; return 200 "x'),
		("host", "erp.example.com; deny all"),
		("socketio_path", "/socket.io/ { }"),
		("socketio_path", "/socket.io"),
		("socketio_port", 0),
		("webserver_port", "8000;"),
		("base_url", "https://erp.example.com/evil path"),
		("host", "other.example.com"),  # disagrees with base_url
	],
)
def test_hostile_config_values_are_refused_by_every_target(config, field, value):
	bad = dataclasses.replace(config, **{field: value})
	for target in TARGETS:
		with pytest.raises(RenderError, match=f"config {field}"):
			render(target, bad)


def test_unknown_target_and_option(config):
	with pytest.raises(RenderError) as e:
		render("apache", config)
	assert all(t in str(e.value) for t in TARGETS)
	with pytest.raises(RenderError) as e:
		render("nginx-vps", config, format="file")
	assert "--format does not apply to nginx-vps" in str(e.value) and "--upstream-host" in str(e.value)
	assert issubclass(RenderError, ValueError)
	assert options_of("ngrok") == ("listen", "name")


# ---- Traefik ----------------------------------------------------------------------------


def _labels(text: str, key: str = "labels") -> dict[str, str]:
	data = yaml.safe_load(text)
	assert set(data) <= {"labels", "web_labels"}
	return dict(label.split("=", 1) for label in data[key])


def test_traefik_labels(config):
	labels = _labels(render_traefik(config))
	r, m = (
		"traefik.http.routers.raven_erp_example_com",
		"traefik.http.middlewares.raven_erp_example_com-headers",
	)
	assert labels["traefik.enable"] == "true"
	assert labels[f"{r}.rule"] == f"Host(`{SITE}`) && PathPrefix(`/socket.io`)"
	assert labels[f"{r}.entrypoints"] == "websecure"
	assert labels[f"{r}.tls"] == "true"
	assert labels[f"{r}.tls.certresolver"] == "letsencrypt"
	assert labels[f"{r}.service"] == "raven_erp_example_com"
	assert labels[f"{r}.middlewares"] == "raven_erp_example_com-headers"
	assert labels[f"{m}.headers.customrequestheaders.Origin"] == f"https://{SITE}"
	assert labels[f"{m}.headers.customrequestheaders.X-Frappe-Site-Name"] == SITE
	assert labels["traefik.http.services.raven_erp_example_com.loadbalancer.server.port"] == "9000"
	assert not any(".sticky." in k for k in labels)


def test_traefik_label_options_and_sticky(config):
	labels = _labels(
		render_traefik(
			config,
			entrypoint="web",
			cert_resolver="le",
			name="erp-rt",
			upstream=["10.0.0.5:9000", "10.0.0.6:9000"],
		)
	)
	assert labels["traefik.http.routers.erp-rt.entrypoints"] == "web"
	assert labels["traefik.http.routers.erp-rt.tls.certresolver"] == "le"
	cookie = "traefik.http.services.erp-rt.loadbalancer.sticky.cookie"
	assert labels[cookie] == "true" and labels[f"{cookie}.name"] == constants.STICKY_COOKIE_NAME
	assert labels[f"{cookie}.secure"] == "true" and labels[f"{cookie}.httponly"] == "true"
	no_tls = _labels(render_traefik(config, tls=False))
	assert not any(".tls" in k for k in no_tls)
	with pytest.raises(RenderError, match="--upstream.*--format file"):
		render_traefik(config, upstream=["10.0.0.5:9000", "10.0.0.6:9002"])


def test_traefik_file_provider(config):
	data = yaml.safe_load(render_traefik(config, format="file", upstream=["10.0.0.5:9000", "10.0.0.6:9002"]))
	http = data["http"]
	router = http["routers"]["raven_erp_example_com"]
	assert router["rule"] == f"Host(`{SITE}`) && PathPrefix(`/socket.io`)"
	assert router["entryPoints"] == ["websecure"]
	assert router["tls"] == {"certResolver": "letsencrypt"}
	assert router["service"] in http["services"]
	assert all(name in http["middlewares"] for name in router["middlewares"])
	headers = http["middlewares"][router["middlewares"][0]]["headers"]["customRequestHeaders"]
	assert headers == {"Origin": f"https://{SITE}", "X-Frappe-Site-Name": SITE}
	balancer = http["services"][router["service"]]["loadBalancer"]
	assert balancer["servers"] == [{"url": "http://10.0.0.5:9000"}, {"url": "http://10.0.0.6:9002"}]
	assert balancer["passHostHeader"] is True
	assert balancer["sticky"]["cookie"]["name"] == constants.STICKY_COOKIE_NAME
	single = yaml.safe_load(render_traefik(config, format="file", tls=False))["http"]
	assert "tls" not in single["routers"]["raven_erp_example_com"]
	assert "sticky" not in single["services"]["raven_erp_example_com"]["loadBalancer"]
	servers = single["services"]["raven_erp_example_com"]["loadBalancer"]["servers"]
	assert servers == [{"url": "http://172.17.0.1:9000"}]


def test_the_realtime_shape_routes_the_whole_site(config):
	"""Traefik straight to the bench: the socket path to the realtime port, the rest to the web."""
	web = _labels(render_traefik(config), "web_labels")
	r = "traefik.http.routers.raven_erp_example_com-web"
	assert web[f"{r}.rule"] == f"Host(`{SITE}`)"
	assert web["traefik.http.services.raven_erp_example_com-web.loadbalancer.server.port"] == "8000"
	assert "customrequestheaders.Origin" not in " ".join(web)  # the web server needs no Origin
	http = yaml.safe_load(render_traefik(config, format="file", web_upstream="10.0.0.7:8000"))["http"]
	assert set(http["routers"]) == {"raven_erp_example_com", "raven_erp_example_com-web"}
	servers = http["services"]["raven_erp_example_com-web"]["loadBalancer"]["servers"]
	assert servers == [{"url": "http://10.0.0.7:8000"}]


def test_the_sidecar_shape_sends_everything_to_nginx_and_sets_no_origin(config):
	text = render_traefik(config, shape="sidecar", format="file", sidecar="10.0.0.8:8080")
	assert "shape `sidecar`" in text and "keeps the browser's Origin" in text
	http = yaml.safe_load(text)["http"]
	assert list(http["routers"]) == ["raven_erp_example_com"]
	router = http["routers"]["raven_erp_example_com"]
	assert router["rule"] == f"Host(`{SITE}`)" and "middlewares" not in router and "middlewares" not in http
	assert http["services"]["raven_erp_example_com"]["loadBalancer"]["servers"] == [
		{"url": "http://10.0.0.8:8080"}
	]
	labels = _labels(render_traefik(config, shape="sidecar"))
	assert labels["traefik.http.services.raven_erp_example_com.loadbalancer.server.port"] == "80"
	with pytest.raises(RenderError, match="--sidecar HOST:PORT"):
		render_traefik(config, shape="sidecar", upstream=["10.0.0.5:9000"])
	with pytest.raises(RenderError, match="--shape"):
		render_traefik(config, shape="edge")


def test_tls_from_the_default_store_without_a_resolver(config):
	router = yaml.safe_load(render_traefik(config, format="file", cert_resolver=""))["http"]["routers"]
	assert all(r["tls"] == {} for r in router.values())
	labels = _labels(render_traefik(config, cert_resolver=""))
	assert labels["traefik.http.routers.raven_erp_example_com.tls"] == "true"
	assert not any(k.endswith("certresolver") for k in labels)


def test_every_traefik_output_says_how_to_keep_session_ids_out_of_the_access_log(config):
	for shape in ("realtime", "sidecar"):
		assert "accessLog.fields.names.RequestPath=drop" in render_traefik(config, shape=shape)


# ---- ngrok ------------------------------------------------------------------------------


def test_ngrok_config(sandbox):
	text = render_ngrok(sandbox)
	data = yaml.safe_load(text)
	assert data["version"] == 3
	assert isinstance(data["agent"], dict) and "authtoken" not in data["agent"]
	[endpoint] = data["endpoints"]
	assert re.fullmatch(r"raven_abc_ngrok_free_app_[0-9a-f]{6}", endpoint["name"])  # "-" is lossy: hashed
	assert endpoint["url"] == "https://abc.ngrok-free.app"
	assert endpoint["upstream"] == {"url": "http://127.0.0.1:8080", "protocol": "http1"}
	# Nothing that rewrites Host: no host_header, no request header policy.
	assert "host_header" not in text and "traffic_policy" not in text and "request_header" not in text
	assert '--authtoken "$NGROK_AUTHTOKEN"' in text  # the comment tells how to pass it


def test_ngrok_listen_follows_the_multiplexer(sandbox):
	upstream = yaml.safe_load(render_ngrok(sandbox, listen="0.0.0.0:8081"))["endpoints"][0]["upstream"]
	assert upstream["url"] == "http://127.0.0.1:8081"
	upstream = yaml.safe_load(render_ngrok(sandbox, listen=8082))["endpoints"][0]["upstream"]
	assert upstream["url"] == "http://127.0.0.1:8082"


def test_ngrok_token_in_the_environment_never_reaches_the_output(sandbox, monkeypatch, tmp_path):
	token = "2abcDEFsecretTOKEN_0123456789"
	monkeypatch.setenv(constants.NGROK_AUTHTOKEN_ENV, token)
	assert token not in render("ngrok", sandbox)
	site_config = tmp_path / "site_config.json"
	site_config.write_text('{"host_name": "https://abc.ngrok-free.app"}')
	out = tmp_path / "ngrok.yml"
	args = ["render", "ngrok", "--site", "abc.ngrok-free.app", "--site-config", str(site_config)]
	result = CliRunner().invoke(cli, args)
	assert result.exit_code == 0 and token not in result.output
	assert CliRunner().invoke(cli, [*args, "--output", str(out)]).exit_code == 0
	assert token not in out.read_text() and "endpoints:" in out.read_text()


# ---- CLI --------------------------------------------------------------------------------


@pytest.fixture
def bench(tmp_path):
	sites = tmp_path / "bench" / "sites"
	(sites / SITE).mkdir(parents=True)
	(sites / "common_site_config.json").write_text(
		f'{{"socketio_port": 9010, "webserver_port": 8010, "host_name": "https://{SITE}"}}'
	)
	(sites / SITE / "site_config.json").write_text("{}")
	return ["--bench", str(tmp_path / "bench"), "--site", SITE]


def test_cli_render_uses_the_bench_config(bench):
	result = CliRunner().invoke(cli, ["render", "nginx-vps", *bench])
	assert result.exit_code == 0, result.output
	assert "server 172.17.0.1:9010;" in result.output and "server 172.17.0.1:8010;" in result.output
	result = CliRunner().invoke(cli, ["render", "nginx-sandbox", *bench, "--upstream", "127.0.0.1:9010"])
	assert result.exit_code == 0 and "server 127.0.0.1:9010;" in result.output
	result = CliRunner().invoke(
		cli, ["render", "traefik", *bench, "--format", "file", "--no-tls", "--entrypoint", "web"]
	)
	assert result.exit_code == 0, result.output
	router = yaml.safe_load(result.output)["http"]["routers"]["raven_erp_example_com"]
	assert router["entryPoints"] == ["web"] and "tls" not in router


@pytest.mark.parametrize("target", ["nginx-vps", "nginx-sandbox", "traefik", "ngrok"])
def test_rendering_a_proxy_for_a_local_site_warns_and_names_the_fix(tmp_path, target):
	"""A `local` site sends browsers straight to the socket port, around any proxy in front."""
	sites = tmp_path / "bench" / "sites"
	(sites / "realtime.test").mkdir(parents=True)
	(sites / "common_site_config.json").write_text('{"socketio_port": 9010, "webserver_port": 8010}')
	(sites / "realtime.test" / "site_config.json").write_text('{"host_name": "http://realtime.test:8010"}')
	args = ["render", target, "--bench", str(tmp_path / "bench"), "--site", "realtime.test"]
	result = CliRunner().invoke(cli, args)
	assert result.exit_code == 0, result.output
	assert "resolves as local" in result.stderr and "http://realtime.test:9010" in result.stderr
	assert "set host_name to the address this proxy serves" in result.stderr
	assert "Deployment Type to " in result.stderr
	assert "resolves as local" not in result.stdout


def test_rendering_for_a_proxied_site_does_not_warn(bench):
	result = CliRunner().invoke(cli, ["render", "nginx-vps", *bench])
	assert result.exit_code == 0 and "resolves as local" not in result.stderr


def test_cli_render_repeated_upstreams_and_output_file(bench, tmp_path):
	out = tmp_path / "raven.conf"
	args = ["render", "nginx-vps", *bench, "--upstream", "10.0.0.5:9010", "--upstream", "10.0.0.6:9010"]
	result = CliRunner().invoke(cli, [*args, "-o", str(out)])
	assert result.exit_code == 0, result.output
	text = out.read_text()
	assert "server 10.0.0.5:9010;" in text and "server 10.0.0.6:9010;" in text and "hash $" in text


@pytest.mark.parametrize(
	"args, message",
	[
		(["nginx-vps", "--upstream", "10.0.0.5"], "--upstream"),
		(["nginx-vps", "--format", "file"], "--format does not apply to nginx-vps"),
		(["traefik", "--listen", "80"], "--listen does not apply to traefik"),
		(["nginx-vps", "--proxy-timeout", "30"], "--proxy-timeout"),
		(["traefik", "--cert-resolver", "a;b"], "--cert-resolver"),
		(["apache"], "nginx-vps"),
	],
)
def test_cli_render_bad_options_exit_2(bench, args, message):
	result = CliRunner().invoke(cli, ["render", args[0], *bench, *args[1:]])
	assert result.exit_code == 2, result.output
	assert message in result.output


# ---- hygiene ----------------------------------------------------------------------------


def test_no_hard_coded_bench_ports_outside_constants():
	root = Path(__file__).parents[1] / "raven_ai_agent"
	# Every module of the package but the one home of defaults, and every template.
	files = [p for p in sorted(root.rglob("*.py")) if p.name != "constants.py"]
	files += sorted((root / "realtime" / "templates").glob("*.j2"))
	files += sorted((root / "public" / "js").glob("*.js"))
	for path in files:
		for port in ("9000", "9001", "8000"):
			assert not re.search(rf"(?<!\d){port}(?!\d)", path.read_text()), f"{port} in {path.name}"


# ---- fuzz: no value can change the structure of a config ----------------------------------

_STRUCTURE = str.maketrans(
	{c: None for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
)


def _shape(text: str) -> list[str]:
	"""Every line without host/port/name characters: quotes, braces, `;`, `$` and `#` remain."""
	return [re.sub(r"[.\-_:\[\]]", "", line.translate(_STRUCTURE)) for line in text.splitlines()]


@settings(max_examples=300, deadline=None)
@given(
	option=st.sampled_from(["upstream_host", "upstream", "web_upstream", "listen", "name"]),
	value=st.one_of(
		st.text(max_size=40),
		st.from_regex(r"[a-z0-9.:\[\]; {}\"'$`#\n-]{1,30}", fullmatch=True),
	),
)
def test_fuzzed_nginx_options_are_refused_or_harmless(option, value):
	config = resolve(SITE, {}, {"host_name": f"https://{SITE}"})
	baseline = _shape(render("nginx-sandbox", config))
	try:
		text = render("nginx-sandbox", config, **{option: value})
	except RenderError:
		return
	assert _shape(text) == baseline, (option, value)


@settings(max_examples=200, deadline=None)
@given(
	option=st.sampled_from(["entrypoint", "cert_resolver", "name", "upstream_host"]),
	value=st.text(max_size=30),
)
def test_fuzzed_traefik_options_are_refused_or_stay_one_value(option, value):
	config = resolve(SITE, {}, {"host_name": f"https://{SITE}"})
	try:
		text = render("traefik", config, **{option: value})
	except RenderError:
		return
	labels = yaml.safe_load(text)["labels"]
	assert all(label.count("=") == 1 or ".rule=" in label for label in labels)
	assert not any(c in "".join(labels) for c in "\n\r\"'${};")


def test_long_site_names_give_short_unique_names():
	"""nginx variables derived from the name must fit variables_hash_bucket_size."""
	long_a = "a" * 40 + ".example.com"
	long_b = "a" * 40 + ".example.org"
	names = set()
	for site in (long_a, long_b):
		text = render("nginx-vps", resolve(site, {}, {"host_name": f"https://{site}"}))
		[name] = set(re.findall(r"upstream (raven_[a-z0-9_]+)_socketio", text)) or {None}
		assert name and len(name) <= 32, name
		names.add(name)
	assert len(names) == 2


def test_names_stay_unique_per_site_when_slugs_collide():
	"""`realtime-b.test` and `realtime.b.test` both slug to realtime_b_test: two files in one
	nginx would declare the same upstream and fail `nginx -t`."""
	sites = ["realtime-b.test", "realtime.b.test", "realtime_b.test", "Realtime.B.test"]
	configs = [resolve(site, {}, {"host_name": f"https://{site.lower()}"}) for site in sites]
	names = [yaml.safe_load(render("ngrok", c))["endpoints"][0]["name"] for c in configs]
	assert len(set(names)) == len(names), names
	assert "raven_realtime_b_test" in names  # the plain one keeps its readable name
	ok, message = nginx_test("".join(render("nginx-vps", c) for c in configs))
	assert ok, message


def test_cli_render_bench_every_site_or_the_named_ones(tmp_path):
	bench = tmp_path / "bench"
	for site in ("a.example.com", "b.example.com"):
		(bench / "sites" / site).mkdir(parents=True)
		(bench / "sites" / site / "site_config.json").write_text(json.dumps({"host_name": f"https://{site}"}))
	(bench / "sites" / "common_site_config.json").write_text(
		'{"socketio_port": 9010, "webserver_port": 8010}'
	)
	(bench / "sites" / "assets").mkdir()  # not a site: no site_config.json
	result = CliRunner().invoke(cli, ["render-bench", "nginx-vps", "--bench", str(bench)])
	assert result.exit_code == 0, result.output
	assert "server_name a.example.com;" in result.stdout and "server_name b.example.com;" in result.stdout
	assert "listen 80 default_server;" in result.stdout and "return 444;" in result.stdout
	one = CliRunner().invoke(
		cli, ["render-bench", "traefik", "--bench", str(bench), "--site", "b.example.com", "--format", "file"]
	)
	routers = yaml.safe_load(one.stdout)["http"]["routers"]
	assert set(routers) == {"raven_b_example_com", "raven_b_example_com-web"}
	both = yaml.safe_load(
		CliRunner().invoke(cli, ["render-bench", "traefik", "--bench", str(bench), "--format", "file"]).stdout
	)
	assert {"raven_a_example_com", "raven_b_example_com"} <= set(both["http"]["routers"])
	missing = CliRunner().invoke(
		cli, ["render-bench", "nginx-vps", "--bench", str(bench), "--site", "c.example.com"]
	)
	assert missing.exit_code == 2 and "c.example.com" in missing.output
