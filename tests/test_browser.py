"""The browser side in a real browser: Debian's Chromium, driven by tests/browser/drive.js.

1. A page served through the stack's nginx (bench's healthy topology) loads the app's
   public/js exactly as desk would get it under /assets/raven_ai_agent/, connects with
   raven_realtime.connect() on the site namespace with the sid cookie, and receives an
   event published into Redis the way frappe.publish_realtime does, over websocket.
2. The diagnosis renderer on a bare page: screenshot to tests/output/diagnosis.png.

No Chromium is a failure, not a skip: CI installs it (scripts/setup).
"""

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from raven_ai_agent.realtime.clients import DevServer, RavenBuild, describe_clients
from raven_ai_agent.realtime.constants import namespace_for, user_room
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.resolve import resolve
from tests.stack.procs import NODE_MODULES, REPO_ROOT, free_port
from tests.stack.stack import ADMIN_SID, Stack

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = REPO_ROOT / "tests" / "browser" / "drive.js"
OUTPUT = REPO_ROOT / "tests" / "output"
EVENT = "raven_browser_test"
TIMEOUT_MS = 8000


def require_browser():
	problems = []
	if not CHROMIUM.exists():
		problems.append(f"{CHROMIUM} is missing (apt-get install chromium; scripts/setup does it)")
	if not (NODE_MODULES / "playwright-core").is_dir():
		problems.append(f"{NODE_MODULES}/playwright-core is missing (run `npm ci --prefix tests`)")
	if not shutil.which("node"):
		problems.append("node is not on PATH")
	if problems:
		pytest.fail("browser tests cannot run: " + "; ".join(problems), pytrace=False)


class Driver:
	"""drive.js as a child process: a spec file in, `TAG <json>` lines out, bounded waits."""

	def __init__(self, spec: dict, tmp_path: Path):
		self.spec_path = tmp_path / "spec.json"
		self.spec_path.write_text(json.dumps(spec))
		self.lines: queue.Queue[str | None] = queue.Queue()
		self.seen: list[str] = []

	def __enter__(self):
		self.proc = subprocess.Popen(
			[shutil.which("node"), str(DRIVER), str(self.spec_path)],
			cwd=REPO_ROOT,
			stdin=subprocess.DEVNULL,
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
			text=True,
		)
		threading.Thread(target=self._pump, daemon=True).start()
		return self

	def _pump(self):
		for line in self.proc.stdout:
			self.lines.put(line.rstrip("\n"))
		self.lines.put(None)

	def read(self, tag: str, timeout: float = 30.0) -> dict:
		"""The payload of the next `tag` line; fails with everything seen on ERROR/EOF/timeout."""
		deadline = time.monotonic() + timeout
		while True:
			left = deadline - time.monotonic()
			try:
				line = self.lines.get(timeout=max(left, 0.01))
			except queue.Empty:
				pytest.fail(f"drive.js: no {tag} within {timeout}s; output: {self.seen}")
			if line is None:
				self.proc.wait(timeout=5)
				pytest.fail(
					f"drive.js ended before {tag}: {self.seen}\nstderr: {self.proc.stderr.read()[-3000:]}"
				)
			self.seen.append(line)
			name, _, payload = line.partition(" ")
			if name == "ERROR":
				pytest.fail(f"drive.js failed: {payload}")
			if name == tag:
				return json.loads(payload)

	def __exit__(self, *exc):
		if self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(timeout=5)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait(timeout=5)
		self.proc.stdout.close()
		self.proc.stderr.close()
		return False


def static_root(tmp_path: Path) -> Path:
	"""What nginx/bench would serve: /assets/raven_ai_agent -> the app's public/ (a symlink,
	as `bench build` makes it), the socket.io browser client, and the test page."""
	root = tmp_path / "static"
	assets = root / "assets"
	assets.mkdir(parents=True)
	(assets / "raven_ai_agent").symlink_to(REPO_ROOT / "raven_ai_agent" / "public")
	(assets / "socket.io-client").symlink_to(NODE_MODULES / "socket.io-client" / "dist")
	shutil.copy(REPO_ROOT / "tests" / "browser" / "realtime.html", root / "raven_realtime_test.html")
	return root


DESK_PAGE = "desk_standin.html"
REPORT_PATH = "/api/method/raven_ai_agent.api.field.report_connection"


def write_desk_page(root: Path, site: str) -> str:
	"""A desk-like page in `root`: desk's socket.io client, then the app's app_include_js as
	hooks.py lists it, then what desk does (opens its socket on /<site>, fires app_ready).
	Returns its path."""
	from raven_ai_agent import hooks

	includes = "".join(f'<script src="{src}"></script>' for src in hooks.app_include_js)
	page = (
		'<!DOCTYPE html><html><head><meta charset="utf-8"><title>desk</title>'
		'<script src="/assets/socket.io-client/socket.io.min.js"></script>'
		f"{includes}</head><body><p>desk</p><script>"
		"frappe.realtime = {socket: io(location.origin + '/' + "
		f"{json.dumps(site)}, "
		"{path: '/socket.io/', transports: ['websocket'], withCredentials: true})};"
		"jQuery(document).trigger('app_ready');"
		"</script></body></html>"
	)
	(root / DESK_PAGE).write_text(page)
	return "/" + DESK_PAGE


def load_desk_page(stack: Stack, root: Path, origin: str, field_reports, tmp_path: Path) -> dict:
	"""Every request and WebSocket of one desk page load (the page in `root`, served at
	`origin`), the boot saying `field_reports`."""
	path = write_desk_page(root, stack.site)
	spec = {
		"mode": "desk",
		"url": origin + path,
		"boot": {"sitename": stack.site, "raven_realtime_field_reports": field_reports},
		"cookies": [{"name": "sid", "value": ADMIN_SID, "url": origin}],
		"timeout_ms": TIMEOUT_MS,
	}
	with Driver(spec, tmp_path) as driver:
		return driver.read("RESULT")


def app_requests(result: dict) -> list[dict]:
	"""What the app added to the page load: its assets and its endpoints."""
	return [
		r
		for r in result["requests"]
		if "/assets/raven_ai_agent/" in r["url"] or "/raven_ai_agent." in r["url"]
	]


def test_a_desk_page_sends_no_report_and_opens_no_socket_unless_reports_are_on(tmp_path):
	"""Off (the default, and a boot without the key): the app adds its one always-loaded script,
	no report, no socket of its own. On: desk's own socket is reported (its connect and the page
	load's verdict) as POSTs, still with no socket and no script more."""
	require_browser()
	from raven_ai_agent import hooks

	root = static_root(tmp_path)
	with Stack(static_dir=root, tmp_path=tmp_path) as stack:
		origin = stack.front("healthy").url
		desk_socket = f"{origin.replace('http', 'ws', 1)}/socket.io/?EIO=4&transport=websocket"
		runs = {value: load_desk_page(stack, root, origin, value, tmp_path) for value in (0, None, 1)}

	for value in (0, None):
		result = runs[value]
		assert [r["url"] for r in app_requests(result)] == [origin + src for src in hooks.app_include_js]
		assert result["reports"] == []
		assert result["websockets"] == [desk_socket], "desk's socket only"
		assert not [r for r in result["requests"] if "/socket.io/" in r["url"]], "no polling socket"
		assert "load" in result["api"] and "connect" not in result["api"], "the library is not loaded"
	result = runs[1]
	assert result["reports"] == ["POST", "POST"]
	assert [r["url"] for r in app_requests(result) if r["type"] == "script"] == [
		origin + src for src in hooks.app_include_js
	]
	assert result["websockets"] == [desk_socket]


def test_browser_receives_a_published_event_over_websocket(tmp_path):
	require_browser()
	with Stack(static_dir=static_root(tmp_path), tmp_path=tmp_path) as stack:
		front = stack.front("healthy")
		origin = front.url
		context = {
			"deployment_type": "vps_prod",
			"socketio_base_url": origin,
			"socketio_path": "/socket.io/",
			"socketio_namespace": namespace_for(stack.site),
			"transports": ["websocket", "polling"],
		}
		spec = {
			"mode": "realtime",
			"url": origin + "/raven_realtime_test.html",
			"context": context,
			"cookies": [{"name": "sid", "value": ADMIN_SID, "url": origin}],
			"event": EVENT,
			"timeout_ms": TIMEOUT_MS,
		}
		with Driver(spec, tmp_path) as driver:
			ready = driver.read("READY")
			probe = ready["probe"]
			assert probe["connected"] is True, probe
			assert probe["transport"] == "websocket", probe
			assert probe["error"] is None
			assert probe["namespace"] == "/" + stack.site
			for name in ("via_io", "via_desk"):
				assert ready["sockets"][name] == {
					"connected": True,
					"transport": "websocket",
					"namespace": "/" + stack.site,
				}, name

			message = {"text": "hello from redis", "n": 1}
			receivers = stack.publish(EVENT, message, room=user_room("Administrator"))
			assert receivers == 1, "the realtime service subscribes to `events`"
			result = driver.read("RESULT")

		assert result["error"] is None, result
		assert result["received"]["via_io"] == [message]
		assert result["received"]["via_desk"] == [message]
		assert result["transports"] == ["websocket", "websocket"]
		# the upgrade went through nginx: a 101 for /socket.io/ in its log
		assert '"GET /socket.io/?EIO=4&transport=websocket' in front.access_log()
		assert " 101 " in front.access_log()


SAMPLE_PROBE = {
	"connected": True,
	"transport": "polling",
	"error": None,
	"elapsed_ms": 1210,
	"url": "https://erp.example.com/erp.example.com",
	"path": "/socket.io/",
	"namespace": "/erp.example.com",
}


def real_diagnosis(stack, nginx_factory) -> dict:
	"""What run_diagnosis returns for a proxy that drops the Upgrade header, from the real stack."""
	front = nginx_factory(stack.front_conf("no_upgrade"))
	config = resolve(
		stack.site,
		{},
		stack.common,
		{
			"deployment_type": "vps_prod",
			"base_url": front.url,
		},
	)
	result = diagnose(config, timeout=2.0)
	assert result["hint"] and "Upgrade" in result["hint"], result
	# A detail carrying markup must be shown as text, never run.
	failing = next(c for c in result["checks"] if c["ok"] is False)
	failing["detail"] += " <script>alert(1)</script>"
	return result


def test_diagnosis_renders_readably_on_a_bare_page(tmp_path, stack, nginx_factory):
	require_browser()
	result_data = real_diagnosis(stack, nginx_factory)
	out = OUTPUT / "diagnosis.png"
	out.unlink(missing_ok=True)
	spec = {
		"mode": "render",
		"result": result_data,
		"probe": SAMPLE_PROBE,
		"config": result_data["config"],
		"out": str(out),
	}
	with Driver(spec, tmp_path) as driver:
		result = driver.read("RESULT")

	text = result["text"]
	assert result["injected"] == 0
	assert "<script>alert(1)</script>" in text, "shown as text, not run"
	labels = dict(result["check_labels"])
	assert set(labels) == {check["name"] for check in result_data["checks"]}
	for name, label in labels.items():
		assert "_" not in label and label[0].isupper() and label != name, (name, label)
	assert labels["local_handshake"] == "Realtime service on this server"
	assert text.index("Most likely cause") < text.index(labels[result_data["checks"][0]["name"]]), (
		"hint first"
	)
	assert result_data["hint"] in text
	assert "Deployment: Production VPS" in text
	for badge in ("Pass", "Fail", "Polling only"):
		assert badge in text
	assert "Browser connection (this tab)" in text
	assert "settings override" in text and "common_site_config.json" in text
	assert out.stat().st_size > 10_000, "a real screenshot"


def test_clients_table_probes_each_client_url_from_the_page(tmp_path):
	"""Run Diagnosis' Clients table on the stack: the server's verdict and this tab's own probe of
	each client's socket, one broken client (Raven's build baked a port nothing listens on)."""
	require_browser()
	with Stack(static_dir=static_root(tmp_path), tmp_path=tmp_path) as stack:
		front = stack.front("healthy")
		config = resolve(stack.site, {}, stack.common, {"deployment_type": "vps_prod", "base_url": front.url})
		stale = free_port()
		raven = RavenBuild(installed=True, baked_port=stale, source="index-test.js")
		dev_server = DevServer(False, "test: gunicorn")
		clients, notes = describe_clients(config, dev_server, raven)
		report = diagnose(
			config,
			timeout=2.0,
			clients=clients,
			client_notes=notes,
		)
		assert report["hint"].startswith("Raven web app"), report["hint"]
		out = OUTPUT / "clients.png"
		out.unlink(missing_ok=True)
		spec = {
			"mode": "clients",
			"url": front.url + "/raven_realtime_test.html",
			"result": report,
			"cookies": [{"name": "sid", "value": ADMIN_SID, "url": front.url}],
			"timeout_ms": TIMEOUT_MS,
			"out": str(out),
		}
		with Driver(spec, tmp_path) as driver:
			result = driver.read("RESULT")

	probes = result["probes"]
	raven_url = f"http://127.0.0.1:{stale}/socket.io/"
	assert set(probes) == {f"{front.url}/socket.io/", raven_url}, "each distinct URL once"
	assert probes[f"{front.url}/socket.io/"]["connected"] is True, probes
	assert probes[raven_url]["connected"] is False and probes[raven_url]["error"]
	text = result["text"]
	table = text[text.index("Clients") :]
	for name in (
		"Frappe desk",
		"Raven web app",
		"raven_ai_agent context",
		raven_url,
		f"VITE_SOCKET_PORT={stale}",
	):
		assert name in table, name
	assert out.stat().st_size > 10_000, "a real screenshot"


def test_clients_table_shows_delivery_per_client(tmp_path):
	"""Raven's build opens another bench's realtime service (another Redis): it connects, the
	Clients table says it does, and says that none of this site's events arrive there."""
	require_browser()
	with (
		Stack(static_dir=static_root(tmp_path), tmp_path=tmp_path / "site") as stack,
		Stack(tmp_path=tmp_path / "other") as other,
	):
		config = resolve(
			stack.site, {}, stack.common, {"deployment_type": "local", "base_url": stack.web_url}
		)
		raven = RavenBuild(installed=True, baked_port=other.socketio_port, source="index-test.js")
		clients, notes = describe_clients(config, DevServer(True, "test: bench start"), raven)
		report = diagnose(config, timeout=2.0, clients=clients, client_notes=notes, sid=ADMIN_SID)
		assert [c["name"] for c in report["checks"] if c["ok"] is False] == ["client_delivery"], report[
			"hint"
		]
		out = OUTPUT / "clients_delivery.png"
		out.unlink(missing_ok=True)
		spec = {
			"mode": "clients",
			"url": stack.web_url + "/raven_realtime_test.html",
			"result": report,
			"cookies": [{"name": "sid", "value": ADMIN_SID, "url": stack.web_url}],
			"timeout_ms": TIMEOUT_MS,
			"out": str(out),
			"delivery": True,  # this tab's sockets ask the site for a probe event too
		}
		with Driver(spec, tmp_path) as driver:
			result = driver.read("RESULT")
	probes = result["probes"]
	own, foreign = f"{stack.realtime_url}/socket.io/", f"http://127.0.0.1:{other.socketio_port}/socket.io/"
	assert probes[own]["connected"] is True and probes[own]["received"] is True, probes[own]
	assert probes[foreign]["connected"] is True and probes[foreign]["received"] is False, probes[foreign]
	text = result["text"]
	table = text[text.index("Clients") :]
	assert "Not delivered" in table and "this site's probe event never arrived" in table
	assert "Delivered" in table
	assert f"http://127.0.0.1:{other.socketio_port}/socket.io/" in table
	assert "does not hear this site's events" in table
	assert out.stat().st_size > 10_000, "a real screenshot"
