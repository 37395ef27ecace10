"""`frappe.logger()` (frappe/utils/logger.py, v15) writing to an in-memory list, not log files."""

from __future__ import annotations

import logging

import frappe

default_log_level = logging.WARNING if frappe._dev_server else logging.ERROR

# every record any frappe logger let through, for tests (`frappe.standin.log_records()`)
RECORDS: list[logging.LogRecord] = []


class _CaptureHandler(logging.Handler):
	def emit(self, record: logging.LogRecord) -> None:
		RECORDS.append(record)


def get_logger(
	module: str | None = None,
	with_more_info: bool = False,
	allow_site: str | bool = True,
	filter=None,
	max_size: int = 100_000,
	file_count: int = 20,
	stream_only: bool = False,
) -> logging.Logger:
	"""Logger `<module>-<site or 'all'>`, cached in `frappe.loggers`, level `frappe.log_level` or
	ERROR (WARNING on a dev server), not propagating to the root logger."""
	if allow_site is True:
		site = getattr(frappe.local, "site", None)
	elif allow_site:
		site = allow_site
	else:
		site = False

	logger_name = f"{module}-{site or 'all'}"
	try:
		return frappe.loggers[logger_name]
	except KeyError:
		pass

	if not module:
		module = "frappe"  # v15 also turns on with_more_info (a form_dict filter, not modelled)

	logger = logging.getLogger(logger_name)
	logger.handlers.clear()
	logger.setLevel(frappe.log_level or default_log_level)
	logger.propagate = False
	handler = _CaptureHandler()
	handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {module} %(message)s"))
	logger.addHandler(handler)
	if filter:
		logger.addFilter(filter)

	frappe.loggers[logger_name] = logger
	return logger
