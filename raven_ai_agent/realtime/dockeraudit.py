"""frappe_docker's frontend environment in compose files: what breaks the realtime route.

frappe_docker's frontend renders its nginx template from its environment at start
(nginx-entrypoint.sh): SOCKETIO is where /socket.io goes, BACKEND the rest, and a variable
that is unset takes the entrypoint's default. So a compose file can route the socket wrong
without one nginx line in it. Read through composefile; findings in proxyaudit's shape, so
`audit-proxy` prints them with the others. No frappe import.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from raven_ai_agent.realtime.composefile import Service, is_compose_file, read_services
from raven_ai_agent.realtime.configfiles import config_files, read_config_text
from raven_ai_agent.realtime.constants import (
	DEFAULT_SOCKETIO_PORT,
	DEFAULT_WEBSERVER_PORT,
	DOCKER_BACKEND_ADDRESS,
	DOCKER_WEBSOCKET_ADDRESS,
)
from raven_ai_agent.realtime.proxyaudit import ProxyFinding

FRONTEND_ENTRYPOINT = "nginx-entrypoint.sh"
# The frontend template's variables (resources/nginx-template.conf).
TEMPLATE_VARIABLES = ("BACKEND", "SOCKETIO", "FRAPPE_SITE_NAME_HEADER", "PROXY_READ_TIMEOUT")
# What nginx-entrypoint.sh uses when SOCKETIO is unset: the frontend container itself.
ENTRYPOINT_SOCKETIO_DEFAULT = f"0.0.0.0:{DEFAULT_SOCKETIO_PORT}"
MISSPELLED_TIMEOUT = "PROXY_READ_TIMOUT"


def audit_frappe_docker(paths: Iterable) -> list[ProxyFinding]:
	"""Every frappe_docker frontend in the compose files under `paths` that routes the socket wrong."""
	findings: list[ProxyFinding] = []
	for path in config_files(paths):
		if not is_compose_file(path.name):
			continue
		text = read_config_text(path)
		services = read_services(text) if text is not None else None
		for service in (services or {}).values():
			if is_frontend(service):
				findings.extend(frontend_findings(service, str(path), text.splitlines()))
	return findings


def is_frontend(service: Service) -> bool:
	"""frappe_docker's frontend: it runs the template's entrypoint, or sets the template's variables."""
	return FRONTEND_ENTRYPOINT in service.command or any(v in service.environment for v in TEMPLATE_VARIABLES)


def frontend_findings(service: Service, file: str, lines: list[str]) -> list[ProxyFinding]:
	env = service.environment
	found = []

	def finding(line: int, problem: str, fix: str) -> ProxyFinding:
		text = lines[line - 1].strip() if 0 < line <= len(lines) else service.name
		return ProxyFinding(file, line, text, problem, fix)

	socketio, backend = env.get("SOCKETIO"), env.get("BACKEND")
	if socketio is None:
		found.append(
			finding(
				service.line,
				f"service {service.name} sets no SOCKETIO, so frappe_docker's entrypoint routes /socket.io to "
				f"{ENTRYPOINT_SOCKETIO_DEFAULT}, the frontend container itself (HTTP 502 for every socket)",
				f"set `SOCKETIO: {DOCKER_WEBSOCKET_ADDRESS}` in the {service.name} service's environment",
			)
		)
	elif socketio.text and _names_the_backend(socketio.text, backend.text if backend else None):
		found.append(
			finding(
				socketio.line,
				f"SOCKETIO {socketio.text} is Frappe's web server, not the realtime service: /socket.io gets "
				"the web server's 404 page",
				f"set `SOCKETIO: {DOCKER_WEBSOCKET_ADDRESS}` (BACKEND stays {DOCKER_BACKEND_ADDRESS})",
			)
		)
	typo = env.get(MISSPELLED_TIMEOUT)
	if typo is not None and "PROXY_READ_TIMEOUT" not in env:
		found.append(
			finding(
				typo.line,
				f"{MISSPELLED_TIMEOUT} (misspelled) never reaches the template, which reads PROXY_READ_TIMEOUT "
				"(the entrypoint then uses 120)",
				f"rename it to PROXY_READ_TIMEOUT in the {service.name} service's environment",
			)
		)
	return found


def _names_the_backend(socketio: str, backend: str | None) -> bool:
	try:
		parts = urlsplit("//" + socketio)
		host, port = parts.hostname, parts.port
	except ValueError:
		return False
	return (
		socketio == backend or host == DOCKER_BACKEND_ADDRESS.split(":")[0] or port == DEFAULT_WEBSERVER_PORT
	)
