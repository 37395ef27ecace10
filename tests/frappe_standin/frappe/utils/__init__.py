"""frappe.utils (v15): re-exports of frappe.utils.data plus CallbackManager and tracebacks."""

from __future__ import annotations

import re
import sys
import traceback
from collections import deque
from collections.abc import Callable

from frappe.utils.data import (  # noqa: F401 - public re-exports, as in real frappe.utils
	add_days,
	add_to_date,
	cast,
	cint,
	cstr,
	escape_html,
	flt,
	get_datetime,
	get_url,
	get_url_to_form,
	getdate,
	now,
	now_datetime,
	nowdate,
	nowtime,
	rounded,
	sbool,
	strip_html,
	to_timedelta,
	validate_url,
)


class CallbackManager:
	"""A FIFO of callables (v15 `frappe.utils.CallbackManager`; used for `frappe.db.after_commit`).

	`add` appends without de-duplication; `run` pops and calls each in order; `reset` drops all."""

	__slots__ = ("_functions",)

	def __init__(self) -> None:
		self._functions = deque()

	def add(self, func: Callable) -> None:
		self._functions.append(func)

	def __call__(self, func: Callable) -> None:
		self.add(func)

	def run(self) -> None:
		while self._functions:
			_func = self._functions.popleft()
			_func()

	def reset(self) -> None:
		self._functions.clear()

	def __len__(self) -> int:  # stand-in convenience for tests; not in v15
		return len(self._functions)


def get_traceback(with_context: bool = False) -> str:
	"""Traceback of the exception being handled, or "" when there is none."""
	exc_type, exc_value, exc_tb = sys.exc_info()
	if not any([exc_type, exc_value, exc_tb]):
		return ""
	trace_list = traceback.format_exception(exc_type, exc_value, exc_tb)
	return "".join(trace_list)


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def split_emails(txt: str | None) -> list[str]:
	return [e.strip() for e in re.split(r"[,\n;]", txt or "") if e.strip()]


def validate_email_address(email_str: str, throw: bool = False) -> str:
	"""Simplified: one address of the form a@b.c (v15 validates much more)."""
	import frappe

	email = (email_str or "").strip()
	if email and not EMAIL_PATTERN.match(email):
		if throw:
			frappe.throw(
				frappe._("{0} is not a valid Email Address").format(email), frappe.InvalidEmailAddressError
			)
		return ""
	return email
