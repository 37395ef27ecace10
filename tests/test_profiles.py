"""The stand-ins' version profiles reproduce, on the wire, what differs between Frappe 15.41, the
latest v15 and v16 (sources cited in tests/stack/realtime/server.js PROFILES): the order in which
the session check carries credentials, the error texts, Unix-socket listening
and what other paths answer. Real processes on loopback ports and Unix sockets."""

import http.client
import socket
from pathlib import Path

import pytest
import requests

from tests.stack import (
	ADMIN_SID,
	PROFILES,
	PollingClient,
	RealtimeServer,
	Stack,
	free_port,
	make_bench,
	port_accepts,
)

USER_INFO = "/api/method/frappe.realtime.get_user_info"
TOKEN = "token api-key:api-secret"


@pytest.fixture(scope="module", params=PROFILES)
def profiled(request, tmp_path_factory):
	"""One stack per profile, shared by this module's tests."""
	with Stack(tmp_path=tmp_path_factory.mktemp("profile"), profile=request.param) as s:
		s.web.add_session(TOKEN, "api@example.com")
		yield s


def connect(stack: Stack, **headers) -> str:
	"""The polling body after a namespace CONNECT with these handshake headers."""
	client = PollingClient(stack.realtime_url, {"Origin": stack.web_url, **headers})
	try:
		assert client.handshake().status_code == 200
		_post, answer = client.connect(stack.site)
		return answer.text
	finally:
		client.close()


def test_a_session_connects_on_every_profile(profiled):
	assert connect(profiled, Cookie=f"sid={ADMIN_SID}").startswith(f"40/{profiled.site},")


def test_the_session_check_carries_the_sid_as_each_release_sends_it(profiled):
	connect(profiled, Cookie=f"sid={ADMIN_SID}")
	call = profiled.web.requests(USER_INFO)[-1]
	if profiled.profile == "v15.41":  # superagent `.query({sid})`
		assert call["query"] == {"sid": ADMIN_SID} and call["cookie"] is None
	else:  # fetch with a Cookie header
		assert call["query"] == {} and call["cookie"] == f"sid={ADMIN_SID}"


def test_auth_order_sid_or_authorization_first(profiled):
	"""15.41 prefers the sid cookie over an Authorization header; later releases the header."""
	connect(profiled, Cookie=f"sid={ADMIN_SID}", Authorization=TOKEN)
	call = profiled.web.requests(USER_INFO)[-1]
	if profiled.profile == "v15.41":
		assert call["query"] == {"sid": ADMIN_SID} and call["authorization"] is None
	else:
		assert call["authorization"] == TOKEN and call["cookie"] is None


def test_missing_credentials_text_per_release(profiled):
	body = connect(profiled)
	if profiled.profile == "v16":
		assert "Missing cookie and authorization header. Either one needed for authentication." in body
	else:
		assert "No cookie transmitted." in body


def test_an_authorization_header_alone_connects_where_the_release_allows_it(profiled):
	"""Without any Cookie 15.41 and v15 refuse before reading Authorization; v16 takes it."""
	body = connect(profiled, Authorization=TOKEN)
	if profiled.profile == "v16":
		assert body.startswith(f"40/{profiled.site},")
	else:
		assert "No cookie transmitted." in body


def test_get_user_info_answers_per_release(profiled):
	"""Every release answers a sid cookie alone (no socket secret: that is develop, not v16.4.1);
	latest v15 and v16 add installed_apps."""
	url = profiled.web_url + USER_INFO
	answer = requests.get(url, cookies={"sid": ADMIN_SID}, timeout=5).json()["message"]
	assert answer["user"] == "Administrator" and answer["user_type"] == "System User"
	assert ("installed_apps" in answer) is (profiled.profile != "v15.41")


def test_a_callback_without_an_answer_reads_as_each_client_says_it(profiled):
	# A loopback Origin (the site is then default_site): the callback's address needs no name lookup.
	closed = f"http://127.0.0.1:{free_port()}"
	client = PollingClient(profiled.realtime_url, {"Origin": closed, "Host": "127.0.0.1:1"})
	client.headers["Cookie"] = f"sid={ADMIN_SID}"
	try:
		client.handshake()
		_post, answer = client.connect(profiled.site)
	finally:
		client.close()
	if profiled.profile == "v15.41":
		assert "Unauthorized: Error: connect ECONNREFUSED" in answer.text
	else:
		assert "Unauthorized: TypeError: fetch failed" in answer.text


def test_other_paths_empty_404_on_15_41_never_answered_later(profiled):
	url = profiled.realtime_url + "/api/method/ping"
	if profiled.profile == "v15.41":
		res = requests.get(url, timeout=5)
		assert res.status_code == 404 and res.text == ""
	else:
		with pytest.raises(requests.exceptions.ReadTimeout):
			requests.get(url, timeout=0.5)


class UnixHTTPConnection(http.client.HTTPConnection):
	"""http.client over a Unix socket (the test's own client)."""

	def __init__(self, path: str, timeout: float = 5.0):
		super().__init__("localhost", timeout=timeout)
		self.unix_path = path

	def connect(self):
		self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		self.sock.settimeout(self.timeout)
		self.sock.connect(self.unix_path)


@pytest.mark.parametrize("profile", PROFILES)
def test_socketio_uds_listens_on_the_socket_and_no_port(profile, tmp_path, redis_server):
	port = free_port()
	uds = str(Path(tmp_path) / "socketio.sock")
	common = {"redis_queue": redis_server.url, "socketio_port": port, "socketio_uds": uds}
	bench = make_bench(tmp_path, common=common)
	with RealtimeServer(bench / "sites", profile=profile) as node:
		if profile == "v15.41":  # 15.41 does not know the key
			assert node.uds is None and node.port == port and port_accepts(port)
			return
		assert node.uds == uds and node.port == 0 and not port_accepts(port)
		conn = UnixHTTPConnection(uds)
		try:
			conn.request("GET", "/socket.io/?EIO=4&transport=polling")
			res = conn.getresponse()
			assert res.status == 200 and res.read().decode().startswith('0{"sid":')
		finally:
			conn.close()
