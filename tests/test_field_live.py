"""The field-report endpoint as Frappe serves it (whitelist, CSRF-free stand-in request, Frappe's
rate limiter, the Redis cache): counted when valid, refused with the right status otherwise,
and folded into the scheduled check's row."""

import json
import re

import frappe
import pytest
from frappe import standin

from raven_ai_agent.api.field import REPORTS_PER_WINDOW, field_summary
from raven_ai_agent.config import SETTINGS_DOCTYPE
from raven_ai_agent.install import after_install
from raven_ai_agent.realtime.field_reports import BUCKET_PREFIX
from tests.recorded import FIELD_REPORT_REDIS

API = "/api/method/raven_ai_agent.api.field.report_connection"
USER = "staff@example.com"
CONNECT = {"socket": "desk", "event": "connect", "transport": "websocket", "browser": "chrome"}


def set_reports(on: bool) -> None:
	"""Turn Collect Field Reports from Browsers on or off, as a System Manager saves the form."""
	with standin.request("POST", user="Administrator"):
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.field_reports = 1 if on else 0
		doc.save()


@pytest.fixture
def fresh_site():
	"""A site as installed: field reports off."""
	standin.reset(apps=("raven_ai_agent",))
	after_install()
	frappe.db.commit()
	standin.create_user(USER, roles=["Sales User"])
	yield
	frappe.destroy()


@pytest.fixture
def site(fresh_site):
	"""A site whose System Manager turned field reports on."""
	set_reports(True)
	yield


def counters() -> dict:
	with standin.background():
		return field_summary(hours=1)


def post(user=USER, ip="10.0.0.7", **form):
	return standin.call_api(API, "POST", user=user, headers={"X-Forwarded-For": ip}, **form)


def endpoint_commands(ip: str) -> list[list[str]]:
	"""The limiter's and our cache commands, as the fixture writes them (MONITOR's view)."""
	prefix = f"{frappe.conf.db_name}|"

	def text(arg) -> str:
		arg = arg.decode() if isinstance(arg, bytes) else str(arg)
		arg = arg.removeprefix(prefix).replace(f":{ip}", ":<ip>")
		return re.sub(rf"^{BUCKET_PREFIX}\d{{10}}$", f"{BUCKET_PREFIX}<hour>", arg)

	sent = []
	for command in standin.cache_commands():
		if command[0] == "PIPELINE":
			sent += [[text(a) for a in c] for c in command[2]]
		elif any(b"|rl:" in a or BUCKET_PREFIX.encode() in a for a in command[1:] if isinstance(a, bytes)):
			sent.append([text(a) for a in command])
	return sent


def test_a_report_costs_what_it_costs_on_a_real_bench(site):
	"""Four reports in a row, as recorded with MONITOR on a Frappe 15.41 bench: the rate
	limiter's GET (+ SETEX when its window starts) + INCRBY, then our one MULTI/EXEC pipeline;
	a refused report stops after the limiter; a Guest never reaches it."""
	for name, real in FIELD_REPORT_REDIS.items():
		standin.reset_counters()
		response = post(user=real["user"], ip="10.0.0.5", **real["form"])
		assert response.status_code == real["status"], (name, response.body)
		assert endpoint_commands("10.0.0.5") == real["endpoint_commands"], name
	summary = counters()
	assert summary["connects"] == 2 and summary["transports"] == {"websocket": 2}


def test_reports_are_refused_until_turned_on_and_again_once_turned_off(fresh_site):
	"""Off by default: refused (403) and nothing counted. Turned on: the next report counts, with
	no cache clear. Turned off: refused again (the saving process forgets at once)."""
	response = post(**CONNECT)
	assert response.status_code == 403, response.body
	assert "Field reports are off" in json.dumps(response.body)
	assert counters()["connects"] == 0
	set_reports(True)
	assert post(**CONNECT).status_code == 200
	assert counters()["connects"] == 1
	set_reports(False)
	assert post(**CONNECT).status_code == 403
	assert counters()["connects"] == 1


def test_the_setting_is_read_while_off_and_remembered_briefly_while_on(fresh_site, monkeypatch):
	"""While on, a worker re-reads the setting at most every ENABLED_MEMO_SECONDS (a report then
	costs the limiter's 2 round trips and our 1); while off, every report reads it."""
	import raven_ai_agent.config as config
	from raven_ai_agent.api import field

	reads = []
	original = config.field_reports_enabled

	def counting():
		reads.append(1)
		return original()

	monkeypatch.setattr(config, "field_reports_enabled", counting)
	post(**CONNECT)
	post(ip="10.0.0.9", **CONNECT)
	assert len(reads) == 2, "off is never remembered"
	set_reports(True)
	for i in range(5):
		assert post(ip=f"10.0.1.{i}", **CONNECT).status_code == 200
	assert len(reads) == 3, "on is remembered"
	remembered = field._enabled_until[frappe.local.site] - field.time.monotonic()
	assert 0 < remembered <= field.ENABLED_MEMO_SECONDS
	field._enabled_until[frappe.local.site] = 0.0  # the memo's time has passed
	post(**CONNECT)
	assert len(reads) == 4, "and read again after it"


def test_page_loads_and_disconnect_reasons(site):
	post(socket="desk", event="page", connected="1", browser="firefox")
	post(socket="desk", event="page", connected="0", browser="firefox")
	post(socket="app", event="disconnect", reason="transport close")
	post(socket="app", event="disconnect", reason="who knows")
	summary = counters()
	assert summary["connected_share"] == 0.5 and summary["browsers"] == {"firefox": 2}
	assert summary["disconnects"] == {"other": 1, "transport close": 1}


@pytest.mark.parametrize(
	"user, method, form, status",
	[
		("Guest", "POST", CONNECT, 403),
		(USER, "GET", CONNECT, 403),  # POST only: v15 answers other methods with PermissionError
		(USER, "POST", {**CONNECT, "transport": "w" * 5000}, 417),
		(USER, "POST", {**CONNECT, "event": "coffee"}, 417),
		(USER, "POST", {**CONNECT, "socket": "toaster"}, 417),
		(USER, "POST", {"event": "connect"}, 417),
	],
)
def test_hostile_reports_are_refused_and_count_nothing(site, user, method, form, status):
	response = standin.call_api(API, method, user=user, headers={"X-Forwarded-For": "10.0.0.8"}, **form)
	assert response.status_code == status, response.body
	assert counters()["connects"] == 0 and counters()["transports"] == {}


def test_a_flood_past_the_limit_gets_429_and_counts_nothing_more(site):
	statuses = [post(**CONNECT).status_code for _ in range(REPORTS_PER_WINDOW + 5)]
	assert statuses[:REPORTS_PER_WINDOW] == [200] * REPORTS_PER_WINDOW
	assert set(statuses[REPORTS_PER_WINDOW:]) == {429}
	assert counters()["connects"] == REPORTS_PER_WINDOW
	assert post(ip="10.0.0.99", **CONNECT).status_code == 200  # another client is not punished


def test_nothing_personal_is_stored(site):
	post(
		socket="desk",
		event="connect_error",
		error=f"Unauthorized: {USER} 10.0.0.7",
		browser="Mozilla/5.0 evil",
	)
	stored = json.dumps(
		{
			k.decode(): {f.decode(): v.decode() for f, v in h.items()}
			for k, h in frappe.utils.redis_wrapper._DATA.items()
			if b"raven_realtime_field" in k and isinstance(h, dict)
		}
	)
	assert USER not in stored and "10.0.0.7" not in stored and "Mozilla" not in stored
	assert "desk|error|unauthorized" in stored
