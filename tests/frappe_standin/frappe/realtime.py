"""frappe/realtime.py (v15): rooms, the after-commit queue, and PUBLISH on Redis channel `events`.

The JSON put on Redis is `frappe.as_json({"event", "message", "room", "namespace": site})`
(indent 1, sorted keys), over the process-wide connection to `conf.redis_queue`; a Redis
ConnectionError is swallowed and the event is lost, exactly as in v15. For tests the stand-in
also notes every PUBLISH (and every event lost) in `PUBLISHED` / `DROPPED`, read through
`frappe.standin`; nothing else differs from v15.
"""

from __future__ import annotations

from contextlib import suppress

import redis

import frappe
from frappe.utils.data import cstr

PUBLISHED: list[dict] = []
DROPPED: list[dict] = []


def publish_realtime(
	event: str | None = None,
	message: dict | None = None,
	room: str | None = None,
	user: str | None = None,
	doctype: str | None = None,
	docname: str | None = None,
	task_id: str | None = None,
	after_commit: bool = False,
):
	"""Pick the room: `room`, else task_progress:<task_id>, else user:<user>, else
	doc:<doctype>/<docname>, else "all" (every desk user). With `after_commit`, queue until the
	next `frappe.db.commit()` (identical [event, message, room] queued once; dropped on rollback)."""
	if message is None:
		message = {}

	if event is None:
		event = "task_progress" if frappe.local.task_id else "global"
	elif event == "msgprint" and not user:
		user = frappe.session.user
	elif event == "list_update":
		doctype = doctype or message.get("doctype")
		room = get_doctype_room(doctype)
	elif event == "docinfo_update":
		room = get_doc_room(doctype, docname)

	if not task_id and hasattr(frappe.local, "task_id"):
		task_id = frappe.local.task_id

	if not room:
		if task_id:
			after_commit = False
			if "task_id" not in message:
				message["task_id"] = task_id
			room = get_task_progress_room(task_id)
		elif user:
			room = get_user_room(user)
		elif doctype and docname:
			room = get_doc_room(doctype, docname)
		else:
			room = get_site_room()

	if after_commit:
		if not hasattr(frappe.local, "_realtime_log"):
			frappe.local._realtime_log = []
			frappe.db.after_commit.add(flush_realtime_log)
			frappe.db.after_rollback.add(clear_realtime_log)

		params = [event, message, room]
		if params not in frappe.local._realtime_log:
			frappe.local._realtime_log.append(params)
	else:
		emit_via_redis(event, message, room)


def flush_realtime_log():
	for args in frappe.local._realtime_log:
		frappe.realtime.emit_via_redis(*args)
	clear_realtime_log()


def clear_realtime_log():
	if hasattr(frappe.local, "_realtime_log"):
		del frappe.local._realtime_log


def emit_via_redis(event, message, room):
	"""PUBLISH to `events` on redis_queue; a ConnectionError (Redis down) is swallowed."""
	from frappe.utils.background_jobs import get_redis_connection_without_auth

	sent = False
	with suppress(redis.exceptions.ConnectionError):
		r = get_redis_connection_without_auth()
		data = frappe.as_json(
			{"event": event, "message": message, "room": room, "namespace": frappe.local.site}
		)
		receivers = r.publish("events", data)
		sent = True
		PUBLISHED.append({"channel": "events", "data": data, "receivers": receivers})
	if not sent:
		DROPPED.append({"event": event, "message": message, "room": room, "namespace": frappe.local.site})


@frappe.whitelist(allow_guest=True)
def get_user_info():
	"""What the Node realtime service asks on connect: 15.41 answers user and user_type; v16
	(a v16.4.1 release) adds installed_apps. No socket secret (that is develop, not admitted)."""
	from frappe import standin

	info = {"user": frappe.session.user, "user_type": frappe.session.data.user_type}
	if standin.major() >= 16:
		info["installed_apps"] = frappe.get_installed_apps()
	return info


def get_doctype_room(doctype):
	return f"doctype:{doctype}"


def get_doc_room(doctype, docname):
	return f"doc:{doctype}/{cstr(docname)}"


def get_user_room(user):
	return f"user:{user}"


def get_site_room():
	return "all"


def get_task_progress_room(task_id):
	return f"task_progress:{task_id}"
