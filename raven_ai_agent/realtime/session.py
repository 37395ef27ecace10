"""An Engine.IO polling session driven like a browser: stickiness, the namespace, delivery.

PollingClient is the smallest client that opens a session, CONNECTs a namespace and waits for
an event, every request through probe.Http (bounded, cut by the deadline). On it:
probe_session (several requests on one sid, then CONNECT: are sessions sticky, is the
namespace accepted) and probe_delivery (publish an event and wait for it). fetch_user asks
the web server whose login session a sid is, as the realtime service does. No frappe import.
"""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from raven_ai_agent.realtime import engineio
from raven_ai_agent.realtime.constants import USER_INFO_PATH
from raven_ai_agent.realtime.engineio import ConnectResult, ProtocolError
from raven_ai_agent.realtime.failures import describe_failure, failure_kind, snippet
from raven_ai_agent.realtime.handshake import (
	ENGINEIO_ERROR,
	HTTP_STATUS,
	NOT_ENGINEIO,
	Handshake,
	parse_engine_error,
	probe_handshake,
)
from raven_ai_agent.realtime.probe import (
	TIMEOUT,
	Http,
	HttpResult,
	ProbeTimeout,
)


class SessionError(Exception):
	"""A polling session step failed; `kind` and `result` say how."""

	def __init__(self, step: str, kind: str, detail: str, result: HttpResult | None = None):
		self.step = step
		self.kind = kind
		self.detail = detail
		self.result = result
		self.engine_error = parse_engine_error(result) if result is not None else None
		super().__init__(f"{step}: {detail}")

	@property
	def status(self) -> int | None:
		"""The HTTP status of the failed step, when an answer came."""
		return self.result.status if self.result is not None else None

	@property
	def session_lost(self) -> bool:
		"""Engine.IO forgot the sid: another node answered (no sticky sessions) or it expired."""
		return self.engine_error is not None and self.engine_error.code == engineio.SESSION_ID_UNKNOWN


class PollingClient:
	"""The smallest Engine.IO polling client that can connect a namespace and wait for an event.

	The headers (Origin, Cookie, ...) go with every request, as a browser sends them; the
	realtime service checks those of the first one.
	"""

	def __init__(self, http: Http, base_url: str, path: str, headers: Mapping[str, str] | None = None):
		self.http = http
		self.base_url = base_url
		self.path = path
		self.headers = dict(headers or {})
		self.sid: str | None = None
		self.requests = 0  # requests answered on this sid, handshake included

	def open(self) -> Handshake:
		handshake = probe_handshake(self.http, self.base_url, self.path, self.headers)
		if not handshake.ok:
			raise SessionError("handshake", handshake.kind, handshake.detail, handshake.http)
		self.sid = handshake.open.sid
		self.requests = 1
		return handshake

	def _url(self) -> str:
		return engineio.endpoint_url(self.base_url, self.path, sid=self.sid)

	def _check(self, step: str, result: HttpResult) -> HttpResult:
		if result.error:
			raise SessionError(step, failure_kind(result), describe_failure(result), result)
		if result.status != 200:
			error = parse_engine_error(result)
			detail = (
				f"HTTP {result.status} Engine.IO error {error.code} {error.message!r}"
				if error
				else f"HTTP {result.status} {result.reason}: {snippet(result.body)!r}"
			)
			raise SessionError(step, ENGINEIO_ERROR if error else HTTP_STATUS, detail, result)
		self.requests += 1
		return result

	def send(self, packets: list[str], step: str = "post") -> None:
		headers = {**self.headers, "Content-Type": "text/plain;charset=UTF-8"}
		result = self.http.request(
			"POST", self._url(), headers=headers, data=engineio.encode_payload(packets)
		)
		self._check(step, result)

	def poll(self, step: str = "poll") -> list[engineio.SocketPacket]:
		result = self._check(step, self.http.request("GET", self._url(), headers=self.headers))
		try:
			return engineio.decode_messages(result.body)
		except ProtocolError as e:
			raise SessionError(step, NOT_ENGINEIO, str(e), result) from None

	def connect(self, namespace: str) -> ConnectResult:
		"""CONNECT to `namespace`; read every packet of every body until the server answers."""
		self.send([engineio.encode_connect(namespace)], "connect")
		outcome = ConnectResult()
		while not outcome.answered:
			outcome = engineio.connect_result(self.poll("connect reply"), namespace, outcome)
		return outcome

	def wait_event(self, namespace: str, event: str, match: Callable[[list], bool]) -> list:
		"""Poll until EVENT `event` arrives in `namespace` with args accepted by `match`."""
		while True:
			packets = self.poll("event")
			args = engineio.find_event(packets, namespace, event)
			if args is not None and match(args):
				return args

	def close(self) -> None:
		"""Say goodbye so the server drops the session now, not after pingTimeout; best effort."""
		if self.sid is None or self.http.deadline.remaining() < 0.05:
			return
		try:
			self.send([engineio.CLOSE], "close")
		except SessionError:
			pass
		self.sid = None


@dataclass
class SessionProbe:
	"""One polling session: several requests on its sid, then a namespace CONNECT."""

	handshake: Handshake | None = None
	requests: int = 0  # answered on the sid, handshake included
	lost: SessionError | None = None  # "Session ID unknown" on a later request
	failure: SessionError | None = None  # any other failure
	connect: ConnectResult | None = None


def probe_session(
	http: Http,
	base_url: str,
	path: str,
	namespace: str,
	headers: Mapping[str, str] | None = None,
	extra_requests: int = 2,
) -> SessionProbe:
	"""Handshake, `extra_requests` NOOP POSTs, CONNECT POST, then GETs for the reply, all on one sid.

	Behind a balancer without sticky sessions one of these lands on another node and gets
	"Session ID unknown"; on one node, the CONNECT reply says how the namespace was judged.
	"""
	outcome = SessionProbe()
	client = PollingClient(http, base_url, path, headers)
	try:
		outcome.handshake = client.open()
		for _ in range(extra_requests):
			client.send([engineio.NOOP], "noop")
		outcome.connect = client.connect(namespace)
	except SessionError as e:
		if e.session_lost and e.step != "handshake":
			outcome.lost = e
		else:
			outcome.failure = e
	except ProbeTimeout as e:
		outcome.failure = SessionError("session", TIMEOUT, str(e))
	finally:
		outcome.requests = client.requests
		client.close()
	return outcome


@dataclass
class Delivery:
	"""An event published to a connected session: did it arrive, and how fast."""

	connect: ConnectResult | None = None
	failure: SessionError | None = None
	published: bool | None = None
	publish_error: BaseException | None = None  # what publish() raised, for the verdict to judge
	latency_ms: float | None = None


def probe_delivery(
	http: Http,
	base_url: str,
	path: str,
	namespace: str,
	headers: Mapping[str, str],
	event: str,
	token: str,
	publish: Callable[[], bool],
) -> Delivery:
	"""Connect like a browser, `publish()` one event carrying `token`, and wait for it.

	The client connects before publishing: Engine.IO buffers what arrives between polls, so
	the event is not missed while no GET is pending.
	"""
	outcome = Delivery()
	client = PollingClient(http, base_url, path, headers)
	try:
		client.open()
		outcome.connect = client.connect(namespace)
		if not outcome.connect.ok:
			return outcome
		start = time.monotonic()
		try:
			outcome.published = bool(publish())
		except Exception as e:  # noqa: BLE001 - the caller's publish function: its failure is a finding
			outcome.published, outcome.publish_error = False, e
		if not outcome.published:
			return outcome
		client.wait_event(namespace, event, lambda args: bool(args) and _carries(args[0], token))
		outcome.latency_ms = (time.monotonic() - start) * 1000
	except SessionError as e:
		outcome.failure = e
	finally:
		client.close()
	return outcome


def _carries(message: object, token: str) -> bool:
	return isinstance(message, dict) and message.get("token") == token


def fetch_user(
	http: Http, web_url: str, sid: str, headers: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
	"""Ask the web server whose session `sid` is, as the realtime service does: (user, detail)."""
	url = web_url.rstrip("/") + USER_INFO_PATH
	result = http.request("GET", url, headers={**dict(headers or {}), "Cookie": f"sid={sid}"})
	if result.error:
		return None, describe_failure(result)
	if result.status != 200:
		return None, f"{USER_INFO_PATH} answered HTTP {result.status}"
	try:
		user = json.loads(result.body)["message"]["user"]
	except (ValueError, KeyError, TypeError):
		return None, f"{USER_INFO_PATH} answered {snippet(result.body)!r}, not a user"
	if not isinstance(user, str) or not user:
		return None, f"{USER_INFO_PATH} named no user"
	return user, f"session of {user}"
