"""dev_server as the running web process renders it on /login, read by `diagnose`."""

import re

import pytest
import requests

from raven_ai_agent.realtime.probe import Deadline, Http
from raven_ai_agent.realtime.resolve import resolve
from raven_ai_agent.realtime.webpage import _DEV_SERVER_RE, live_dev_server, local_web, read_dev_server
from tests.hostile import WELCOME_PAGE
from tests.recorded import LOGIN_HEAD, WIRE
from tests.stack import Stack, WebStandin, free_port


def http() -> Http:
	return Http(Deadline(2), 2)


@pytest.mark.parametrize("dev_server", [True, False, None])
def test_the_page_says_what_the_web_process_was_started_with(dev_server):
	with WebStandin(dev_server=dev_server) as web:
		found, why = read_dev_server(http(), f"http://127.0.0.1:{web.port}", {})
	assert why == "" and found is not None
	assert found.on is bool(dev_server)
	assert found.source.startswith(f"window.dev_server = {int(bool(dev_server))} on http://127.0.0.1:")
	assert found.source.endswith("/login: the running web process")


def test_the_recorded_frappe_page_is_read_as_the_bench_ran():
	"""The head of the page Frappe 15.41's web server answered, recorded on a bench without DEV_SERVER."""
	found = _DEV_SERVER_RE.search(WIRE["web_answers_socketio_path"]["body"])
	assert found is not None and found.group(1) == "0"


@pytest.mark.parametrize(("name", "on"), [("DEV_SERVER unset", False), ("DEV_SERVER=1", True)])
def test_the_stand_in_renders_the_head_frappe_renders(name, on):
	"""The recorded /login head of a real 15.41 web process, and the stand-in's, read alike."""
	recorded = LOGIN_HEAD[name]
	assert _DEV_SERVER_RE.search(recorded).group(1) == str(int(on))
	port = free_port()
	with WebStandin(dev_server=on, socketio_port=port) as web:
		page = requests.get(f"{web.url}/login", timeout=5)
	assert page.status_code == 200
	expected = re.sub(r"socketio_port = \d+;", f"socketio_port = {port};", recorded)
	assert expected in page.text


def test_a_page_that_is_not_frappe_is_said_not_guessed(nginx_factory):
	port = free_port()
	page = f"location / {{ default_type text/html; return 200 '{WELCOME_PAGE}'; }}"
	nginx_factory(f"server {{\n\tlisten 127.0.0.1:{port};\n\t{page}\n}}\n")
	found, why = read_dev_server(http(), f"http://127.0.0.1:{port}", {})
	assert found is None and why.endswith("has no window.dev_server (not a Frappe page)")


def test_nothing_listening_is_said_with_the_address():
	port = free_port()
	found, why = read_dev_server(http(), f"http://127.0.0.1:{port}", {})
	assert found is None and f"127.0.0.1:{port}" in why and "refused" in why.lower()


def test_the_web_port_is_asked_first_with_the_site_header(tmp_path):
	with Stack(tmp_path=tmp_path, web_pinned=False, web_dev_server=True) as stack:
		config = resolve(
			stack.site, {}, stack.common, {"deployment_type": "local", "base_url": stack.web_url}
		)
		found, why = live_dev_server(config, 2)
		assert found is not None and found.on and why == ""
		assert local_web(config)[0] in found.source
		# Unpinned (as gunicorn), the web server answered as the site the header named.
		assert [r["site"] for r in stack.web.requests("/login")] == [stack.site]


def test_a_site_that_cannot_be_asked_says_every_route_it_tried():
	closed_web, closed_public = free_port(), free_port()
	config = resolve(
		"site.test",
		{},
		{"webserver_port": closed_web},
		{"deployment_type": "local", "base_url": f"http://127.0.0.1:{closed_public}"},
	)
	found, why = live_dev_server(config, 1)
	assert found is None
	assert f"127.0.0.1:{closed_web}" in why and f"127.0.0.1:{closed_public}" in why
	found, why = live_dev_server(config, 1, external=False)
	assert found is None and f"127.0.0.1:{closed_public}" not in why
