"""What a browser's desk page carries, read from the real page's HTML."""

import json
import re

import requests

CSRF_RE = re.compile(r'frappe\.csrf_token\s*=\s*"([^"]+)"')


def csrf_token(page_html: str) -> str:
	"""The token the desk page sends as X-Frappe-CSRF-Token with every POST."""
	match = CSRF_RE.search(page_html)
	if not match:
		raise AssertionError("no frappe.csrf_token in the desk page")
	return match.group(1)


def boot(page_html: str) -> dict:
	"""`frappe.boot` as the page defines it: `frappe.boot = JSON.parse("...")` (the desk) or an
	object literal (Raven's page)."""
	match = re.search(r"frappe\.boot\s*=\s*", page_html)
	if not match:
		raise AssertionError("no frappe.boot in the page")
	rest = page_html[match.end() :]
	decoder = json.JSONDecoder()
	if rest.startswith("JSON.parse("):
		literal, _ = decoder.raw_decode(rest[len("JSON.parse(") :])
		return json.loads(literal)
	value, _ = decoder.raw_decode(rest)
	return value


class Desk:
	"""A logged-in session as the desk holds one: the cookie, the CSRF token and the boot."""

	def __init__(self, session: requests.Session, page_url: str):
		page = session.get(page_url, timeout=60)
		page.raise_for_status()
		self.session = session
		self.html = page.text
		self.boot = boot(page.text)
		self.csrf = csrf_token(page.text)
		self.base = page_url.split("/app")[0]

	def call(self, method: str, http: str = "POST", **data) -> requests.Response:
		"""A whitelisted method as frappe.call makes it (POST with the CSRF header)."""
		url = f"{self.base}/api/method/{method}"
		if http == "GET":
			return self.session.get(url, params=data, timeout=60)
		return self.session.post(url, data=data, headers={"X-Frappe-CSRF-Token": self.csrf}, timeout=60)
