"""nginx "front" configs (http{}-level text for services.Nginx): one healthy, the rest broken
the ways real deployments break (see shared/docs/realtime-facts.md, failure catalog).

Every function takes the front's listen port, the web port and the realtime port (a list
of ports for the two-node variants) and returns the text. `healthy` is bench's own
template (bench/config/templates/nginx.conf) reduced to the two routes that matter.
"""

from .bench import DEFAULT_SITE
from .procs import free_port


def _upstream(name: str, ports, extra: str = "") -> str:
	ports = [ports] if isinstance(ports, int) else list(ports)
	servers = "".join(f"\tserver 127.0.0.1:{p} fail_timeout=0;\n" for p in ports)
	return f"upstream {name} {{\n{extra}{servers}}}\n"


def _web_location(site: str) -> str:
	return f"""
	location / {{
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_set_header X-Frappe-Site-Name {site};
		proxy_set_header Host $host;
		proxy_set_header X-Use-X-Accel-Redirect True;
		proxy_read_timeout 120;
		proxy_redirect off;
		proxy_pass http://stack-frappe;
	}}
"""


def _socketio_location(
	site: str,
	*,
	upgrade: bool = True,
	origin: bool = True,
	host: str = "$host",
	site_header: bool = True,
	read_timeout: int | None = None,
	pass_uri: str = "",
	cookie: bool = True,
) -> str:
	lines = ["proxy_http_version 1.1;" if upgrade else "proxy_http_version 1.0;"]
	if not cookie:
		lines.append('proxy_set_header Cookie "";')
	if upgrade:
		lines += ["proxy_set_header Upgrade $http_upgrade;", 'proxy_set_header Connection "upgrade";']
	if site_header:
		lines.append(f"proxy_set_header X-Frappe-Site-Name {site};")
	if origin:
		lines.append("proxy_set_header Origin $scheme://$http_host;")
	lines.append(f"proxy_set_header Host {host};")
	if read_timeout is not None:
		lines.append(f"proxy_read_timeout {read_timeout};")
	lines.append(f"proxy_pass http://stack-socketio{pass_uri};")
	body = "".join(f"\t\t{line}\n" for line in lines)
	location = "/socket.io/" if pass_uri else "/socket.io"
	return f"\n\tlocation {location} {{\n{body}\t}}\n"


def _server(listen_port: int, body: str) -> str:
	return f"server {{\n\tlisten 127.0.0.1:{listen_port};\n\tserver_name _;\n{body}}}\n"


def healthy(
	listen_port: int,
	web_port: int,
	socketio_port: int,
	*,
	site: str = DEFAULT_SITE,
	read_timeout: int | None = None,
) -> str:
	"""bench's nginx: /socket.io to Node with Upgrade/Connection, Host kept, Origin rebuilt."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site, read_timeout=read_timeout) + _web_location(site))
	)


def no_origin(listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE) -> str:
	"""Like Caddy/NPM/Traefik defaults: nothing sets Origin, so a polling-first client fails."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site, origin=False) + _web_location(site))
	)


def all_to_web(
	listen_port: int, web_port: int, socketio_port: int | None = None, *, site: str = DEFAULT_SITE
) -> str:
	"""Everything to the web port (`ngrok http 8000`): /socket.io/ gets Frappe's HTML 404."""
	return _upstream("stack-frappe", web_port) + _server(listen_port, _web_location(site))


def no_upgrade(listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE) -> str:
	"""Upgrade/Connection dropped and HTTP/1.0 upstream: polling works, websocket gets 400 code 3."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site, upgrade=False) + _web_location(site))
	)


def rewrite_host(
	listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE, host: str = "localhost"
) -> str:
	"""Host replaced on the way (ngrok --host-header=rewrite), Origin left as the client sent it:
	"Invalid origin"."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(
			listen_port,
			_socketio_location(site, origin=False, host=host, site_header=False) + _web_location(site),
		)
	)


def stale_port(
	listen_port: int,
	web_port: int,
	socketio_port: int | None = None,
	*,
	site: str = DEFAULT_SITE,
	dead_port: int | None = None,
) -> str:
	"""/socket.io to a port nothing listens on (old socketio_port): 502."""
	dead = dead_port if dead_port is not None else free_port()
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", dead)
		+ _server(listen_port, _socketio_location(site) + _web_location(site))
	)


def strip_path(listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE) -> str:
	"""proxy_pass with a URI: /socket.io/?EIO=4... arrives as /?EIO=4...: empty 404 from Node."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site, pass_uri="/") + _web_location(site))
	)


def round_robin(listen_port: int, web_port: int, ports, *, site: str = DEFAULT_SITE) -> str:
	"""Two realtime nodes, no stickiness: the request after the handshake may hit the other node
	("Session ID unknown")."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", ports)
		+ _server(listen_port, _socketio_location(site) + _web_location(site))
	)


def sticky(listen_port: int, web_port: int, ports, *, site: str = DEFAULT_SITE) -> str:
	"""Two realtime nodes behind ip_hash: one client always reaches the same node."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", ports, extra="\tip_hash;\n")
		+ _server(listen_port, _socketio_location(site) + _web_location(site))
	)


def strip_cookie(listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE) -> str:
	"""A proxy that drops the Cookie header on the socket path: "No cookie transmitted."."""
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site, cookie=False) + _web_location(site))
	)


def callback_loses_sid(
	listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE
) -> str:
	"""The realtime service's session check loses its credentials on the way (as a redirect
	from http to https does to a cookie): every socket is taken for Guest."""
	check = (
		"\n\tlocation = /api/method/frappe.realtime.get_user_info {\n"
		'\t\tset $args "";\n'
		'\t\tproxy_set_header Cookie "";\n'
		f"\t\tproxy_set_header X-Frappe-Site-Name {site};\n"
		"\t\tproxy_pass http://stack-frappe;\n\t}\n"
	)
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, _socketio_location(site) + check + _web_location(site))
	)


def literal_site(listen_port: int, web_port: int, socketio_port: int, *, site: str = DEFAULT_SITE) -> str:
	"""frappe_docker's template with FRAPPE_SITE_NAME_HEADER set to a literal name: Origin and
	X-Frappe-Site-Name name another host than the one the browser uses."""
	location = (
		"\n\tlocation /socket.io {\n"
		"\t\tproxy_http_version 1.1;\n"
		"\t\tproxy_set_header Upgrade $http_upgrade;\n"
		'\t\tproxy_set_header Connection "upgrade";\n'
		"\t\tproxy_set_header X-Frappe-Site-Name frontend.local;\n"
		"\t\tproxy_set_header Origin $scheme://frontend.local;\n"
		"\t\tproxy_set_header Host $host;\n"
		"\t\tproxy_pass http://stack-socketio;\n\t}\n"
	)
	return (
		_upstream("stack-frappe", web_port)
		+ _upstream("stack-socketio", socketio_port)
		+ _server(listen_port, location + _web_location(site))
	)


VARIANTS = {
	"healthy": healthy,
	"literal_site": literal_site,
	"callback_loses_sid": callback_loses_sid,
	"strip_cookie": strip_cookie,
	"no_origin": no_origin,
	"all_to_web": all_to_web,
	"no_upgrade": no_upgrade,
	"rewrite_host": rewrite_host,
	"stale_port": stale_port,
	"strip_path": strip_path,
	"round_robin": round_robin,
	"sticky": sticky,
}


def render(variant: str, listen_port: int, web_port: int, socketio, **kw) -> str:
	"""Conf text of a named variant; `socketio` is a port, or a list for round_robin/sticky."""
	try:
		fn = VARIANTS[variant]
	except KeyError:
		raise ValueError(f"unknown topology {variant!r}; known: {', '.join(VARIANTS)}") from None
	return fn(listen_port, web_port, socketio, **kw)
