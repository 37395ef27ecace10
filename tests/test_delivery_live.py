"""Reachable is not delivered: each client URL must hear this site's events.

Two realtime stand-ins on one machine, each subscribed to its own Redis: the site's own (the
module's `stack`) and another bench's (`other`). A client URL pointing at the other one takes the
handshake, the upgrade and the namespace (it calls the session check back at the page's Origin,
this site), and hears nothing this site publishes: only delivery tells them apart.
"""

import json
import shutil

import pytest
from click.testing import CliRunner

from raven_ai_agent.cli import cli
from raven_ai_agent.realtime import engineio, hints, monitoring, probe
from raven_ai_agent.realtime.clients import Client, DevServer, RavenBuild, describe_clients
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.probe import Deadline
from raven_ai_agent.realtime.resolve import resolve
from raven_ai_agent.realtime.session import Listener, PollingClient, SessionError, probe_deliveries
from tests.stack import ADMIN_SID, Stack, free_port
from tests.test_clients_live import raven_built_with

TIMEOUT = 2.0


@pytest.fixture(scope="module")
def other(tmp_path_factory):
	"""Another bench's realtime service on this machine, hearing another Redis."""
	with Stack(tmp_path=tmp_path_factory.mktemp("other")) as s:
		yield s


def run(stack, raven_port: int, **kw) -> dict:
	"""The site served on its web port with DEV_SERVER on (as `bench start`), Raven's build baked
	with `raven_port`."""
	config = resolve(stack.site, {}, stack.common, {"base_url": stack.web_url, "deployment_type": "local"})
	raven = RavenBuild(installed=True, baked_port=raven_port, source="the test's build")
	clients, notes = describe_clients(config, DevServer(True, "DEV_SERVER in the test"), raven)
	return diagnose(config, timeout=TIMEOUT, clients=clients, client_notes=notes, **kw)


def rows(report: dict) -> dict:
	return {row["client"]: row for row in report["clients"]}


def failing(report: dict) -> list[str]:
	return [c["name"] for c in report["checks"] if c["ok"] is False]


def check(report: dict, name: str) -> dict:
	return next(c for c in report["checks"] if c["name"] == name)


def test_healthy_every_client_hears_the_site(stack):
	report = run(stack, stack.socketio_port)
	assert report["ok"], report["hint"]
	for row in rows(report).values():
		assert row["ok"] is True and row["delivered"] is True, row
		assert "this site's event arrived" in row["delivery"]
	assert check(report, "client_delivery")["ok"] is True


def test_raven_on_another_benchs_service_is_reachable_but_not_delivered(stack, other):
	report = run(stack, other.socketio_port)
	raven = rows(report)[Client.RAVEN.value]
	assert raven["url"] == f"http://127.0.0.1:{other.socketio_port}/socket.io/"
	# Reachability alone is a false green: the foreign service takes handshake, upgrade and namespace.
	assert raven["ok"] is True, raven["detail"]
	assert raven["delivered"] is False
	assert raven["delivery"].startswith(hints.FOREIGN_SERVICE)
	assert rows(report)[Client.DESK.value]["delivered"] is True
	assert rows(report)[Client.CONTEXT.value]["delivered"] is True
	assert failing(report) == ["client_delivery"]
	assert report["hint"].startswith(
		f"{Client.RAVEN.value} connects to {raven['url']}: {hints.FOREIGN_SERVICE}"
	)
	assert f"VITE_SOCKET_PORT={stack.socketio_port}" in report["hint"]
	assert "without a port through the proxy" in report["hint"]


def test_with_a_session_the_foreign_url_fails_and_end_to_end_still_passes(stack, other):
	report = run(stack, other.socketio_port, sid=ADMIN_SID)
	assert check(report, "end_to_end")["ok"] is True
	assert failing(report) == ["client_delivery"]
	raven = rows(report)[Client.RAVEN.value]
	assert raven["delivered"] is False and "user:Administrator" in check(report, "client_delivery")["detail"]
	assert ADMIN_SID not in str(report)


def test_desk_sent_to_the_foreign_service_gets_the_desk_fix(stack, other):
	"""DEV_SERVER on and the bench's socketio_port answered by another bench's service."""
	common = {**stack.common, "socketio_port": other.socketio_port}
	config = resolve(stack.site, {}, common, {"base_url": stack.web_url, "deployment_type": "local"})
	clients, notes = describe_clients(config, DevServer(True, "DEV_SERVER in the test"), RavenBuild(False))
	report = diagnose(config, timeout=TIMEOUT, clients=clients, client_notes=notes, site_wide=True)
	desk = rows(report)[Client.DESK.value]
	assert desk["delivered"] is False
	# The resolved URL is the foreign one too: nothing this site publishes arrives anywhere.
	assert "end_to_end" in failing(report)
	assert "another Redis" in report["hint"] or "redis_queue" in report["hint"]


def test_scheduled_check_raises_the_alert_when_ravens_page_hears_nothing(stack, other):
	"""Scheduled checks run site-wide as Guest: the Raven client's silence fails the row."""
	report = run(stack, other.socketio_port, site_wide=True)
	row = monitoring.check_row(report)
	assert row["ok"] == 0 and row["failing_check"] == "client_delivery"
	assert hints.FOREIGN_SERVICE in row["hint"]
	assert check(report, "end_to_end")["ok"] is True  # the site's own route still delivers


def test_healthy_scheduled_check_passes_with_clients(stack):
	report = run(stack, stack.socketio_port, site_wide=True)
	assert monitoring.check_row(report)["ok"] == 1, report["hint"]


def test_raven_channel_room_is_checked_with_doc_subscribe(stack):
	report = run(stack, stack.socketio_port, sid=ADMIN_SID, raven_channel="general")
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is True and "doc:Raven Channel/general" in e2e["detail"]
	assert "doc:Raven Channel/general" in rows(report)[Client.RAVEN.value]["delivery"]


def test_a_user_kept_out_of_their_channel_room_is_named(stack):
	stack.web.add_session("no-channel-sid", "Administrator", "System User", deny=["Raven Channel"])
	report = run(stack, stack.socketio_port, sid="no-channel-sid", raven_channel="general")
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is False, e2e
	assert "none to doc:Raven Channel/general after doc_subscribe" in e2e["detail"]
	assert "can_subscribe_doc answered HTTP 403" in e2e["detail"]
	assert report["hint"].startswith("doc_subscribe is refused")


def test_a_cold_but_healthy_web_server_does_not_fail_the_run(stack):
	"""Every session check takes 400 ms (a cold gunicorn worker): the run still passes."""
	stack.web.add_session("cold-sid", "Administrator", "System User", delay_ms=400)
	report = run(stack, stack.socketio_port, sid="cold-sid")
	assert report["ok"], [(c["name"], c["detail"]) for c in report["checks"] if c["ok"] is False]


def test_a_slow_session_check_is_named_not_blamed_on_redis(stack):
	"""The session check answers after 1.1 s of a 2 s budget: the namespace check gets its
	answer, the delivery socket cannot; the verdict names the web server, not Redis."""
	stack.web.add_session("slow-sid", "Administrator", "System User", delay_ms=1100)
	# The shell knows whose session it is from the site's own store (no web request).
	report = run(stack, stack.socketio_port, sid="slow-sid", user="Administrator", user_type="System User")
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is None, e2e
	assert "not judged" in e2e["detail"] and "session check" in e2e["detail"]
	assert "the web server is slow, which is not a Redis fault" in e2e["detail"]
	assert "end_to_end" not in failing(report) and "client_delivery" not in failing(report)


def test_a_slow_can_subscribe_doc_is_named_not_refused(stack):
	stack.web.add_session("slow-doc-sid", "Administrator", "System User", subscribe_delay_ms=5000)
	report = run(stack, stack.socketio_port, sid="slow-doc-sid")
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is None, e2e
	assert "slow to answer" in e2e["detail"] and "not refusing" in e2e["detail"]


def test_cli_shows_delivery_per_client(stack, other, tmp_path):
	root = tmp_path / "bench"
	shutil.copytree(stack.bench / "sites", root / "sites")
	raven_built_with(root, other.socketio_port)
	args = ["diagnose", "--bench", str(root), "--site", stack.site, "--base-url", stack.web_url]
	args += ["--deployment-type", "local", "--timeout", "2", "--dev-server"]
	result = CliRunner().invoke(cli, args, catch_exceptions=False)
	assert result.exit_code == 1, result.output
	lines = {line.strip().split(":")[0]: line for line in result.output.splitlines() if line.startswith("  ")}
	raven, desk = lines[Client.RAVEN.value], lines[Client.DESK.value]
	assert "connects ✔" in raven and "delivered ✘" in raven and hints.FOREIGN_SERVICE in raven
	assert "connects ✔" in desk and "delivered ✔" in desk


def test_an_operator_added_url_on_another_bench_fails_with_the_generic_fix(stack, other, tmp_path):
	root = tmp_path / "bench"
	shutil.copytree(stack.bench / "sites", root / "sites")
	foreign = f"http://127.0.0.1:{other.socketio_port}/socket.io/"
	args = ["diagnose", "--bench", str(root), "--site", stack.site, "--base-url", stack.web_url]
	args += ["--deployment-type", "local", "--timeout", "2", "--dev-server", "--json"]
	args += ["--client-url", foreign, "--client-url", f"{stack.realtime_url}/socket.io/"]
	result = CliRunner().invoke(cli, args, catch_exceptions=False)
	report = json.loads(result.output)
	added = [r for r in report["clients"] if r["client"] == Client.OPERATOR.value]
	assert [r["url"] for r in added] == [foreign, f"{stack.realtime_url}/socket.io/"]
	assert added[0]["ok"] is True and added[0]["delivered"] is False
	assert added[1]["delivered"] is True
	assert report["hint"].startswith(
		f"{Client.OPERATOR.value} connects to {foreign}: {hints.FOREIGN_SERVICE}"
	)
	assert "give the service behind it this site's redis_queue" in report["hint"]


def test_a_bad_client_url_option_is_a_usage_error(stack):
	result = CliRunner().invoke(cli, ["diagnose", "--client-url", "ftp://x.test"])
	assert result.exit_code == 2 and "--client-url" in result.output and "http(s)://host" in result.output


def _connected(stack, sid: str, deadline) -> PollingClient:
	client = PollingClient(probe.Http(deadline, 3), stack.realtime_url, "/socket.io/", _headers(stack, sid))
	client.open()
	assert client.connect(f"/{stack.site}").ok
	return client


def _headers(stack, sid: str) -> dict:
	return {"Origin": stack.web_url, "Cookie": f"sid={sid}"}


@pytest.mark.parametrize("last_one_leaves", [False, True])
def test_a_socket_authenticated_while_the_last_one_leaves_never_hears(last_one_leaves):
	"""Why the delivery sockets wait for the other probes' sockets to close. Frappe's realtime
	service (socket.io with cleanupEmptyChildNamespaces) drops the site's namespace when its last
	socket leaves; a socket whose session check is still running then lands in the dropped one and
	hears nothing, ever, although it connected. Seen by a browser as "the socket connects, messages
	appear only after a refresh"."""
	with Stack() as stack:
		stack.web.add_session("slow-sid", "Administrator", "System User", delay_ms=500)
		deadline = Deadline(5)
		first = _connected(stack, ADMIN_SID, deadline)
		second = PollingClient(
			probe.Http(deadline, 3), stack.realtime_url, "/socket.io/", _headers(stack, "slow-sid")
		)
		second.open()
		second.send([engineio.encode_connect(f"/{stack.site}")], "connect")  # its session check takes 500 ms
		if last_one_leaves:
			first.close()  # the namespace's only socket leaves while the second one is authenticated
		reply = engineio.connect_result(
			second.poll("connect reply"), f"/{stack.site}", engineio.ConnectResult()
		)
		assert reply.ok, "it connects either way"
		assert stack.publish("raven_ai_agent_probe", {"token": "t"}, "website") == 1
		second.http = probe.Http(Deadline(1), 1)  # a deaf socket's poll ends after 1 s
		try:
			events = second.poll_events(f"/{stack.site}", "raven_ai_agent_probe")
		except SessionError as e:
			assert e.kind == probe.TIMEOUT
			events = []
		assert bool(events) is not last_one_leaves


def test_one_publish_many_listeners():
	"""Two client URLs on this site's Redis (two realtime nodes): the probe event is published once
	and heard on both paths at the same time."""
	with Stack() as stack:
		node = stack.add_realtime_node()
		published = []

		def publish(event, message, room):
			published.append(room)
			return stack.publish(event, message, room=room) > 0

		config = resolve(
			stack.site, {}, stack.common, {"base_url": stack.web_url, "deployment_type": "local"}
		)
		extra = ((node.url, "/socket.io/"),)
		clients, notes = describe_clients(config, DevServer(True, "test"), RavenBuild(False), extra)
		report = diagnose(config, timeout=TIMEOUT, clients=clients, client_notes=notes, publish=publish)
	delivered = {row["url"]: row["delivered"] for row in report["clients"] if row["url"]}
	assert delivered == {f"{stack.realtime_url}/socket.io/": True, f"{node.url}/socket.io/": True}
	assert published == ["website"]


def test_a_deaf_listener_is_published_to_with_backing_off_rounds(stack, other):
	published = []

	def publish(event, message, room):
		published.append(room)
		return stack.publish(event, message, room=room) > 0

	config = resolve(stack.site, {}, stack.common, {"base_url": stack.web_url, "deployment_type": "local"})
	raven = RavenBuild(installed=True, baked_port=other.socketio_port, source="test")
	clients, notes = describe_clients(config, DevServer(True, "test"), raven)
	report = diagnose(config, timeout=TIMEOUT, clients=clients, client_notes=notes, publish=publish)
	assert failing(report) == ["client_delivery"]
	# 50, 100, 200, 400, 800 ms between rounds: a handful in 2 s, not one every poll.
	assert set(published) == {"website"} and 2 <= len(published) <= 6, published


def test_a_cold_web_server_with_several_client_urls_still_passes_in_the_default_budget():
	"""Each session check takes 700 ms: the probes wait for it side by side, not one after another,
	so three paths and a session still pass within the default 3 s."""
	with Stack() as stack:
		node = stack.add_realtime_node()
		stack.web.add_session("cold-sid", "Administrator", "System User", delay_ms=700)
		config = resolve(
			stack.site, {}, stack.common, {"base_url": stack.web_url, "deployment_type": "local"}
		)
		raven = RavenBuild(installed=True, baked_port=node.port, source="test")
		clients, notes = describe_clients(config, DevServer(True, "test"), raven)
		report = diagnose(
			config,
			timeout=3.0,
			clients=clients,
			client_notes=notes,
			sid="cold-sid",
			user="Administrator",
			user_type="System User",
		)
	assert report["ok"], [(c["name"], c["detail"]) for c in report["checks"] if c["ok"] is not True]
	assert {row["delivered"] for row in report["clients"]} == {True}


def _listener(url: str, stack, deadline) -> Listener:
	return Listener(
		probe.Http(deadline, 2), url, "/socket.io/", f"/{stack.site}", _headers(stack, ADMIN_SID), ["website"]
	)


def test_a_listener_that_cannot_connect_does_not_hold_the_others(stack):
	deadline = Deadline(2)
	refused = f"http://127.0.0.1:{free_port()}"
	published = []

	def publish(room):
		published.append(room)
		return stack.publish("raven_ai_agent_probe", {"token": "tok", "room": room}, room) > 0

	good, bad = probe_deliveries(
		[_listener(stack.realtime_url, stack, deadline), _listener(refused, stack, deadline)],
		"raven_ai_agent_probe",
		"tok",
		publish,
		deadline=deadline,
	)
	assert "website" in good.received and deadline.remaining() > 1.5, "heard at once"
	assert bad.failure is not None and bad.failure.step == "handshake" and not bad.received
	assert published == ["website"]


def test_a_publish_that_raises_is_told_to_every_listener(stack):
	deadline = Deadline(2)

	def publish(room):
		raise RuntimeError("publish_realtime broke")

	outcomes = probe_deliveries(
		[_listener(stack.realtime_url, stack, deadline), _listener(stack.realtime_url, stack, deadline)],
		"raven_ai_agent_probe",
		"tok",
		publish,
		deadline=deadline,
	)
	for outcome in outcomes:
		assert outcome.published is False and isinstance(outcome.publish_error, RuntimeError)
	assert deadline.remaining() > 1.5, "no waiting for events that were never sent"


def test_a_resolved_route_to_another_benchs_service_is_named_by_end_to_end(stack, other):
	"""socketio_port names the other bench's service; a client on this site's own service hears
	the events: end_to_end says the resolved route's service is not this site's, not Redis."""
	common = {**stack.common, "socketio_port": other.socketio_port}
	config = resolve(stack.site, {}, common, {"base_url": stack.web_url, "deployment_type": "local"})
	own = (stack.realtime_url, "/socket.io/")
	clients, notes = describe_clients(config, DevServer(True, "test"), RavenBuild(False), (own,))
	report = diagnose(config, timeout=TIMEOUT, clients=clients, client_notes=notes, site_wide=True)
	e2e = check(report, "end_to_end")
	assert e2e["ok"] is False and e2e["detail"].startswith(hints.FOREIGN_SERVICE), e2e
	assert f"{stack.realtime_url}/socket.io/" in e2e["detail"]
	assert report["hint"].startswith(f"{Client.CONTEXT.value} (the resolved config) connects to")
	assert rows(report)[Client.OPERATOR.value]["delivered"] is True
