"""The delivery checks: the Redis bridge (`redis_bridge`) and a real event to a logged-in
session (`end_to_end`)."""

import secrets
import traceback
from pathlib import PurePath

import redis

from raven_ai_agent.realtime import bridge, hints, probe
from raven_ai_agent.realtime import session as polling
from raven_ai_agent.realtime.checks import (
	END_TO_END,
	NAMESPACE,
	REDIS_BRIDGE,
	STICKY_SESSION,
	WEB_SITE,
	Check,
	Run,
	failed,
	passed,
	skipped,
)
from raven_ai_agent.realtime.checks.session import connect_verdict, session_hint
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


def check_end_to_end(run: Run) -> list[Check]:
	"""A real event to the session's user room, and to a doc room joined with doc_subscribe
	(Raven streams messages to `doc:Raven Channel/<id>`), published the way the site publishes.

	Each round also publishes to the `website` room, which every socket is in: it wakes the
	pending poll, and it tells a socket taken for Guest (it hears `website`, never the user's
	room) from one that hears nothing. The doc room is the user's own User record, which a
	System User may read; other users' sessions are checked on the user room only.
	"""
	config = run.config
	if not run.sid and not run.site_wide:
		return [skipped(END_TO_END, "skipped: needs a logged-in session (--sid or RAVEN_REALTIME_SID)")]
	if run.publish is None and not config.redis_url:
		return [skipped(END_TO_END, "skipped: no way to publish (no Redis URL in the config)")]
	if run.other_site_answers():
		return [skipped(END_TO_END, f"not reached: {WEB_SITE} failed (another site checks the sessions)")]
	if not run.sid:
		return [_site_wide_delivery(run)]
	base, headers = run.route(run.sid)
	web, web_headers = run.web_route()
	http = run.http()
	try:
		user, user_type = run.user, run.user_type
		if not user:
			info, detail = run.fetch_user(http, web, web_headers)
			if info is None:
				return [
					failed(
						END_TO_END,
						f"could not learn whose session this is: {detail}",
						hints.unknown_user_hint(web),
					)
				]
			user, user_type = info
		if user == "Guest":
			detail = "the session is not logged in: the web server answers Guest for it"
			return [failed(END_TO_END, detail, hints.GUEST_SESSION_HINT)]
		doc = (USER_DOCTYPE, user) if user_type == SYSTEM_USER else None
		rooms = [user_room(user)] + ([doc_room(*doc)] if doc else [])
		token = secrets.token_hex(8)
		delivery = polling.probe_delivery(
			http,
			base,
			run.path,
			config.namespace,
			headers,
			PROBE_EVENT,
			token,
			lambda room: _publish(
				run, {"token": token, "room": room, "probe": "raven_ai_agent end_to_end"}, room
			),
			rooms,
			wake_room=WEBSITE_ROOM,
			subscribe=[doc] if doc else [],
		)
		verdict = _verdict(run, user, rooms, delivery)
		if (
			verdict.ok is False
			and doc
			and rooms[0] in delivery.received
			and rooms[1] not in delivery.received
		):
			answer = polling.check_doc_permission(http, web, run.sid, *doc, headers=web_headers)
			verdict.detail += f"; {answer}"
			verdict.hint = hints.doc_subscribe_hint(web, doc, answer)
	finally:
		http.close()
	return [verdict]


def _site_wide_delivery(run: Run) -> Check:
	"""A real event to the `website` room, heard by a Guest socket: the whole path (Redis, the
	realtime service, the route, the namespace) without anybody's session, and nothing created
	that could outlive the check. Every socket of the site receives this one small event, which
	no client listens to."""
	base, headers = run.route(None)
	http = run.http()
	token = secrets.token_hex(8)
	try:
		delivery = polling.probe_delivery(
			http,
			base,
			run.path,
			run.config.namespace,
			headers,
			PROBE_EVENT,
			token,
			lambda room: _publish(
				run, {"token": token, "room": room, "probe": "raven_ai_agent scheduled"}, room
			),
			[WEBSITE_ROOM],
		)
	finally:
		http.close()
	heard = delivery.received.get(WEBSITE_ROOM)
	if heard is not None:
		return passed(END_TO_END, f"event delivered to the {WEBSITE_ROOM} room in {heard:.0f} ms (as Guest)")
	if delivery.published and delivery.failure is None and (delivery.connect and delivery.connect.ok):
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
		also = (
			f", and to {rooms[1]} after doc_subscribe in {heard[rooms[1]]:.0f} ms" if len(rooms) > 1 else ""
		)
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
