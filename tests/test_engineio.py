"""The Engine.IO / Socket.IO codec against the wire transcripts of a real Frappe 15.41 bench.

The bodies below are written out from tests/fixtures/frappe-v15.41-realtime-wire.json so a
reader sees them; `test_fixture_file_agrees` holds them to the recorded file.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raven_ai_agent.realtime import engineio, websocket
from raven_ai_agent.realtime.engineio import ConnectResult, EngineError, ProtocolError
from tests.recorded import WIRE_FILE as FIXTURE

NS = "/realtime.test"

WIRE = {
	"handshake_polling": '0{"sid":"1KEkPTQj5tXdnI_sAABB","upgrades":["websocket"],"pingInterval":25000,'
	'"pingTimeout":20000,"maxPayload":1000000}',
	"connect_ok_post": "ok",
	"connect_ok": '40/realtime.test,{"sid":"YH1VgwoXKWbzmM3DAABD"}',
	"connect_no_cookie": '44/realtime.test,{"message":"No cookie transmitted."}',
	"connect_cookie_without_sid": '44/realtime.test,{"message":"No authentication method used. Use cookie or '
	'authorization header."}',
	"connect_invalid_origin": '44/realtime.test,{"message":"Invalid origin"}',
	"connect_invalid_namespace_no_cookie": '44/wrong.site,{"message":"Invalid namespace"}\x1e44/wrong.site,'
	'{"message":"No cookie transmitted."}',
	"connect_unauthorized_callback_refused": '44/realtime.test,{"message":"Unauthorized: Error: connect '
	'ECONNREFUSED 127.0.0.1:1"}',
	"session_id_unknown_get": '{"code":1,"message":"Session ID unknown"}',
	"transport_unknown": '{"code":0,"message":"Transport unknown"}',
	"eio3_handshake": '{"code":5,"message":"Unsupported protocol version"}',
	"websocket_without_upgrade_headers": '{"code":3,"message":"Bad request"}',
}
WS_KEY, WS_ACCEPT = "i1aebzz5/MWmk9hT/kjFJw==", "9RwqRU4M1hIrdvsG6j0uxMx/yqg="
FRAPPE_404_HEAD = '<!DOCTYPE html>\n<!-- Built on Frappe. https://frappeframework.com/ -->\n<html lang="en">'


def test_fixture_file_agrees():
	data = json.loads(FIXTURE.read_text())
	for name, body in WIRE.items():
		assert data[name]["body"] == body, name
	head = data["websocket_upgrade_raw_response"]
	assert head["request_key"] == WS_KEY and f"Sec-WebSocket-Accept: {WS_ACCEPT}" in head["head"]


# ---- open packet -----------------------------------------------------------------------------


def test_parse_open_reads_the_real_handshake():
	packet = engineio.parse_open(WIRE["handshake_polling"])
	assert packet.sid == "1KEkPTQj5tXdnI_sAABB"
	assert packet.upgrades == ("websocket",)
	assert (packet.ping_interval, packet.ping_timeout, packet.max_payload) == (25000, 20000, 1000000)


@pytest.mark.parametrize(
	"body, reason",
	[
		("", "empty"),
		("ok", "not an Engine.IO open packet"),
		(FRAPPE_404_HEAD, "not an Engine.IO open packet"),
		(WIRE["transport_unknown"], "not an Engine.IO open packet"),
		('97:0{"sid":"abc","upgrades":[],"pingInterval":1,"pingTimeout":1}', "not an Engine.IO open packet"),
		("0not json", "not JSON"),
		("0[1,2]", "not a JSON object"),
		('0{"upgrades":[],"pingInterval":1,"pingTimeout":1}', "no sid"),
		('0{"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1}', "no sid"),
		('0{"sid":"a","upgrades":"websocket","pingInterval":1,"pingTimeout":1}', "upgrades"),
		('0{"sid":"a","upgrades":[],"pingInterval":true,"pingTimeout":1}', "pingInterval"),
		('0{"sid":"a","upgrades":[],"pingInterval":0,"pingTimeout":1}', "pingInterval"),
		('0{"sid":"a","upgrades":[],"pingInterval":1}', "pingTimeout"),
		('0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":"x"}', "maxPayload"),
	],
)
def test_parse_open_refuses_what_is_not_a_v4_open_packet(body, reason):
	with pytest.raises(ProtocolError, match=reason):
		engineio.parse_open(body)


def test_parse_open_accepts_a_minimal_packet_and_later_packets_in_the_body():
	packet = engineio.parse_open('0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2}\x1e40')
	assert packet.upgrades == () and packet.max_payload is None


# ---- payloads and packets -----------------------------------------------------------------------


def test_payload_split_on_record_separator():
	assert engineio.decode_payload("") == []
	assert engineio.decode_payload("2\x1e40/a,") == ["2", "40/a,"]
	assert engineio.encode_payload(["6", "40/a,"]) == "6\x1e40/a,"


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x1e"), min_size=1), min_size=1))
def test_payload_round_trip(packets):
	assert engineio.decode_payload(engineio.encode_payload(packets)) == packets


def test_decode_packet():
	assert engineio.decode_packet("2") == (engineio.PING, "")
	assert engineio.decode_packet("4hello") == (engineio.MESSAGE, "hello")
	assert engineio.decode_packet("bAQI=") == (engineio.MESSAGE, "bAQI=")
	with pytest.raises(ProtocolError):
		engineio.decode_packet("9")
	with pytest.raises(ProtocolError):
		engineio.decode_packet("")


def test_encode_socketio_packets():
	assert engineio.encode_connect(NS) == "40/realtime.test,"
	assert engineio.encode_connect("/") == "40"
	assert engineio.encode_connect(NS, {"token": "t"}) == '40/realtime.test,{"token":"t"}'
	assert engineio.encode_event(NS, "ping") == '42/realtime.test,["ping"]'
	assert (
		engineio.encode_event("/", "doc_subscribe", "Raven Channel", "c1")
		== '42["doc_subscribe","Raven Channel","c1"]'
	)
	assert engineio.encode_socket_packet(engineio.EVENT, NS, ["e"], ack_id=12) == '42/realtime.test,12["e"]'


@pytest.mark.parametrize(
	"data, expected",
	[
		('0/realtime.test,{"sid":"x"}', ("0", NS, None, {"sid": "x"}, 0)),
		('4/realtime.test,{"message":"Invalid origin"}', ("4", NS, None, {"message": "Invalid origin"}, 0)),
		('2/realtime.test,["message_created",{"a":1}]', ("2", NS, None, ["message_created", {"a": 1}], 0)),
		('2/realtime.test,7["ev"]', ("2", NS, 7, ["ev"], 0)),
		('2["ev",1]', ("2", "/", None, ["ev", 1], 0)),
		('3/ns,15["ok"]', ("3", "/ns", 15, ["ok"], 0)),
		(
			'51-/ns,["file",{"_placeholder":true,"num":0}]',
			("5", "/ns", None, ["file", {"_placeholder": True, "num": 0}], 1),
		),
		("1/realtime.test,", ("1", NS, None, None, 0)),
		("1/realtime.test", ("1", NS, None, None, 0)),
		("0", ("0", "/", None, None, 0)),
	],
)
def test_decode_socket_packet(data, expected):
	packet = engineio.decode_socket_packet(data)
	assert (packet.type, packet.namespace, packet.ack_id, packet.data, packet.attachments) == expected


@pytest.mark.parametrize("data", ["", "9", "x", '2/ns,["unterminated'])
def test_decode_socket_packet_refuses_garbage(data):
	with pytest.raises(ProtocolError):
		engineio.decode_socket_packet(data)


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=30)
_json = st.recursive(
	st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=20),
	lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
	max_leaves=10,
)


@given(_names, _names, st.lists(_json, max_size=3), st.none() | st.integers(0, 10**6))
def test_socket_packet_round_trip(site, event, args, ack_id):
	text = engineio.encode_socket_packet(engineio.EVENT, "/" + site, [event, *args], ack_id=ack_id)
	kind, data = engineio.decode_packet(text)
	packet = engineio.decode_socket_packet(data)
	assert kind == engineio.MESSAGE
	assert (packet.namespace, packet.ack_id, packet.data) == ("/" + site, ack_id, [event, *args])


def test_decode_messages_skips_engineio_control_packets():
	body = engineio.encode_payload(["2", "6", "bAQID", WIRE["connect_ok"], '42/realtime.test,["x"]'])
	packets = engineio.decode_messages(body)
	assert [p.type for p in packets] == [engineio.CONNECT, engineio.EVENT]


# ---- namespace CONNECT outcome ------------------------------------------------------------------


def _result(body: str, namespace: str = NS, previous: ConnectResult | None = None) -> ConnectResult:
	return engineio.connect_result(engineio.decode_messages(body), namespace, previous)


def test_connect_ok():
	result = _result(WIRE["connect_ok"])
	assert result.ok and result.answered and result.errors == ()


@pytest.mark.parametrize(
	"name, message",
	[
		("connect_no_cookie", "No cookie transmitted."),
		("connect_cookie_without_sid", "No authentication method used. Use cookie or authorization header."),
		("connect_invalid_origin", "Invalid origin"),
		("connect_unauthorized_callback_refused", "Unauthorized: Error: connect ECONNREFUSED 127.0.0.1:1"),
	],
)
def test_connect_errors(name, message):
	result = _result(WIRE[name])
	assert not result.ok and result.answered and result.errors == (message,)


def test_every_packet_of_a_body_counts():
	result = _result(WIRE["connect_invalid_namespace_no_cookie"], "/wrong.site")
	assert result.errors == ("Invalid namespace", "No cookie transmitted.")


def test_an_error_then_a_connect_is_still_a_failure():
	first = _result('44/wrong.site,{"message":"Invalid namespace"}', "/wrong.site")
	later = _result('40/wrong.site,{"sid":"x"}', "/wrong.site", first)
	assert later.connected and not later.ok and later.errors == ("Invalid namespace",)


def test_packets_of_other_namespaces_are_ignored():
	result = _result(WIRE["connect_ok"], "/other.site")
	assert not result.answered


def test_error_message_shapes():
	assert engineio.error_message({"message": "x"}) == "x"
	assert engineio.error_message("plain") == "plain"
	assert engineio.error_message({"data": 1}) == '{"data": 1}'
	assert engineio.error_message(None) == "null"


def test_find_event():
	packets = engineio.decode_messages(
		'42/realtime.test,["a",1]\x1e42/other,["b",2]\x1e42/realtime.test,["b",3]'
	)
	assert engineio.find_event(packets, NS, "b") == [3]
	assert engineio.find_event(packets, NS, "c") is None


# ---- HTTP errors, URLs, WebSocket ---------------------------------------------------------------


@pytest.mark.parametrize(
	"name, code",
	[
		("session_id_unknown_get", 1),
		("transport_unknown", 0),
		("eio3_handshake", 5),
		("websocket_without_upgrade_headers", 3),
	],
)
def test_parse_http_error(name, code):
	error = engineio.parse_http_error(WIRE[name])
	assert isinstance(error, EngineError) and error.code == code and error.message


@pytest.mark.parametrize(
	"body", ["", "ok", FRAPPE_404_HEAD, "[1]", '{"code":true,"message":"x"}', '{"code":1}', None]
)
def test_parse_http_error_ignores_other_bodies(body):
	assert engineio.parse_http_error(body) is None


def test_endpoint_url():
	assert engineio.endpoint_url("https://erp.example.com/", "/socket.io/") == (
		"https://erp.example.com/socket.io/?EIO=4&transport=polling"
	)
	assert engineio.endpoint_url("http://h:9000", "/socket.io/", engineio.TRANSPORT_WEBSOCKET) == (
		"http://h:9000/socket.io/?EIO=4&transport=websocket"
	)
	assert engineio.endpoint_url("http://h", "/socket.io/", sid="a b") == (
		"http://h/socket.io/?EIO=4&transport=polling&sid=a+b"
	)


def test_websocket_accept_matches_the_real_server_and_rfc6455():
	assert websocket.accept(WS_KEY) == WS_ACCEPT
	assert websocket.accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	assert websocket.key(b"the sample nonce") == "dGhlIHNhbXBsZSBub25jZQ=="
	with pytest.raises(ValueError):
		websocket.key(b"short")


def test_decode_frame():
	open_packet = WIRE["handshake_polling"].encode()
	frame = bytes([0x81, 126]) + len(open_packet).to_bytes(2, "big") + open_packet
	assert websocket.decode_frame(frame) == (websocket.WS_TEXT, open_packet, len(frame))
	assert websocket.decode_frame(frame[:-1]) is None
	assert websocket.decode_frame(b"\x81") is None
	assert websocket.decode_frame(b"\x81\x0240extra") == (websocket.WS_TEXT, b"40", 4)
	masked = bytes([0x81, 0x82, 1, 2, 3, 4, ord("4") ^ 1, ord("0") ^ 2])
	assert websocket.decode_frame(masked) == (websocket.WS_TEXT, b"40", 8)
	big = bytes([0x82, 127]) + (70000).to_bytes(8, "big")
	assert websocket.decode_frame(big) is None
	assert websocket.decode_frame(big + b"x" * 70000)[2] == 70010
	assert websocket.decode_frame(b"\x88\x00") == (websocket.WS_CLOSE, b"", 2)
