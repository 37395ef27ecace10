"""The field-report endpoint as Frappe serves it (whitelist, CSRF-free stand-in request, Frappe's
rate limiter, the Redis cache): counted when valid, refused with the right status otherwise,
and folded into the scheduled check's row."""

import json

import frappe
import pytest
from frappe import standin

from raven_ai_agent.api.field import REPORTS_PER_WINDOW, field_summary
from raven_ai_agent.install import after_install

API = "/api/method/raven_ai_agent.api.field.report_connection"
USER = "staff@example.com"
CONNECT = {"socket": "desk", "event": "connect", "transport": "websocket", "browser": "chrome"}


@pytest.fixture
def site():
	standin.reset(apps=("raven_ai_agent",))
	after_install()
	frappe.db.commit()
	standin.create_user(USER, roles=["Sales User"])
	yield
	frappe.destroy()


def counters() -> dict:
	with standin.background():
		return field_summary(hours=1)


def post(user=USER, ip="10.0.0.7", **form):
	return standin.call_api(API, "POST", user=user, headers={"X-Forwarded-For": ip}, **form)


def test_a_report_is_counted_with_one_round_trip_of_ours(site):
	post(**CONNECT)  # the rate limiter's window starts: its SETEX is paid once
	standin.reset_counters()
	response = post(**CONNECT)
	assert response.status_code == 200, response.body
	commands = standin.cache_commands()
	# Frappe's limiter: GET + INCRBY on its counter; ours: one pipeline. (The rest, e.g. the hooks
	# cache, is Frappe's request handling, the same for every endpoint.)
	endpoint = [c[0] for c in commands if c[0] == "PIPELINE" or b"|rl:" in c[1]]
	assert endpoint == ["GET", "INCRBY", "PIPELINE"], commands
	summary = counters()
	assert summary["connects"] == 2 and summary["transports"] == {"websocket": 2}


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
