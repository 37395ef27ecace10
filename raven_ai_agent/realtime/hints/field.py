"""Hints from field data: what browsers reported that a check from the server cannot see."""

from raven_ai_agent.realtime.constants import ENGINEIO_PING_WINDOW


def field_transport_close_hint(count: int) -> str:
	"""Sockets cut again and again with "transport close" (failure catalog #8)."""
	return (
		f'Browsers lost their socket with "transport close" {count} times in the last hour: a proxy or '
		f"tunnel closes idle WebSockets sooner than Engine.IO's {ENGINEIO_PING_WINDOW} s heartbeat window. "
		f"Raise its read/idle timeout above {ENGINEIO_PING_WINDOW} s (nginx proxy_read_timeout, Traefik or "
		"Cloudflare idle timeouts); `raven-realtime audit-proxy` finds short timeouts in a config."
	)


def field_no_cookie_hint(count: int) -> str:
	"""Sockets that reach the realtime service without the session cookie (failure catalog #21)."""
	return (
		f'Browsers were refused {count} times with "No cookie transmitted" or "No authentication method '
		'used": their socket request carries no session cookie (the page is on another site than the '
		"socket, a SameSite cookie, or a client without withCredentials). Serve the socket on the page's "
		"own origin (/socket.io/ through the proxy) and connect with withCredentials: true."
	)
