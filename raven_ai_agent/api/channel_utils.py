"""Publishing Raven events from agents and bots, exactly as Raven itself does."""

import frappe
from frappe import _

from raven_ai_agent.publish import publish
from raven_ai_agent.realtime.constants import MESSAGE_CREATED, RAVEN_CHANNEL_DOCTYPE

# Raven 2.6.4's `message_created` message_details, key for key (raven_message.py on_update).
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

	Returns whether the event was handed to Redis (queued, with after_commit). Never raises
	after validation: the message document itself is never touched.
	"""
	payload = build_message_created_payload(message_doc, channel_id)
	try:
		return publish(
			MESSAGE_CREATED,
			payload,
			doctype=RAVEN_CHANNEL_DOCTYPE,
			docname=channel_id,
			after_commit=after_commit,
		)
	except Exception:
		from raven_ai_agent.error_log import log_error_rate_limited

		log_error_rate_limited("Raven realtime: message_created publish failed", frappe.get_traceback())
		return False


def build_message_created_payload(message_doc, channel_id: str) -> dict:
	"""Raven's `message_created` payload for `message_doc`; validates before anything is sent."""
	if not channel_id or not isinstance(channel_id, str):
		frappe.throw(_("A channel id is required to publish a Raven message event."), frappe.ValidationError)
	name = _field(message_doc, "name")
	if not name:
		frappe.throw(
			_("Expected a saved Raven Message document (with a name), got {0}.").format(
				type(message_doc).__name__
			),
			frappe.ValidationError,
		)
	doc_channel = _field(message_doc, "channel_id")
	if doc_channel and doc_channel != channel_id:
		frappe.throw(
			_("Raven Message {0} belongs to channel {1}, not {2}.").format(name, doc_channel, channel_id),
			frappe.ValidationError,
		)
	details = {field: _field(message_doc, field) for field in MESSAGE_DETAIL_FIELDS}
	details["is_edited"] = 1 if details["is_edited"] else 0
	for field in FLAG_FIELDS:
		if details[field] is not None:
			details[field] = 1 if details[field] else 0
	return {
		"channel_id": channel_id,
		"sender": frappe.session.user,
		"message_id": name,
		"message_details": details,
	}


def _field(doc, fieldname: str):
	"""`doc.get(field)` for Documents and dicts alike; a missing field is None, as in Raven."""
	getter = getattr(doc, "get", None)
	if callable(getter):
		return getter(fieldname)
	return getattr(doc, fieldname, None)
