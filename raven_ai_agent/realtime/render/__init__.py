"""Proxy and tunnel configs from a RavenConfig: nginx (VPS sidecar, sandbox multiplexer), Traefik, ngrok.

Most realtime failures an operator meets are proxy failures (dropped Upgrade, rewritten Host,
no Origin, short timeouts, no stickiness: see the failure catalog). Each is fixed once here,
in a config that can be pasted as is. One module per target; inputs.py validates every value
before it reaches a template. This module names the targets and dispatches.
"""

import inspect
from collections.abc import Callable

from raven_ai_agent.realtime.render.inputs import RenderError
from raven_ai_agent.realtime.render.nginx import (
	NGINX_SANDBOX,
	NGINX_VPS,
	render_nginx_sandbox,
	render_nginx_vps,
)
from raven_ai_agent.realtime.render.ngrok import render_ngrok
from raven_ai_agent.realtime.render.traefik import TRAEFIK_FORMATS, TRAEFIK_SHAPES, render_traefik

TRAEFIK, NGROK = "traefik", "ngrok"

__all__ = [
	"NGINX_SANDBOX",
	"NGINX_VPS",
	"NGROK",
	"RENDERERS",
	"TARGETS",
	"TRAEFIK",
	"TRAEFIK_FORMATS",
	"TRAEFIK_SHAPES",
	"RenderError",
	"mismatch_warning",
	"options_of",
	"render",
	"render_nginx_sandbox",
	"render_nginx_vps",
	"render_ngrok",
	"render_traefik",
]


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


def mismatch_warning(target: str, config) -> str | None:
	"""What to say when the config would send browsers around the proxy being rendered.

	A `local` site hands browsers `http://<host>:<socketio_port>`, straight to the realtime
	port: a proxy or tunnel in front of the site then carries the pages but not the socket,
	and the diagnosis probes the port, never the proxy.
	"""
	from raven_ai_agent.realtime.resolve import SETTINGS_DOCTYPE, DeploymentType

	if config.deployment_type is not DeploymentType.LOCAL:
		return None
	kind = "sandbox" if target == NGROK else "vps_prod"
	return (
		f"{config.site_name} resolves as local ({config.deployment_reason}), so browsers are sent "
		f"to {config.get_external_socketio_url()} and never use this {target} config for the socket. "
		f"Make the two agree: set host_name to the address this proxy serves (with its port, if "
		f"not 80/443), or set Deployment Type to {kind} in {SETTINGS_DOCTYPE}."
	)
