"""Proxy and tunnel configs from a RavenConfig: nginx (VPS sidecar, sandbox multiplexer), Traefik, ngrok.

Most realtime failures an operator meets are proxy failures (dropped Upgrade, rewritten Host,
no Origin, short timeouts, no stickiness: see the failure catalog). Each is fixed once here,
in a config that can be pasted as is. The templates are not escaped, so every value is
validated before it reaches one: a hostile setting cannot add a directive or a label.
"""

import hashlib
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from raven_ai_agent.realtime.constants import (
	DEFAULT_DOCKER_HOST_GATEWAY,
	DEFAULT_LOCAL_UPSTREAM_HOST,
	DEFAULT_MULTIPLEXER_HOST,
	DEFAULT_MULTIPLEXER_PORT,
	DEFAULT_PROXY_TIMEOUT,
	DEFAULT_SIDECAR_LISTEN_PORT,
	DEFAULT_TRAEFIK_CERT_RESOLVER,
	DEFAULT_TRAEFIK_ENTRYPOINT,
	ENGINEIO_PING_WINDOW,
	NGROK_AUTHTOKEN_ENV,
	SITE_NAME_HEADER,
	STICKY_COOKIE_NAME,
)
from raven_ai_agent.realtime.validate import (
	MAX_IDENTIFIER_LENGTH,
	HostPart,
	check_base_url,
	check_host,
	check_identifier,
	check_port,
	check_site_name,
	check_socketio_path,
	check_upstream,
	split_host_name,
)

NGINX_VPS, NGINX_SANDBOX, TRAEFIK, NGROK = "nginx-vps", "nginx-sandbox", "traefik", "ngrok"
TRAEFIK_FORMATS = ("labels", "file")
MAX_PROXY_TIMEOUT = 86400  # a day: longer only hides dead upstreams
_TEMPLATES = Path(__file__).parent / "templates"


class RenderError(ValueError):
	"""A render option or config value that cannot go into a proxy config; the message says what can."""


@dataclass(frozen=True)
class _Site:
	"""The config values every target needs, validated once."""

	site_name: str
	host: str
	base_url: str
	socketio_path: str
	socketio_port: int
	webserver_port: int


def _site(config) -> _Site:
	"""Re-validate the config: it may have been built by hand, not by resolve()."""
	values = {}
	for field, check in (
		("site_name", check_site_name),
		("host", check_host),
		("base_url", check_base_url),
		("socketio_path", check_socketio_path),
		("socketio_port", check_port),
		("webserver_port", check_port),
	):
		try:
			values[field] = check(getattr(config, field))
		except ValueError as e:
			raise RenderError(f"config {field}: {e}") from None
	site = _Site(**values)
	if split_host_name(site.base_url).host != site.host:
		raise RenderError(
			f"config host {site.host!r} is not the host of base_url {site.base_url!r}: "
			"the realtime service compares them, so they must agree"
		)
	return site


def _checked(option: str, check: Callable, value):
	"""Run a validate.check_* on an option; its ValueError becomes a RenderError naming the option."""
	try:
		return check(value)
	except ValueError as e:
		raise RenderError(f"--{option.replace('_', '-')}: {e}") from None


def _as_list(value) -> list:
	if value is None:
		return []
	return [value] if isinstance(value, str | int) else list(value)


def _addr(part: HostPart) -> str:
	return f"{part.netloc_host}:{part.port}"


def _listen(value) -> HostPart:
	"""`PORT` or `HOST:PORT`: where a proxy listens."""
	if isinstance(value, int) or (isinstance(value, str) and value.strip().isdecimal()):
		return HostPart(scheme=None, host="", port=_checked("listen", check_port, value))
	return _checked("listen", check_upstream, value)


def _default_name(site_name: str) -> str:
	"""`raven_<site>`: unique per site, so two sites' configs can share one conf.d. A long site
	name is cut and a short hash of it kept, so names stay unique and within the length limit."""
	slug = re.sub(r"[^a-z0-9]+", "_", site_name.lower()).strip("_")
	name = "raven_" + slug
	if len(name) > MAX_IDENTIFIER_LENGTH:
		digest = hashlib.sha1(site_name.encode()).hexdigest()[:6]
		name = name[: MAX_IDENTIFIER_LENGTH - len(digest) - 1].rstrip("_-") + "_" + digest
	return name


def _name(value, site: _Site) -> str:
	return _default_name(site.site_name) if value is None else _checked("name", check_identifier, value)


def _nodes(upstream, host: str, port: int) -> list[HostPart]:
	"""The realtime nodes: each `--upstream HOST:PORT`, or the one at `host` on the bench's port."""
	nodes = [_checked("upstream", check_upstream, u) for u in _as_list(upstream)]
	return nodes or [HostPart(scheme=None, host=host, port=port)]


def _sticky(value, nodes: int) -> bool:
	"""Auto: sticky as soon as there are several nodes (Engine.IO state lives in one process)."""
	if value is None:
		return nodes > 1
	if not isinstance(value, bool):
		raise RenderError(f"--sticky: {value!r} is not a yes/no value: use True, False or leave it unset")
	return value


def _timeout(value) -> int:
	if (
		isinstance(value, bool)
		or not isinstance(value, int)
		or not ENGINEIO_PING_WINDOW < value <= MAX_PROXY_TIMEOUT
	):
		raise RenderError(
			f"--proxy-timeout: {value!r} is not allowed: use whole seconds above pingInterval + pingTimeout "
			f"({ENGINEIO_PING_WINDOW} s) and at most {MAX_PROXY_TIMEOUT}"
		)
	return value


_env = Environment(
	loader=FileSystemLoader(_TEMPLATES),
	undefined=StrictUndefined,
	autoescape=False,  # nginx, not HTML: values are validated instead
	trim_blocks=True,
	lstrip_blocks=True,
	keep_trailing_newline=True,
)


def _render_nginx(
	template: str,
	config,
	*,
	upstream_host: str,
	upstream,
	web_upstream: str | None,
	listen,
	name: str | None,
	sticky: bool | None,
	proxy_timeout: int,
) -> str:
	site = _site(config)
	host = _checked("upstream_host", check_host, upstream_host)
	nodes = _nodes(upstream, host, site.socketio_port)
	web = (
		_checked("web_upstream", check_upstream, web_upstream)
		if web_upstream is not None
		else HostPart(scheme=None, host=host, port=site.webserver_port)
	)
	where = _listen(listen)
	var = _name(name, site).replace("-", "_")  # nginx variable names take no '-'
	context = {
		"var": var,
		"site_name": site.site_name,
		"host": site.host,
		"socketio_path": site.socketio_path,
		"socketio_upstream": f"{var}_socketio",
		"socketio_servers": [_addr(n) for n in nodes],
		"web_upstream": f"{var}_web",
		"web_servers": [_addr(web)],
		"listen": _addr(where) if where.host else str(where.port),
		"sticky": _sticky(sticky, len(nodes)),
		"timeout": _timeout(proxy_timeout),
		"ping_window": ENGINEIO_PING_WINDOW,
	}
	return _env.get_template(template).render(c=context)


def render_nginx_vps(
	config,
	*,
	upstream_host: str = DEFAULT_DOCKER_HOST_GATEWAY,
	upstream: Sequence[str] | str | None = None,
	web_upstream: str | None = None,
	listen: int | str = DEFAULT_SIDECAR_LISTEN_PORT,
	name: str | None = None,
	sticky: bool | None = None,
	proxy_timeout: int = DEFAULT_PROXY_TIMEOUT,
) -> str:
	"""The VPS nginx sidecar: Traefik sends it everything; `<socketio_path>` goes to the realtime
	node(s), the rest to the web server. Both default to `upstream_host` (the Docker host gateway)
	with the bench's ports; `upstream` (repeatable HOST:PORT) and `web_upstream` replace them.
	Output is http{}-level: a file for /etc/nginx/conf.d/.
	"""
	return _render_nginx(
		"nginx-vps.conf.j2",
		config,
		upstream_host=upstream_host,
		upstream=upstream,
		web_upstream=web_upstream,
		listen=listen,
		name=name,
		sticky=sticky,
		proxy_timeout=proxy_timeout,
	)


def render_nginx_sandbox(
	config,
	*,
	upstream_host: str = DEFAULT_LOCAL_UPSTREAM_HOST,
	upstream: Sequence[str] | str | None = None,
	web_upstream: str | None = None,
	listen: int | str = f"{DEFAULT_MULTIPLEXER_HOST}:{DEFAULT_MULTIPLEXER_PORT}",
	name: str | None = None,
	sticky: bool | None = None,
	proxy_timeout: int = DEFAULT_PROXY_TIMEOUT,
) -> str:
	"""The sandbox multiplexer a tunnel points at: one port, `/` to the web server and
	`<socketio_path>` to the realtime service, so a one-port tunnel carries both (catalog #2).
	"""
	return _render_nginx(
		"nginx-sandbox.conf.j2",
		config,
		upstream_host=upstream_host,
		upstream=upstream,
		web_upstream=web_upstream,
		listen=listen,
		name=name,
		sticky=sticky,
		proxy_timeout=proxy_timeout,
	)


def _dump(header: str, data) -> str:
	"""YAML with a leading comment block; never wrapped, so labels stay on one line."""
	comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
	return comment + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=10_000)


def render_traefik(
	config,
	*,
	format: str = "labels",
	entrypoint: str = DEFAULT_TRAEFIK_ENTRYPOINT,
	cert_resolver: str = DEFAULT_TRAEFIK_CERT_RESOLVER,
	tls: bool = True,
	upstream_host: str = DEFAULT_DOCKER_HOST_GATEWAY,
	upstream: Sequence[str] | str | None = None,
	name: str | None = None,
	sticky: bool | None = None,
) -> str:
	"""Traefik (v2/v3) routing `Host(<host>) && PathPrefix(<socketio_path>)` to the realtime service,
	as Docker labels (`format="labels"`, for the realtime container) or as a file-provider YAML
	(`format="file"`, servers at `upstream`/`upstream_host`).

	Traefik keeps Host and sets X-Forwarded-Proto by itself, but cannot build an Origin from the
	request, and browsers send none on same-origin polling (catalog #4). The router matches one
	host only, so a fixed `Origin: <base_url>` always equals the page's origin.
	"""
	if format not in TRAEFIK_FORMATS:
		raise RenderError(
			f"--format: {format!r} is not a Traefik format: use one of {', '.join(TRAEFIK_FORMATS)}"
		)
	site = _site(config)
	router = _name(name, site)
	entrypoint = _checked("entrypoint", lambda v: check_identifier(v, "entrypoint name"), entrypoint)
	if not isinstance(tls, bool):
		raise RenderError(f"--tls: {tls!r} is not a yes/no value: use True or False")
	if tls:
		cert_resolver = _checked(
			"cert_resolver", lambda v: check_identifier(v, "cert resolver name"), cert_resolver
		)
	host = _checked("upstream_host", check_host, upstream_host)
	nodes = _nodes(upstream, host, site.socketio_port)
	is_sticky = _sticky(sticky, len(nodes))
	secure = site.base_url.startswith("https://")
	rule = f"Host(`{site.host}`) && PathPrefix(`{site.socketio_path.rstrip('/')}`)"
	middleware = f"{router}-headers"
	headers = {"Origin": site.base_url, SITE_NAME_HEADER: site.site_name}
	about = (
		f"Traefik routing for Frappe's realtime service of {site.site_name}, generated by\n"
		f"`raven-realtime render traefik --format {format}`. The rule is longer than a plain\n"
		f"Host(`{site.host}`) rule, so Traefik tries it first; the web router stays as it is.\n"
		f"The middleware sets Origin and {SITE_NAME_HEADER}: browsers send no Origin on polling.\n"
	)
	if is_sticky:
		about += f"Sticky cookie {STICKY_COOKIE_NAME}: Engine.IO keeps a session in one realtime node.\n"

	if format == "labels":
		ports = {n.port for n in nodes}
		if len(ports) > 1:
			raise RenderError(
				"--upstream: Docker labels describe one container port, but the upstreams use "
				f"{', '.join(map(str, sorted(ports)))}: use --format file for nodes on different ports"
			)
		prefix = "traefik.http"
		labels = [
			"traefik.enable=true",
			f"{prefix}.routers.{router}.rule={rule}",
			f"{prefix}.routers.{router}.entrypoints={entrypoint}",
			f"{prefix}.routers.{router}.service={router}",
			f"{prefix}.routers.{router}.middlewares={middleware}",
		]
		if tls:
			labels += [
				f"{prefix}.routers.{router}.tls=true",
				f"{prefix}.routers.{router}.tls.certresolver={cert_resolver}",
			]
		labels += [
			f"{prefix}.middlewares.{middleware}.headers.customrequestheaders.{k}={v}"
			for k, v in headers.items()
		]
		labels.append(f"{prefix}.services.{router}.loadbalancer.server.port={ports.pop()}")
		labels.append(f"{prefix}.services.{router}.loadbalancer.passhostheader=true")
		if is_sticky:
			cookie = f"{prefix}.services.{router}.loadbalancer.sticky.cookie"
			labels += [f"{cookie}=true", f"{cookie}.name={STICKY_COOKIE_NAME}", f"{cookie}.httponly=true"]
			labels += [f"{cookie}.secure=true"] if secure else []
		about += "Put these labels on the container of the realtime (socketio) service.\n"
		return _dump(about, {"labels": labels})

	router_conf = {"rule": rule, "entryPoints": [entrypoint], "service": router, "middlewares": [middleware]}
	if tls:
		router_conf["tls"] = {"certResolver": cert_resolver}
	balancer: dict = {"servers": [{"url": f"http://{_addr(n)}"} for n in nodes], "passHostHeader": True}
	if is_sticky:
		balancer["sticky"] = {"cookie": {"name": STICKY_COOKIE_NAME, "httpOnly": True, "secure": secure}}
	data = {
		"http": {
			"routers": {router: router_conf},
			"middlewares": {middleware: {"headers": {"customRequestHeaders": headers}}},
			"services": {router: {"loadBalancer": balancer}},
		}
	}
	about += "Load it with the file provider (providers.file.filename or .directory).\n"
	return _dump(about, data)


def render_ngrok(
	config,
	*,
	listen: int | str = f"{DEFAULT_MULTIPLEXER_HOST}:{DEFAULT_MULTIPLEXER_PORT}",
	name: str | None = None,
) -> str:
	"""An ngrok agent config (version 3, `endpoints:`; agent 3.16+) for `https://<host>` pointing at
	the sandbox multiplexer (`listen`, as given to nginx-sandbox).

	Agent endpoints forward the Host header unchanged; a rewritten Host (`--host-header=rewrite`,
	or a traffic policy that sets `host`) makes the realtime service answer "Invalid origin".
	The auth token never goes into the file: the operator passes it from the environment.
	"""
	site = _site(config)
	endpoint = _name(name, site)
	where = _listen(listen)
	target = where.netloc_host if where.host not in ("", "0.0.0.0", "::") else DEFAULT_MULTIPLEXER_HOST
	about = (
		f"ngrok agent config (version 3, ngrok agent 3.16 or later) for {site.site_name}, generated by\n"
		"`raven-realtime render ngrok`. It tunnels the sandbox multiplexer (`render nginx-sandbox`).\n"
		"The auth token is not in this file. Run, with the token in the environment:\n"
		f'  ngrok start --config THIS_FILE --authtoken "${NGROK_AUTHTOKEN_ENV}" {endpoint}\n'
		"The Host header must reach the multiplexer unchanged: do not add --host-header=rewrite\n"
		'or a traffic policy that sets `host` (the realtime service would answer "Invalid origin").\n'
		"upstream.protocol http1: WebSocket upgrades need HTTP/1.1 to the upstream.\n"
	)
	data = {
		"version": 3,
		"agent": {},
		"endpoints": [
			{
				"name": endpoint,
				"url": f"https://{site.host}",
				"upstream": {"url": f"http://{target}:{where.port}", "protocol": "http1"},
			}
		],
	}
	return _dump(about, data)


RENDERERS: dict[str, Callable[..., str]] = {
	NGINX_VPS: render_nginx_vps,
	NGINX_SANDBOX: render_nginx_sandbox,
	TRAEFIK: render_traefik,
	NGROK: render_ngrok,
}
TARGETS = tuple(RENDERERS)


def options_of(target: str) -> tuple[str, ...]:
	"""The keyword options a target accepts, in signature order."""
	params = inspect.signature(RENDERERS[target]).parameters.values()
	return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def render(target: str, config, **options) -> str:
	"""The config for `target` (one of TARGETS) from a RavenConfig; RenderError names a bad option."""
	if target not in RENDERERS:
		raise RenderError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
	allowed = options_of(target)
	for option in options:
		if option not in allowed:
			raise RenderError(
				f"--{option.replace('_', '-')} does not apply to {target}: it takes "
				+ ", ".join(f"--{o.replace('_', '-')}" for o in allowed)
			)
	return RENDERERS[target](config, **options)
