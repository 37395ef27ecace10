"""`json_handler` of frappe/utils/response.py (v15), used by `frappe.as_json`."""

import datetime
import decimal
import uuid
from collections.abc import Iterable


def json_handler(obj):
	"""Serialise dates/times as str, Decimal as float, documents via `as_dict(no_nulls=True)`."""
	from frappe.model.document import BaseDocument

	if isinstance(obj, datetime.date | datetime.datetime | datetime.time):
		return str(obj)
	elif isinstance(obj, datetime.timedelta):
		return format_timedelta(obj)
	elif isinstance(obj, decimal.Decimal):
		return float(obj)
	elif isinstance(obj, uuid.UUID):
		return str(obj)
	elif isinstance(obj, BaseDocument):
		return obj.as_dict(no_nulls=True)
	elif hasattr(obj, "__json__"):
		return obj.__json__()
	elif hasattr(obj, "__value__"):
		return obj.__value__()
	elif isinstance(obj, Iterable) and not isinstance(obj, str | bytes | dict):
		return list(obj)
	elif isinstance(obj, bytes):
		return obj.decode()
	raise TypeError(f"""Object of type {type(obj)} with value of {obj!r} is not JSON serializable""")


def format_timedelta(o: datetime.timedelta) -> str:
	minutes, seconds = divmod(o.seconds, 60)
	hours, minutes = divmod(minutes, 60)
	hours += o.days * 24
	return f"{hours:01}:{minutes:02}:{seconds:02}" + (f".{o.microseconds}" if o.microseconds else "")
