"""The VPS chain for real: Traefik (TLS, the rendered file-provider config) -> the rendered nginx
sidecar -> the realtime and web stand-ins.

On a WebSocket upgrade Traefik sends X-Forwarded-Proto: wss. A sidecar that maps only
https/http builds `Origin: http://...` for clients that send none (agents, mobile apps with
`transports: ["websocket"]`), so their session check goes to plain http and they are refused,
while browsers (polling first) pass. The diagnosis' WebSocket-first session finds it.
"""

import contextlib
import json

import requests
import yaml

from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve
from tests.hostile import self_signed_cert
from tests.stack import ADMIN_SID, Nginx, SocketIOClient, Stack, free_port, wait_until
from tests.test_render_nginx import Traefik

LOOPBACK = "127.0.0.1"
# What the sidecar's scheme map looked like before it learnt Traefik's upgrade values.
WSS_LINES = ("\twss     https;\n", "\tws      http;\n")


def chain(stack, tmp_path, *, shape: str, fixed: bool = True):
	"""Start nginx (sidecar) and Traefik (TLS) in front of `stack`; return (config, stop, public port)."""
	cert, key = self_signed_cert()
	public, sidecar = free_port(), free_port()
	base = f"https://{LOOPBACK}:{public}"
	config = resolve(stack.site, {}, stack.common, {"deployment_type": "vps_prod", "base_url": base})
	nginx_conf = render("nginx-vps", config, upstream_host=LOOPBACK, listen=f"{LOOPBACK}:{sidecar}")
	if not fixed:
		for line in WSS_LINES:
			assert line in nginx_conf
			nginx_conf = nginx_conf.replace(line, "")
	options = {"format": "file", "entrypoint": "web", "cert_resolver": "", "shape": shape}
	if shape == "sidecar":
		options["sidecar"] = f"{LOOPBACK}:{sidecar}"
	else:
		options.update(upstream_host=LOOPBACK)
	folder = tmp_path / f"traefik-{shape}-{fixed}"
	folder.mkdir()
	(folder / "site.yml").write_text(render("traefik", config, **options))
	tls = {"certFile": str(cert), "keyFile": str(key)}
	(folder / "tls.yml").write_text(
		yaml.safe_dump({"tls": {"stores": {"default": {"defaultCertificate": tls}}}})
	)
	stop = contextlib.ExitStack()
	stop.enter_context(Nginx(nginx_conf))
	stop.enter_context(Traefik(folder, public))
	try:
		routed = wait_until(
			lambda: _answers(f"https://{LOOPBACK}:{public}/socket.io/?EIO=4&transport=polling", cert),
			timeout=15,
			message="Traefik routes the site over TLS",
		)
	except BaseException:
		stop.close()
		raise
	assert routed
	return config, stop, public


def _answers(url: str, cert) -> bool:
	"""Traefik loads the file provider just after it listens: a route answers 200 once loaded."""
	try:
		return requests.get(url, verify=str(cert), timeout=2).status_code == 200
	except requests.RequestException:
		return False


def checks(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


def https(url: str, cert) -> requests.Response:
	return requests.get(url, verify=str(cert), timeout=5)


def test_traefik_sidecar_chain_unfixed_map_fails_websocket_only_clients_with_the_cause(tmp_path):
	cert, _ = self_signed_cert()
	with Stack(tmp_path=tmp_path, realtime_env={"NODE_EXTRA_CA_CERTS": str(cert)}) as stack:
		config, stop, _ = chain(stack, tmp_path, shape="sidecar", fixed=False)
		with stop:
			report = diagnose(config, timeout=6, sid=ADMIN_SID, ca_file=str(cert))
	found = checks(report)
	assert found["namespace"]["ok"] is True, found["namespace"]  # browsers (polling first) pass
	ws = found["websocket_session"]
	assert ws["ok"] is False and "Unauthorized" in ws["detail"], ws
	assert [c["name"] for c in report["checks"] if c["ok"] is False][0] == "websocket_session"
	assert "X-Forwarded-Proto: wss" in report["hint"] and "map wss to https" in report["hint"]


def test_traefik_sidecar_chain_rendered_passes_end_to_end_and_routes_the_site(tmp_path):
	cert, _ = self_signed_cert()
	with Stack(tmp_path=tmp_path, realtime_env={"NODE_EXTRA_CA_CERTS": str(cert)}) as stack:
		config, stop, public = chain(stack, tmp_path, shape="sidecar")
		with stop:
			report = diagnose(config, timeout=6, sid=ADMIN_SID, ca_file=str(cert))
			ping = https(f"https://{LOOPBACK}:{public}/api/method/ping", cert)
			# A WebSocket-only socket.io client without Origin (an agent) connects and authenticates.
			with SocketIOClient(
				public, stack.site, headers={"Cookie": f"sid={ADMIN_SID}"}, tls_ca=str(cert)
			) as agent:
				answer = agent.connect()
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"] and not failing, json.dumps(failing, indent=1)
	assert checks(report)["websocket_session"]["ok"] is True
	assert ping.json() == {"message": "pong"}  # the whole site goes through the chain
	assert answer.startswith(f"0/{stack.site},"), answer


def test_traefik_realtime_shape_routes_the_whole_site_too(tmp_path):
	cert, _ = self_signed_cert()
	with Stack(tmp_path=tmp_path, realtime_env={"NODE_EXTRA_CA_CERTS": str(cert)}) as stack:
		config, stop, public = chain(stack, tmp_path, shape="realtime")
		with stop:
			ping = https(f"https://{LOOPBACK}:{public}/api/method/ping", cert)
			handshake = https(f"https://{LOOPBACK}:{public}/socket.io/?EIO=4&transport=polling", cert)
			report = diagnose(config, timeout=6, sid=ADMIN_SID, ca_file=str(cert))
	assert ping.json() == {"message": "pong"}
	assert handshake.text.startswith("0{")
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"] and not failing, json.dumps(failing, indent=1)
