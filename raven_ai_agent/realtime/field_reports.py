"""What real browsers saw: compact connection reports, their hourly counters, and what they mean.

raven_realtime.js reports each socket event of desk's socket and the app's sockets (connect,
connect_error, disconnect, an upgrade, and once per page load whether desk connected). Only
enumerated values are kept: a report is turned into a few counter names of one hourly bucket,
unknown values become "other", and nothing free-form (an error message, a user agent, an
address) is ever stored. The Frappe shell (api/field.py) increments the counters in Redis and
the scheduled check folds the last hour into its row. No frappe import.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from raven_ai_agent.realtime import hints
from raven_ai_agent.realtime.hints.session import (
	CONNECT_NAMESPACE,
	CONNECT_NO_AUTH,
	CONNECT_ORIGIN,
	CONNECT_OTHER,
	CONNECT_UNAUTHORIZED,
	classify_connect_error,
)

OTHER = "other"
SOCKETS = ("desk", "app")
PAGE, CONNECT, CONNECT_ERROR, DISCONNECT, UPGRADE = (
	"page",
	"connect",
	"connect_error",
	"disconnect",
	"upgrade",
)
EVENTS = (PAGE, CONNECT, CONNECT_ERROR, DISCONNECT, UPGRADE)
TRANSPORTS = ("websocket", "polling")
# socket.io-client v4's disconnect reasons.
DISCONNECT_REASONS = (
	"transport close",
	"ping timeout",
	"transport error",
	"io server disconnect",
	"io client disconnect",
	"parse error",
)
# connect_error kinds: the realtime service's refusals as the diagnosis classifies them, and
# socket.io-client's own transport errors. The message text itself is never stored.
CLIENT_ERRORS = (
	("xhr poll error", "xhr_poll_error"),
	("websocket error", "websocket_error"),
	("timeout", "timeout"),
)
ERROR_KINDS = (
	CONNECT_ORIGIN,
	CONNECT_NAMESPACE,
	CONNECT_UNAUTHORIZED,
	CONNECT_NO_AUTH,
	*(kind for _text, kind in CLIENT_ERRORS),
)
BROWSERS = ("chrome", "edge", "firefox", "safari")
# No value of a report is longer than the longest enumerated one; anything much longer is junk
# (or an attempt to store free text), refused before it is read.
MAX_VALUE_LENGTH = 200
BUCKET_PREFIX = "raven_realtime_field:"
# Long enough for the 7-day chart, then Redis drops the bucket by itself.
BUCKET_TTL_SECONDS = 8 * 24 * 3600


class ReportRefused(ValueError):
	"""The report is not one raven_realtime.js could have sent: nothing is counted."""


@dataclass(frozen=True)
class FieldReport:
	"""One validated report: every value is one of the enumerations above."""

	socket: str
	event: str
	transport: str | None = None
	reason: str | None = None
	error: str | None = None
	browser: str = OTHER
	connected: bool | None = None

	def counters(self) -> list[str]:
		"""The counter names this report increments in its hour's bucket."""
		if self.event == PAGE:
			return [f"page|{'connected' if self.connected else 'failed'}", f"browser|{self.browser}"]
		names = [f"{self.socket}|{self.event}"]
		if self.event in (CONNECT, UPGRADE) and self.transport:
			names.append(f"{self.socket}|transport|{self.transport}")
		if self.event == DISCONNECT:
			names.append(f"{self.socket}|disconnect|{self.reason}")
		if self.event == CONNECT_ERROR:
			names.append(f"{self.socket}|error|{self.error}")
		return names


def _one_of(value: str | None, allowed: Iterable[str]) -> str:
	return value if value in allowed else OTHER


def error_kind(message: str | None) -> str:
	"""The enumerated kind of a connect_error message ("other" for anything unknown)."""
	text = (message or "").strip()
	kind = classify_connect_error(text)
	if kind != CONNECT_OTHER:
		return kind
	return next((k for prefix, k in CLIENT_ERRORS if text.lower().startswith(prefix)), OTHER)


def validate_report(values: Mapping) -> FieldReport:
	"""A FieldReport from the posted values, or ReportRefused (oversized, unknown socket or event,
	a value that is not text). Unknown transports, reasons, errors and browsers become "other"."""
	for name, value in values.items():
		if value is None:
			continue
		if not isinstance(value, str | int | bool):
			raise ReportRefused(f"{name}: not a plain value")
		if len(str(value)) > MAX_VALUE_LENGTH:
			raise ReportRefused(f"{name}: longer than {MAX_VALUE_LENGTH} characters")
	socket, event = values.get("socket"), values.get("event")
	if socket not in SOCKETS:
		raise ReportRefused("socket: unknown")
	if event not in EVENTS:
		raise ReportRefused("event: unknown")
	if event == PAGE and socket != "desk":
		raise ReportRefused("event: page loads are reported for desk's socket only")
	transport = values.get("transport")
	return FieldReport(
		socket=socket,
		event=event,
		transport=_one_of(transport, TRANSPORTS) if transport else None,
		reason=_one_of(values.get("reason"), DISCONNECT_REASONS) if event == DISCONNECT else None,
		error=error_kind(values.get("error")) if event == CONNECT_ERROR else None,
		browser=_one_of(values.get("browser"), BROWSERS),
		connected=str(values.get("connected")) in ("1", "true", "True") if event == PAGE else None,
	)


def bucket_key(when: datetime) -> str:
	"""The hourly bucket of `when` (the site's clock; the caller makes the key site-specific)."""
	return f"{BUCKET_PREFIX}{when:%Y%m%d%H}"


def bucket_keys(end: datetime, hours: int) -> list[str]:
	"""The buckets of the `hours` hours up to and including `end`'s, oldest first."""
	return [bucket_key(end - timedelta(hours=h)) for h in reversed(range(hours))]


def _int_counts(raw: Mapping) -> dict[str, int]:
	out: dict[str, int] = {}
	for key, value in (raw or {}).items():
		name = key.decode() if isinstance(key, bytes) else str(key)
		try:
			out[name] = int(value)
		except (TypeError, ValueError):
			continue
	return out


def summarize(buckets: Iterable[Mapping]) -> dict:
	"""Counters of several buckets (Redis HGETALL answers) as the figures an operator reads."""
	total: dict[str, int] = {}
	for raw in buckets:
		for name, count in _int_counts(raw).items():
			total[name] = total.get(name, 0) + count

	def group(prefix: str) -> dict[str, int]:
		return {n[len(prefix) :]: c for n, c in sorted(total.items()) if n.startswith(prefix) and c}

	connected, failed = total.get("page|connected", 0), total.get("page|failed", 0)
	summary = {
		"page_loads": connected + failed,
		"page_loads_connected": connected,
		"connects": sum(c for n, c in total.items() if n.endswith(f"|{CONNECT}")),
		"transports": _merge(group("desk|transport|"), group("app|transport|")),
		"disconnects": _merge(group("desk|disconnect|"), group("app|disconnect|")),
		"errors": _merge(group("desk|error|"), group("app|error|")),
		"browsers": group("browser|"),
	}
	summary["connected_share"] = (
		round(connected / summary["page_loads"], 3) if summary["page_loads"] else None
	)
	return summary


def _merge(*groups: Mapping[str, int]) -> dict[str, int]:
	out: dict[str, int] = {}
	for g in groups:
		for name, count in g.items():
			out[name] = out.get(name, 0) + count
	return dict(sorted(out.items()))


TRANSPORT_CLOSE_MIN = 3


def field_hint(summary: Mapping) -> str | None:
	"""One sentence when the field data shows a known failure the server cannot see, else None:
	periodic "transport close" (a proxy timeout below the heartbeat window) or sockets that
	reach the service without the session cookie."""
	closes = summary.get("disconnects", {}).get("transport close", 0)
	if closes >= TRANSPORT_CLOSE_MIN:
		return hints.field_transport_close_hint(closes)
	no_auth = summary.get("errors", {}).get(CONNECT_NO_AUTH, 0)
	if no_auth:
		return hints.field_no_cookie_hint(no_auth)
	return None
