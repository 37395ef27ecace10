"""Tests of the Frappe v15 stand-in itself, held to the shared facts and the captured fixtures.

The realtime tests start their own redis-server (a free local port, no persistence)."""

import json
import os
import sys
import time
import unittest
from pathlib import Path

import pytest

STANDIN = Path(__file__).parent / "frappe_standin"
if str(STANDIN) not in sys.path:
	sys.path.insert(0, str(STANDIN))

import click  # noqa: E402
import frappe  # noqa: E402
import frappe.boot  # noqa: E402
import frappe.sessions  # noqa: E402
import frappe.standin as standin  # noqa: E402
import redis  # noqa: E402
from frappe.commands import get_site, pass_context  # noqa: E402
from frappe.tests.utils import FrappeTestCase  # noqa: E402

from tests.recorded import WIRE_FILE as WIRE  # noqa: E402
from tests.stack import free_port  # noqa: E402

DT = "Standin Settings"
SITE = "realtime.test"


@pytest.fixture(scope="module")
def redis_url(redis_server):
	"""The session's real redis-server (tests/stack): a missing one fails the run, never skips it."""
	return redis_server.url


@pytest.fixture
def site(tmp_path):
	standin.reset(SITE, str(tmp_path / "sites"), apps=("testapp",))
	yield
	if getattr(frappe.local, "initialised", None):
		frappe.destroy()


@pytest.fixture
def rt_site(tmp_path, redis_url):
	"""A site whose redis_queue is the test redis-server, plus a subscriber on `events`."""
	standin.reset(SITE, str(tmp_path / "sites"), apps=("testapp",), site_config={"redis_queue": redis_url})
	sub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
	sub.subscribe("events")
	sub.get_message(timeout=1)  # subscribe confirmation
	yield sub
	sub.close()
	frappe.destroy()


def _received(sub, timeout=2.0) -> list[bytes]:
	out = []
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		msg = sub.get_message(timeout=0.1)
		if msg is None:
			if out:
				break
			continue
		out.append(msg["data"])
	return out


def _wire(index: int) -> str:
	return json.loads(WIRE.read_text())["redis_events_channel_messages"][index]


# --- realtime -----------------------------------------------------------------------------------


def test_publish_to_user_is_byte_identical_to_frappe_15_41(rt_site):
	frappe.publish_realtime("probe_event", {"x": 1}, user="Administrator")
	assert _received(rt_site) == [_wire(0).encode()]
	(event,) = standin.published()
	assert event["data"] == _wire(0) and event["receivers"] == 1


def test_publish_to_doc_room_is_byte_identical_to_frappe_15_41(rt_site):
	frappe.publish_realtime("probe_doc", {"y": 2}, doctype="Raven Channel", docname="ch-1")
	assert _received(rt_site) == [_wire(1).encode()]


def test_room_selection(rt_site):
	frappe.publish_realtime("a", {})
	frappe.publish_realtime("b", {}, room="custom-room")
	frappe.publish_realtime("c", {}, user="x@example.com", doctype="D", docname="n")
	frappe.publish_realtime("list_update", {"doctype": "Note"})
	frappe.publish_realtime("p", {}, task_id="t1", after_commit=True)  # task id: never deferred
	rooms = [e["message"]["room"] for e in standin.published()]
	assert rooms == ["all", "custom-room", "user:x@example.com", "doctype:Note", "task_progress:t1"]
	assert standin.published()[-1]["message"]["message"] == {"task_id": "t1"}


def test_after_commit_publishes_on_commit_once_and_rollback_drops(rt_site):
	frappe.publish_realtime("probe_event", {"x": 1}, user="Administrator", after_commit=True)
	frappe.publish_realtime("probe_event", {"x": 1}, user="Administrator", after_commit=True)
	assert _received(rt_site, timeout=0.3) == []
	frappe.db.commit()
	assert _received(rt_site) == [_wire(0).encode()]
	assert standin.realtime_queue() == []

	frappe.publish_realtime("lost", {}, user="Administrator", after_commit=True)
	frappe.db.rollback()
	frappe.db.commit()
	assert _received(rt_site, timeout=0.3) == []
	assert [e["message"]["event"] for e in standin.published()] == ["probe_event"]


def test_redis_down_is_swallowed_and_event_lost(tmp_path):
	standin.reset(
		SITE,
		str(tmp_path / "s"),
		apps=("testapp",),
		site_config={"redis_queue": f"redis://127.0.0.1:{free_port()}"},
	)
	frappe.publish_realtime("gone", {"a": 1}, user="Administrator")
	assert standin.published() == []
	assert standin.dropped() == [
		{"event": "gone", "message": {"a": 1}, "room": "user:Administrator", "namespace": SITE}
	]
	frappe.destroy()


def test_saving_a_document_publishes_doc_update_after_commit(rt_site):
	doc = frappe.get_single(DT)
	doc.save()
	assert _received(rt_site, timeout=0.3) == []
	frappe.db.commit()
	(raw,) = _received(rt_site)
	payload = json.loads(raw)
	assert payload["event"] == "doc_update" and payload["room"] == f"doc:{DT}/{DT}"


# --- config -------------------------------------------------------------------------------------


def test_site_config_merges_over_common_and_fills_v15_defaults(tmp_path):
	sites = str(tmp_path / "sites")
	standin.reset(
		"a.test",
		sites,
		apps=("testapp",),
		common_site_config={"socketio_port": 9001, "x": "common"},
		site_config={"x": "site"},
	)
	assert frappe.conf.x == "site" and frappe.conf.socketio_port == 9001
	assert frappe.conf.redis_queue == "redis://127.0.0.1:11311"
	assert frappe.conf.no_such_key is None
	assert frappe.get_conf("ignored") is frappe.local.conf
	assert frappe.get_common_site_config(sites) == {"socketio_port": 9001, "x": "common"}
	frappe.destroy()
	with pytest.raises(frappe.IncorrectSitePath):
		frappe.init("missing.test", sites)
	frappe.destroy()


def test_connect_asserts_a_complete_site(tmp_path, site):
	os.makedirs(tmp_path / "sites" / "empty.test")
	(tmp_path / "sites" / "empty.test" / "site_config.json").write_text("{}")
	frappe.destroy()
	frappe.init("empty.test", str(tmp_path / "sites"))
	with pytest.raises(AssertionError, match="db_name missing"):
		frappe.connect()


# --- singles ------------------------------------------------------------------------------------


def test_never_saved_single_reads_empty_values_not_json_defaults(site):
	gv = frappe.db.get_single_value
	assert (gv(DT, "enabled"), gv(DT, "port"), gv(DT, "ratio"), gv(DT, "label"), gv(DT, "mode")) == (
		0,
		0,
		0.0,
		"",
		"",
	)
	assert gv(DT, "notes") is None  # Code is not cast
	doc = frappe.get_single(DT)  # the document does carry the JSON defaults
	assert (doc.enabled, doc.port, doc.ratio, doc.label, doc.mode) == (1, 9000, 2.5, "hello", "auto")
	with pytest.raises(frappe.ValidationError):
		gv(DT, "no_such_field")


def test_save_coerces_types_and_is_transactional(site):
	doc = frappe.get_single(DT)
	doc.enabled, doc.port, doc.ratio = True, "8080", "1.5"
	doc.save()
	assert standin.single_values(DT) == {}  # not committed yet
	assert frappe.db.get_single_value(DT, "port") == 8080
	frappe.db.commit()
	stored = standin.single_values(DT)
	assert (stored["enabled"], stored["port"], stored["ratio"]) == ("1", "8080", "1.5")
	reloaded = frappe.get_single(DT)
	assert (reloaded.enabled, reloaded.port, reloaded.ratio) == (1, 8080, 1.5)
	frappe.db.set_single_value(DT, "label", "temp")
	frappe.db.rollback()
	assert frappe.get_single(DT).label == "hello"


def test_controller_hooks_run_in_v15_order_and_validate_can_refuse(site):
	from testapp.standin_test.doctype.standin_settings.standin_settings import CALLS

	CALLS.clear()
	frappe.get_single(DT).save()
	assert CALLS == ["before_validate", "validate", "before_save", "on_update", "on_change"]
	doc = frappe.get_single(DT)
	doc.port = 70000
	with pytest.raises(frappe.ValidationError, match="Port must be"):
		doc.save()
	doc = frappe.get_single(DT)
	doc.mode = "nonsense"
	with pytest.raises(frappe.ValidationError):
		doc.save()
	doc = frappe.get_single(DT)
	doc.site_url = "not a url"
	with pytest.raises(frappe.ValidationError, match="not a valid URL"):
		doc.save()


def test_save_checks_write_permission_unless_ignored(site):
	standin.create_user("reader@example.com", roles=["Settings Reader"])
	frappe.set_user("reader@example.com")
	assert frappe.has_permission(DT, "read") and not frappe.has_permission(DT, "write")
	with pytest.raises(frappe.PermissionError):
		frappe.has_permission(DT, "write", throw=True)
	doc = frappe.get_single(DT)
	with pytest.raises(frappe.PermissionError):
		doc.save()
	doc.save(ignore_permissions=True)
	frappe.set_user("Administrator")


def test_get_cached_doc_is_served_locally_and_cleared_on_save(site):
	frappe.get_single(DT).save()
	frappe.db.commit()
	frappe.set_user("Administrator")  # a fresh request-local cache
	first = frappe.get_cached_doc(DT)
	standin.reset_counters()
	assert frappe.get_cached_doc(DT) is first
	assert standin.cache_round_trips() == 0 and standin.query_count() == 0
	frappe.local.cache = {}  # next request: one Redis GET, no query
	assert frappe.get_cached_doc(DT).label == "hello"
	assert standin.cache_round_trips() == 1 and standin.query_count() == 0
	doc = frappe.get_single(DT)
	doc.label = "changed"
	doc.save()
	assert frappe.get_cached_doc(DT).label == "changed"
	assert frappe.cache() is frappe.cache  # v15: the old call style still works


# --- transactions -------------------------------------------------------------------------------


def test_commit_and_rollback_callbacks(site):
	seen = []
	frappe.db.before_commit.add(lambda: seen.append("before_commit"))
	frappe.db.after_commit.add(lambda: seen.append("after_commit"))
	frappe.db.after_rollback.add(lambda: seen.append("after_rollback"))
	frappe.db.commit()
	frappe.db.rollback()
	frappe.db.commit()
	assert seen == ["before_commit", "after_commit"]
	frappe.db.after_commit.add(lambda: seen.append("never"))
	frappe.db.after_rollback.add(lambda: seen.append("after_rollback"))
	frappe.db.rollback()
	frappe.db.commit()
	assert seen == ["before_commit", "after_commit", "after_rollback"]


def test_log_error_is_transactional_unless_deferred(site):
	frappe.log_error("in transaction", "details")
	frappe.log_error("deferred", "details", defer_insert=True)
	assert {r["method"] for r in standin.error_logs()} == {"in transaction", "deferred"}
	frappe.db.rollback()
	assert [(r["method"], r["deferred"]) for r in standin.error_logs()] == [("deferred", True)]
	standin.flush_deferred_inserts()
	assert [r["method"] for r in standin.error_logs()] == ["deferred"]


def test_logger_default_level_is_error(site):
	log = frappe.logger("raven_ai_agent")
	log.warning("dropped")
	log.error("kept")
	assert [r.getMessage() for r in standin.log_records("raven_ai_agent-" + SITE)] == ["kept"]


# --- requests, whitelist, roles ------------------------------------------------------------------


def test_whitelist_methods_post_refuses_get(site):
	status, body, exc = standin.call_api(
		"/api/method/testapp.api.set_label", "GET", user="Administrator", label="x"
	)
	assert status == 403 and isinstance(exc, frappe.PermissionError) and body["exc_type"] == "PermissionError"
	assert frappe.allowed_http_methods_for_whitelisted_func[frappe.get_attr("testapp.api.set_label")] == [
		"POST"
	]
	with pytest.raises(frappe.PermissionError):
		standin.call_api("testapp.api.set_label", "GET", user="Administrator", raise_exc=True, label="x")


def test_guest_refused_unless_allow_guest(site):
	assert standin.call_api("testapp.api.whoami").status_code == 403
	assert standin.call_api("testapp.api.ping_guest").body == {"message": {"user": "Guest"}}
	assert standin.call_api("testapp.api.whoami", user="Administrator").body == {"message": "Administrator"}
	assert standin.call_api("testapp.api.not_whitelisted", user="Administrator").status_code == 403


def test_get_rolls_back_and_post_commits(site):
	assert (
		standin.call_api(
			"testapp.api.set_label_any_method", "GET", user="Administrator", label="get"
		).status_code
		== 200
	)
	assert "label" not in standin.single_values(DT)
	assert (
		standin.call_api(
			"testapp.api.set_label_any_method", "POST", user="Administrator", label="post"
		).status_code
		== 200
	)
	assert standin.single_values(DT)["label"] == "post"
	assert frappe.session.user == "Administrator" and frappe.local.site == SITE  # caller's state restored


def test_request_arguments_are_type_checked(site):
	assert standin.call_api("testapp.api.typed", user="Administrator", n="3", flag="1").body == {
		"message": {"n": 3, "flag": True}
	}
	status, _body, exc = standin.call_api("testapp.api.typed", user="Administrator", n="three")
	assert status == 417 and isinstance(exc, frappe.FrappeTypeError)


def test_server_error_is_500_with_deferred_error_log(site):
	status, body, _exc = standin.call_api("testapp.api.crash", user="Administrator")
	assert status == 500 and body["exc_type"] == "RuntimeError"
	assert [(r["method"], r["deferred"]) for r in standin.error_logs()] == [("boom", True)]


def test_only_for_returns_early_in_test_and_for_administrator(site):
	standin.create_user("web@example.com", roles=[], user_type="Website User")
	frappe.set_user("web@example.com")
	assert frappe.flags.in_test
	frappe.only_for("System Manager")  # no-op under in_test, as in v15
	frappe.flags.in_test = False
	with pytest.raises(frappe.PermissionError):
		frappe.only_for("System Manager")
	frappe.set_user("Administrator")
	frappe.only_for("Nobody Has This")
	assert standin.call_api("testapp.api.managers_only", user="web@example.com").status_code == 403


def test_roles(site):
	standin.create_user("desk@example.com", roles=["Settings Reader"])
	standin.create_user("web@example.com", roles=["Customer"], user_type="Website User")
	assert sorted(frappe.get_roles("desk@example.com")) == ["All", "Desk User", "Guest", "Settings Reader"]
	assert sorted(frappe.get_roles("web@example.com")) == ["All", "Customer", "Guest"]
	assert frappe.get_roles("Guest") == ["Guest"]
	assert "System Manager" in frappe.get_roles("Administrator")


def test_request_context_manager(site):
	with standin.request("POST", user="Administrator"):
		frappe.db.set_single_value(DT, "label", "from request")
		assert frappe.request.method == "POST" and not frappe.flags.in_test
	assert standin.single_values(DT)["label"] == "from request"
	with pytest.raises(RuntimeError), standin.request("POST", user="Administrator"):
		frappe.db.set_single_value(DT, "label", "rolled back")
		raise RuntimeError
	assert standin.single_values(DT)["label"] == "from request"


# --- boot -------------------------------------------------------------------------------------


def test_boot_cached_per_user_and_extend_bootinfo_uncached(site):
	from testapp.boot import CALLS

	CALLS.clear()
	frappe.conf.socketio_port = 9000
	standin.create_user("jane@example.com", roles=["System Manager"])
	first = frappe.sessions.get()
	assert first.sitename == SITE and first.socketio_port == 9000 and "developer_mode" not in first
	assert first.standin_boot == "cached-part" and not first.get("from_cache")
	second = frappe.sessions.get()
	assert second.from_cache == 1 and second.standin_extend == "Administrator"
	frappe.set_user("jane@example.com")
	frappe.sessions.get()
	assert CALLS == [
		("boot_session", "Administrator"),
		("extend_bootinfo", "Administrator"),
		("extend_bootinfo", "Administrator"),
		("boot_session", "jane@example.com"),
		("extend_bootinfo", "jane@example.com"),
	]
	frappe.clear_cache(user="jane@example.com")
	assert not frappe.sessions.get().get("from_cache")
	frappe.conf.disable_session_cache = 1
	assert not frappe.sessions.get().get("from_cache")


# --- commands, test case ------------------------------------------------------------------------


@click.command("standin-probe")
@pass_context
def probe_command(context):
	site_name = get_site(context)
	frappe.init(site=site_name)
	try:
		frappe.connect()
		click.echo(f"{frappe.local.site} {frappe.session.user} {frappe.db.get_single_value(DT, 'port')}")
	finally:
		frappe.destroy()


def test_bench_command_with_pass_context_and_get_site(site):
	result = standin.invoke_command(probe_command, site=SITE)
	assert result.exit_code == 0 and result.output.strip() == f"{SITE} Administrator 0"
	result = standin.invoke_command(probe_command)
	assert result.exit_code == 1 and "Please specify --site sitename" in result.output
	assert frappe.local.site == SITE  # caller's state restored


def test_frappe_test_case_rolls_back_after_the_class(site):
	class Case(FrappeTestCase):
		def test_write(self):
			frappe.db.set_single_value(DT, "label", "inside")
			self.assertEqual(frappe.db.get_single_value(DT, "label"), "inside")
			with self.assertQueryCount(0):
				frappe.db.get_single_value(DT, "label")

	with open(os.devnull, "w") as devnull:
		result = unittest.TextTestRunner(stream=devnull).run(
			unittest.defaultTestLoader.loadTestsFromTestCase(Case)
		)
	assert result.wasSuccessful()
	assert frappe.db.get_single_value(DT, "label", cache=False) == ""
