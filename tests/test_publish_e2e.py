"""publish_message_created_event end to end: Python (the Frappe stand-in) -> Redis -> the
Node realtime service -> nginx (bench's `healthy` topology) -> the real socket.io-client,
subscribed the way Raven's frontend subscribes (doc_subscribe "Raven Channel" / channel id
in the site's namespace), for what the real 15.41 bench suite (tests/realbench/) does not show:
isolation between channels and sites on one realtime service, and a burst kept in order. Raven's
payload, commit/rollback and a failed request are proven there, on real Frappe and Raven.

Absence is proven with fences, not timeouts: Node relays the Redis `events` channel in order
and a socket gets its packets in order, so a client that receives a fence event published
after the message, but not the message, never gets the message.
"""

import frappe
import pytest
from frappe import standin

from raven_ai_agent import error_log
from raven_ai_agent import publish as publish_module
from raven_ai_agent.api.channel_utils import publish_message_created_event
from raven_ai_agent.realtime.constants import MESSAGE_CREATED
from tests.stack.listener import (
	CHANNEL,
	OTHER_CHANNEL,
	OTHER_SITE,
	RAVEN_CREATED,
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


def test_each_channel_gets_only_its_own(stack, site):
	"""The fences see what arrives: the other channel's message reaches only its subscriber."""
	mine, other_channel, other_site = site
	doc = raven_doc(name="e2e-other", channel_id=OTHER_CHANNEL)
	assert publish_message_created_event(doc, OTHER_CHANNEL, after_commit=False) is True
	(got,) = fence(stack, other_channel)
	assert got["event"] == MESSAGE_CREATED and got["args"][0]["channel_id"] == OTHER_CHANNEL
	assert got["args"][0]["message_details"]["channel_id"] == OTHER_CHANNEL
	assert fence(stack, mine) == [] and fence(stack, other_site) == []


@pytest.mark.parametrize("n", [50])
def test_a_burst_arrives_complete_and_in_order(stack, site, n):
	mine, *_ = site
	for i in range(n):
		assert publish_message_created_event(raven_doc(name=f"burst-{i}"), CHANNEL, after_commit=False)
	got = [m["args"][0]["message_id"] for m in fence(stack, mine) if m["event"] == MESSAGE_CREATED]
	assert got == [f"burst-{i}" for i in range(n)]
