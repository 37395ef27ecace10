"""diagnose() against a hostile server on loopback (tests/hostile.py), one role at a time.

Each role plays the public URL (a vps_prod base URL, so the socket URL is the base URL) while
a healthy stand-in holds the realtime port, and then plays the realtime port itself
(external checks off). For every role the report must name the check that fails, say in its
detail what happened and in the hint what to do, come back within the timeout plus 0.5 s,
and never raise. The 50 MB body and the gzip bomb must not be read whole.
"""

import time
import tracemalloc
import zlib
from dataclasses import dataclass

import pytest

from raven_ai_agent.realtime import bodies, probe
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.resolve import resolve
from tests.hostile import HUGE_BODY_BYTES, OTHER_SERVICE_HELLO, ROLES, Hostile
from tests.test_diagnose import assert_shape, check, first_failure

TIMEOUT = 1.0
WALL = TIMEOUT + 0.5
SITE = "hostile.test"
# Far more than the probe's own buffers (MAX_BODY_BYTES, a TLS context, threads), far less
# than the 50 MB a whole read would take.
MAX_PEAK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Expect:
	"""The first failing check (None: all pass), and words its detail and the hint must carry."""

	check: str | None
	detail: tuple[str, ...] = ()
	hint: tuple[str, ...] = ()


VERSION_HINT = ("another Socket.IO major version", "socket.io v4", "EIO=4")

# The role plays the public URL; the realtime port is healthy.
EXTERNAL = {
	"healthy": Expect(None),
	"gzipped": Expect(None),
	"silent": Expect("external_handshake", ("timed out", "no answer"), ("timed out", "/socket.io/")),
	"stalled_body": Expect(
		"external_handshake", ("timed out", "HTTP 200 headers", "stalled"), ("timed out", "in full")
	),
	"huge_body": Expect(
		"external_handshake",
		("not an Engine.IO open packet", "over 64 KiB"),
		("not with an Engine.IO handshake", "route /socket.io/"),
	),
	"gzip_bomb": Expect("external_handshake", ("not an Engine.IO open packet", "over 64 KiB")),
	"redirect_loop": Expect(
		"external_handshake", ("redirect", "redirect loop"), ("redirect loop", "without a redirect")
	),
	"redirect_elsewhere": Expect(
		"external_handshake",
		("redirect", "login.elsewhere.example"),
		("redirects /socket.io/ elsewhere", "login.elsewhere.example", "keep the Host header"),
	),
	"self_signed": Expect(
		"external_handshake",
		("TLS", "certificate", "self-signed"),
		("certificate", "not trusted", "browsers refuse it", "public CA"),
	),
	"tls_to_plain_port": Expect(
		"external_handshake",
		("TLS", "plain http"),
		("scheme/port mismatch", "https sent to an http port", "http://127.0.0.1"),
	),
	"plain_to_tls_port": Expect(
		"external_handshake",
		("reset", "TLS handshake", "speaks https"),
		("scheme/port mismatch", "http sent to an https port", "https://127.0.0.1"),
	),
	"plain_to_nginx_tls_port": Expect(
		"external_handshake",
		("plain HTTP request was sent to HTTPS port", "speaks https"),
		("scheme/port mismatch", "http sent to an https port"),
	),
	"plain_to_tls_alert": Expect(
		"external_handshake", ("TLS bytes", "speaks https"), ("scheme/port mismatch", "https://127.0.0.1")
	),
	"http10": Expect(
		"external_websocket",
		("HTTP/1.0", "instead of 101"),
		("WebSocket upgrade", "proxy_http_version 1.1"),
	),
	"reset_mid_response": Expect(
		"external_handshake",
		("broke off its HTTP 200 answer", "reset"),
		("breaks off the connection", "logs"),
	),
	"short_body": Expect(
		"external_handshake",
		("broke off its HTTP 200 answer", "IncompleteRead"),
		("breaks off the connection",),
	),
	"html_page": Expect(
		"external_handshake",
		("HTML", "Welcome to nginx!", "not an Engine.IO open packet"),
		("not with an Engine.IO handshake", "SPA fallback"),
	),
	"bad_json": Expect("external_handshake", ("open packet", "not JSON"), ("Engine.IO handshake",)),
	"no_sid": Expect("external_handshake", ("open packet", "no sid"), ("Engine.IO handshake",)),
	"bare_sid": Expect("external_handshake", ("open packet", "no pingInterval"), ("Engine.IO handshake",)),
	"socketio_v2": Expect(
		"external_handshake", ("not an Engine.IO open packet", "Engine.IO v3", "EIO=3"), VERSION_HINT
	),
	"python_socketio_v4": Expect(
		"external_handshake", ("HTTP 400", "error 5", "unsupported version"), VERSION_HINT
	),
	"unsupported_version": Expect(
		"external_handshake", ("HTTP 400", "error 5", "Unsupported protocol version"), VERSION_HINT
	),
	"bad_accept": Expect(
		"external_websocket", ("101", "wrong Sec-WebSocket-Accept"), ("Sec-WebSocket-Accept", "unchanged")
	),
	"no_accept": Expect(
		"external_websocket", ("101", "Sec-WebSocket-Accept (missing)"), ("Sec-WebSocket-Accept",)
	),
	"upgrade_silent": Expect("external_websocket", ("timed out",), ("timed out",)),
	"upgrade_reset": Expect("external_websocket", ("reset",), ("breaks off the connection",)),
	"endless_headers": Expect(
		"external_handshake", ("not valid HTTP", "more than 100 headers"), ("not valid HTTP",)
	),
	"drip": Expect("external_handshake", ("timed out", "no result within"), ("got no answer within",)),
	"upgrade_drip": Expect(
		"external_websocket", ("timed out", "no result within"), ("got no answer within",)
	),
	"upgrade_other_service": Expect(
		"external_websocket",
		("101", "Sec-WebSocket-Accept valid", OTHER_SERVICE_HELLO, "not an Engine.IO open packet"),
		("taken by something other than Frappe's realtime service", "same upstream as polling"),
	),
	"upgrade_quiet": Expect(None),
}

LOCAL_GENERIC = ("does not answer like Frappe's realtime service", "socketio_port")
# The role plays the realtime port (always plain http); the external checks are off.
LOCAL_UPGRADE = ("does not take WebSocket upgrades like Frappe's realtime service",)
LOCAL = {
	"healthy": Expect(None),
	"gzipped": Expect(None),
	"silent": Expect("local_handshake", ("timed out",), ("does not answer within", "restart")),
	"stalled_body": Expect("local_handshake", ("timed out", "stalled"), ("does not answer within",)),
	"huge_body": Expect("local_handshake", ("not an Engine.IO open packet", "over 64 KiB"), LOCAL_GENERIC),
	"gzip_bomb": Expect("local_handshake", ("not an Engine.IO open packet",), LOCAL_GENERIC),
	"redirect_loop": Expect("local_handshake", ("redirect loop",), LOCAL_GENERIC),
	"redirect_elsewhere": Expect("local_handshake", ("redirect",), LOCAL_GENERIC),
	"self_signed": Expect("local_handshake", ("speaks https",), ("speaks TLS", "socketio_port")),
	"tls_to_plain_port": Expect("local_handshake", ("HTTP 400",), LOCAL_GENERIC),
	"plain_to_tls_port": Expect("local_handshake", ("speaks https",), ("speaks TLS", "socketio_port")),
	"plain_to_nginx_tls_port": Expect("local_handshake", ("speaks https",), ("speaks TLS",)),
	"plain_to_tls_alert": Expect("local_handshake", ("speaks https",), ("speaks TLS",)),
	"http10": Expect("websocket_session", ("HTTP/1.0",), LOCAL_UPGRADE),  # polling works, the upgrade cannot
	"reset_mid_response": Expect("local_handshake", ("reset",), LOCAL_GENERIC),
	"short_body": Expect("local_handshake", ("broke off",), LOCAL_GENERIC),
	"html_page": Expect("local_handshake", ("HTML",), LOCAL_GENERIC),
	"bad_json": Expect("local_handshake", ("not JSON",), LOCAL_GENERIC),
	"no_sid": Expect("local_handshake", ("no sid",), LOCAL_GENERIC),
	"bare_sid": Expect("local_handshake", ("no pingInterval",), LOCAL_GENERIC),
	"socketio_v2": Expect("local_handshake", ("EIO=3",), VERSION_HINT),
	"python_socketio_v4": Expect("local_handshake", ("error 5",), VERSION_HINT),
	"unsupported_version": Expect("local_handshake", ("error 5",), VERSION_HINT),
	# The WebSocket-first session check upgrades on the realtime port too: a port that cannot
	# take an upgrade fails WebSocket-only clients before any proxy is involved.
	"bad_accept": Expect("websocket_session", ("wrong Sec-WebSocket-Accept",), LOCAL_UPGRADE),
	"no_accept": Expect("websocket_session", ("wrong Sec-WebSocket-Accept (missing)",), LOCAL_UPGRADE),
	"upgrade_silent": Expect(None),
	"upgrade_reset": Expect("websocket_session", ("reset",), LOCAL_UPGRADE),
	"endless_headers": Expect("local_handshake", ("not valid HTTP",), LOCAL_GENERIC),
	"drip": Expect("local_handshake", ("timed out", "no result within"), ("got no answer within",)),
	"upgrade_drip": Expect("websocket_session", ("timed out", "no result within"), ("got no answer within",)),
	"upgrade_other_service": Expect("websocket_session", ("not Frappe's realtime service",), LOCAL_UPGRADE),
	"upgrade_quiet": Expect(None),
}


@pytest.fixture(scope="module")
def realtime():
	"""A healthy realtime port for the roles that play the public URL."""
	with Hostile("healthy") as server:
		yield server


def external_config(url: str, socketio_port: int):
	return resolve(
		SITE, {}, {"socketio_port": socketio_port}, {"deployment_type": "vps_prod", "base_url": url}
	)


def timed_diagnose(config, **kwargs) -> tuple[dict, float]:
	start = time.monotonic()
	report = diagnose(config, timeout=TIMEOUT, config_warnings=[], **kwargs)
	return report, time.monotonic() - start


def assert_expected(report: dict, elapsed: float, expect: Expect) -> None:
	assert_shape(report)
	assert elapsed <= WALL, f"{elapsed:.2f} s"
	if expect.check is None:
		failing = [(c["name"], c["detail"]) for c in report["checks"] if c["ok"] is False]
		assert report["ok"] and not failing, failing
		return
	assert first_failure(report) == expect.check, report["checks"]
	detail = check(report, expect.check)["detail"]
	for words in expect.detail:
		assert words in detail, (words, detail)
	hint = report["hint"]
	assert hint == check(report, expect.check)["hint"]
	for words in expect.hint:
		assert words in hint, (words, hint)


def test_every_role_is_expected():
	"""The two parametrized tests below are the generic "never raises, in time" test of every role."""
	assert set(EXTERNAL) == set(LOCAL) == set(ROLES)


@pytest.mark.parametrize("role", sorted(EXTERNAL))
def test_role_as_the_public_url(role, realtime):
	with Hostile(role) as server:
		report, elapsed = timed_diagnose(external_config(server.url, realtime.port))
	assert_expected(report, elapsed, EXTERNAL[role])
	assert report["external_socketio_url"] == server.url
	assert check(report, "local_handshake")["ok"] is True


@pytest.mark.parametrize("role", sorted(LOCAL))
def test_role_as_the_realtime_port(role):
	with Hostile(role) as server:
		config = external_config("https://erp.example.com", server.port)
		report, elapsed = timed_diagnose(config, external=False)
	assert_expected(report, elapsed, LOCAL[role])
	assert check(report, "external_handshake")["ok"] is None


def test_a_silent_websocket_after_a_valid_101_passes_with_a_note(realtime):
	"""No frame in time is no proof of a wrong server (see upgrade._judge_first_frame)."""
	with Hostile("upgrade_quiet") as server:
		report, _ = timed_diagnose(external_config(server.url, realtime.port))
	websocket = check(report, "external_websocket")
	assert websocket["ok"] is True and "no Engine.IO open packet read in time" in websocket["detail"]


# ---- bounded time: connections end with the diagnosis ------------------------------------------------


@pytest.mark.parametrize(
	"role, check_name", [("drip", "external_handshake"), ("upgrade_drip", "external_websocket")]
)
def test_a_dripping_server_is_hung_up_on_at_the_wall(role, check_name, realtime):
	"""A byte every 50 ms trips no read timeout; the wall (deadline plus grace) cuts the socket."""
	with Hostile(role) as server:
		start = time.monotonic()
		report, elapsed = timed_diagnose(external_config(server.url, realtime.port))
		assert server.client_gone.wait(WALL), "the abandoned probe kept its connection open"
		hung_up = server.client_gone_at - start
	assert elapsed <= WALL
	assert first_failure(report) == check_name
	assert TIMEOUT <= hung_up <= WALL, f"hung up {hung_up:.2f} s after the start"


# ---- bounded memory ------------------------------------------------------------------------------


@pytest.mark.parametrize("external", [True, False], ids=["public_url", "realtime_port"])
def test_a_50_mb_body_is_not_read_whole(external, realtime):
	with Hostile("huge_body") as server:
		port = realtime.port if external else server.port
		tracemalloc.start()
		try:
			report, elapsed = timed_diagnose(external_config(server.url, port), external=external)
			_, peak = tracemalloc.get_traced_memory()
		finally:
			tracemalloc.stop()
		assert server.client_gone.wait(2), "the probe never hung up"
		assert not server.sent_everything.is_set()
		sent = server.bytes_sent
	assert elapsed <= WALL
	assert peak < MAX_PEAK_BYTES, f"peak {peak / 1e6:.1f} MB"
	assert sent < HUGE_BODY_BYTES // 4, f"{sent / 1e6:.1f} MB sent before the probe hung up"
	assert first_failure(report) == ("external_handshake" if external else "local_handshake")


def test_a_gzip_bomb_is_decompressed_within_the_cap(realtime):
	with Hostile("gzip_bomb") as server:
		server.bomb()  # built before measuring: the server's memory is not the probe's
		tracemalloc.start()
		try:
			report, elapsed = timed_diagnose(external_config(server.url, realtime.port))
			_, peak = tracemalloc.get_traced_memory()
		finally:
			tracemalloc.stop()
	assert elapsed <= WALL
	assert peak < MAX_PEAK_BYTES, f"peak {peak / 1e6:.1f} MB"
	assert "over 64 KiB" in check(report, "external_handshake")["detail"]


def test_decode_body_is_capped():
	compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
	bomb = compressor.compress(bytes(10 * 1024 * 1024)) + compressor.flush()
	body, cut = bodies.decode_body(bomb, "gzip")
	assert len(body) == probe.MAX_BODY_BYTES and cut
	assert bodies.decode_body(b"plain", None) == (b"plain", False)
	assert bodies.decode_body(b"not gzip", "gzip") == (b"not gzip", False)
	raw_deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
	assert bodies.decode_body(raw_deflate.compress(b"0{}") + raw_deflate.flush(), "deflate") == (
		b"0{}",
		False,
	)
