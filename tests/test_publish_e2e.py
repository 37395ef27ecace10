"""publish_message_created_event end to end: Python (the Frappe stand-in) -> Redis -> the
Node realtime service -> nginx (bench's `healthy` topology) -> the real socket.io-client,
subscribed the way Raven's frontend subscribes (doc_subscribe "Raven Channel" / channel id
in the site's namespace).

Absence is proven with fences, not timeouts: Node relays the Redis `events` channel in order
and a socket gets its packets in order, so a client that receives a fence event published
after the message, but not the message, never gets the message.
"""

import uuid

import frappe
import pytest
from frappe import standin

from raven_ai_agent import error_log
from raven_ai_agent import publish as publish_module
from raven_ai_agent.api.channel_utils import publish_message_created_event
from raven_ai_agent.realtime.constants import MESSAGE_CREATED, RAVEN_CHANNEL_DOCTYPE, doc_room
from tests.stack import ADMIN_SID, wait_until
from tests.stack.listener import (
	CAN_SUBSCRIBE_DOC,
	CHANNEL,
	FENCE,
	OTHER_CHANNEL,
	OTHER_SITE,
	RAVEN_CREATED,
	WAIT,
	ChannelListener,
	fence,
	subscribed,
)


@pytest.fixture(scope="module")
def front(stack):
	"""bench's nginx in front of the stack, and a second site's front on the same realtime service."""
	return stack.front("healthy"), stack.front("healthy", site=OTHER_SITE)


@pytest.fixture(scope="module")
def listeners(stack, front):
	"""Subscribed clients: ours (the site, the channel), another channel, another site's namespace."""
	site_front, other_front = front
	with (
		ChannelListener(site_front.url, stack.site, CHANNEL) as mine,
		ChannelListener(site_front.url, stack.site, OTHER_CHANNEL) as other_channel,
		ChannelListener(other_front.url, OTHER_SITE, CHANNEL) as other_site,
	):
		for listener in (mine, other_channel, other_site):
			subscribed(stack, listener)
		yield mine, other_channel, other_site


@pytest.fixture
def site(tmp_path, stack, listeners):
	"""The Frappe stand-in as the stack's site, publishing on the stack's Redis."""
	publish_module._probes.clear()
	error_log._last.clear()
	standin.reset(stack.site, str(tmp_path / "sites"), site_config={"redis_queue": stack.redis.url})
	yield listeners
	if getattr(frappe.local, "initialised", None):
		frappe.destroy()
	publish_module._probes.clear()
	error_log._last.clear()


def raven_doc(**changes) -> frappe._dict:
	return frappe._dict(RAVEN_CREATED["message_details"], **changes)


def test_listener_joined_the_way_ravens_frontend_does(stack, site):
	mine, *_ = site
	calls = [r for r in stack.web.requests(CAN_SUBSCRIBE_DOC) if r["query"].get("docname") == CHANNEL]
	assert calls and all(r["query"]["doctype"] == RAVEN_CHANNEL_DOCTYPE for r in calls)
	assert mine.ready["id"]


def test_subscriber_receives_ravens_exact_payload(stack, site):
	mine, other_channel, other_site = site
	assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True

	received = mine.next(lambda m: m.get("event") == MESSAGE_CREATED)
	assert received["args"] == [RAVEN_CREATED]  # one argument, key for key, sender = session user
	# Another channel's subscriber and another site's namespace get nothing (fenced, not timed).
	assert fence(stack, other_channel) == []
	assert fence(stack, other_site) == []
	assert fence(stack, mine) == []  # and ours got it exactly once


def test_each_channel_gets_only_its_own(stack, site):
	"""The fences see what arrives: the other channel's message reaches only its subscriber."""
	mine, other_channel, other_site = site
	doc = raven_doc(name="e2e-other", channel_id=OTHER_CHANNEL)
	assert publish_message_created_event(doc, OTHER_CHANNEL, after_commit=False) is True
	(got,) = fence(stack, other_channel)
	assert got["event"] == MESSAGE_CREATED and got["args"][0]["channel_id"] == OTHER_CHANNEL
	assert got["args"][0]["message_details"]["channel_id"] == OTHER_CHANNEL
	assert fence(stack, mine) == [] and fence(stack, other_site) == []


def test_nothing_before_commit_then_exactly_once(stack, site):
	mine, *_ = site
	doc = raven_doc(name="e2e-commit", text="<p>after commit</p>", content="after commit")
	assert publish_message_created_event(doc, CHANNEL) is True
	assert fence(stack, mine) == []

	frappe.db.commit()
	received = mine.next(lambda m: m.get("event") == MESSAGE_CREATED)
	assert received["args"][0]["message_id"] == "e2e-commit"
	assert received["args"][0]["message_details"]["content"] == "after commit"
	assert fence(stack, mine) == []


def test_nothing_after_rollback(stack, site):
	mine, *_ = site
	assert publish_message_created_event(raven_doc(name="e2e-rollback"), CHANNEL) is True
	frappe.db.rollback()
	frappe.db.commit()
	assert fence(stack, mine) == []


def test_request_that_fails_publishes_nothing(stack, site):
	mine, *_ = site
	with pytest.raises(RuntimeError), standin.request("POST", user="Administrator"):
		publish_message_created_event(raven_doc(name="e2e-failed"), CHANNEL)
		raise RuntimeError("agent failed after insert")
	with standin.request("POST", user="Administrator"):
		publish_message_created_event(raven_doc(name="e2e-ok"), CHANNEL)
	received = mine.next(lambda m: m.get("event") == MESSAGE_CREATED)
	assert received["args"][0]["message_id"] == "e2e-ok"
	assert fence(stack, mine) == []


def test_python_socketio_client_agrees(stack, front, site):
	"""The same event seen by the stack's own websocket-first client through nginx."""
	from tests.stack import SocketIOClient

	site_front, _ = front
	headers = {"Cookie": f"sid={ADMIN_SID}", "Origin": site_front.url}
	with SocketIOClient(site_front.port, stack.site, headers=headers) as client:
		assert client.connect().startswith(f"0/{stack.site},")
		client.emit("doc_subscribe", RAVEN_CHANNEL_DOCTYPE, CHANNEL)
		marker = uuid.uuid4().hex
		room = doc_room(RAVEN_CHANNEL_DOCTYPE, CHANNEL)

		def joined():
			stack.publish(FENCE, {"marker": marker}, room)
			got = client.wait_event(FENCE, timeout=0.2)
			return got is not None and got[1][0]["marker"] == marker

		wait_until(joined, timeout=WAIT, interval=0, message="python client joined")
		assert publish_message_created_event(raven_doc(), CHANNEL, after_commit=False) is True
		assert client.wait_event(MESSAGE_CREATED, timeout=WAIT) == (MESSAGE_CREATED, [RAVEN_CREATED])
	site[0].next(lambda m: m.get("event") == MESSAGE_CREATED)  # the node listener got it too


@pytest.mark.parametrize("n", [50])
def test_a_burst_arrives_complete_and_in_order(stack, site, n):
	mine, *_ = site
	for i in range(n):
		assert publish_message_created_event(raven_doc(name=f"burst-{i}"), CHANNEL, after_commit=False)
	got = [m["args"][0]["message_id"] for m in fence(stack, mine) if m["event"] == MESSAGE_CREATED]
	assert got == [f"burst-{i}" for i in range(n)]
