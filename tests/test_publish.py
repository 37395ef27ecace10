"""publish_message_created_event on the Frappe stand-in with a real Redis: Raven's payload key
for key, the room and namespace on Redis `events`, validation, after_commit semantics, and a
lost event made visible."""

import copy
import datetime
import json
import threading
import types
from pathlib import Path

import frappe
import pytest
import redis
from frappe import standin

from raven_ai_agent import error_log
from raven_ai_agent import publish as publish_module
from raven_ai_agent.api.channel_utils import (
	MESSAGE_DETAIL_FIELDS,
	build_message_created_payload,
	publish_message_created_event,
)
from raven_ai_agent.realtime.constants import EVENTS_CHANNEL, MESSAGE_CREATED
from tests.recorded import RAVEN_EVENTS, RAVEN_KEYS
from tests.stack import RedisServer, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
RAVEN_CREATED = next(e for e in RAVEN_EVENTS["events"] if e["event"] == MESSAGE_CREATED)["args"][0]
CHANNEL = RAVEN_CREATED["channel_id"]
ROOM = f"doc:Raven Channel/{CHANNEL}"
SITE = "realtime.test"


def raven_doc(**changes) -> frappe._dict:
	"""The fixture's message as a document: message_details' values, as Frappe holds them."""
	return frappe._dict(RAVEN_CREATED["message_details"], **changes)


def reset_publish_state() -> None:
	"""Forget the process-wide Redis probes and the error-log rate limiter between tests."""
	publish_module._probes.clear()
	error_log._last.clear()


@pytest.fixture
def site(tmp_path, redis_server):
	"""A connected stand-in site publishing on `redis_server`, plus a subscriber on `events`."""
	reset_publish_state()
	standin.reset(SITE, str(tmp_path / "sites"), site_config={"redis_queue": redis_server.url})
	sub = redis.Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
	sub.subscribe(EVENTS_CHANNEL)
	assert sub.get_message(timeout=2) is None  # the subscribe confirmation, skipped
	yield sub
	sub.close()
	if getattr(frappe.local, "initialised", None):
		frappe.destroy()
	reset_publish_state()


def dead_site(tmp_path) -> str:
	"""A connected stand-in site whose redis_queue refuses connections; returns the URL."""
	reset_publish_state()
	url = f"redis://127.0.0.1:{free_port()}"
	standin.reset(SITE, str(tmp_path / "sites"), site_config={"redis_queue": url})
	return url


def on_redis(sub, expected: int = 1) -> list[dict]:
	"""The next `expected` messages on `events` (bounded wait), parsed."""
	out = []
	while len(out) < expected:
		msg = sub.get_message(timeout=2)
		assert msg is not None, f"only {len(out)} of {expected} events reached Redis"
		out.append(json.loads(msg["data"]))
	return out


def lost_logs() -> list[dict]:
	return [e for e in standin.error_logs() if e["method"] == publish_module.LOST_TITLE]


# ---- the payload -------------------------------------------------------------------------------


def test_field_list_is_ravens():
	assert sorted(MESSAGE_DETAIL_FIELDS) == sorted(RAVEN_CREATED["message_details"])
	assert len(set(MESSAGE_DETAIL_FIELDS)) == len(MESSAGE_DETAIL_FIELDS)


def test_payload_equals_raven_2_6_4_key_for_key(site):
	assert frappe.session.user == RAVEN_CREATED["sender"]
	assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True

	(event,) = on_redis(site)
	assert event == {"event": MESSAGE_CREATED, "message": RAVEN_CREATED, "namespace": SITE, "room": ROOM}
	(sent,) = standin.published()
	assert sent["receivers"] == 1 and sent["message"] == event
	# Same bytes as Frappe's own publish of Raven's payload (frappe.as_json: indent 1, sorted keys).
	assert sent["data"] == frappe.as_json(
		{"event": MESSAGE_CREATED, "message": RAVEN_CREATED, "room": ROOM, "namespace": SITE}
	)


# The Raven releases the app claims (README): message_created built key for key as each builds it.
CLAIMED_RAVEN = ("2.6.4", "2.7.1", "2.8.11")


@pytest.mark.parametrize("raven", sorted(RAVEN_KEYS["versions"], key=lambda v: tuple(map(int, v.split(".")))))
def test_payload_keys_are_each_raven_releases(site, raven):
	"""Read from raven_message.py at each tag 2.6.4..2.8.11: the 4 envelope keys and the 29
	message_details keys, to the Raven Channel's doc room; the app's payload has exactly those.
	(Order never reaches the wire: frappe.as_json sorts keys, for Raven's publish and for ours.)"""
	want = RAVEN_KEYS["versions"][raven]
	assert len(want["message_details"]) == 29 and len(want["keys"]) == 4
	assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
	(event,) = on_redis(site)
	assert sorted(event["message"]) == sorted(want["keys"])
	assert sorted(event["message"]["message_details"]) == sorted(want["message_details"])
	assert event["room"] == f"doc:{want['doctype']}/{CHANNEL}"
	(sent,) = standin.published()
	assert sent["data"] == frappe.as_json(event)  # sorted keys, indent 1: Frappe's bytes


def test_the_claimed_raven_releases_were_read():
	assert set(CLAIMED_RAVEN) <= set(RAVEN_KEYS["versions"])


def test_document_like_object_with_datetimes(site):
	"""A loaded Document holds datetimes; Frappe serialises them as str(), as the fixture shows."""
	details = dict(RAVEN_CREATED["message_details"])
	stamp = datetime.datetime(2026, 11, 28, 8, 52, 45, 962995)
	assert str(stamp) == details["creation"] == details["modified"]
	details.update(creation=stamp, modified=stamp)
	doc = types.SimpleNamespace(**details)  # attributes only, no .get()

	assert publish_message_created_event(doc, CHANNEL, after_commit=False) is True
	(event,) = on_redis(site)
	assert event["message"] == RAVEN_CREATED


def test_sender_is_the_session_user(site):
	standin.create_user("agent@example.com", roles=["System Manager"])
	with standin.request("POST", user="agent@example.com"):
		assert publish_message_created_event(raven_doc(), CHANNEL) is True
	(event,) = on_redis(site)
	assert event["message"]["sender"] == "agent@example.com"
	assert event["message"]["message_details"]["owner"] == "Administrator"  # the document's, untouched


def test_flags_travel_as_0_1(site):
	doc = raven_doc(
		is_edited=True,
		is_thread=False,
		is_forwarded=True,
		is_reply="0",
		is_bot_message="1",
		hide_link_preview=1,
	)
	details = build_message_created_payload(doc, CHANNEL)["message_details"]
	flags = {f: details[f] for f in ("is_edited", "is_thread", "is_forwarded", "is_reply", "is_bot_message")}
	assert flags == {"is_edited": 1, "is_thread": 0, "is_forwarded": 1, "is_reply": 0, "is_bot_message": 1}
	assert details["hide_link_preview"] == 1
	assert all(type(v) is int for v in flags.values())

	assert publish_message_created_event(doc, CHANNEL, after_commit=False)
	sent = on_redis(site)[0]["message"]["message_details"]
	assert sent["is_edited"] == 1 and sent["is_thread"] == 0 and sent["is_forwarded"] == 1


def test_missing_fields_are_none_never_invented(site):
	doc = frappe._dict(name="m-1", channel_id=CHANNEL, text="<p>hi</p>")
	payload = build_message_created_payload(doc, CHANNEL)
	assert {k: v for k, v in payload.items() if k != "message_details"} == {
		"channel_id": CHANNEL,
		"sender": "Administrator",
		"message_id": "m-1",
	}
	details = payload["message_details"]
	assert set(details) == set(RAVEN_CREATED["message_details"])
	# Raven's `1 if self.is_edited else 0` is the one value it computes; the rest is the document's.
	assert details == {**{f: doc.get(f) for f in MESSAGE_DETAIL_FIELDS}, "is_edited": 0}
	assert [f for f, v in details.items() if v is not None] == ["text", "channel_id", "is_edited", "name"]


def test_document_is_never_changed(site):
	doc = raven_doc(is_thread=True, replied_message_details={"text": "x"})
	before = copy.deepcopy(doc)
	publish_message_created_event(doc, CHANNEL, after_commit=False)
	publish_message_created_event(doc, CHANNEL)
	frappe.db.commit()
	assert doc == before and doc.is_thread is True


def test_room_is_the_channel_even_inside_a_task(site):
	"""With frappe.local.task_id set (a job), Frappe would pick the task room for doctype/docname."""
	frappe.local.task_id = "job-1"
	try:
		assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False)
	finally:
		del frappe.local.task_id
	(event,) = on_redis(site)
	assert event["room"] == ROOM and event["message"] == RAVEN_CREATED


def test_publish_costs_no_query_and_no_cache_call(site):
	publish_message_created_event(raven_doc(), CHANNEL, after_commit=False)  # warm the probe
	standin.reset_counters()
	publish_message_created_event(raven_doc(), CHANNEL, after_commit=False)
	assert standin.query_count() == 0 and standin.cache_round_trips() == 0
	on_redis(site, 2)


# ---- validation --------------------------------------------------------------------------------


class NotAMessage:
	pass


@pytest.mark.parametrize(
	("doc", "channel"),
	[
		pytest.param(raven_doc(), None, id="no-channel"),
		pytest.param(raven_doc(), "", id="empty-channel"),
		pytest.param(raven_doc(), 42, id="channel-not-a-string"),
		pytest.param(None, CHANNEL, id="no-document"),
		pytest.param({}, CHANNEL, id="empty-dict"),
		pytest.param(raven_doc(name=None), CHANNEL, id="unsaved-no-name"),
		pytest.param(NotAMessage(), CHANNEL, id="object-without-name"),
		pytest.param("dmhriqinrm", CHANNEL, id="a-name-not-a-document"),
		pytest.param(raven_doc(doctype="ToDo"), CHANNEL, id="another-doctype"),
		pytest.param(raven_doc(), "another-channel", id="channel-mismatch"),
	],
)
@pytest.mark.parametrize("after_commit", [True, False])
def test_bad_input_raises_validation_error_and_publishes_nothing(site, doc, channel, after_commit):
	with pytest.raises(frappe.ValidationError):
		publish_message_created_event(doc, channel, after_commit=after_commit)
	frappe.db.commit()
	assert standin.published() == [] and standin.realtime_queue() == []
	assert site.get_message(timeout=0.05) is None
	assert standin.error_logs() == []


def test_a_raven_message_document_passes(site):
	assert publish_message_created_event(raven_doc(doctype="Raven Message"), CHANNEL, after_commit=False)
	on_redis(site)


# ---- after_commit ------------------------------------------------------------------------------


def test_default_waits_for_commit(site):
	assert publish_message_created_event(raven_doc(), CHANNEL) is True
	assert standin.published() == []
	assert len(standin.realtime_queue()) == 1
	assert site.get_message(timeout=0.05) is None

	frappe.db.commit()
	(event,) = on_redis(site)
	assert event["message"] == RAVEN_CREATED and event["room"] == ROOM
	assert standin.realtime_queue() == []


def test_rollback_drops_it(site):
	assert publish_message_created_event(raven_doc(), CHANNEL) is True
	frappe.db.rollback()
	assert standin.realtime_queue() == []
	frappe.db.commit()
	assert standin.published() == [] and site.get_message(timeout=0.05) is None


def test_request_commit_and_failed_request(site):
	with standin.request("POST", user="Administrator"):
		publish_message_created_event(raven_doc(), CHANNEL)
		assert standin.published() == []
	assert len(on_redis(site)) == 1

	with pytest.raises(RuntimeError), standin.request("POST", user="Administrator"):
		publish_message_created_event(raven_doc(name="m-2", text="rolled back"), CHANNEL)
		raise RuntimeError("the agent failed after inserting")
	assert len(standin.published()) == 1 and site.get_message(timeout=0.05) is None


def test_in_a_background_job_it_goes_out_at_the_jobs_commit(site):
	"""Agents and bots publish from workers: the job's own frappe.local, its own commit."""
	with standin.background():
		assert publish_message_created_event(raven_doc(), CHANNEL) is True
		assert standin.published() == []
		frappe.db.commit()
	(event,) = on_redis(site)
	assert event["message"]["message_id"] == RAVEN_CREATED["message_id"] and event["room"] == ROOM


def test_a_thread_without_a_site_is_told_so_not_silently_dropped(site):
	"""A thread of the caller's own has no frappe.local: say what is missing, publish nothing."""
	errors = []

	def publish_from_a_thread():
		try:
			publish_message_created_event(raven_doc(), CHANNEL)
		except Exception as e:
			errors.append(e)

	thread = threading.Thread(target=publish_from_a_thread)
	thread.start()
	thread.join()
	[error] = errors
	assert isinstance(error, RuntimeError) and "no Frappe site context" in str(error)
	assert "frappe.init" in str(error)
	assert standin.published() == [] and site.get_message(timeout=0.05) is None


def test_after_commit_false_publishes_at_once(site):
	assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
	assert len(standin.published()) == 1 and standin.realtime_queue() == []
	frappe.db.rollback()  # a rollback afterwards cannot take it back: the caller had committed
	assert len(on_redis(site)) == 1


def test_one_transaction_many_messages(site):
	for i in range(3):
		publish_message_created_event(raven_doc(name=f"m-{i}"), CHANNEL)
	frappe.db.commit()
	assert [e["message"]["message_id"] for e in on_redis(site, 3)] == ["m-0", "m-1", "m-2"]
	assert lost_logs() == []


# ---- Redis unreachable -------------------------------------------------------------------------


def test_unreachable_redis_returns_false_and_logs_once(tmp_path):
	url = dead_site(tmp_path)
	doc = raven_doc()
	before = copy.deepcopy(doc)
	try:
		results = [publish_message_created_event(doc, CHANNEL, after_commit=False) for _ in range(5)]
		assert results == [False] * 5
		assert len(standin.dropped()) == 5  # Frappe swallowed every one
		(entry,) = lost_logs()
		assert "unreachable" in entry["error"] and "diagnos" in entry["error"]
		assert entry["deferred"]  # survives the rollback of the request it happened in
		assert doc == before
	finally:
		frappe.destroy()
		reset_publish_state()
	assert url.startswith("redis://127.0.0.1:")


def test_unreachable_redis_after_commit_queues_then_logs_at_commit(tmp_path):
	dead_site(tmp_path)
	try:
		assert publish_message_created_event(raven_doc(), CHANNEL) is True  # queued
		assert publish_message_created_event(raven_doc(name="m-2"), CHANNEL) is True
		assert lost_logs() == []
		frappe.db.commit()  # never raises into the committer either
		assert len(standin.dropped()) == 2
		assert len(lost_logs()) == 1
	finally:
		frappe.destroy()
		reset_publish_state()


def test_unconfigured_redis_says_so(tmp_path, monkeypatch):
	dead_site(tmp_path)
	try:
		monkeypatch.setitem(frappe.local.conf, "redis_queue", None)
		assert publish_module.realtime_redis_url() is None
		assert publish_module._check(MESSAGE_CREATED) is False
		(entry,) = lost_logs()
		assert "not configured" in entry["error"]
	finally:
		frappe.destroy()
		reset_publish_state()


def test_redis_dying_is_noticed_at_the_first_publish_after_the_interval(tmp_path):
	"""The last PING stands for HEALTH_TTL_SECONDS; the first publish after it asks again, sees
	Redis gone, and logs; a Redis back on the same port is used again."""
	reset_publish_state()
	with RedisServer() as server:
		port = server.port
		standin.reset(SITE, str(tmp_path / "sites"), site_config={"redis_queue": server.url})
		try:
			assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
			server.stop()
			publish_module._probes[server.url].checked_at = float("-inf")  # the interval has passed
			assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is False
			assert len(standin.dropped()) == 1 and len(lost_logs()) == 1
			with RedisServer(port=port):
				publish_module._probes[server.url].checked_at = float("-inf")  # the next PING is due
				assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
				assert len(standin.published()) == 2
		finally:
			frappe.destroy()
			reset_publish_state()


def test_within_the_interval_no_round_trip_is_made(redis_server):
	"""The hot path costs a clock read: one PING per interval, however many events."""
	reset_publish_state()
	client = redis.Redis.from_url(redis_server.url)
	before = int(client.info("commandstats").get("cmdstat_ping", {}).get("calls", 0))
	for i in range(200):
		assert publish_module.redis_reachable(redis_server.url, now=1000.0 + i * 0.001) is True
	after = int(client.info("commandstats").get("cmdstat_ping", {}).get("calls", 0))
	client.close()
	assert after - before == 1
	reset_publish_state()


def test_redis_restarted_while_idle_is_no_false_alarm(tmp_path):
	"""Redis restarted between two publishes, the health check due: the probe reconnects
	instead of PINGing down the connection the old Redis closed."""
	reset_publish_state()
	with RedisServer() as server:
		port, url = server.port, server.url
		standin.reset(SITE, str(tmp_path / "sites"), site_config={"redis_queue": url})
		try:
			assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
			server.stop()
			with RedisServer(port=port):
				publish_module._probes[url].checked_at = float("-inf")  # a second has passed
				assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
				assert lost_logs() == [] and len(standin.published()) == 2
		finally:
			frappe.destroy()
			reset_publish_state()


def test_unserialisable_value_is_logged_not_raised(site):
	doc = raven_doc(message_reactions=object())
	assert publish_message_created_event(doc, CHANNEL, after_commit=False) is False
	(entry,) = [e for e in standin.error_logs() if "message_created" in e["method"]]
	assert "TypeError" in entry["error"]
	assert site.get_message(timeout=0.05) is None


def test_one_probe_serves_many_threads_at_once(redis_server):
	"""gthread workers publish from several threads: the shared probe's connection is used by
	one at a time, so no thread reads another's reply (forced PING on every call)."""
	reset_publish_state()
	results: list[bool] = []
	errors: list[BaseException] = []

	def hammer(offset: int) -> None:
		try:
			for i in range(150):
				# A `now` far apart each time forces a PING round trip on every call.
				results.append(publish_module.redis_reachable(redis_server.url, now=offset * 1e6 + i * 10.0))
		except BaseException as e:
			errors.append(e)

	threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	assert errors == []
	assert len(results) == 8 * 150 and all(results)
	reset_publish_state()
