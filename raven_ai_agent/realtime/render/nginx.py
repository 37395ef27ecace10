"""nginx from a RavenConfig: the VPS sidecar behind Traefik and the sandbox multiplexer.

Both shapes route `<socketio_path>` to the realtime node(s) with the Upgrade headers, an
Origin, X-Frappe-Site-Name and long timeouts, and everything else to the web server; they
differ only in their template and defaults (NGINX_SHAPES).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from raven_ai_agent.realtime.constants import (
	DEFAULT_DOCKER_HOST_GATEWAY,
	DEFAULT_LOCAL_UPSTREAM_HOST,
	DEFAULT_MULTIPLEXER_HOST,
	DEFAULT_MULTIPLEXER_PORT,
	DEFAULT_NGINX_ACCESS_LOG,
	DEFAULT_PROXY_TIMEOUT,
	DEFAULT_SIDECAR_LISTEN_PORT,
	ENGINEIO_PING_WINDOW,
	USER_INFO_PATH,
)
from raven_ai_agent.realtime.render.inputs import (
	addr,
	checked,
	listen_at,
	name_of,
	nodes_of,
	proxy_timeout_of,
	site_of,
	sticky_of,
	unix_upstream,
)
from raven_ai_agent.realtime.validate import HostPart, check_host, check_log_path, check_upstream

NGINX_VPS, NGINX_SANDBOX = "nginx-vps", "nginx-sandbox"


@dataclass(frozen=True)
class NginxShape:
	"""One nginx target: its template and the defaults that differ."""

	template: str
	upstream_host: str
	listen: int | str


NGINX_SHAPES = {
	# The VPS sidecar: Traefik sends it everything; upstreams on the Docker host gateway with the
	# bench's ports. Output is http{}-level: a file for /etc/nginx/conf.d/.
	NGINX_VPS: NginxShape("nginx-vps.conf.j2", DEFAULT_DOCKER_HOST_GATEWAY, DEFAULT_SIDECAR_LISTEN_PORT),
	# The sandbox multiplexer a tunnel points at: one port carries both, so a one-port tunnel
	# reaches the realtime service too (catalog #2).
	NGINX_SANDBOX: NginxShape(
		"nginx-sandbox.conf.j2",
		DEFAULT_LOCAL_UPSTREAM_HOST,
		f"{DEFAULT_MULTIPLEXER_HOST}:{DEFAULT_MULTIPLEXER_PORT}",
	),
}
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_env = Environment(
	loader=FileSystemLoader(_TEMPLATES),
	undefined=StrictUndefined,
	autoescape=False,  # nginx, not HTML: values are validated instead
	trim_blocks=True,
	lstrip_blocks=True,
	keep_trailing_newline=True,
)


def render_nginx(
	target: str,
	config,
	*,
	upstream_host: str | None = None,
	upstream: Sequence[str] | str | None = None,
	web_upstream: str | None = None,
	listen: int | str | None = None,
	name: str | None = None,
	sticky: bool | None = None,
	proxy_timeout: int = DEFAULT_PROXY_TIMEOUT,
	access_log: str = DEFAULT_NGINX_ACCESS_LOG,
) -> str:
	"""The nginx config of `target` (NGINX_SHAPES): `<socketio_path>` to the realtime node(s), the
	rest to the web server. Both default to the shape's upstream host with the bench's ports;
	`upstream` (repeatable HOST:PORT) and `web_upstream` replace them.
	"""
	shape = NGINX_SHAPES[target]
	site = site_of(config)
	host = checked(
		"upstream_host", check_host, shape.upstream_host if upstream_host is None else upstream_host
	)
	unix = unix_upstream(upstream, site, "nginx")
	nodes = nodes_of(upstream, host, site.socketio_port)
	web = (
		checked("web_upstream", check_upstream, web_upstream)
		if web_upstream is not None
		else HostPart(scheme=None, host=host, port=site.webserver_port)
	)
	where = listen_at(shape.listen if listen is None else listen)
	var = name_of(name, site).replace("-", "_")  # nginx variable names take no '-'
	context = {
		"var": var,
		"site_name": site.site_name,
		"host": site.host,
		"socketio_path": site.socketio_path,
		"socketio_upstream": f"{var}_socketio",
		# socketio_uds (latest v15, v16): nginx reaches the service on its socket, `server unix:...`
		"socketio_servers": [unix] if unix else [addr(n) for n in nodes],
		"web_upstream": f"{var}_web",
		"web_servers": [addr(web)],
		"listen": addr(where) if where.host else str(where.port),
		"sticky": sticky_of(sticky, 1 if unix else len(nodes)),
		"timeout": proxy_timeout_of(proxy_timeout),
		"ping_window": ENGINEIO_PING_WINDOW,
		"access_log": checked("access_log", check_log_path, access_log),
		"user_info_path": USER_INFO_PATH,
	}
	return _env.get_template(shape.template).render(c=context)


render_nginx_vps = functools.partial(render_nginx, NGINX_VPS)
render_nginx_sandbox = functools.partial(render_nginx, NGINX_SANDBOX)
