"""The app on a real Frappe 15.41.0 + Raven 2.6.4 bench: installed by bench, its own tests, its pages."""

import json

import requests

from raven_ai_agent.config import SETTINGS_DOCTYPE

from .desk import Desk, boot


def test_install_app_put_the_app_on_the_site(real_bench):
	apps = real_bench.execute("frappe.get_installed_apps")
	assert apps[:1] == ["frappe"] and "raven" in apps and "raven_ai_agent" in apps
	# after_install saved the settings once, so a never-edited Single reads its defaults.
	assert real_bench.execute(
		"frappe.db.get_single_value", doctype=SETTINGS_DOCTYPE, fieldname="probe_timeout"
	)


def test_bench_run_tests_passes_for_the_app(real_bench):
	"""`bench --site ... run-tests --app raven_ai_agent`, as the app's CI template runs it."""
	result = real_bench.bench(
		real_bench.site, "run-tests", "--app", "raven_ai_agent", check=False, timeout=900
	)
	output = result.stdout + result.stderr
	print(output)
	assert result.returncode == 0, output[-4000:]
	assert "Ran " in output and " 0 tests" not in output


def test_desk_page_boots_with_the_realtime_context(real_bench):
	desk = Desk(real_bench.login(), real_bench.url("/app"))
	context = desk.boot["raven_realtime"]
	assert context["socketio_namespace"] == f"/{real_bench.site}"
	assert context["socketio_path"] == "/socket.io/"
	# A bench-start layout: the page is on the web port, the socket on socketio_port.
	assert context["socketio_base_url"] == f"http://{real_bench.site}:{real_bench.socketio_port}"
	assert context["deployment_type"] == "local"
	assert desk.boot["sitename"] == real_bench.site


def test_raven_page_carries_the_same_context(real_bench):
	session = real_bench.login()
	page = session.get(real_bench.url("/raven"), timeout=60)
	assert page.status_code == 200
	desk = Desk(session, real_bench.url("/app"))
	assert json.dumps(desk.boot["raven_realtime"], sort_keys=True) in _raven_boot_json(page.text)


def _raven_boot_json(html: str) -> str:
	"""Raven's page builds its boot with frappe.sessions.get(): re-serialised to compare."""
	return json.dumps(boot(html)["raven_realtime"], sort_keys=True)


def test_rest_context_is_for_logged_in_users_and_settings_for_system_managers(real_bench):
	method = "/api/method/raven_ai_agent.api.realtime."
	assert requests.get(real_bench.url(method + "get_raven_realtime_context"), timeout=30).status_code == 403
	assert (
		requests.get(real_bench.url(method + "get_site_name"), timeout=30).json()["message"]
		== real_bench.site
	)

	user = real_bench.create_user("desk-user@raven-bench.invalid", roles=("Desk User",))
	context = user.get(real_bench.url(method + "get_raven_realtime_context"), timeout=30)
	assert context.status_code == 200
	assert context.json()["message"]["socketio_namespace"] == f"/{real_bench.site}"
	assert user.get(real_bench.url(method + "get_effective_config"), timeout=30).status_code == 403
	desk = Desk(user, real_bench.url("/app"))
	assert desk.call("raven_ai_agent.api.realtime.run_diagnosis").status_code == 403
	assert (
		user.get(
			real_bench.url(f"/api/resource/{SETTINGS_DOCTYPE}/{SETTINGS_DOCTYPE}"), timeout=30
		).status_code
		== 403
	)

	admin = real_bench.login()
	assert (
		admin.get(real_bench.url(method + "get_effective_config"), timeout=30).json()["message"]["site_name"]
		== real_bench.site
	)
