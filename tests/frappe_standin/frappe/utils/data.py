"""The parts of frappe/utils/data.py (v15) the app can plausibly use."""

from __future__ import annotations

import datetime
import math
import re
from typing import Any
from urllib.parse import urlparse

import frappe

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M:%S.%f"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"
HTML_TAG_PATTERN = re.compile("<[^>]+>")


def cint(s, default: int = 0) -> int:
	"""int(s), else int(float(s)), else `default` (None -> default)."""
	if s is None:
		return default
	try:
		return int(s)
	except Exception:
		try:
			return int(float(s))
		except Exception:
			return default


def flt(s, precision: int | None = None, rounding_method: str | None = None) -> float:
	"""float, ignoring thousands commas; 0.0 for None or garbage; optional rounding."""
	if s is None:
		return 0.0
	if isinstance(s, str):
		s = s.replace(",", "")
	try:
		num = float(s)
		if precision is not None:
			num = rounded(num, precision, rounding_method)
	except Exception:
		num = 0.0
	return num


def rounded(num, precision=0, rounding_method=None):
	"""Banker's rounding (legacy), v15's default when System Settings says nothing."""
	precision = cint(precision)
	multiplier = 10**precision
	num = round(num * multiplier if precision else num, 8)
	floor_num = math.floor(num)
	decimal_part = num - floor_num
	if not precision and decimal_part == 0.5:
		num = floor_num if (floor_num % 2 == 0) else floor_num + 1
	elif decimal_part == 0.5:
		num = floor_num + 1
	else:
		num = round(num)
	return (num / multiplier) if precision else num


def cstr(s, encoding: str = "utf-8") -> str:
	"""str, with None -> ""."""
	return frappe.as_unicode(s, encoding)


def sbool(x: Any) -> bool | Any:
	""" "true"/"1" -> True, "false"/"0" -> False, anything else unchanged."""
	try:
		val = x.lower()
		if val in ("true", "1"):
			return True
		elif val in ("false", "0"):
			return False
		return x
	except Exception:
		return x


def now_datetime() -> datetime.datetime:
	"""Naive "now" (v15 converts to the System Settings time zone; the stand-in uses local time)."""
	return datetime.datetime.now()


def now() -> str:
	"""`YYYY-MM-DD HH:MM:SS.ffffff`."""
	return now_datetime().strftime(DATETIME_FORMAT)


def nowdate() -> str:
	return now_datetime().strftime(DATE_FORMAT)


def nowtime() -> str:
	return now_datetime().strftime(TIME_FORMAT)


def getdate(string_date=None) -> datetime.date | None:
	if not string_date:
		return now_datetime().date()
	if isinstance(string_date, datetime.datetime):
		return string_date.date()
	if isinstance(string_date, datetime.date):
		return string_date
	return datetime.date.fromisoformat(str(string_date).strip()[:10])


def get_datetime(datetime_str=None) -> datetime.datetime | None:
	if datetime_str is None:
		return now_datetime()
	if isinstance(datetime_str, datetime.datetime):
		return datetime_str
	if isinstance(datetime_str, datetime.date):
		return datetime.datetime.combine(datetime_str, datetime.time())
	if not datetime_str:
		return None
	return datetime.datetime.fromisoformat(str(datetime_str).strip())


def to_timedelta(time_str):
	if isinstance(time_str, datetime.time):
		return datetime.timedelta(hours=time_str.hour, minutes=time_str.minute, seconds=time_str.second)
	if isinstance(time_str, str):
		parts = [float(p) for p in time_str.split(":")]
		while len(parts) < 3:
			parts.append(0.0)
		return datetime.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
	if time_str is None:
		return datetime.timedelta()
	return time_str


def cast(fieldtype, value=None):
	"""Python value of a Frappe fieldtype; None gives the type's lowest value ("" / 0 / 0.0 /
	date(1,1,1) / datetime(1,1,1)). Types not listed (Code, Password, JSON...) pass through."""
	if fieldtype in ("Currency", "Float", "Percent"):
		value = flt(value)
	elif fieldtype in ("Int", "Check"):
		value = cint(sbool(value))
	elif fieldtype in (
		"Data",
		"Text",
		"Small Text",
		"Long Text",
		"Text Editor",
		"Select",
		"Link",
		"Dynamic Link",
	):
		value = cstr(value)
	elif fieldtype == "Date":
		value = getdate(value) if value else datetime.datetime(1, 1, 1).date()
	elif fieldtype == "Datetime":
		value = get_datetime(value) if value else datetime.datetime(1, 1, 1)
	elif fieldtype == "Time":
		value = to_timedelta(value)
	return value


_striptags_re = re.compile(r"(<!--.*?-->|<[^>]*>)")


def strip_html(text: str) -> str:
	return _striptags_re.sub("", text)


def validate_url(txt, throw=False, valid_schemes=None) -> bool:
	"""Valid when the URL has a host (netloc), optionally with an allowed scheme.

	The strictest rule among v15 releases (later ones also accept paths starting with "/")."""
	url = urlparse(txt or "")
	is_valid = bool(url.netloc)
	if isinstance(valid_schemes, str):
		is_valid = is_valid and (url.scheme == valid_schemes)
	elif isinstance(valid_schemes, list | tuple | set):
		is_valid = is_valid and (url.scheme in valid_schemes)
	if not is_valid and throw:
		frappe.throw(frappe._("'{0}' is not a valid URL").format(frappe.bold(txt)))
	return is_valid


def escape_html(text):
	if not isinstance(text, str):
		return text
	table = {"&": "&amp;", '"': "&quot;", "'": "&apos;", ">": "&gt;", "<": "&lt;"}
	return "".join(table.get(c, c) for c in text)


def add_to_date(date, years=0, months=0, weeks=0, days=0, hours=0, minutes=0, seconds=0, as_string=False):
	"""v15 `add_to_date` for days/weeks/hours/minutes/seconds (months and years not modelled);
	a datetime stays a datetime, a date a date."""
	if years or months:
		raise NotImplementedError("frappe stand-in: add_to_date with months/years")
	if date is None:
		date = now_datetime()
	if isinstance(date, str):
		date = get_datetime(date) if " " in date or "T" in date else getdate(date)
	delta = datetime.timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
	result = date + delta
	return str(result) if as_string else result


def add_days(date, days):
	return add_to_date(date, days=days)


def get_url(uri: str | None = None, full_address: bool = False) -> str:
	"""v15: `host_name` from the conf (http:// added when it has no scheme), else http://<site>;
	the web port appended when the host has none and the bench is not under supervisor/systemd."""
	from urllib.parse import urljoin, urlsplit

	import frappe

	if uri and uri.startswith(("http://", "https://")):
		return uri
	host_name = frappe.local.conf.host_name or frappe.local.conf.hostname or f"http://{frappe.local.site}"
	if not host_name.startswith(("http://", "https://")):
		host_name = "http://" + host_name
	port = frappe.conf.http_port or frappe.conf.webserver_port
	restarts = frappe.conf.restart_supervisor_on_update or frappe.conf.restart_systemd_on_update
	if not restarts and port and not urlsplit(host_name).port:
		host_name = f"{host_name}:{port}"
	return urljoin(host_name, uri) if uri else host_name


def quoted(url: str) -> str:
	"""v15 frappe.utils.data.quoted: percent-encoding that keeps URL punctuation."""
	from urllib.parse import quote

	return quote(str(url).encode(), safe=b"~@#$&()*!+=:;,.?/'")


def get_url_to_form(doctype: str, name: str) -> str:
	"""v15: the form's desk route (`/app/<slug of the doctype>/<name>`) on the site's URL, where
	`slug` is frappe.desk.utils.slug (lower case, spaces to hyphens)."""
	return get_url(uri=f"/app/{quoted(doctype.lower().replace(' ', '-'))}/{quoted(name)}")
