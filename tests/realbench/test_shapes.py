"""Shapes users deploy, on the real processes. The session's own layout is `bench start`'s (the
web process with DEV_SERVER=1, the page on :8000, the socket on :9000: the other tests); here,
a single host as supervisor runs it (gunicorn without DEV_SERVER) behind the nginx this app
renders (`render nginx-vps`), the page served without a port."""

import json

from tests.stack.services import Nginx

from .desk import Desk
from .report import checks

FRONT = "127.0.0.1:80"  # free in the suite's own network namespace


def test_supervisor_layout_behind_the_rendered_nginx_vps_is_green_for_every_client(real_bench, tmp_path):
	with real_bench.changes():
		real_bench.start_web(dev_server=False)
		real_bench.set_host_name(f"http://{real_bench.site}")
		rendered = real_bench.bench(
			real_bench.site,
			"raven-realtime",
			"render",
			"nginx-vps",
			"--upstream-host",
			"127.0.0.1",
			"--listen",
			FRONT,
			"--access-log",
			str(tmp_path / "access.log"),
		).stdout
		with Nginx(rendered):
			desk = Desk(
				real_bench.login(site=None, base=f"http://{real_bench.site}"), f"http://{real_bench.site}/app"
			)
			assert desk.boot["raven_realtime"]["socketio_base_url"] == f"http://{real_bench.site}"
			response = desk.call(
				"raven_ai_agent.api.realtime.run_diagnosis",
				boot_context=json.dumps(desk.boot["raven_realtime"]),
			)
			report = response.json()["message"]
	access = (tmp_path / "access.log").read_text()
	assert report["ok"] is True, json.dumps(report, indent=1)[-4000:]
	by_name = checks(report)
	assert by_name["end_to_end"]["ok"] is True
	assert by_name["client_paths"]["ok"] is True
	# Every client went through the proxy: the session check too, with the sid kept out of its log.
	assert "/socket.io/" in access and desk.session.cookies["sid"] not in access
