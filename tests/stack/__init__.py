"""Real-services test stack: Redis, nginx and stand-ins for Frappe's realtime service and web
server (one version profile at a time: PROFILES), started on free loopback ports and stopped
after use.

pytest fixtures are in tests/stack/fixtures.py (enable with
`pytest_plugins = ["tests.stack.fixtures"]`); a JS twin of the harness is tests/stack/harness.js.
"""

from .bench import DEFAULT_SITE, make_bench
from .eio import PollingClient, SocketIOClient, WebSocket, mask_sids, websocket_accept
from .procs import ServiceError, free_port, port_accepts, wait_for_port, wait_until
from .services import PROFILES, BlackHole, Nginx, RealtimeServer, RedisServer, WebStandin, nginx_test
from .stack import ADMIN_SID, DEFAULT_SESSIONS, WEBSITE_SID, Stack, frappe_event_json
from .topologies import VARIANTS as TOPOLOGIES

__all__ = [
	"ADMIN_SID",
	"DEFAULT_SESSIONS",
	"DEFAULT_SITE",
	"PROFILES",
	"TOPOLOGIES",
	"WEBSITE_SID",
	"BlackHole",
	"Nginx",
	"PollingClient",
	"RealtimeServer",
	"RedisServer",
	"ServiceError",
	"SocketIOClient",
	"Stack",
	"WebSocket",
	"WebStandin",
	"free_port",
	"frappe_event_json",
	"make_bench",
	"mask_sids",
	"nginx_test",
	"port_accepts",
	"wait_for_port",
	"wait_until",
	"websocket_accept",
]
