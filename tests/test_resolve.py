"""The resolver table: every rule of the config model, by example."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from raven_ai_agent.realtime.constants import DEFAULT_SOCKETIO_PORT, DEFAULT_WEBSERVER_PORT
from raven_ai_agent.realtime.resolve import DeploymentType, RavenConfig, Source, resolve

REPO = Path(__file__).resolve().parent.parent
SITE = "erp.test"

L, S, V = DeploymentType.LOCAL, DeploymentType.SANDBOX, DeploymentType.VPS_PROD

# (id, host_name, common extra, settings, expected type, base url, socket url)
# fmt: off
TABLE = [
	("operator-vps-url", "https://v2.sysmayal.cloud", {}, {}, V, "https://v2.sysmayal.cloud", "https://v2.sysmayal.cloud"),
	("bare-host-is-https", "v2.sysmayal.cloud", {}, {}, V, "https://v2.sysmayal.cloud", "https://v2.sysmayal.cloud"),
	("http-scheme-kept", "http://erp.example.com", {}, {}, V, "http://erp.example.com", "http://erp.example.com"),
	("explicit-port-kept", "https://erp.example.com:8443", {}, {}, V, "https://erp.example.com:8443", "https://erp.example.com:8443"),
	("default-port-dropped", "https://erp.example.com:443", {}, {}, V, "https://erp.example.com", "https://erp.example.com"),
	("upper-case-host", "HTTPS://ERP.Example.COM", {}, {}, V, "https://erp.example.com", "https://erp.example.com"),
	("trailing-slash", "https://erp.example.com/", {}, {}, V, "https://erp.example.com", "https://erp.example.com"),
	("operator-ngrok-io", "sysmayal.ngrok.io", {}, {}, S, "https://sysmayal.ngrok.io", "https://sysmayal.ngrok.io"),
	("ngrok-app", "https://raven.ngrok.app", {}, {}, S, "https://raven.ngrok.app", "https://raven.ngrok.app"),
	("ngrok-free-app", "abc-12.ngrok-free.app", {}, {}, S, "https://abc-12.ngrok-free.app", "https://abc-12.ngrok-free.app"),
	("ngrok-dev", "raven.ngrok.dev", {}, {}, S, "https://raven.ngrok.dev", "https://raven.ngrok.dev"),
	("ngrok-free-dev", "raven.ngrok-free.dev", {}, {}, S, "https://raven.ngrok-free.dev", "https://raven.ngrok-free.dev"),
	("not-ngrok-lookalike", "ngrok.io.example.com", {}, {}, V, "https://ngrok.io.example.com", "https://ngrok.io.example.com"),
	("localhost", "localhost", {}, {}, L, "http://localhost:8000", "http://localhost:9000"),
	("loopback-ip", "127.0.0.1", {}, {}, L, "http://127.0.0.1:8000", "http://127.0.0.1:9000"),
	("ipv6-loopback", "[::1]", {}, {}, L, "http://[::1]:8000", "http://[::1]:9000"),
	("dot-localhost", "raven.localhost", {}, {}, L, "http://raven.localhost:8000", "http://raven.localhost:9000"),
	("dot-local", "site1.local", {}, {}, L, "http://site1.local:8000", "http://site1.local:9000"),
	("dot-test", "raven.test", {}, {}, L, "http://raven.test:8000", "http://raven.test:9000"),
	("private-ip-with-port", "http://10.0.0.5:8000", {}, {}, L, "http://10.0.0.5:8000", "http://10.0.0.5:9000"),
	("private-192", "192.168.1.20", {}, {}, L, "http://192.168.1.20:8000", "http://192.168.1.20:9000"),
	("public-ip-is-vps", "93.184.216.34", {}, {}, V, "https://93.184.216.34", "https://93.184.216.34"),
	("no-host-name-is-local", None, {}, {}, L, f"http://{SITE}:8000", f"http://{SITE}:9000"),
	("local-custom-ports", "localhost", {"socketio_port": 9100, "webserver_port": 8100}, {}, L, "http://localhost:8100", "http://localhost:9100"),
	("vps-ignores-socketio-port", "erp.example.com", {"socketio_port": 9100}, {}, V, "https://erp.example.com", "https://erp.example.com"),
	("override-type-and-url", "localhost", {}, {"deployment_type": "sandbox", "base_url": "https://t.example.org"}, S, "https://t.example.org", "https://t.example.org"),
	("override-url-only", "erp.example.com", {}, {"base_url": "https://other.example.com"}, V, "https://other.example.com", "https://other.example.com"),
	("override-url-local-keeps-port-rule", "localhost", {}, {"base_url": "http://dev.example.test:8000"}, L, "http://dev.example.test:8000", "http://dev.example.test:9000"),
	("override-type-local", "erp.example.com", {}, {"deployment_type": "local"}, L, "http://erp.example.com:8000", "http://erp.example.com:9000"),
	("auto-is-not-override", "sysmayal.ngrok.io", {}, {"deployment_type": "Auto", "base_url": ""}, S, "https://sysmayal.ngrok.io", "https://sysmayal.ngrok.io"),
	("empty-settings-not-override", "erp.example.com", {}, {"deployment_type": "", "base_url": None, "socketio_path": ""}, V, "https://erp.example.com", "https://erp.example.com"),
	("idn-host", "bücher.example", {}, {}, V, "https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
	# The page's port decides: only the bench's own web port over http means no proxy in front.
	("proxy-on-8080-before-a-test-host", "http://realtime.test:8080", {}, {}, V, "http://realtime.test:8080", "http://realtime.test:8080"),
	("proxy-on-80-before-a-test-host", "http://realtime.test", {}, {}, V, "http://realtime.test", "http://realtime.test"),
	("proxy-before-localhost", "http://raven.localhost", {}, {}, V, "http://raven.localhost", "http://raven.localhost"),
	("proxy-before-a-private-ip", "http://192.168.1.20:8080", {}, {}, V, "http://192.168.1.20:8080", "http://192.168.1.20:8080"),
	("tls-before-a-local-host", "https://site1.local", {}, {}, V, "https://site1.local", "https://site1.local"),
	("bench-web-port-is-direct", "http://realtime.test:8000", {}, {}, L, "http://realtime.test:8000", "http://realtime.test:9000"),
	("bare-host-with-web-port", "localhost:8000", {}, {}, L, "http://localhost:8000", "http://localhost:9000"),
	("custom-web-port-is-direct", "http://realtime.test:8012", {"webserver_port": 8012, "socketio_port": 9012}, {}, L, "http://realtime.test:8012", "http://realtime.test:9012"),
	("bench-on-port-80", "http://lan.local", {"webserver_port": 80}, {}, L, "http://lan.local", "http://lan.local:9000"),
	("public-host-on-the-web-port", "http://erp.example.com:8000", {}, {}, L, "http://erp.example.com:8000", "http://erp.example.com:9000"),
]
# fmt: on


@pytest.mark.parametrize(
	"host_name,common_extra,settings,dtype,base,socket",
	[row[1:] for row in TABLE],
	ids=[row[0] for row in TABLE],
)
def test_resolution_table(host_name, common_extra, settings, dtype, base, socket):
	site = {"host_name": host_name} if host_name is not None else {}
	common = {
		"socketio_port": DEFAULT_SOCKETIO_PORT,
		"webserver_port": DEFAULT_WEBSERVER_PORT,
		**common_extra,
	}
	config = resolve(SITE, site, common, settings)
	assert config.deployment_type is dtype
	assert config.get_external_http_base() == base
	assert config.get_external_socketio_url() == socket
	assert not config.base_url.endswith("/")


def test_table_is_large_enough():
	assert len(TABLE) >= 30


def test_deployment_type_values_are_the_contract():
	assert [d.value for d in DeploymentType] == ["vps_prod", "sandbox", "local"]
	assert DeploymentType("sandbox") == "sandbox"  # str enum: compares with plain strings


def test_config_is_immutable():
	config = resolve(SITE, {"host_name": "erp.example.com"})
	with pytest.raises(AttributeError):
		config.socketio_port = 1  # type: ignore[misc]
	with pytest.raises(TypeError):
		config.sources["base_url"] = Source.DEFAULT  # type: ignore[index]


def test_internal_url_and_context():
	config = resolve("erp.example.com", {"host_name": "https://erp.example.com"}, {"socketio_port": 9100})
	assert config.get_internal_socketio_url() == "http://127.0.0.1:9100"
	assert config.get_frontend_context() == {
		"deployment_type": "vps_prod",
		"socketio_base_url": "https://erp.example.com",
		"socketio_path": "/socket.io/",
		"socketio_namespace": "/erp.example.com",
		"transports": ["websocket", "polling"],
	}


def test_context_has_nothing_internal():
	config = resolve(
		"erp.example.com",
		{"host_name": "https://erp.example.com", "redis_queue": "redis://secret-host:6379"},
		{"socketio_port": 9123, "webserver_port": 8123},
	)
	text = json.dumps(config.get_frontend_context())
	for internal in ("9123", "8123", "redis", "secret-host", "127.0.0.1"):
		assert internal not in text
	assert config.redis_url == "redis://secret-host:6379"


# -- socketio_port: the common file is the truth ------------------------------------------


def test_socketio_port_from_common():
	config = resolve(SITE, {}, {"socketio_port": 9100})
	assert config.socketio_port == 9100
	assert config.sources["socketio_port"] is Source.COMMON_CONFIG
	assert config.warnings == ()


def test_socketio_port_default_when_absent():
	config = resolve(SITE, {}, {})
	assert config.socketio_port == DEFAULT_SOCKETIO_PORT
	assert config.sources["socketio_port"] is Source.DEFAULT


def test_site_socketio_port_is_ignored_with_warning():
	"""Frappe's merged conf lets the site value win; the Node service never reads it."""
	merged = {"socketio_port": 9001, "host_name": "localhost"}
	config = resolve(SITE, merged, {"socketio_port": 9000})
	assert config.socketio_port == 9000
	assert config.get_external_socketio_url() == "http://localhost:9000"
	[warning] = config.warnings
	assert "site_config.json" in warning and "9001" in warning and "9000" in warning


def test_merged_conf_equal_to_common_is_attributed_to_common():
	config = resolve(
		SITE, {"socketio_port": 9100, "webserver_port": 8100}, {"socketio_port": 9100, "webserver_port": 8100}
	)
	assert config.sources["socketio_port"] is Source.COMMON_CONFIG
	assert config.sources["webserver_port"] is Source.COMMON_CONFIG
	assert config.warnings == ()


@pytest.mark.parametrize("bad", ["abc", -1, 0, 70000, 3.5, True, [9000], {"p": 1}, ""])
def test_bad_common_socketio_port_falls_back_and_names_it(bad):
	config = resolve(SITE, {}, {"socketio_port": bad})
	assert config.socketio_port == DEFAULT_SOCKETIO_PORT
	assert config.sources["socketio_port"] is Source.DEFAULT
	assert any(
		"common_site_config.json" in w and "socketio_port" in w and repr(bad) in w for w in config.warnings
	)


@pytest.mark.parametrize("good,expected", [("9100", 9100), (9100.0, 9100), (" 9100 ", 9100)])
def test_port_strings_and_integral_floats_are_accepted(good, expected):
	assert resolve(SITE, {}, {"socketio_port": good}).socketio_port == expected


@pytest.mark.parametrize("bad", ["eighty", 3.14, None.__class__.__name__, -8000])
def test_bad_webserver_port_falls_back_and_names_it(bad):
	config = resolve(SITE, {"webserver_port": bad}, {})
	assert config.webserver_port == DEFAULT_WEBSERVER_PORT
	assert any("site_config.json" in w and "webserver_port" in w for w in config.warnings)


def test_site_webserver_port_wins_like_frappe_conf():
	config = resolve(SITE, {"webserver_port": 8100, "host_name": "localhost"}, {"webserver_port": 8000})
	assert config.webserver_port == 8100
	assert config.sources["webserver_port"] is Source.SITE_CONFIG
	assert config.base_url == "http://localhost:8100"


# -- provenance and warnings --------------------------------------------------------------


def test_sources_for_every_value():
	config = resolve(SITE, {"host_name": "https://erp.example.com"}, {"socketio_port": 9000})
	assert set(config.sources) >= {
		"deployment_type",
		"base_url",
		"socketio_port",
		"webserver_port",
		"socketio_path",
		"site_name",
	}
	assert config.sources["deployment_type"] is Source.INFERRED
	assert config.sources["base_url"] is Source.SITE_CONFIG


def test_host_name_from_common_config():
	config = resolve(SITE, {}, {"host_name": "https://erp.example.com"})
	assert config.base_url == "https://erp.example.com"
	assert config.sources["base_url"] is Source.COMMON_CONFIG


def test_settings_sources():
	config = resolve(
		SITE,
		{},
		{},
		{"deployment_type": "vps_prod", "base_url": "https://x.example.com", "socketio_path": "/rt/"},
	)
	assert config.sources["deployment_type"] is Source.SETTINGS
	assert config.sources["base_url"] is Source.SETTINGS
	assert config.sources["socketio_path"] is Source.SETTINGS
	assert config.socketio_path == "/rt/"


@pytest.mark.parametrize(
	"host_name,expect",
	[
		("https://erp.example.com/app?x=1", "path '/app'"),
		("https://user:pw@erp.example.com", "credentials"),
		("https://erp.example.com#frag", "fragment"),
	],
)
def test_host_name_extras_dropped_with_warning(host_name, expect):
	config = resolve(SITE, {"host_name": host_name})
	assert config.base_url == "https://erp.example.com"
	assert any(expect in w and "host_name" in w for w in config.warnings)
	assert "pw" not in config.base_url


@pytest.mark.parametrize("bad", ["ftp://erp.example.com", "https://", "exa mple.com", 42, ["x"]])
def test_invalid_host_name_is_ignored_with_warning(bad):
	config = resolve("erp.test", {"host_name": bad})
	assert config.deployment_type is DeploymentType.LOCAL
	assert config.base_url == "http://erp.test:8000"
	assert any("host_name" in w and repr(bad) in w for w in config.warnings)


@pytest.mark.parametrize(
	"settings,field",
	[
		({"deployment_type": "cloud"}, "deployment type"),
		({"base_url": "https://x.example.com/path"}, "base URL"),
		({"socketio_path": "socket.io"}, "Socket.IO path"),
	],
)
def test_invalid_settings_are_ignored_with_warning(settings, field):
	config = resolve(SITE, {"host_name": "erp.example.com"}, {}, settings)
	assert any(field in w and "Raven Realtime Settings" in w for w in config.warnings)
	assert config.base_url == "https://erp.example.com"
	assert config.socketio_path == "/socket.io/"


def test_public_site_without_host_name_warns():
	config = resolve("erp.example.com", {}, {})
	assert config.deployment_type is DeploymentType.LOCAL
	assert any("host_name is not set" in w for w in config.warnings)


def test_local_site_without_host_name_does_not_warn():
	assert resolve("raven.localhost", {}, {}).warnings == ()


def test_redis_url_prefers_queue_then_socketio():
	assert (
		resolve(SITE, {}, {"redis_queue": "redis://q:1", "redis_socketio": "redis://s:2"}).redis_url
		== "redis://q:1"
	)
	assert resolve(SITE, {}, {"redis_socketio": "redis://s:2"}).redis_url == "redis://s:2"
	assert resolve(SITE, {}, {}).redis_url is None


# -- memoisation ----------------------------------------------------------------------------


def test_warm_resolution_is_memoised_and_input_sensitive():
	a = resolve(SITE, {"host_name": "erp.example.com"}, {"socketio_port": 9000})
	b = resolve(SITE, {"host_name": "erp.example.com"}, {"socketio_port": 9000})
	c = resolve(SITE, {"host_name": "erp.example.com"}, {"socketio_port": 9100})
	assert a is b
	assert c is not a and c.socketio_port == 9100


def test_unhashable_values_still_resolve():
	config = resolve(SITE, {"host_name": ["erp.example.com"]}, {"socketio_port": {"x": 1}})
	assert isinstance(config, RavenConfig)
	assert len(config.warnings) == 2


# -- no frappe in the core --------------------------------------------------------------------


def test_core_and_config_import_without_frappe():
	code = (
		"import sys\n"
		"import raven_ai_agent.config, raven_ai_agent.cli\n"
		"import raven_ai_agent.realtime.resolve, raven_ai_agent.realtime.validate, raven_ai_agent.realtime.benchfiles\n"
		"import pkgutil, importlib, raven_ai_agent.realtime as core\n"
		"for m in pkgutil.iter_modules(core.__path__): importlib.import_module('raven_ai_agent.realtime.' + m.name)\n"
		"assert 'frappe' not in sys.modules, 'frappe was imported'\n"
		"print('ok')\n"
	)
	result = subprocess.run(
		[sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
	)
	assert result.returncode == 0, result.stderr
	assert result.stdout.strip() == "ok"


def test_memo_key_tells_types_apart():
	"""True == 1 and 0.0 == 0 for a dict key; not for a port check."""
	assert resolve(SITE, {}, {"socketio_port": 9100}).socketio_port == 9100
	assert resolve(SITE, {}, {"socketio_port": 9100.5}).socketio_port == 9000
	assert resolve(SITE, {}, {"socketio_port": 1}).socketio_port == 1
	config = resolve(SITE, {}, {"socketio_port": True})
	assert config.socketio_port == 9000 and config.warnings


@pytest.mark.parametrize("field", ["socketio_path", "base_url"])
def test_trailing_newline_never_passes_validation(field):
	"""`$` matches before a final newline; a newline in a rendered config is an injection."""
	settings = (
		{"socketio_path": "/socket.io/\n"}
		if field == "socketio_path"
		else {"base_url": "https://a.example\n"}
	)
	config = resolve(SITE, {}, {}, settings)
	assert "\n" not in config.socketio_path and "\n" not in config.base_url


@pytest.mark.parametrize(
	"host_name,words",
	[
		("http://realtime.test:8080", "port 8080 (host_name), not the bench's web port 8000: a proxy"),
		("http://realtime.test:8000", "on the bench's own web port 8000"),
		("raven.localhost", "no scheme or port and is a local name"),
		("erp.example.com", "a public name"),
		("abc.ngrok-free.app", "an ngrok domain"),
		(None, "no host_name"),
	],
)
def test_the_deployment_type_says_why(host_name, words):
	site = {"host_name": host_name} if host_name else {}
	config = resolve(SITE, site, {"webserver_port": DEFAULT_WEBSERVER_PORT})
	assert words in config.deployment_reason
	assert config.as_dict()["deployment_reason"] == config.deployment_reason


def test_an_override_says_where_it_was_set():
	config = resolve(SITE, {"host_name": "erp.example.com"}, {}, {"deployment_type": "local"})
	assert config.deployment_reason == "set to local in Raven Realtime Settings"


def test_a_warning_names_the_value_as_written_even_when_an_equal_one_was_seen():
	"""-0.0 == 0.0 for the memo, but the operator wrote -0.0 (found by the fuzz test)."""
	resolve(SITE, {}, {"socketio_port": 0.0})
	config = resolve(SITE, {}, {"socketio_port": -0.0})
	assert any("socketio_port = -0.0" in w for w in config.warnings), config.warnings
