"""Property-based tests: whatever the config files and settings hold, resolution is calm.

The resolver never raises, always yields URLs that parse, and every value it had to
reject appears in a warning.
"""

import json
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raven_ai_agent.realtime.resolve import DeploymentType, resolve

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
	json_scalars,
	lambda children: (
		st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
	),
	max_leaves=6,
)
labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
unicode_labels = st.text(
	alphabet=st.characters(min_codepoint=0xA1, max_codepoint=0x2FFF), min_size=1, max_size=8
)
hostnames = st.lists(labels | unicode_labels, min_size=1, max_size=4).map(".".join)
ipv6 = st.ip_addresses(v=6).map(str)
hosts = hostnames | st.ip_addresses(v=4).map(str) | ipv6 | ipv6.map(lambda h: f"[{h}]") | st.text(max_size=30)
ports = st.integers(min_value=-10, max_value=70000).map(str) | st.just("") | st.text(max_size=5)
host_names = st.builds(
	lambda scheme, creds, host, port, path, query: (
		f"{scheme}{creds}{host}{':' + port if port else ''}{path}{query}"
	),
	st.sampled_from(["", "http://", "https://", "ftp://", "HTTPS://", "//"]),
	st.sampled_from(["", "user@", "user:pw@"]),
	hosts,
	ports,
	st.sampled_from(["", "/", "/app", "/a/../b"]),
	st.sampled_from(["", "?x=1", "#frag"]),
)
port_values = (
	st.integers(min_value=-(2**40), max_value=2**40)
	| st.floats(allow_nan=True)
	| st.integers(0, 70000).map(str)
	| json_values
)
config_dicts = st.fixed_dictionaries(
	{},
	optional={
		"host_name": host_names | json_values,
		"socketio_port": port_values,
		"webserver_port": port_values,
		"redis_queue": json_values,
	},
)
settings_dicts = st.fixed_dictionaries(
	{},
	optional={
		"deployment_type": st.sampled_from(["", "Auto", "vps_prod", "sandbox", "local", "cloud"])
		| json_values,
		"base_url": host_names | json_values,
		"socketio_path": st.sampled_from(["/socket.io/", "/rt/", "", "socket.io", "/../", "/a b/"])
		| st.text(max_size=12),
	},
)
site_names = hostnames | st.text(max_size=20)


def assert_origin(url: str) -> None:
	parts = urlsplit(url)
	assert parts.scheme in ("http", "https"), url
	assert parts.hostname, url
	assert parts.path == "" and not parts.query and not parts.fragment, url
	assert parts.username is None and parts.password is None, url
	if parts.port is not None:
		assert 1 <= parts.port <= 65535, url
	url.encode("ascii")  # IDNs are punycode, so the URL is safe in headers and configs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_names, config_dicts, config_dicts, settings_dicts)
def test_resolver_never_raises_and_urls_parse(site, site_config, common, overrides):
	config = resolve(site, site_config, common, overrides)
	assert isinstance(config.deployment_type, DeploymentType)
	assert_origin(config.get_external_http_base())
	assert_origin(config.get_external_socketio_url())
	assert 1 <= config.socketio_port <= 65535
	assert 1 <= config.webserver_port <= 65535
	assert config.socketio_path.startswith("/") and config.socketio_path.endswith("/")
	json.dumps(config.as_dict())  # serialisable, for --json and the REST endpoint


@settings(max_examples=200, deadline=None)
@given(port_values)
def test_every_rejected_socketio_port_is_named(value):
	config = resolve("erp.test", {}, {"socketio_port": value})
	if value is not None and config.sources["socketio_port"].value != "common_site_config.json":
		assert any("socketio_port" in w and repr(value) in w for w in config.warnings), config.warnings


@settings(max_examples=200, deadline=None)
@given(host_names | json_values)
def test_a_rejected_host_name_is_named(value):
	config = resolve("erp.test", {"host_name": value}, {})
	if value not in (None, "") and config.sources["base_url"].value == "inferred":
		assert any("host_name" in w and repr(value) in w for w in config.warnings), config.warnings
