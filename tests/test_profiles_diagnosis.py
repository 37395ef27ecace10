"""The diagnosis, publishing and the rendered proxy against every Frappe release profile of the
stand-ins (tests/stack/realtime/server.js PROFILES), and whose session a sid is on each."""

import json

import frappe
import pytest
from click.testing import CliRunner
from frappe import standin

from raven_ai_agent.api.channel_utils import publish_message_created_event
from raven_ai_agent.cli import cli
from raven_ai_agent.config import diagnose_realtime
from raven_ai_agent.realtime.constants import MESSAGE_CREATED
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.render import render
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import ADMIN_SID, Nginx, free_port
from tests.stack.listener import CHANNEL, RAVEN_CREATED, ChannelListener, subscribed

USER_INFO = "/api/method/frappe.realtime.get_user_info"


def checks(report: dict) -> dict:
	return {c["name"]: c for c in report["checks"]}


def app_user_info_calls(stack) -> list[dict]:
	"""get_user_info calls this app made with --no-external (it adds the site header a proxy would;
	the realtime service's own calls never carry one)."""
	return [r for r in stack.web.requests(USER_INFO) if r["site"] is not None]


def test_cli_end_to_end_with_only_a_sid(profiled_stack):
	"""`RAVEN_REALTIME_SID=... raven-realtime diagnose` learns whose session it is on every release
	from get_user_info, with the sid cookie alone, as the realtime service asks."""
	stack = profiled_stack
	args = ["diagnose", "--bench", str(stack.bench), "--site", stack.site, "--base-url", stack.web_url]
	args += ["--deployment-type", "local", "--timeout", "3", "--json", "--no-external"]
	result = CliRunner().invoke(cli, args, env={"RAVEN_REALTIME_SID": ADMIN_SID}, catch_exceptions=False)
	report = json.loads(result.output)
	assert result.exit_code == 0, checks(report)
	assert (
		checks(report)["end_to_end"]["ok"] is True
		and "user:Administrator" in checks(report)["end_to_end"]["detail"]
	)
	calls = app_user_info_calls(stack)
	assert calls and all(c["cookie"] == f"sid={ADMIN_SID}" for c in calls)


def test_inside_frappe_the_session_store_says_whose_session_it_is(profiled_stack, tmp_path):
	"""The Frappe shell reads the site's own session store: end_to_end never depends on
	get_user_info's answer (the namespace check still asks)."""
	stack = profiled_stack
	standin.reset(
		site=stack.site,
		sites_path=str(tmp_path / "sites"),
		apps=("raven_ai_agent",),
		site_config={"host_name": stack.web_url},
		common_site_config=dict(stack.common),
	)
	try:
		standin.create_session(ADMIN_SID, "Administrator")
		before = len(app_user_info_calls(stack))
		report = diagnose_realtime(timeout=3, sid=ADMIN_SID, external=False)
		e2e = checks(report)["end_to_end"]
		assert e2e["ok"] is True and "user:Administrator" in e2e["detail"], e2e
		assert "doc:User/Administrator" in e2e["detail"]  # the System User's doc room: user_type known
		assert checks(report)["namespace"]["ok"] is True
		calls = app_user_info_calls(stack)[before:]
		assert len(calls) == 1  # the namespace check's; end_to_end asked the session store
	finally:
		frappe.destroy()


def test_publish_message_created_reaches_a_raven_client(profiled_stack, tmp_path):
	"""Raven's payload, published through the Frappe stand-in, reaches a socket.io client
	subscribed as Raven's frontend is, behind bench's nginx."""
	stack = profiled_stack
	front = stack.front("healthy")
	with ChannelListener(front.url, stack.site, CHANNEL) as listener:
		subscribed(stack, listener)
		standin.reset(stack.site, str(tmp_path / "sites"), site_config={"redis_queue": stack.redis.url})
		try:
			doc = frappe._dict(RAVEN_CREATED["message_details"])
			assert publish_message_created_event(doc, CHANNEL, after_commit=False) is True
		finally:
			frappe.destroy()
		received = listener.next(lambda m: m.get("event") == MESSAGE_CREATED)
		assert received["args"] == [RAVEN_CREATED]


@pytest.mark.parametrize("target", ["nginx-vps", "nginx-sandbox"])
def test_the_rendered_nginx_in_front_is_green(profiled_stack, target):
	stack = profiled_stack
	port = free_port()
	deployment = {"nginx-vps": "vps_prod", "nginx-sandbox": "sandbox"}[target]
	settings = {"deployment_type": deployment, "base_url": f"http://127.0.0.1:{port}"}
	config = resolve(stack.site, {}, stack.common, settings)
	body = render(target, config, upstream_host="127.0.0.1", listen=f"127.0.0.1:{port}")
	with Nginx(body):
		report = diagnose(config, timeout=3, sid=ADMIN_SID)
	failing = {c["name"]: c["detail"] for c in report["checks"] if c["ok"] is False}
	assert report["ok"], failing
	assert checks(report)["end_to_end"]["ok"] is True


# ---- hints true per release (issue #17 point 3) ------------------------------------------------

MISSING = {
	"v15.41": "No cookie transmitted.",
	"v15": "No cookie transmitted.",
	"v16": "Missing cookie and authorization header. Either one needed for authentication.",
}


def _config_behind(stack, front_url: str, **common):
	settings = {"deployment_type": "vps_prod", "base_url": front_url}
	return resolve(stack.site, {}, {**stack.common, **common}, settings)


def test_a_proxy_that_drops_the_cookie_is_named_with_the_release_s_own_text(profiled_stack):
	stack = profiled_stack
	with Nginx(stack.front_conf("strip_cookie")) as front:
		report = diagnose(_config_behind(stack, front.url), timeout=3, sid=ADMIN_SID)
		namespace = checks(report)["namespace"]
		assert namespace["ok"] is False and MISSING[stack.profile] in namespace["detail"]
		assert MISSING[stack.profile] in report["hint"] and "drops the Cookie header" in report["hint"]
		assert "Authorization header" in report["hint"]  # token clients: what each release needs
		# Without a session it is only untested, on every release.
		quiet = checks(diagnose(_config_behind(stack, front.url), timeout=3))["namespace"]
		assert quiet["ok"] is True and "authentication not tested" in quiet["detail"]


@pytest.mark.parametrize(
	("common", "said", "unsaid"),
	[
		({}, ("the browser's Origin", "hairpin NAT"), ("server_ip",)),
		({"server_ip": "10.9.9.9"}, ("no longer read", "the browser's Origin"), ("http://10.9.9.9",)),
		({"developer_mode": 1}, ("v16 / develop", "<origin host>:<webserver_port>", "On 15.41 and v15"), ()),
		({"webserver_host": "10.9.9.9"}, ("develop", "http://10.9.9.9:", "ignore the key"), ()),
	],
)
def test_a_failing_session_check_gets_the_fix_of_where_each_release_sends_it(
	profiled_stack, common, said, unsaid
):
	"""The Origin names a closed port: the realtime service's check fails ('Unauthorized: ...' in
	each release's words: superagent's ECONNREFUSED on 15.41, fetch's 'fetch failed' later)."""
	stack = profiled_stack
	dead = f"http://127.0.0.1:{free_port()}"
	report = diagnose(_config_behind(stack, dead, **common), timeout=3, external=False)
	namespace = checks(report)["namespace"]
	assert namespace["ok"] is False and "Unauthorized" in namespace["detail"]
	words = "fetch failed" if stack.profile != "v15.41" else "ECONNREFUSED"
	assert words in namespace["detail"]
	for word in said:
		assert word in report["hint"], (word, report["hint"])
	for word in unsaid:
		assert word not in report["hint"], (word, report["hint"])
