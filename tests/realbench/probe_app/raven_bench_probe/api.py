"""The paths an app publishes from, each a real Frappe context: a request, a job, a rollback.

Installed only on the test bench (tests/realbench), never shipped with raven_ai_agent.
"""

import frappe

from raven_ai_agent.api.channel_utils import publish_message_created_event


def _message(message: str):
	return frappe.get_doc("Raven Message", message)


@frappe.whitelist(methods=["POST"])
def publish_from_request(message: str, channel: str, after_commit: int = 0) -> bool:
	"""In the request, now or when the request's transaction commits."""
	return publish_message_created_event(_message(message), channel, after_commit=bool(int(after_commit)))


@frappe.whitelist(methods=["POST"])
def publish_from_job(message: str, channel: str) -> str:
	"""From a background job on the short queue (the worker's own site context)."""
	job = frappe.enqueue(
		"raven_bench_probe.api.publish_in_job", queue="short", message=message, channel=channel
	)
	return job.id


def publish_in_job(message: str, channel: str) -> None:
	publish_message_created_event(_message(message), channel, after_commit=True)


@frappe.whitelist(methods=["POST"])
def publish_then_fail(message: str, channel: str) -> None:
	"""after_commit, then an error: Frappe rolls the request back and the event must not be sent."""
	publish_message_created_event(_message(message), channel, after_commit=True)
	frappe.throw("rolled back on purpose")


def backdate_last_check(minutes: int) -> None:
	"""As if the last scheduled check ran `minutes` ago: the next tick is due without waiting."""
	from frappe.utils import add_to_date, now_datetime

	frappe.db.set_single_value(
		"Raven Realtime Settings", "last_check_on", add_to_date(now_datetime(), minutes=-int(minutes))
	)
	frappe.clear_document_cache("Raven Realtime Settings", "Raven Realtime Settings")
	frappe.db.commit()
