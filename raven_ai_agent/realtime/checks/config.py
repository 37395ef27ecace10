"""The `config` check: ports that cannot work, the resolver's warnings, stale ports in bench files."""

from collections.abc import Sequence

from raven_ai_agent.realtime import hints
from raven_ai_agent.realtime.audit import audit_ports
from raven_ai_agent.realtime.checks import CONFIG, Check, Run, failed, passed
from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError
from raven_ai_agent.realtime.constants import ENGINEIO_PING_WINDOW
from raven_ai_agent.realtime.proxyaudit import audit_timeouts
from raven_ai_agent.realtime.resolve import COMMON_CONFIG_FILE


def check_config(run: Run) -> list[Check]:
	config = run.config
	problems: list[str] = []
	port = config.socketio_port
	if not isinstance(port, int) or not 1 <= port <= 65535:
		problems.append(
			f"socketio_port {port!r} is not a port from 1 to 65535; set it in {COMMON_CONFIG_FILE}"
		)
	elif port == config.webserver_port and not config.socketio_uds:
		problems.append(
			f"socketio_port and webserver_port are both {port}: the realtime service and the web server "
			f"cannot share a port; set socketio_port in {COMMON_CONFIG_FILE} to the port Node listens on"
		)
	problems.extend(run.config_warnings)
	findings, audit_note = stale_ports(run.audit_paths, port, config.socketio_uds)
	problems.extend(findings)
	problems.extend(short_timeouts(run.audit_paths))
	source = config.sources.get("socketio_port")
	origin = f" (from {source.value})" if source is not None else ""
	notes = f"; {audit_note}" if audit_note else ""
	if problems:
		more = f" (+{len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
		return [failed(CONFIG, f"{problems[0]}{more}{notes}", hints.config_hint(problems[0]))]
	where = f"socketio_port {port}{origin}"
	if config.socketio_uds:
		uds_source = config.sources.get("socketio_uds")
		where = f"socketio_uds {config.socketio_uds} (from {uds_source.value if uds_source else 'config'}; no TCP port)"
	return [passed(CONFIG, f"{where}, site {config.site_name}, no warnings{notes}")]


def short_timeouts(paths: Sequence) -> list[str]:
	"""Proxy timeouts on the socket path that cut idle sockets (catalog #8), as problem texts."""
	if not paths:
		return []
	try:
		findings = audit_timeouts(list(paths), ENGINEIO_PING_WINDOW)
	except ConfigSyntaxError as e:  # a proxy config nginx would refuse is a problem of its own
		return [f"{e} (its server would refuse this file too: `nginx -t` names the same place)"]
	return [f"{f.file}:{f.line} ({f.text}): {f.problem}; {f.fix}" for f in findings]


def stale_ports(paths: Sequence, port: int, uds: str | None = None) -> tuple[list[str], str]:
	"""Stale realtime ports in the given files, as problem texts; and a note when the audit could not run."""
	if not paths:
		return [], ""
	try:
		findings = audit_ports(list(paths), port, uds)
	except (OSError, ValueError) as e:  # the audit is advice: an unreadable file hides no network check
		return [], f"stale-port audit failed ({type(e).__name__}: {e})"
	return [
		f"{f.file}:{f.line} uses port {f.port} ({f.text.strip()!r}): {f.suggestion}" for f in findings
	], ""
