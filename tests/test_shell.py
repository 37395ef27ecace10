"""The Frappe shell on the v15 stand-in: get_config, settings, boot hook, endpoints, bench commands."""

import json
from pathlib import Path

import frappe
import frappe.sessions
import pytest
from frappe import standin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raven_ai_agent import boot
from raven_ai_agent.config import SETTINGS_DOCTYPE, get_config
from raven_ai_agent.install import after_install

SITE = "erp.test"
SOCKETIO_PORT = 19123  # never contacted: the port only has to survive resolution
WEBSERVER_PORT = 18123
API = "/api/method/raven_ai_agent.api.realtime."

SYSTEM_MANAGER = "manager@example.com"
SYSTEM_USER = "staff@example.com"
WEBSITE_USER = "customer@example.com"
USERS = {
	"Guest": "Guest",
	"website": WEBSITE_USER,
	"system": SYSTEM_USER,
	"manager": SYSTEM_MANAGER,
}


@pytest.fixture
def site():
	"""A fresh stand-in site with the app installed, as `bench install-app` leaves it."""
	standin.reset(
		site=SITE,
		apps=("raven_ai_agent",),
		site_config={"host_name": "https://erp.example.com"},
		common_site_config={"socketio_port": SOCKETIO_PORT, "webserver_port": WEBSERVER_PORT},
	)
	after_install()
	frappe.db.commit()
	standin.create_user(SYSTEM_MANAGER, roles=["System Manager"])
	standin.create_user(SYSTEM_USER, roles=["Sales User"])
	standin.create_user(WEBSITE_USER, roles=["Customer"], user_type="Website User")
	yield standin.sites_path()
	frappe.destroy()


def save_settings(**values) -> None:
	"""Save the settings as a System Manager would, in a request of its own."""
	with standin.request("POST", user=SYSTEM_MANAGER):
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.update(values)
		doc.save()


def boot_as(user: str) -> dict:
	with standin.request("GET", user=user):
		return frappe.sessions.get()


# -- config ---------------------------------------------------------------------------------


def test_get_config_reads_site_and_common(site):
	config = get_config()
	assert config.site_name == SITE
	assert config.deployment_type.value == "vps_prod"
	assert config.get_external_http_base() == "https://erp.example.com"
	assert config.socketio_port == SOCKETIO_PORT
	assert config.sources["socketio_port"].value == "common_site_config.json"
	assert config.sources["base_url"].value == "site_config.json"


def test_site_socketio_port_loses_to_common_with_warning(site):
	standin.reset(
		site=SITE,
		site_config={"host_name": "localhost", "socketio_port": SOCKETIO_PORT + 1},
		common_site_config={"socketio_port": SOCKETIO_PORT},
	)
	assert frappe.get_conf().socketio_port == SOCKETIO_PORT + 1  # what Frappe's merged conf says
	config = get_config()
	assert config.get_external_socketio_url() == f"http://localhost:{SOCKETIO_PORT}"
	assert any(str(SOCKETIO_PORT + 1) in w and "site_config.json" in w for w in config.warnings)


def test_after_install_stores_defaults(site):
	values = standin.single_values(SETTINGS_DOCTYPE)
	assert values["socketio_path"] == "/socket.io/"
	assert float(values["probe_timeout"]) == 3.0
	assert int(values["check_external"]) == 1
	assert values["deployment_type"] == "Auto"


def test_saved_override_reaches_the_next_request(site):
	with standin.request("GET", user=SYSTEM_USER):
		assert get_config().deployment_type.value == "vps_prod"
	save_settings(deployment_type="Sandbox tunnel", base_url="https://tunnel.example.org")
	with standin.request("GET", user=SYSTEM_USER):
		config = get_config()
	assert config.deployment_type.value == "sandbox"
	assert config.get_external_socketio_url() == "https://tunnel.example.org"


def test_invalid_settings_are_refused_with_the_field_label(site):
	with standin.request("POST", user=SYSTEM_MANAGER):
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.socketio_path = "socket.io"
		with pytest.raises(frappe.ValidationError, match="Socket.IO Path"):
			doc.save()


# -- boot hook ------------------------------------------------------------------------------


def test_boot_carries_the_frontend_context(site):
	bootinfo = boot_as(SYSTEM_USER)
	assert bootinfo["raven_realtime"] == {
		"deployment_type": "vps_prod",
		"socketio_base_url": "https://erp.example.com",
		"socketio_path": "/socket.io/",
		"socketio_namespace": f"/{SITE}",
		"transports": ["websocket", "polling"],
	}
	assert bootinfo["sitename"] == SITE


def test_a_changed_host_name_reaches_the_next_page_load_without_clear_cache(site):
	"""Frappe caches the boot per user until a clear-cache; the context is added after that
	cache (extend_bootinfo), so a host_name edited in site_config.json is live at once."""
	assert boot_as(SYSTEM_USER)["raven_realtime"]["socketio_base_url"] == "https://erp.example.com"
	path = Path(standin.sites_path()) / SITE / "site_config.json"
	conf = json.loads(path.read_text())
	path.write_text(json.dumps({**conf, "host_name": "https://new.example.com"}))
	bootinfo = boot_as(SYSTEM_USER)
	assert bootinfo.get("from_cache")  # the rest of the boot still comes from Frappe's cache
	assert bootinfo["raven_realtime"]["socketio_base_url"] == "https://new.example.com"


def test_saved_settings_reach_every_users_next_page_load(site):
	"""Saved overrides are live on the next page load of every user, boot cache or not."""
	for user in (SYSTEM_USER, SYSTEM_MANAGER):
		assert boot_as(user)["raven_realtime"]["deployment_type"] == "vps_prod"
		assert boot_as(user).get("from_cache")  # the second load is served from the cache
	save_settings(deployment_type="Sandbox tunnel", base_url="https://tunnel.example.org")
	for user in (SYSTEM_USER, SYSTEM_MANAGER):
		context = boot_as(user)["raven_realtime"]
		assert context["deployment_type"] == "sandbox"
		assert context["socketio_base_url"] == "https://tunnel.example.org"


def test_field_reports_are_off_in_the_boot_until_turned_on_without_clear_cache(site):
	"""A fresh install tells pages to send nothing; saving the setting reaches every user's next
	page load (the per-user boot cache notwithstanding), and so does turning it off again."""
	for user in (SYSTEM_USER, SYSTEM_MANAGER):
		assert boot_as(user)[boot.FIELD_REPORTS_KEY] == 0
		assert boot_as(user).get("from_cache")
	save_settings(field_reports=1)
	for user in (SYSTEM_USER, SYSTEM_MANAGER):
		assert boot_as(user)[boot.FIELD_REPORTS_KEY] == 1
	save_settings(field_reports=0)
	assert boot_as(SYSTEM_USER)[boot.FIELD_REPORTS_KEY] == 0


def test_boot_says_off_when_the_settings_cannot_be_read(site, monkeypatch):
	def broken():
		raise RuntimeError("cache down")

	monkeypatch.setattr("raven_ai_agent.boot.field_reports_enabled", broken)
	monkeypatch.setattr("raven_ai_agent.error_log._last", {})
	bootinfo = frappe._dict()
	boot.extend_bootinfo(bootinfo)
	assert bootinfo[boot.FIELD_REPORTS_KEY] == 0
	assert bootinfo["raven_realtime"]["socketio_namespace"] == f"/{SITE}", "the context still goes"


def test_deployment_type_is_stored_as_words_and_old_identifiers_are_migrated(site):
	"""The form shows and stores "Production VPS"; a value stored as "vps_prod" before still
	resolves, and the patch in patches.txt rewrites it so the next save passes Frappe's check."""
	from raven_ai_agent.patches.v1 import deployment_type_words

	patches = (Path(__file__).parents[1] / "raven_ai_agent" / "patches.txt").read_text()
	assert "raven_ai_agent.patches.v1.deployment_type_words" in patches.split("[post_model_sync]")[1]
	save_settings(deployment_type="Production VPS", base_url="https://erp.example.com")
	assert get_config().sources["deployment_type"].value == "settings override"
	frappe.db.set_single_value(SETTINGS_DOCTYPE, "deployment_type", "sandbox")
	frappe.db.commit()
	frappe.clear_document_cache(SETTINGS_DOCTYPE, SETTINGS_DOCTYPE)
	with standin.request("GET", user=SYSTEM_MANAGER):
		assert get_config().deployment_type.value == "sandbox"  # still honoured before the patch
	deployment_type_words.execute()
	frappe.db.commit()
	assert standin.single_values(SETTINGS_DOCTYPE)["deployment_type"] == "Sandbox tunnel"
	with standin.request("GET", user=SYSTEM_MANAGER):
		assert get_config().deployment_type.value == "sandbox"
	save_settings(check_external=0)  # passes the Select check now
	deployment_type_words.execute()  # a second run changes nothing
	assert standin.single_values(SETTINGS_DOCTYPE)["deployment_type"] == "Sandbox tunnel"


def test_boot_hook_warm_cost_is_no_query_and_one_cache_round_trip(site):
	boot_as(SYSTEM_USER)  # warm the document cache
	with standin.request("GET", user=SYSTEM_USER):
		standin.reset_counters()
		bootinfo = frappe._dict()
		boot.extend_bootinfo(bootinfo)
		assert standin.query_count() == 0
		assert standin.cache_round_trips() <= 1
	assert bootinfo.raven_realtime["socketio_namespace"] == f"/{SITE}"


def test_boot_survives_settings_written_behind_validation(site):
	for field, value in (
		("base_url", "javascript:alert(1)"),
		("socketio_path", "../../etc"),
		("deployment_type", "cloud"),
	):
		frappe.db.set_single_value(SETTINGS_DOCTYPE, field, value)
	frappe.db.commit()
	frappe.clear_document_cache(SETTINGS_DOCTYPE, SETTINGS_DOCTYPE)
	context = boot_as(SYSTEM_USER)["raven_realtime"]
	assert context["socketio_base_url"] == "https://erp.example.com"
	assert context["socketio_path"] == "/socket.io/"


def test_boot_survives_an_exception_and_logs_it_once(site, monkeypatch):
	def broken():
		raise RuntimeError("resolver exploded")

	monkeypatch.setattr("raven_ai_agent.config.get_config", broken)
	monkeypatch.setattr("raven_ai_agent.error_log._last", {})
	for _ in range(5):
		with standin.request("GET", user=SYSTEM_USER):
			bootinfo = frappe._dict(sitename=SITE)
			boot.extend_bootinfo(bootinfo)  # must not raise
		assert "raven_realtime" not in bootinfo
	standin.flush_deferred_inserts()
	logs = [e for e in standin.error_logs() if "boot context" in (e.get("method") or e.get("title") or "")]
	assert len(logs) == 1
	assert "resolver exploded" in json.dumps(logs[0])


def test_boot_leaves_out_a_context_a_browser_would_refuse(site, monkeypatch):
	"""A context that fails the browser's rule never reaches a page; the failure is logged."""
	from raven_ai_agent.realtime.resolve import RavenConfig

	def root_namespace(self):
		return {**original(self), "socketio_namespace": "/"}

	original = RavenConfig.get_frontend_context
	monkeypatch.setattr(RavenConfig, "get_frontend_context", root_namespace)
	monkeypatch.setattr("raven_ai_agent.error_log._last", {})
	bootinfo = frappe._dict()
	boot.extend_bootinfo(bootinfo)
	assert "raven_realtime" not in bootinfo
	standin.flush_deferred_inserts()
	assert any("socketio_namespace" in json.dumps(e) for e in standin.error_logs())


def test_boot_survives_missing_settings_doctype(site):
	standin.reset(site=SITE, apps=(), site_config={"host_name": "erp.example.com"})
	bootinfo = frappe._dict()
	boot.extend_bootinfo(bootinfo)
	assert bootinfo["raven_realtime"]["socketio_base_url"] == "https://erp.example.com"


json_values = st.recursive(
	st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
	lambda c: st.lists(c, max_size=2) | st.dictionaries(st.text(max_size=5), c, max_size=2),
	max_leaves=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
	conf=st.fixed_dictionaries(
		{},
		optional={k: json_values for k in ("host_name", "socketio_port", "webserver_port", "redis_queue")},
	),
	overrides=st.fixed_dictionaries(
		{}, optional={k: json_values for k in ("deployment_type", "base_url", "socketio_path")}
	),
)
def test_boot_hook_gives_a_context_for_any_config_values(site, conf, overrides, monkeypatch):
	"""Bad values fall back with a warning in the resolver: the hook hands every page a usable
	context and has nothing to log (its except is for the unforeseen, tested above)."""
	from raven_ai_agent import error_log

	error_log._last.clear()
	monkeypatch.setattr(frappe.local, "conf", frappe._dict({**frappe.local.conf, **conf}))
	monkeypatch.setattr("raven_ai_agent.config.get_settings_overrides", lambda: overrides)
	bootinfo = frappe._dict()
	boot.extend_bootinfo(bootinfo)
	context = bootinfo.get("raven_realtime")
	assert context is not None, "the boot hook fell back: see the logged error"
	assert context["socketio_base_url"].startswith(("http://", "https://"))
	assert context["socketio_namespace"] == f"/{SITE}"
	assert context["socketio_path"].startswith("/") and context["socketio_path"].endswith("/")
	assert error_log._last == {}, "the boot hook logged an error for plain config values"


# -- endpoints and permissions ----------------------------------------------------------------

MATRIX = {
	# endpoint, HTTP method -> roles that may call it
	("get_raven_realtime_context", "GET"): {"website", "system", "manager"},
	("get_effective_config", "GET"): {"manager"},
	("run_diagnosis", "POST"): {"manager"},
	("run_diagnosis", "GET"): set(),  # POST only: Frappe rolls GET back
	("send_probe_event", "POST"): {"manager"},
}


@pytest.mark.parametrize("who", list(USERS))
@pytest.mark.parametrize("endpoint,method", list(MATRIX))
def test_permission_matrix(site, who, endpoint, method):
	save_settings(probe_timeout=0.5, check_external=0)
	form = {"token": "0123abcd"} if endpoint == "send_probe_event" else {}
	status, body, exc = standin.call_api(API + endpoint, method, user=USERS[who], **form)
	if who in MATRIX[(endpoint, method)]:
		assert status == 200, (status, body, exc)
	else:
		assert status == 403, (status, body)
		assert isinstance(exc, frappe.PermissionError)


@pytest.mark.parametrize("who", list(USERS))
def test_settings_document_permissions(site, who):
	user = USERS[who]
	for ptype in ("read", "write"):
		allowed = frappe.has_permission(SETTINGS_DOCTYPE, ptype, user=user)
		assert bool(allowed) == (who == "manager"), (who, ptype)


def test_context_endpoint_carries_nothing_internal(site):
	status, body, _ = standin.call_api(API + "get_raven_realtime_context", "GET", user=WEBSITE_USER)
	assert status == 200
	context = body["message"]
	text = json.dumps(context)
	for internal in (str(SOCKETIO_PORT), str(WEBSERVER_PORT), "redis", "127.0.0.1"):
		assert internal not in text
	assert context["socketio_namespace"] == f"/{SITE}"


def test_run_diagnosis_stores_result_without_session_id(site):
	sid = "s3cr3t-session-id-0123456789"
	save_settings(probe_timeout=0.5, check_external=0)
	status, body, exc = standin.call_api(API + "run_diagnosis", "POST", user=SYSTEM_MANAGER, sid=sid)
	assert status == 200, exc
	result = body["message"]
	assert result["local_socketio_ok"] is False  # nothing listens on the stand-in's socketio port
	assert result["hint"]
	values = standin.single_values(SETTINGS_DOCTYPE)
	stored = json.loads(values["last_diagnosis"])
	assert stored["hint"] == result["hint"] == values["last_diagnosis_hint"]
	assert values["last_diagnosis_on"]
	standin.flush_deferred_inserts()
	everything = json.dumps([body, values, standin.error_logs(), [str(r) for r in standin.log_records()]])
	assert sid not in everything


# -- bench commands --------------------------------------------------------------------------


def test_bench_show_command(site):
	from raven_ai_agent.commands import commands

	[group] = commands
	result = standin.invoke_command(group, ["show", "--json"], site=SITE)
	assert result.exit_code == 0, result.output
	data = json.loads(result.output)
	assert data["site_name"] == SITE
	assert data["socketio_port"] == SOCKETIO_PORT
	assert data["sources"]["base_url"] == "site_config.json"


def test_bench_diagnose_command_never_shows_the_sid(site):
	from raven_ai_agent.commands import commands

	[group] = commands
	save_settings(probe_timeout=0.5, check_external=0)
	sid = "bench-sid-abcdef0123456789"
	result = standin.invoke_command(group, ["diagnose", "--json", "--sid", sid], site=SITE)
	assert result.exit_code == 1, result.output  # nothing listens on the stand-in's socketio port
	report = json.loads(result.output)
	assert report["local_socketio_ok"] is False
	assert sid not in result.output


@pytest.fixture
def sessions(monkeypatch):
	"""Frappe's login machinery stood in: which sessions the command started and ended."""
	from raven_ai_agent import commands

	log = {"started": [], "ended": []}

	def start(user):
		sid = f"temporary-sid-{len(log['started'])}-0123456789abcdef"
		log["started"].append((user, sid))
		return sid

	monkeypatch.setattr(commands, "_start_session", start)
	monkeypatch.setattr(commands, "_end_session", lambda sid, user: log["ended"].append((user, sid)))
	return log


def test_bench_diagnose_user_makes_its_own_session_and_always_deletes_it(site, sessions, monkeypatch):
	"""`--user` needs no copied sid: the command starts a session of that user, hands it to the
	end-to-end check, deletes it afterwards, and never prints it."""
	from raven_ai_agent.commands import commands

	[group] = commands
	save_settings(probe_timeout=0.5, check_external=0)
	handed = []
	import raven_ai_agent.config as config

	real = config.diagnose_realtime

	def spy(**kwargs):
		handed.append(kwargs["sid"])
		return real(**kwargs)

	monkeypatch.setattr(config, "diagnose_realtime", spy)
	result = standin.invoke_command(group, ["diagnose", "--json", "--user", SYSTEM_USER], site=SITE)
	assert result.exit_code == 1, (result.output, result.exception)  # nothing listens on the socketio port
	assert len(sessions["started"]) == 1, (result.output, result.exception)
	[(user, sid)] = sessions["started"]
	assert user == SYSTEM_USER and handed == [sid]
	assert sessions["ended"] == [(SYSTEM_USER, sid)]
	assert sid not in result.output

	def broken(**kwargs):
		raise RuntimeError("diagnosis crashed")

	monkeypatch.setattr(config, "diagnose_realtime", broken)
	result = standin.invoke_command(group, ["diagnose", "--user", SYSTEM_USER], site=SITE)
	assert isinstance(result.exception, RuntimeError)
	assert len(sessions["started"]) == 2 and sessions["ended"][1] == sessions["started"][1], (
		"deleted on error"
	)


def test_a_sigterm_during_the_check_still_deletes_the_session(site, sessions):
	"""SIGTERM (a supervisor stopping the command, `timeout`) ends the command through the same
	clean-up; the previous handler is back afterwards."""
	import os
	import signal

	from raven_ai_agent.commands import temporary_session

	before = signal.getsignal(signal.SIGTERM)
	with pytest.raises(SystemExit) as stopped:
		with temporary_session(SYSTEM_USER) as sid:
			os.kill(os.getpid(), signal.SIGTERM)
			pytest.fail("SIGTERM did not stop the check")
	assert stopped.value.code == 128 + signal.SIGTERM
	assert sessions["ended"] == [(SYSTEM_USER, sid)]
	assert signal.getsignal(signal.SIGTERM) is before


def test_bench_diagnose_user_refuses_unknown_users_and_a_sid_besides(site, sessions):
	from raven_ai_agent.commands import commands

	[group] = commands
	result = standin.invoke_command(group, ["diagnose", "--user", "nobody@example.com"], site=SITE)
	assert result.exit_code == 2 and "nobody@example.com" in result.output, result.output
	result = standin.invoke_command(group, ["diagnose", "--user", SYSTEM_USER, "--sid", "x"], site=SITE)
	assert result.exit_code == 2 and "not both" in result.output, result.output
	assert sessions["started"] == [] and sessions["ended"] == []


def test_bench_render_and_audit_commands(site, tmp_path):
	from raven_ai_agent.commands import commands

	[group] = commands
	result = standin.invoke_command(group, ["render", "nginx-vps"], site=SITE)
	assert result.exit_code == 0, result.output
	assert f"{SOCKETIO_PORT}" in result.output and "location ^~ /socket.io/" in result.output
	stale = tmp_path / "nginx.conf"
	stale.write_text(f"location /socket.io/ {{\n\tproxy_pass http://127.0.0.1:{SOCKETIO_PORT + 1};\n}}\n")
	result = standin.invoke_command(group, ["audit-ports", str(stale)], site=SITE)
	assert result.exit_code == 1, result.output
	assert f"{SOCKETIO_PORT + 1}" in result.output
	other = Path(standin.sites_path()) / "second.example.com"
	other.mkdir()
	(other / "site_config.json").write_text('{"host_name": "https://second.example.com"}')
	result = standin.invoke_command(group, ["render-bench", "nginx-vps"], site=SITE)
	assert result.exit_code == 0, result.output
	assert "server_name erp.example.com;" in result.output
	assert "server_name second.example.com;" in result.output and "default_server" in result.output
	overwrite = tmp_path / "origin.conf"
	overwrite.write_text("location /socket.io/ {\n\tproxy_set_header Origin $scheme://$http_host;\n}\n")
	result = standin.invoke_command(group, ["audit-proxy", str(overwrite)], site=SITE)
	assert result.exit_code == 1 and "origin.conf:2" in result.output, result.output


@pytest.mark.parametrize("token", ["", "ABCDEF12", "0123", "0123abcd<script>", "x" * 80])
def test_send_probe_event_refuses_a_bad_token(site, token):
	status, body, exc = standin.call_api(API + "send_probe_event", "POST", user=SYSTEM_MANAGER, token=token)
	assert status == 417 and isinstance(exc, frappe.ValidationError), (status, body)
	assert "8 to 64 lowercase hex digits" in str(exc)
