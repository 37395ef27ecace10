"""The realtime service's internal address (setting, environment, command line) and the facts
that say the diagnosis runs in a container: pure core, no services."""

import pytest

from raven_ai_agent.realtime.containers import (
	DOCKER,
	KUBERNETES,
	PODMAN,
	classify,
	frappe_docker_evidence,
	observe,
)
from raven_ai_agent.realtime.resolve import Source, resolve
from raven_ai_agent.realtime.validate import check_realtime_address

COMMON = {"socketio_port": 9000}
ENV = "RAVEN_REALTIME_INTERNAL_URL"


@pytest.mark.parametrize(
	"typed, url",
	[
		("websocket:9000", "http://websocket:9000"),
		(" http://10.0.0.5:9000/ ", "http://10.0.0.5:9000"),
		("[::1]:9001", "http://[::1]:9001"),
		(
			"/home/frappe/frappe-bench/config/socketio.sock",
			"http+unix://%2Fhome%2Ffrappe%2Ffrappe-bench%2Fconfig%2Fsocketio.sock",
		),
		("unix:/run/socketio.sock", "http+unix://%2Frun%2Fsocketio.sock"),
	],
)
def test_address_forms(typed, url):
	assert check_realtime_address(typed) == url


@pytest.mark.parametrize(
	"typed",
	[
		"websocket",
		"https://websocket:9000",
		"websocket:9000/socket.io/",
		"a b:9000",
		"",
		9000,
		"rel/path.sock",
	],
)
def test_bad_addresses_say_what_is_allowed(typed):
	with pytest.raises(ValueError, match="host:port .* Unix socket path"):
		check_realtime_address(typed)


def test_default_is_this_host():
	config = resolve("erp.test", {}, COMMON)
	assert config.get_internal_socketio_url() == "http://127.0.0.1:9000"
	assert config.realtime_address is None
	assert config.sources["realtime_address"] is Source.DEFAULT


def test_each_place_with_its_source():
	setting = resolve("erp.test", {}, COMMON, {"realtime_address": "websocket:9000"})
	assert (setting.get_internal_socketio_url(), setting.sources["realtime_address"]) == (
		"http://websocket:9000",
		Source.SETTINGS,
	)
	env = resolve("erp.test", {}, COMMON, environment={ENV: "websocket:9000"})
	assert env.sources["realtime_address"] is Source.ENVIRONMENT
	cli = resolve("erp.test", {}, COMMON, {"realtime_address": "ws:9000"}, Source.COMMAND_LINE, {ENV: "x:1"})
	assert cli.get_internal_socketio_url() == "http://ws:9000"
	assert cli.sources["realtime_address"] is Source.COMMAND_LINE
	assert any("wins" in w for w in cli.warnings)
	assert cli.as_dict()["internal_socketio_url"] == "http://ws:9000"


def test_environment_wins_over_the_setting_and_says_so():
	config = resolve(
		"erp.test", {}, COMMON, {"realtime_address": "old:9000"}, environment={ENV: "websocket:9000"}
	)
	assert config.get_internal_socketio_url() == "http://websocket:9000"
	(warning,) = config.warnings
	assert "Raven Realtime Settings names the realtime service at http://old:9000" in warning


def test_the_same_address_twice_is_no_warning():
	config = resolve(
		"erp.test", {}, COMMON, {"realtime_address": "websocket:9000"}, environment={ENV: "websocket:9000"}
	)
	assert config.warnings == ()


def test_a_bad_address_is_a_warning_naming_where_it_was_given():
	config = resolve("erp.test", {}, COMMON, environment={ENV: "websocket"})
	assert config.get_internal_socketio_url() == "http://127.0.0.1:9000"
	(warning,) = config.warnings
	assert warning.startswith(f"environment {ENV}: 'websocket' is not a realtime address")


def test_the_address_wins_over_socketio_uds():
	config = resolve(
		"erp.test", {}, {**COMMON, "socketio_uds": "/run/s.sock"}, {"realtime_address": "ws:9000"}
	)
	assert config.get_internal_socketio_url() == "http://ws:9000"


def test_environment_is_part_of_the_memo_key():
	a = resolve("erp.test", {}, COMMON, environment={ENV: "a:1"})
	b = resolve("erp.test", {}, COMMON, environment={ENV: "b:1"})
	assert a.get_internal_socketio_url() != b.get_internal_socketio_url()


@pytest.mark.parametrize(
	"facts, kind",
	[
		({"environ": {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}}, KUBERNETES),
		({"cgroup": "0::/kubepods/burstable/pod1/abc"}, KUBERNETES),
		({"cgroup": "12:pids:/docker/0123abcd"}, DOCKER),
		({"cgroup": "0::/machine.slice/libpod-0123.scope"}, PODMAN),
		({"containerenv": True}, PODMAN),
		({"dockerenv": True}, DOCKER),
		({"cgroup": "0::/user.slice/user-1000.slice"}, None),
		({}, None),
	],
)
def test_runtime_from_facts(facts, kind):
	runtime = classify(**facts)
	assert (runtime.kind if runtime else None) == kind


def test_observe_reads_a_root(tmp_path):
	assert observe(str(tmp_path), environ={}) is None
	(tmp_path / ".dockerenv").touch()
	runtime = observe(str(tmp_path), environ={})
	assert runtime.kind == DOCKER and "/.dockerenv exists" in runtime.describe()


def test_frappe_docker_evidence_comes_from_the_config():
	assert "redis-queue" in frappe_docker_evidence("redis://redis-queue:6379", None)
	assert "websocket" in frappe_docker_evidence(None, "http://websocket:9000")
	assert frappe_docker_evidence("redis://127.0.0.1:11000", "http://10.0.0.5:9000") is None
	assert frappe_docker_evidence("redis://[bad", None) is None


def test_refused_in_a_container_keeps_the_start_hint_and_says_where_it_runs():
	from raven_ai_agent.realtime.containers import Runtime
	from raven_ai_agent.realtime.diagnose import diagnose
	from tests.stack.procs import free_port

	config = resolve("erp.test", {}, {"socketio_port": free_port()})
	report = diagnose(config, external=False, timeout=2, runtime=Runtime(DOCKER, "/.dockerenv exists"))
	local = next(c for c in report["checks"] if c["name"] == "local_handshake")
	assert local["ok"] is False
	assert local["hint"].startswith("Start the realtime service")
	assert "This diagnosis runs in a docker container (/.dockerenv exists)" in local["hint"]
	assert "websocket:9000" in local["hint"]
	assert report["runtime"].startswith("This diagnosis runs in a docker container")


def test_callback_hint_for_a_localhost_site_says_why_containers_differ():
	from raven_ai_agent.realtime.hints import docker

	hint = docker.callback_hint(
		resolve("erp.localhost", {"host_name": "http://erp.localhost:8080"}, COMMON), "fetch failed"
	)
	assert '`extra_hosts: ["erp.localhost:host-gateway"]`' in hint
	assert "Browsers resolve erp.localhost to their own machine (*.localhost); a container does not." in hint
	plain = docker.callback_hint(
		resolve("erp.test", {"host_name": "http://erp.test"}, COMMON), "fetch failed"
	)
	assert "*.localhost" not in plain
