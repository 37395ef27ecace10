"""A TLS front: real nginx terminates https with a self-signed certificate in front of the
rendered nginx-vps sidecar, in front of a stack's realtime and web stand-ins (a staging site,
a private CA, or a VPS behind Traefik as the browser sees it)."""

from raven_ai_agent.realtime.model import RavenConfig
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve
from tests.hostile import self_signed_cert

from .procs import free_port

LOOPBACK = "127.0.0.1"


def tls_front(stack, deployment_type: str = "vps_prod") -> tuple[str, RavenConfig]:
	"""(nginx conf: TLS terminator + rendered sidecar, the config of the public https URL).

	`deployment_type` is what the site is configured as; the front is the same either way, so a
	`local` config with this https base URL is the misconfiguration, not the proxy."""
	cert, key = self_signed_cert()
	public, sidecar = free_port(), free_port()
	base = f"https://{LOOPBACK}:{public}"
	sidecar_config = resolve(stack.site, {}, stack.common, {"deployment_type": "vps_prod", "base_url": base})
	body = render("nginx-vps", sidecar_config, upstream_host=LOOPBACK, listen=f"{LOOPBACK}:{sidecar}")
	body += f"""
server {{
	listen {LOOPBACK}:{public} ssl;
	ssl_certificate {cert};
	ssl_certificate_key {key};
	location / {{
		proxy_pass http://{LOOPBACK}:{sidecar};
		proxy_http_version 1.1;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection $http_connection;
		proxy_set_header Host $http_host;
		proxy_set_header X-Forwarded-Proto https;
	}}
}}
"""
	config = resolve(stack.site, {}, stack.common, {"deployment_type": deployment_type, "base_url": base})
	return body, config
