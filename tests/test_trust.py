"""A private CA: the probes trust it with --ca-file (one trust store for polling and WebSocket),
and when the realtime service's own callback does not, the hint names NODE_EXTRA_CA_CERTS.

Real nginx terminates TLS with a self-signed certificate (a staging site, a private CA) in
front of the rendered nginx-vps sidecar, in front of the realtime and web stand-ins.
"""

import json

import pytest

from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.resolve import resolve
from tests.hostile import self_signed_cert
from tests.stack import ADMIN_SID, Nginx, Stack
from tests.stack.tls import tls_front


def checks(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


def test_without_the_ca_the_certificate_is_named_and_the_ca_file_offered(stack):
	body, config = tls_front(stack)
	with Nginx(body):
		report = diagnose(config, timeout=5, sid=ADMIN_SID)
	external = checks(report)["external_handshake"]
	assert external["ok"] is False and "certificate is not trusted" in external["detail"]
	assert "--ca-file" in report["hint"]


def test_with_the_ca_file_every_probe_trusts_it_and_nodes_callback_is_the_next_hop(stack):
	cert, _ = self_signed_cert()
	body, config = tls_front(stack)
	with Nginx(body):
		report = diagnose(config, timeout=5, sid=ADMIN_SID, ca_file=str(cert))
	found = checks(report)
	assert found["external_handshake"]["ok"] is True and found["external_websocket"]["ok"] is True
	assert found["namespace"]["ok"] is False
	assert "Unauthorized" in found["namespace"]["detail"] and "certificate" in found["namespace"]["detail"]
	assert "NODE_EXTRA_CA_CERTS" in report["hint"]
	assert report["ca_file"] == str(cert)


def test_with_both_trusting_the_ca_the_tunnel_passes_end_to_end(tmp_path):
	cert, _ = self_signed_cert()
	with Stack(tmp_path=tmp_path, realtime_env={"NODE_EXTRA_CA_CERTS": str(cert)}) as trusting:
		body, config = tls_front(trusting)
		with Nginx(body):
			report = diagnose(config, timeout=5, sid=ADMIN_SID, ca_file=str(cert))
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"] and not failing, json.dumps(failing, indent=1)
	assert checks(report)["end_to_end"]["ok"] is True


@pytest.mark.parametrize("bad", ["missing", "key"])
def test_an_unusable_ca_file_fails_the_config_check_and_says_so(stack, bad):
	cert, key = self_signed_cert()
	path = str(key) if bad == "key" else str(cert) + ".missing"
	config = resolve(stack.site, {}, stack.common, {"deployment_type": "local", "base_url": stack.web_url})
	report = diagnose(config, timeout=2, ca_file=path)
	config_check = checks(report)["config"]
	assert config_check["ok"] is False and "CA file" in config_check["detail"]
	assert "system's CA store only" in config_check["detail"]
	assert report["ca_file"] is None
	assert ("holds a private key" if bad == "key" else "No such file") in config_check["detail"]
