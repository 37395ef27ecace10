"""The checks render.py added to validate.py: upstreams, identifiers, site names."""

import pytest

from raven_ai_agent.realtime.validate import check_identifier, check_site_name, check_upstream


@pytest.mark.parametrize(
	"value, host, port",
	[
		("172.17.0.1:9000", "172.17.0.1", 9000),
		("  localhost:9000 ", "localhost", 9000),
		("Realtime.Internal:1", "realtime.internal", 1),
		("[::1]:9000", "::1", 9000),
		("[2001:DB8::1]:65535", "2001:db8::1", 65535),
		("bücher.example:9000", "xn--bcher-kva.example", 9000),
	],
)
def test_check_upstream_accepts(value, host, port):
	part = check_upstream(value)
	assert (part.host, part.port) == (host, port)
	assert part.scheme is None


@pytest.mark.parametrize(
	"value",
	[
		"172.17.0.1",  # no port: a proxy needs one exact address
		"172.17.0.1:",
		":9000",
		"http://172.17.0.1:9000",
		"172.17.0.1:9000/socket.io",
		"user@172.17.0.1:9000",
		"172.17.0.1:0",
		"172.17.0.1:65536",
		"172.17.0.1:90x",
		"a b:9000",
		"x;y:9000",
		"evil}:9000",
		"::1:9000",  # IPv6 needs brackets
		"",
		None,
		9000,
	],
)
def test_check_upstream_refuses(value):
	with pytest.raises(ValueError, match="upstream|host|port|range"):
		check_upstream(value)


@pytest.mark.parametrize("value", ["websecure", "le", "raven_erp-example", "A" + "b" * 31])
def test_check_identifier_accepts(value):
	assert check_identifier(value) == value


@pytest.mark.parametrize(
	"value", ["", "1abc", "-x", "a b", "a;b", "a.b", "a`b", "${x}", "a{", "A" + "b" * 32, None, 5]
)
def test_check_identifier_refuses(value):
	with pytest.raises(ValueError, match="entrypoint name"):
		check_identifier(value, "entrypoint name")


@pytest.mark.parametrize("value", ["erp.example.com", "site1.local", "raven_site", "localhost", "a-b.test"])
def test_check_site_name_accepts(value):
	assert check_site_name(value) == value


@pytest.mark.parametrize("value", ["", ".hidden", "-x", "a b", 'a"b', "a;b", "../etc", "a..b", "a/b", None])
def test_check_site_name_refuses(value):
	with pytest.raises(ValueError, match="site name"):
		check_site_name(value)
