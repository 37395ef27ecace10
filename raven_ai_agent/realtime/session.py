"""An Engine.IO polling session driven like a browser: stickiness, the namespace, delivery.

PollingClient is the smallest client that opens a session, CONNECTs a namespace and waits for
an event, every request through probe.Http (bounded, cut by the deadline). On it:
probe_session (several requests on one sid, then CONNECT: are sessions sticky, is the
namespace accepted) and probe_delivery (publish an event and wait for it). fetch_user asks
the web server whose login session a sid is, as the realtime service does. No frappe import.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from raven_ai_agent.realtime import engineio
from raven_ai_agent.realtime.constants import (
	CAN_SUBSCRIBE_DOC_PATH,
	USER_INFO_PATH,
)
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

	def poll_events(self, namespace: str, event: str) -> list[list]:
		"""One poll: the args of every EVENT `event` in `namespace` it brought."""
		return engineio.find_events(self.poll("event"), namespace, event)

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
	"""Events published to rooms a connected session should be in: which arrived, and how fast."""

	connect: ConnectResult | None = None
	failure: SessionError | None = None
	published: bool | None = None
	publish_error: BaseException | None = None  # what publish() raised, for the verdict to judge
	received: dict[str, float] = field(default_factory=dict)  # room -> ms from the first publish
	latency_ms: float | None = None  # of the first room of `rooms`
	# How long the namespace CONNECT took to be answered: the realtime service asks the web server
	# whose session it is (get_user_info) before it answers, so this is that callback's time.
	connect_ms: float | None = None
	# ms of the budget left when this socket was connected: one connected late had little time
	# to hear its events, whatever Redis does.
	connected_left_ms: float | None = None

	@property
	def heard_any(self) -> bool:
		return bool(self.received)


@dataclass
class Listener:
	"""One socket a delivery probe listens on: where, with which headers, and what it must hear.

	`subscribe` are (doctype, name) pairs joined with doc_subscribe, as Frappe's desk and Raven's
	web app join `doc:` rooms. Each listener has its own Http (one connection per socket)."""

	http: Http
	base_url: str
	path: str
	namespace: str
	headers: Mapping[str, str]
	rooms: list[str]
	subscribe: list[tuple[str, str]] = field(default_factory=list)


# Pause before publishing again while some room has not heard its event: the realtime service
# joins a doc room only after its permission callback answered, so a first event can miss it.
# Doubles each round (up to MAX_ROUND_SECONDS): a socket that never hears is not flooded.
ROUND_SECONDS = 0.05
MAX_ROUND_SECONDS = 0.8


class _Board:
	"""What the listeners' threads tell the publishing thread: who is ready, what each heard."""

	def __init__(self, listeners: list[Listener]):
		self.listeners = listeners
		self.outcomes = [Delivery() for _ in listeners]
		self.ready = [False] * len(listeners)
		self.done = [False] * len(listeners)
		self.start: float | None = None
		self.stopped = False  # publishing is over: a listener cut from now on just ends
		self.changed = threading.Condition()

	def missing(self, i: int) -> list[str]:
		return [room for room in self.listeners[i].rooms if room not in self.outcomes[i].received]

	def waiting(self) -> list[int]:
		"""The listeners connected and still missing a room."""
		return [
			i
			for i, outcome in enumerate(self.outcomes)
			if not self.done[i] and outcome.connect is not None and outcome.connect.ok and self.missing(i)
		]


def probe_deliveries(
	listeners: list[Listener],
	event: str,
	token: str,
	publish: Callable[[str], bool],
	wake_room: str | None = None,
	deadline=None,
) -> list[Delivery]:
	"""Connect every listener like a browser (each on a thread of its own), then `publish(room)` an
	event carrying `token` once per room any listener must hear, and again while some room is
	missing, until each arrived or time is up: one publish, many listeners.

	Each round also publishes to `wake_room` (a room every socket is in) so that a pending poll
	returns. `publish` runs on the calling thread (it hands itself to Frappe's thread). The
	sockets connect before the first publish: Engine.IO buffers what arrives between polls.
	When publishing is over, `deadline` (the listeners') is cut: sockets still waiting end at
	once. One Delivery per listener, in order.
	"""
	board = _Board(listeners)
	deadline = deadline or (listeners[0].http.deadline if listeners else None)
	threads = [
		threading.Thread(
			target=_listen, args=(board, i, event, token), name=f"raven-realtime-listen-{i}", daemon=True
		)
		for i in range(len(listeners))
	]
	for thread in threads:
		thread.start()
	try:
		_publish_rounds(board, deadline, publish, wake_room)
	finally:
		_stop(board, threads, deadline)
	with board.changed:
		for i, outcome in enumerate(board.outcomes):
			rooms = listeners[i].rooms
			outcome.latency_ms = outcome.received.get(rooms[0]) if rooms else None
		return [_copy(o) for o in board.outcomes]


def _copy(outcome: Delivery) -> Delivery:
	"""A snapshot: a listener thread still cut at the deadline writes to its own copy."""
	return Delivery(**{**outcome.__dict__, "received": dict(outcome.received)})


# How long a listener that heard everything may take to say goodbye before the rest are cut.
CLOSE_SECONDS = 0.2


def _stop(board: _Board, threads: list[threading.Thread], deadline) -> None:
	"""Publishing is over: let the listeners that heard everything close their sessions, then cut
	the ones still waiting (for an event that will not come now), so nothing waits for the deadline."""
	with board.changed:
		closing = [t for i, t in enumerate(threads) if board.done[i] or not board.missing(i)]
	until = time.monotonic() + CLOSE_SECONDS
	for thread in closing:
		thread.join(max(0.0, until - time.monotonic()))
	with board.changed:
		board.stopped = True
	deadline.cut()
	for thread in threads:
		thread.join(CLOSE_SECONDS)


def _publish_rounds(board: _Board, deadline, publish: Callable[[str], bool], wake_room: str | None) -> None:
	with board.changed:
		board.changed.wait_for(
			lambda: all(r or d for r, d in zip(board.ready, board.done, strict=True)),
			max(0.0, deadline.remaining()),
		)
	pause = ROUND_SECONDS
	while True:
		with board.changed:
			waiting = board.waiting()
			rooms = list(dict.fromkeys(room for i in waiting for room in board.missing(i)))
			if board.start is None:
				board.start = time.monotonic()
		if not rooms:
			return
		published, error = True, None
		try:
			for room in rooms + ([wake_room] if wake_room and wake_room not in rooms else []):
				if not publish(room):
					published = False
					break
		except Exception as e:  # noqa: BLE001 - the caller's publish function: its failure is a finding
			published, error = False, e
		with board.changed:
			for outcome in board.outcomes:
				if outcome.published is not False:
					outcome.published = published
					outcome.publish_error = error
			if not published:
				return
			board.changed.wait_for(lambda: not board.waiting(), max(0.0, min(pause, deadline.remaining())))
			if not board.waiting() or deadline.remaining() < 2 * ROUND_SECONDS:
				return
		pause = min(pause * 2, MAX_ROUND_SECONDS)


def _listen(board: _Board, i: int, event: str, token: str) -> None:
	"""One listener's socket: connect, subscribe, then poll until it heard its rooms or time is up."""
	listener, outcome = board.listeners[i], board.outcomes[i]
	client = PollingClient(listener.http, listener.base_url, listener.path, listener.headers)
	try:
		client.open()
		asked = time.monotonic()
		connect = client.connect(listener.namespace)
		with board.changed:
			outcome.connect = connect
			outcome.connect_ms = (time.monotonic() - asked) * 1000
			outcome.connected_left_ms = listener.http.deadline.remaining() * 1000
		if not connect.ok:
			return
		if listener.subscribe:
			client.send(
				[
					engineio.encode_event(listener.namespace, "doc_subscribe", *doc)
					for doc in listener.subscribe
				],
				"doc_subscribe",
			)
		with board.changed:
			board.ready[i] = True
			board.changed.notify_all()
		while True:
			with board.changed:
				if not board.missing(i):
					return
			try:
				events = client.poll_events(listener.namespace, event)
			except SessionError as e:
				if e.step == "event" and e.kind == TIMEOUT:
					return  # time is up while waiting: the rooms not heard from are the finding
				raise
			with board.changed:
				for args in events:
					room = args[0].get("room") if args and _carries(args[0], token) else None
					if room and room not in outcome.received:
						outcome.received[room] = (time.monotonic() - (board.start or time.monotonic())) * 1000
				board.changed.notify_all()
	except SessionError as e:
		with board.changed:
			if not board.stopped:
				outcome.failure = e
			elif not board.ready[i]:
				# Cut at the end of the budget before it was even connected: it ran out of time.
				outcome.failure = SessionError(
					e.step, TIMEOUT, f"timed out: {e.step} cut at the end of the budget"
				)
			# else: cut after publishing ended, while waiting for what could not come now
	except ProbeTimeout:
		pass  # the rooms not heard from by now are the finding
	finally:
		with board.changed:
			board.done[i] = True
			board.changed.notify_all()
		client.close()


def _carries(message: object, token: str) -> bool:
	return isinstance(message, dict) and message.get("token") == token


def fetch_user(
	http: Http,
	web_url: str,
	sid: str,
	headers: Mapping[str, str] | None = None,
) -> tuple[tuple[str, str | None] | None, str]:
	"""Ask the web server whose session `sid` is, as the realtime service does:
	((user, user_type), detail), or (None, why not)."""
	url = web_url.rstrip("/") + USER_INFO_PATH
	sent = {**dict(headers or {}), "Cookie": f"sid={sid}"}
	result = http.request("GET", url, headers=sent)
	if result.error:
		return None, describe_failure(result)
	if result.status != 200:
		return None, f"{USER_INFO_PATH} answered HTTP {result.status}"
	try:
		info = json.loads(result.body)["message"]
		user = info["user"]
	except (ValueError, KeyError, TypeError):
		return None, f"{USER_INFO_PATH} answered {snippet(result.body)!r}, not a user"
	if not isinstance(user, str) or not user:
		return None, f"{USER_INFO_PATH} named no user"
	return (user, info.get("user_type")), f"session of {user}"


def check_doc_permission(
	http: Http, web_url: str, sid: str, doctype: str, docname: str, headers: Mapping[str, str] | None = None
) -> tuple[str, bool]:
	"""What Frappe's `can_subscribe_doc`, the realtime service's permission callback for
	doc_subscribe, answers for this session: (a phrase for a detail, whether it timed out)."""
	query = urlencode({"doctype": doctype, "docname": docname})
	url = f"{web_url.rstrip('/')}{CAN_SUBSCRIBE_DOC_PATH}?{query}"
	result = http.request("GET", url, headers={**dict(headers or {}), "Cookie": f"sid={sid}"})
	if result.error:
		return (
			f"{CAN_SUBSCRIBE_DOC_PATH} did not answer ({describe_failure(result)})",
			result.error == TIMEOUT,
		)
	return f"{CAN_SUBSCRIBE_DOC_PATH} answered HTTP {result.status} {snippet(result.body, 60)!r}", False
