"""Publishing Raven events from agents and bots, exactly as Raven itself does."""

import frappe
from frappe import _
from frappe.utils import cint

from raven_ai_agent.error_log import log_error_rate_limited
from raven_ai_agent.publish import publish
from raven_ai_agent.realtime.constants import (
	MESSAGE_CREATED,
	RAVEN_CHANNEL_DOCTYPE,
	RAVEN_MESSAGE_DOCTYPE,
	doc_room,
)

# Raven's `message_created` message_details, key for key (raven_message.py on_update): the same 29
# keys in every tag from 2.6.4 to 2.8.11 (tests/fixtures/raven-message-created.json).
MESSAGE_DETAIL_FIELDS = (
	"text",
	"channel_id",
	"content",
	"file",
	"message_type",
	"is_edited",
	"is_thread",
	"is_forwarded",
	"is_reply",
	"poll_id",
	"creation",
	"owner",
	"modified_by",
	"modified",
	"linked_message",
	"replied_message_details",
	"link_doctype",
	"link_document",
	"message_reactions",
	"thumbnail_width",
	"thumbnail_height",
	"file_thumbnail",
	"image_width",
	"image_height",
	"name",
	"is_bot_message",
	"bot",
	"hide_link_preview",
	"blurhash",
)
# Check fields travel as 0/1, as Frappe stores them; Raven forces is_edited to 0/1 itself.
FLAG_FIELDS = ("is_thread", "is_forwarded", "is_reply", "is_bot_message", "hide_link_preview")


def publish_message_created_event(message_doc, channel_id: str, *, after_commit: bool = True) -> bool:
	"""Tell every client subscribed to `channel_id` that `message_doc` was created.

	Publishes Raven's own `message_created` event to the channel's document room, so the
	Raven frontend shows the message as if Raven had sent it. By default after the current
	transaction commits, so no client fetches a message a rollback removes; pass
	`after_commit=False` when the caller has committed already.

	Returns whether the event was handed to Redis (queued, with after_commit). Raises
	before publishing when there is no site on this thread or the input is invalid; never
	after: the message document itself is never touched.
	"""
	if not getattr(frappe.local, "site", None):
		# frappe.local is context-local: a thread the caller started has no site, DB or Redis.
		raise RuntimeError(
			"publish_message_created_event found no Frappe site context on this thread: call it "
			"from a request or a background job, or set one up first (frappe.init(site=...); "
			"frappe.connect() ... frappe.destroy())"
		)
	payload = build_message_created_payload(message_doc, channel_id)
	try:
		# The room is named, not derived from doctype/docname: inside a job with a task id
		# Frappe would otherwise send the event to the task's room instead.
		return publish(
			MESSAGE_CREATED,
			payload,
			room=doc_room(RAVEN_CHANNEL_DOCTYPE, channel_id),
			after_commit=after_commit,
		)
	except Exception:  # noqa: BLE001 - the caller's message is saved; a publish failure is logged, not raised
		log_error_rate_limited("Raven realtime: message_created publish failed", frappe.get_traceback())
		return False


def build_message_created_payload(message_doc, channel_id: str) -> dict:
	"""Raven's `message_created` payload for `message_doc`; validates before anything is sent."""
	if not channel_id or not isinstance(channel_id, str):
		frappe.throw(_("A channel id is required to publish a Raven message event."), frappe.ValidationError)
	get = _getter(message_doc)
	name = get("name")
	doctype = get("doctype")
	if not name or (doctype and doctype != RAVEN_MESSAGE_DOCTYPE):
		frappe.throw(
			_("Expected a saved Raven Message document (with a name), got {0}.").format(
				doctype or type(message_doc).__name__
			),
			frappe.ValidationError,
		)
	doc_channel = get("channel_id")
	if doc_channel and doc_channel != channel_id:
		frappe.throw(
			_("Raven Message {0} belongs to channel {1}, not {2}.").format(name, doc_channel, channel_id),
			frappe.ValidationError,
		)
	details = dict(zip(MESSAGE_DETAIL_FIELDS, map(get, MESSAGE_DETAIL_FIELDS), strict=True))
	details["is_edited"] = 1 if _check_value(details["is_edited"]) else 0
	for field in FLAG_FIELDS:
		value = details[field]
		if value is not None and type(value) is not int:
			details[field] = _check_value(value)
	return {
		"channel_id": channel_id,
		"sender": frappe.session.user,
		"message_id": name,
		"message_details": details,
	}


def _getter(doc):
	"""Field access as Raven's `self.<field>`: dicts by key, documents by attribute (a
	Document's own `get()` costs far more); a missing field is None."""
	if isinstance(doc, dict):
		return doc.get
	return lambda fieldname: getattr(doc, fieldname, None)


def _check_value(value):
	"""A Check field as Frappe stores it (True -> 1, "0" -> 0); None stays None."""
	if value is None or type(value) is int:
		return value
	return 1 if cint(value) else 0
