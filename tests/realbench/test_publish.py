"""publish_message_created_event on the real bench: from a request, a background job and an
after_commit path, to a real socket.io client subscribed as Raven's frontend subscribes
(`doc_subscribe` "Raven Channel" in the site's namespace), with Raven's own payload.

Absence (the rolled-back request) is proven with a fence event published after it: the realtime
service relays Redis in order, so a client that gets the fence but not the message never will.
"""

import uuid

import pytest

from raven_ai_agent.realtime.constants import MESSAGE_CREATED
from tests.stack.listener import ChannelListener, joined

from .desk import Desk

PROBE = "raven_bench_probe.api."


@pytest.fixture(scope="module")
def channel(real_bench):
	"""A public Raven channel made through the REST API, and Administrator's desk session."""
	desk = Desk(real_bench.login(), real_bench.url("/app"))
	name = f"rt-{uuid.uuid4().hex[:8]}"
	created = desk.session.post(
		real_bench.url("/api/resource/Raven Channel"),
		# Raven 2.6's install made the workspace "Raven" (every channel belongs to one)
		json={"channel_name": name, "type": "Public", "workspace": "Raven"},
		headers={"X-Frappe-CSRF-Token": desk.csrf},
		timeout=60,
	)
	assert created.status_code == 200, created.text[-2000:]
	return desk, created.json()["data"]["name"]


@pytest.fixture(scope="module")
def listener(real_bench, channel):
	desk, channel_id = channel
	with ChannelListener(
		f"http://{real_bench.site}:{real_bench.socketio_port}",
		real_bench.site,
		channel_id,
		sid=desk.session.cookies["sid"],
		extra=("--origin", real_bench.url()),
	) as client:
		joined(real_bench.publish, client)  # the permission callback answered and the join took effect
		yield client


def _raven_sends(desk: Desk, channel_id: str, text: str) -> str:
	"""A message through Raven's own API: Raven's insert publishes message_created itself."""
	sent = desk.call("raven.api.raven_message.send_message", channel_id=channel_id, text=text)
	assert sent.status_code == 200, sent.text[-2000:]
	return (
		sent.json()["message"]["name"] if isinstance(sent.json()["message"], dict) else sent.json()["message"]
	)


def _created(listener: ChannelListener, message_id: str) -> dict:
	line = listener.next(
		lambda m: (
			m.get("event") == MESSAGE_CREATED and m["args"] and m["args"][0].get("message_id") == message_id
		)
	)
	return line["args"][0]


def test_raven_and_the_app_send_the_same_payload_from_every_path(real_bench, channel, listener):
	desk, channel_id = channel
	message_id = _raven_sends(desk, channel_id, "<p>sent by Raven</p>")
	ravens = _created(listener, message_id)

	from_request = desk.call(
		PROBE + "publish_from_request", message=message_id, channel=channel_id, after_commit=0
	)
	assert from_request.status_code == 200 and from_request.json()["message"] is True
	assert _created(listener, message_id) == ravens

	after_commit = desk.call(
		PROBE + "publish_from_request", message=message_id, channel=channel_id, after_commit=1
	)
	assert after_commit.status_code == 200
	assert _created(listener, message_id) == ravens

	job = desk.call(PROBE + "publish_from_job", message=message_id, channel=channel_id)
	assert job.status_code == 200
	assert _created(listener, message_id) == ravens


def test_a_rolled_back_request_sends_nothing(real_bench, channel, listener):
	desk, channel_id = channel
	message_id = _raven_sends(desk, channel_id, "<p>kept</p>")
	_created(listener, message_id)
	failed = desk.call(PROBE + "publish_then_fail", message=message_id, channel=channel_id)
	assert failed.status_code == 417
	# The fence: Raven publishes another message after the failed request.
	fence_id = _raven_sends(desk, channel_id, "<p>fence</p>")
	seen = []
	while not seen or seen[-1].get("message_id") != fence_id:
		line = listener.next(lambda m: m.get("event") == MESSAGE_CREATED)
		seen.append(line["args"][0])
	assert [m for m in seen if m.get("message_id") == message_id] == []


def test_calling_it_after_raven_s_own_insert_sends_the_event_twice(real_bench, channel, listener):
	"""What the README says: Raven's insert already publishes message_created; calling
	publish_message_created_event after a normal insert sends it a second time."""
	desk, channel_id = channel
	message_id = _raven_sends(desk, channel_id, "<p>once by Raven</p>")
	desk.call(PROBE + "publish_from_request", message=message_id, channel=channel_id, after_commit=0)
	fence_id = _raven_sends(desk, channel_id, "<p>fence</p>")
	seen = []
	while not seen or seen[-1].get("message_id") != fence_id:
		line = listener.next(lambda m: m.get("event") == MESSAGE_CREATED)
		seen.append(line["args"][0])
	assert len([m for m in seen if m.get("message_id") == message_id]) == 2
