"""Each check as a unit: called on its own with a Run, against the real stack.

diagnose() (test_diagnose.py) tests them together, one failure class each; here every check
is shown to stand alone, so adding one means a module in checks/ and a test here.
"""

import threading

import pytest

from raven_ai_agent.realtime.checks import (
	END_TO_END,
	LOCAL_HANDSHAKE,
	NAMESPACE,
	REDIS_BRIDGE,
	STICKY_SESSION,
	Run,
)
from raven_ai_agent.realtime.checks.boot import check_boot_context
from raven_ai_agent.realtime.checks.config import check_config
from raven_ai_agent.realtime.checks.delivery import check_delivery, check_redis
from raven_ai_agent.realtime.checks.handshakes import check_external, check_local, check_websocket
from raven_ai_agent.realtime.checks.session import check_session
from raven_ai_agent.realtime.probe import Deadline
from raven_ai_agent.realtime.resolve import resolve
from raven_ai_agent.realtime.schedule import Schedule
from tests.stack import ADMIN_SID, free_port


def make_run(
	config,
	*,
	sid=None,
	user=None,
	publish=None,
	external=True,
	audit_paths=(),
	timeout=3.0,
	handed_context=None,
) -> Run:
	return Run(
		config=config,
		timeout=timeout,
		schedule=Schedule(Deadline(timeout), 0.3),
		external=external,
		sid=sid,
		user=user,
		publish=publish,
		audit_paths=audit_paths,
		config_warnings=tuple(config.warnings),
		handed_context=handed_context,
	)


def local_config(stack, **common):
	return resolve(
		stack.site, {}, {**stack.common, **common}, {"base_url": stack.web_url, "deployment_type": "local"}
	)


def test_config_check_names_a_port_shared_with_the_web_server(stack):
	config = local_config(stack, socketio_port=stack.common["webserver_port"])
	[check] = check_config(make_run(config))
	assert check.ok is False and "cannot share a port" in check.detail


def test_config_check_reports_a_stale_port_in_a_given_file(stack, tmp_path):
	stale = tmp_path / "nginx.conf"
	stale.write_text(
		f"location /socket.io/ {{\n\tproxy_pass http://127.0.0.1:{stack.socketio_port + 1};\n}}\n"
	)
	[check] = check_config(make_run(local_config(stack), audit_paths=[str(stale)]))
	assert check.ok is False and f"{stack.socketio_port + 1}" in check.detail


@pytest.mark.parametrize("check_fn", [check_local, check_external])
def test_handshake_checks_pass_on_the_realtime_port(stack, check_fn):
	[check] = check_fn(make_run(local_config(stack)))
	assert check.ok is True and "Engine.IO open packet" in check.detail


def test_local_handshake_on_a_closed_port_says_start_the_service(stack):
	config = local_config(stack, socketio_port=free_port())
	[check] = check_local(make_run(config))
	assert check.name == LOCAL_HANDSHAKE and check.ok is False
	assert check.hint.startswith("Start the realtime service")


def test_external_check_is_skipped_when_external_is_off(stack):
	[check] = check_external(make_run(local_config(stack), external=False))
	assert check.ok is None and "external checks are off" in check.detail


def test_websocket_check_upgrades(stack):
	[check] = check_websocket(make_run(local_config(stack)))
	assert check.ok is True and "101 Switching Protocols" in check.detail


def test_session_check_gives_namespace_and_stickiness(stack):
	namespace, sticky = check_session(make_run(local_config(stack), sid=ADMIN_SID))
	assert (namespace.name, sticky.name) == (NAMESPACE, STICKY_SESSION)
	assert (
		namespace.ok is True
		and "as Administrator (the session check answers Administrator)" in namespace.detail
	)
	assert sticky.ok is True


def test_redis_check_counts_the_realtime_subscriber(stack):
	[check] = check_redis(make_run(local_config(stack)))
	assert check.name == REDIS_BRIDGE and check.ok is True and "1 realtime subscriber" in check.detail


def test_end_to_end_check_delivers_with_the_diagnosis_own_publish(stack):
	[check, _clients] = check_delivery(make_run(local_config(stack), sid=ADMIN_SID))
	assert check.name == END_TO_END and check.ok is True and "user:Administrator" in check.detail


def test_end_to_end_check_publishes_through_the_given_function_on_this_thread(stack):
	threads = []

	def publish(event, message, room):
		threads.append(threading.current_thread())
		return stack.publish(event, message, room=room) > 0

	[check, _clients] = check_delivery(
		make_run(local_config(stack), sid=ADMIN_SID, user="Administrator", publish=publish)
	)
	assert check.ok is True and set(threads) == {threading.current_thread()}


def test_end_to_end_check_is_skipped_without_a_session(stack):
	[check, _clients] = check_delivery(make_run(local_config(stack)))
	assert check.ok is None and "needs a logged-in session" in check.detail


def test_boot_context_is_skipped_when_no_page_sent_one(stack):
	[check] = check_boot_context(make_run(local_config(stack)))
	assert check.ok is None and "no page's context" in check.detail


def test_boot_context_passes_when_the_page_has_what_the_site_resolves(stack):
	config = local_config(stack)
	[check] = check_boot_context(make_run(config, handed_context=config.get_frontend_context()))
	assert check.ok is True


def test_a_page_loaded_before_a_change_is_told_to_reload(stack):
	config = local_config(stack)
	old = {**config.get_frontend_context(), "socketio_base_url": "http://realtime.test:9001"}
	[check] = check_boot_context(make_run(config, handed_context=old))
	assert check.ok is False and "socketio_base_url: 'http://realtime.test:9001' ->" in check.detail
	assert check.hint.startswith("This page was loaded before the realtime config changed: reload it")
	assert f"bench --site {stack.site} clear-cache" in check.hint


def test_a_page_without_a_context_is_named(stack):
	[check] = check_boot_context(make_run(local_config(stack), handed_context=False))
	assert check.ok is False and "no realtime context" in check.detail and "Error Log" in check.hint


def test_end_to_end_tells_a_socket_taken_for_guest_by_the_rooms_it_hears(stack):
	"""Events to the site-wide room arrive, to the user's room never: the socket is Guest's."""

	def publish(event, message, room):
		return stack.publish(event, message, room=room) > 0 if room == "website" else True

	[check, _clients] = check_delivery(
		make_run(local_config(stack), sid=ADMIN_SID, user="Administrator", publish=publish, timeout=1.0)
	)
	assert check.ok is False and "to user:Administrator never" in check.detail
	assert "took Administrator's socket for Guest" in check.hint
