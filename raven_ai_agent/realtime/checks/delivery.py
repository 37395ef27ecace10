"""The delivery checks: the Redis bridge (`redis_bridge`), a real event to a logged-in session
(`end_to_end`), and the same event heard at each client's socket URL (`client_delivery`).

Reachable is not delivered: a realtime service of another bench (another Redis) answers the
handshake, the upgrade and the namespace of a client URL like this site's own, so only an
event published by this site and heard there tells them apart. Each event is published once and
heard on every socket at the same time (session.probe_deliveries)."""

import secrets
import traceback
from dataclasses import dataclass, field
from pathlib import PurePath

import redis

from raven_ai_agent.realtime import bridge, hints, probe
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.checks import (
	CLIENT_DELIVERY,
	CLIENT_PATHS,
	END_TO_END,
	GUEST_SID,
	NAMESPACE,
	REDIS_BRIDGE,
	STICKY_SESSION,
	WEB_SITE,
	WEBSOCKET_SESSION,
	Check,
	Run,
	failed,
	not_reached,
	passed,
	skipped,
)
from raven_ai_agent.realtime.checks.session import connect_verdict, session_hint
from raven_ai_agent.realtime.clients import Client, distinct_targets
from raven_ai_agent.realtime.constants import (
	EVENTS_CHANNEL,
	WEBSITE_ROOM,
	doc_room,
	user_room,
)

# A probe event nobody listens to, in a room nobody is in: harmless on a live site.
PROBE_EVENT = "raven_ai_agent_probe"
PROBE_ROOM = "raven_ai_agent:probe"
# A document every System User may read: the doc room the end-to-end check subscribes to.
USER_DOCTYPE = "User"
SYSTEM_USER = "System User"
# Raven streams new messages to doc:Raven Channel/<id>, which its web app joins with doc_subscribe.
RAVEN_CHANNEL_DOCTYPE = "Raven Channel"


class RedisPublishFailed(ConnectionError):
	"""The diagnosis' own PUBLISH (no Frappe publish function given) could not reach Redis."""


def check_redis(run: Run) -> list[Check]:
	config = run.config
	if not config.redis_url:
		return [skipped(REDIS_BRIDGE, "skipped: no redis_queue (or redis_socketio) in the config")]
	url = bridge.safe_redis_url(config.redis_url)
	message = bridge.frappe_event(
		PROBE_EVENT, {"probe": "raven_ai_agent diagnose"}, config.site_name, PROBE_ROOM
	)
	outcome = bridge.redis_publish(config.redis_url, EVENTS_CHANNEL, message, run.deadline, run.timeout)
	if outcome.error:
		run.redis_down = url
		detail = f"Redis at {url} unreachable ({outcome.error}: {outcome.error_text})"
		return [failed(REDIS_BRIDGE, detail, hints.redis_unreachable_hint(url))]
	if outcome.subscribers == 0:
		detail = f"PUBLISH on '{EVENTS_CHANNEL}' at {url} reached 0 subscribers"
		return [failed(REDIS_BRIDGE, detail, hints.redis_unheard_hint(url))]
	return [
		passed(REDIS_BRIDGE, f"{outcome.subscribers} realtime subscriber(s) on '{EVENTS_CHANNEL}' at {url}")
	]


def end_to_end_requires(run: Run) -> tuple[str, ...]:
	"""The session must work; without a publish function the diagnosis' own PUBLISH needs Redis."""
	if not run.sid and not run.site_wide:
		return ()  # skipped at once, whatever the other checks find
	return (NAMESPACE, STICKY_SESSION) + ((REDIS_BRIDGE,) if run.publish is None else ())


# The checks whose sockets must be closed before the delivery sockets connect. Frappe's realtime
# service runs socket.io with cleanupEmptyChildNamespaces: when the last socket of the site's
# namespace leaves while another is still being authenticated (its session check is a call to
# the web server), the namespace is dropped and the new socket joins the dropped one, which no
# event reaches again. A probe socket closing during the delivery sockets' session check made
# a healthy site look deaf; after these checks only the delivery's own sockets come and go.
SOCKET_CHECKS = (NAMESPACE, STICKY_SESSION, WEBSOCKET_SESSION, CLIENT_PATHS)


# A socket whose session check took this share of the budget, or that was connected with less
# than MIN_LISTEN_SECONDS left, had no fair chance to hear its events: its silence is not judged.
SLOW_CALLBACK_SHARE = 0.25
MIN_LISTEN_SECONDS = 0.3
# The delivery sockets stop listening this long before the deadline: the verdict may still ask
# the web server why a doc room was not joined (can_subscribe_doc).
VERDICT_RESERVE_SECONDS = 0.15


@dataclass
class _Plan:
	"""The sockets of one delivery probe: end_to_end's, and one per distinct client URL."""

	listeners: list = field(default_factory=list)
	e2e: int | None = None  # index of end_to_end's listener
	e2e_rooms: list[str] = field(default_factory=list)
	doc: tuple[str, str] | None = None
	targets: dict = field(default_factory=dict)  # (url, path) -> (listener index, rooms, clients)


def check_delivery(run: Run) -> list[Check]:
	"""end_to_end and client_delivery from one probe: each event published once, heard on every
	path a client of this site takes (the resolved route with the session, each client URL)."""
	config = run.config
	e2e_skip = _end_to_end_skip(run)
	client_skip = _client_skip(run)
	if e2e_skip is None or client_skip is None:
		for name in SOCKET_CHECKS:
			if name in run.schedule.names:
				run.wait(name)
		why = not_reached(
			end_to_end_requires(run), {n: run.schedule.result(n) for n in end_to_end_requires(run)}
		)
		if why is not None:
			return [skipped(END_TO_END, why), skipped(CLIENT_DELIVERY, why)]
	if run.publish is None and not config.redis_url:
		why = "skipped: no way to publish (no Redis URL in the config)"
		e2e_skip, client_skip = e2e_skip or why, client_skip or why
	user, user_type, e2e_failure = None, None, None
	http = run.http()
	try:
		if e2e_skip is None and run.sid:
			user, user_type, e2e_failure = _session_user(run, http)
			if e2e_failure is not None:
				e2e_skip = ""  # judged already
		if e2e_skip is not None and client_skip is not None:
			return [e2e_failure or skipped(END_TO_END, e2e_skip), skipped(CLIENT_DELIVERY, client_skip)]
		listening = probe.Deadline(max(0.05, run.deadline.remaining() - VERDICT_RESERVE_SECONDS))
		run.delivery_ms = listening.seconds * 1000
		plan = _plan(run, listening, user, user_type, e2e_skip is None, client_skip is None)
		token = secrets.token_hex(8)
		probe_name = "raven_ai_agent end_to_end" if run.sid else "raven_ai_agent scheduled"
		try:
			deliveries = polling.probe_deliveries(
				plan.listeners,
				PROBE_EVENT,
				token,
				lambda room: _publish(run, {"token": token, "room": room, "probe": probe_name}, room),
				wake_room=WEBSITE_ROOM,
				deadline=listening,
			)
		finally:
			for listener in plan.listeners:
				listener.http.close()
		if e2e_skip is None:
			e2e = _end_to_end_verdict(run, http, user, plan, deliveries)
		else:
			e2e = e2e_failure or skipped(END_TO_END, e2e_skip)
		clients = _clients_verdict(run, plan, deliveries) if client_skip is None else None
	finally:
		http.close()
	return [e2e, clients or skipped(CLIENT_DELIVERY, client_skip)]


def _end_to_end_skip(run: Run) -> str | None:
	if not run.sid and not run.site_wide:
		return "skipped: needs a logged-in session (--sid or RAVEN_REALTIME_SID)"
	return None


def _client_skip(run: Run) -> str | None:
	if not run.clients:
		return "skipped: no client model was given"
	if not run.external:
		return "skipped: external checks are off"
	return None


def _session_user(run: Run, http: probe.Http) -> tuple[str | None, str | None, Check | None]:
	"""(user, user_type, None) of the session, or (None, None, the failed end_to_end check)."""
	if run.user:
		user, user_type = run.user, run.user_type
	else:
		web, web_headers = run.web_route()
		info, detail = run.fetch_user(http, web, web_headers)
		if info is None:
			detail = f"could not learn whose session this is: {detail}"
			return None, None, failed(END_TO_END, detail, hints.unknown_user_hint(web))
		user, user_type = info
	if user == "Guest":
		detail = "the session is not logged in: the web server answers Guest for it"
		return None, None, failed(END_TO_END, detail, hints.GUEST_SESSION_HINT)
	return user, user_type, None


def _plan(
	run: Run, listening: probe.Deadline, user: str | None, user_type: str | None, e2e: bool, clients: bool
) -> _Plan:
	"""The sockets to listen on; a client URL that is end_to_end's own socket shares it."""
	config = run.config
	plan = _Plan()
	channel = (RAVEN_CHANNEL_DOCTYPE, run.raven_channel) if user and run.raven_channel else None
	if e2e:
		base, headers = run.route(run.sid)
		if user:
			plan.doc = (USER_DOCTYPE, user) if user_type == SYSTEM_USER else None
			docs = [d for d in (plan.doc, channel) if d]
			plan.e2e_rooms = [user_room(user)] + [doc_room(*d) for d in docs]
		else:
			docs = []
			plan.e2e_rooms = [WEBSITE_ROOM]
		plan.e2e = 0
		plan.listeners.append(
			polling.Listener(
				_http(run, listening), base, run.path, config.namespace, headers, list(plan.e2e_rooms), docs
			)
		)
	if not clients:
		return plan
	origin = config.get_external_http_base()
	for (url, path), users in distinct_targets(tuple(run.clients)).items():
		headers = {"Origin": origin, "Cookie": f"sid={(run.sid if user else None) or GUEST_SID}"}
		rooms = [user_room(user)] if user else [WEBSITE_ROOM]
		docs = [channel] if channel and Client.RAVEN in users else []
		rooms += [doc_room(*d) for d in docs]
		shared = plan.listeners[plan.e2e] if plan.e2e is not None else None
		if shared is not None and (shared.base_url, shared.path, dict(shared.headers)) == (
			url,
			path,
			headers,
		):
			shared.rooms += [r for r in rooms if r not in shared.rooms]
			shared.subscribe += [d for d in docs if d not in shared.subscribe]
			plan.targets[url, path] = (plan.e2e, rooms, users)
			continue
		plan.targets[url, path] = (len(plan.listeners), rooms, users)
		plan.listeners.append(
			polling.Listener(_http(run, listening), url, path, config.namespace, headers, rooms, docs)
		)
	return plan


def _http(run: Run, listening: probe.Deadline) -> probe.Http:
	"""A delivery socket's Http: it listens until `listening` ends, short of the run's deadline."""
	return probe.Http(listening, run.timeout, run.ca_file)


def _end_to_end_verdict(run: Run, http: probe.Http, user: str | None, plan: _Plan, deliveries: list) -> Check:
	if run.other_site_answers():
		return skipped(END_TO_END, f"not reached: {WEB_SITE} failed (another site checks the sessions)")
	delivery = deliveries[plan.e2e]
	rooms = plan.e2e_rooms
	foreign = _foreign_route(run, plan, deliveries)
	if foreign is not None:
		return foreign
	if not user:
		return _site_wide_delivery(run, delivery)
	slow = _slow(run, delivery) if delivery.failure is not None else None
	if slow:
		return skipped(END_TO_END, f"delivery not judged: {slow}")
	verdict = _verdict(run, user, rooms, delivery)
	if verdict.ok is False and all(r in delivery.received for r in rooms[:1]):
		slow = _slow(run, delivery)
		if slow:
			return skipped(END_TO_END, f"delivery not judged: {slow}")
		missing = next(r for r in rooms if r not in delivery.received)
		doc = next((d for d in (plan.doc, _channel(run)) if d and doc_room(*d) == missing), None)
		if doc is not None:
			web, web_headers = run.web_route()
			answer, timed_out = polling.check_doc_permission(http, web, run.sid, *doc, headers=web_headers)
			if timed_out:
				# Not refused: too slow to answer within the budget (a cold or overloaded web server).
				return skipped(
					END_TO_END,
					f"delivery to {doc_room(*doc)} not judged: {verdict.detail}; {answer}: the web server "
					f"is slow to answer the realtime service's doc_subscribe permission check, not refusing it",
				)
			verdict.detail += f"; {answer}"
			verdict.hint = hints.doc_subscribe_hint(web, doc, answer)
	elif verdict.ok is False and not delivery.heard_any and delivery.connect and delivery.connect.ok:
		slow = _slow(run, delivery)
		if slow:
			return skipped(END_TO_END, f"delivery not judged: {slow}")
	return verdict


def _foreign_route(run: Run, plan: _Plan, deliveries: list) -> Check | None:
	"""The resolved route connects and hears nothing while a client URL hears this site: the
	service behind the resolved route is not this site's (not a Redis fault of the site)."""
	delivery = deliveries[plan.e2e]
	connected = delivery.connect is not None and delivery.connect.ok and delivery.failure is None
	if not connected or delivery.heard_any or not delivery.published or _slow(run, delivery):
		return None
	heard = [f"{url}{path}" for (url, path), (i, _r, _u) in plan.targets.items() if deliveries[i].heard_any]
	if not heard:
		return None
	base = plan.listeners[plan.e2e].base_url
	detail = (
		f"{hints.FOREIGN_SERVICE}: the resolved route {base}{run.path} connected, but of the events "
		f"heard at {', '.join(heard)} none arrived there within the {run.timeout:g} s budget"
	)
	hint = hints.foreign_service_hint(
		f"{Client.CONTEXT.value} (the resolved config)", f"{base}{run.path}", run.config.socketio_port, False
	)
	return failed(END_TO_END, detail, hint)


def _channel(run: Run) -> tuple[str, str] | None:
	return (RAVEN_CHANNEL_DOCTYPE, run.raven_channel) if run.raven_channel else None


def _slow(run: Run, delivery: polling.Delivery) -> str | None:
	"""Why this socket had no fair chance to hear its events (the web server was slow), or None."""
	failure = delivery.failure
	if failure is not None and failure.kind == probe.TIMEOUT:
		step = "session check (get_user_info)" if failure.step.startswith("connect") else failure.step
		return (
			f"the delivery socket timed out at its {step}: it had {run.delivery_ms:.0f} ms of the "
			f"{run.timeout:g} s budget once the session checks before it were answered"
			+ _namespace_took(run)
			+ "; the web server is slow, which is not a Redis fault"
		)
	if delivery.connect_ms is None:
		return None
	left = delivery.connected_left_ms
	if delivery.connect_ms < SLOW_CALLBACK_SHARE * run.timeout * 1000 and (
		left is None or left >= MIN_LISTEN_SECONDS * 1000
	):
		return None
	return (
		f"the web server answered the session check in {delivery.connect_ms:.0f} ms, leaving "
		f"{max(left or 0.0, 0.0):.0f} ms of the {run.timeout:g} s budget to hear the events"
	)


def _namespace_took(run: Run) -> str:
	"""How long the namespace check's own session (and its session check) took, when known."""
	namespace = run.schedule.result(NAMESPACE) if NAMESPACE in run.schedule.names else None
	if namespace is None or not namespace.elapsed_ms:
		return ""
	return f" (the namespace check's session took {namespace.elapsed_ms:.0f} ms)"


def _clients_verdict(run: Run, plan: _Plan, deliveries: list) -> Check:
	"""Each client URL's delivery: its row in the report, and the check over all of them."""
	if run.publish is None and REDIS_BRIDGE in run.schedule.names:
		why = not_reached((REDIS_BRIDGE,), {REDIS_BRIDGE: run.wait(REDIS_BRIDGE)})
		if why is not None:
			return skipped(CLIENT_DELIVERY, why)
	heard_at = [
		url for (url, path), (i, _rooms, _users) in plan.targets.items() if deliveries[i].heard_any
	] + ([run.route(run.sid)[0]] if plan.e2e is not None and deliveries[plan.e2e].heard_any else [])
	parts, failing = [], []
	for (url, path), (i, rooms, users) in plan.targets.items():
		ok, detail, hint = _client_verdict(run, url, path, rooms, users, deliveries[i], heard_at)
		run.client_delivery[url, path] = {"delivered": ok, "delivery": detail, "delivery_hint": hint}
		parts.append(f"{_names(users)}: {url}{path} {_word(ok)} ({detail})")
		if ok is False:
			failing.append(hint)
	summary = "; ".join(parts)
	if failing:
		return failed(CLIENT_DELIVERY, summary, failing[0])
	if all(v["delivered"] is None for v in run.client_delivery.values()):
		return skipped(CLIENT_DELIVERY, summary)
	return passed(CLIENT_DELIVERY, summary)


def _client_verdict(
	run: Run, url: str, path: str, rooms: list[str], users: list, delivery: polling.Delivery, heard_at: list
) -> tuple[bool | None, str, str | None]:
	names = _names(users)
	slow = _slow(run, delivery) if delivery.failure is not None else None
	if slow:
		return None, f"not judged: {slow}", None
	if delivery.failure is not None or delivery.connect is None or not delivery.connect.ok:
		return None, "not reached: the socket did not connect there (client_paths says why)", None
	if delivery.published is False:
		return None, f"not reached: the probe event could not be published ({END_TO_END} says why)", None
	heard = delivery.received
	if all(r in heard for r in rooms):
		return True, f"this site's event arrived in {heard[rooms[0]]:.0f} ms ({', '.join(rooms)})", None
	slow = _slow(run, delivery)
	if slow:
		return None, f"not judged: {slow}", None
	if not heard:
		elsewhere = [u for u in heard_at if u != url]
		if elsewhere:
			detail = (
				f"{hints.FOREIGN_SERVICE}: connected, but of the events heard at {', '.join(dict.fromkeys(elsewhere))} "
				f"none arrived here within the {run.timeout:g} s budget"
			)
			raven = Client.RAVEN in users
			return (
				False,
				detail,
				hints.foreign_service_hint(names, f"{url}{path}", run.config.socketio_port, raven),
			)
		detail = (
			f"connected, published to {', '.join(rooms)}: nothing arrived within the {run.timeout:g} s budget"
		)
		return False, detail, hints.undelivered_hint(run.config.namespace)
	if WEBSITE_ROOM in heard and rooms[0] not in heard:
		detail = f"events to the {WEBSITE_ROOM} room arrived, to {rooms[0]} never: the realtime service took the session for Guest"
		return False, detail, hints.guest_socket_hint(run.config, rooms[0].removeprefix("user:"))
	missing = ", ".join(r for r in rooms if r not in heard)
	detail = (
		f"events to {rooms[0]} arrive, but none to {missing} after doc_subscribe: the doc room was not joined"
	)
	channel = _channel(run)
	web, _ = run.web_route()
	return (
		False,
		detail,
		hints.doc_subscribe_hint(web, channel, "the room was never joined")
		if channel
		else hints.undelivered_hint(run.config.namespace),
	)


def _names(users: list) -> str:
	"""The clients that open one socket URL, each named once."""
	return ", ".join(dict.fromkeys(c.value for c in users))


def _word(ok: bool | None) -> str:
	return {True: "delivered", False: "NOT DELIVERED", None: "not checked"}[ok]


def _site_wide_delivery(run: Run, delivery: polling.Delivery) -> Check:
	"""A real event to the `website` room, heard by a Guest socket: the whole path (Redis, the
	realtime service, the route, the namespace) without anybody's session, and nothing created
	that could outlive the check. Every socket of the site receives this one small event, which
	no client listens to."""
	heard = delivery.received.get(WEBSITE_ROOM)
	if heard is not None:
		return passed(END_TO_END, f"event delivered to the {WEBSITE_ROOM} room in {heard:.0f} ms (as Guest)")
	slow = _slow(run, delivery) if delivery.failure is not None else None
	if slow:
		return skipped(END_TO_END, f"delivery not judged: {slow}")
	if delivery.published and delivery.failure is None and (delivery.connect and delivery.connect.ok):
		slow = _slow(run, delivery)
		if slow:
			return skipped(END_TO_END, f"delivery not judged: {slow}")
		detail = f"published to the {WEBSITE_ROOM} room, nothing arrived within the {run.timeout:g} s budget"
		return failed(END_TO_END, detail, hints.undelivered_hint(run.config.namespace))
	return _verdict(run, "Guest", [WEBSITE_ROOM], delivery)


def _publish(run: Run, message: dict, room: str) -> bool:
	"""Through the caller's publish function (on its thread), else straight to the config's Redis."""
	if run.publish is not None:
		return run.publish_on_caller(PROBE_EVENT, message, room)
	data = bridge.frappe_event(PROBE_EVENT, message, run.config.site_name, room)
	outcome = bridge.redis_publish(run.config.redis_url, EVENTS_CHANNEL, data, run.deadline, run.timeout)
	if outcome.error:
		raise RedisPublishFailed(f"Redis {outcome.error}: {outcome.error_text}")
	return bool(outcome.subscribers)


def _verdict(run: Run, user: str, rooms: list[str], delivery: polling.Delivery) -> Check:
	room = rooms[0]
	if delivery.connect is not None and not delivery.connect.ok and delivery.failure is None:
		return connect_verdict(run, END_TO_END, delivery.connect, True)
	error = delivery.publish_error
	if error is not None and not isinstance(
		error, RedisPublishFailed | redis.RedisError | probe.ProbeTimeout
	):
		text = f"{type(error).__name__}: {error}"
		where = raised_at(error)
		detail = f"publishing the probe event to {room} raised {text} (in {where})"
		return failed(END_TO_END, detail, hints.publish_raised_hint(text, where, _redis_state(run)))
	if delivery.published is False:
		why = f"{type(error).__name__}: {error}" if error is not None else "no realtime service received it"
		detail = f"publishing the probe event to {room} failed: {why}"
		return failed(END_TO_END, detail, hints.PUBLISH_FAILED_HINT)
	failure = delivery.failure
	if failure is not None:
		detail = f"the session broke ({failure.step}): {failure.detail}"
		return failed(END_TO_END, detail, session_hint(run, failure))
	heard = delivery.received
	if all(r in heard for r in rooms):
		also = "".join(f", and to {r} after doc_subscribe in {heard[r]:.0f} ms" for r in rooms[1:])
		return passed(END_TO_END, f"event delivered to {room} in {heard[room]:.0f} ms{also}")
	if room not in heard and WEBSITE_ROOM in heard:
		detail = (
			f"events to the {WEBSITE_ROOM} room arrived, to {room} never: the realtime service took the "
			f"session for Guest"
		)
		return failed(END_TO_END, detail, hints.guest_socket_hint(run.config, user))
	if room in heard:
		missing = ", ".join(r for r in rooms if r not in heard)
		detail = (
			f"events to {room} arrive, but none to {missing} after doc_subscribe: the doc room was not joined"
		)
		return failed(END_TO_END, detail, hints.undelivered_hint(run.config.namespace))
	detail = f"published to {', '.join(rooms)} and {WEBSITE_ROOM}, nothing arrived within the {run.timeout:g} s budget"
	return failed(END_TO_END, detail, hints.undelivered_hint(run.config.namespace))


def raised_at(error: BaseException) -> str:
	"""`folder/file.py:line in function` of the innermost frame that raised `error`."""
	frames = traceback.extract_tb(error.__traceback__)
	if not frames:
		return "an unknown place"
	frame = frames[-1]
	short = "/".join(PurePath(frame.filename).parts[-2:])
	return f"{short}:{frame.lineno} in {frame.name}"


def _redis_state(run: Run) -> str:
	"""What the redis_bridge check knew of Redis when the publish call raised."""
	bridge_check = run.wait(REDIS_BRIDGE)
	if bridge_check is None or bridge_check.ok is None:
		return "Redis was not checked"
	if bridge_check.ok:
		return f"Redis was fine ({bridge_check.detail})"
	return f"Redis had its own problem too ({bridge_check.detail})"
