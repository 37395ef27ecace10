"""Issue 23's scenario on the real bench: reachable is not delivered.

The site is opened on a URL with a port; the bench's realtime service listens on socketio_port
9100, and Raven's web app, built with the SDK's default, opens :9000, where another Frappe
realtime service listens (started from the same bench with node_utils.js's overrides, subscribed
to another Redis: another bench's, to the page). That service answers the handshake, the upgrade
and the namespace (its session check calls this site back), so only delivery tells them apart.
"""

import json

from tests.stack.services import RedisServer

from .desk import Desk
from .report import checks
from .test_browser_desk import SCREENSHOTS, drive

OWN_PORT = 9100
FOREIGN_PORT = 9000  # Raven 2.6.4's build: frappe-react-sdk's default


def test_a_client_on_another_bench_s_realtime_service_is_named_with_its_fix(real_bench, tmp_path):
	with real_bench.changes(), RedisServer() as other_redis:
		real_bench.stop("realtime")
		real_bench.write_config(socketio_port=OWN_PORT)
		real_bench.start_realtime(port=OWN_PORT)
		real_bench.start_realtime(
			"foreign",
			port=FOREIGN_PORT,
			FRAPPE_SOCKETIO_PORT=str(FOREIGN_PORT),
			FRAPPE_REDIS_QUEUE=other_redis.url,
		)
		real_bench.start_web()  # DEV_SERVER=1, as `bench start`: desk follows socketio_port

		desk = Desk(real_bench.login(), real_bench.url("/app"))
		response = desk.call(
			"raven_ai_agent.api.realtime.run_diagnosis", boot_context=json.dumps(desk.boot["raven_realtime"])
		)
		report = response.json()["message"]
		print("Run Diagnosis:", json.dumps({k: report[k] for k in ("ok", "hint")}, indent=1))
		print("clients:", json.dumps(report.get("clients"), indent=1))
		page = drive(real_bench, "form", tmp_path, out=str(SCREENSHOTS / "foreign-realtime-clients.png"))

	assert report["ok"] is False
	by_client = {c["client"]: c for c in report["clients"]}
	raven = by_client["Raven web app"]
	assert raven["url"] == f"http://{real_bench.site}:{FOREIGN_PORT}/socket.io/"
	assert raven["delivered"] is False
	assert "does not hear this site's events" in raven["detail"] + (raven.get("hint") or "")
	assert f"VITE_SOCKET_PORT={OWN_PORT}" in report["hint"]
	assert by_client["Frappe desk"]["delivered"] is True
	assert checks(report)["end_to_end"]["ok"] is True  # the site's own route delivers
	# The form, as a System Manager sees it: the Clients table says which client is deaf.
	rows = [" | ".join(row) for table in page["tables"] for row in table]
	raven_row = next(row for row in rows if row.startswith("Raven web app"))
	print("form:", page["banner"], *rows, sep="\n")
	assert f":{FOREIGN_PORT}/socket.io/" in raven_row and "Not delivered" in raven_row
