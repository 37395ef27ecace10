"""Rate-limited error logging for the hot paths (boot, publish).

A broken config would otherwise write one Error Log per page load or per message. One
entry per title per interval and process is enough to tell the operator; the rest are
counted and reported with the next entry.
"""

import time

import frappe

INTERVAL_SECONDS = 300.0
_last: dict[str, tuple[float, int]] = {}


def log_error_rate_limited(title: str, message: str, interval: float = INTERVAL_SECONDS) -> bool:
	"""Log `message` under `title` unless the same title was logged within `interval` s.

	Returns whether an entry was written. Uses `defer_insert` so the entry survives a
	rolled-back request (boot and GET requests are rolled back). Never raises.
	"""
	now = time.monotonic()
	last, suppressed = _last.get(title, (None, 0))
	if last is not None and now - last < interval:
		_last[title] = (last, suppressed + 1)
		return False
	_last[title] = (now, 0)
	if suppressed:
		message = f"{message}\n\n({suppressed} similar errors since the last entry were not logged)"
	try:
		frappe.log_error(title=title, message=message, defer_insert=True)
	except Exception:  # noqa: BLE001 - logging is advice on the hot paths: it never raises
		return False
	return True
