"""The main job, end to end and without Frappe: a misrouted sandbox tunnel, diagnosed, fixed, diagnosed green.

Real processes on free loopback ports: Redis, Frappe v15 stand-ins for the web server and
the Node realtime service (tests/stack), and nginx. A real ngrok URL cannot be reached from
here, so a local nginx plays the tunnel's public end; `--base-url` points the diagnosis at it,
the override Raven Realtime Settings offers. Run from the repository root:

    python scripts/demo.py

Exit status 0 when the story went as expected: the misrouting found with the right hint,
then every check green after the fix.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
if not shutil.which("nginx") and Path("/usr/sbin/nginx").exists():
	os.environ["PATH"] = "/usr/sbin:" + os.environ.get("PATH", "")

from raven_ai_agent.realtime.constants import RAVEN_ASSETS_DIR  # noqa: E402
from tests.stack import ADMIN_SID, Nginx, ServiceError, Stack, free_port  # noqa: E402

SITE = "realtime.test"
PUBLIC_HOST = "raven-demo.ngrok-free.app"
CLI = [sys.executable, "-m", "raven_ai_agent.cli"]
TIMEOUT = "3"


def say(text: str = "") -> None:
	print(text, flush=True)


def step(number: int, title: str) -> None:
	say()
	say(f"── {number}. {title} " + "─" * max(0, 70 - len(title)))


def tunnel_conf(listen_port: int, target_port: int) -> str:
	"""What an `ngrok http <target_port>` tunnel does: every request, WebSockets too, Host kept."""
	return f"""map $http_upgrade $demo_tunnel_connection {{
	default upgrade;
	""      close;
}}

server {{
	listen 127.0.0.1:{listen_port};
	location / {{
		proxy_pass http://127.0.0.1:{target_port};
		proxy_http_version 1.1;
		proxy_set_header Host $http_host;
		proxy_set_header Upgrade $http_upgrade;
		proxy_set_header Connection $demo_tunnel_connection;
		proxy_set_header X-Forwarded-Proto $scheme;
		proxy_buffering off;
	}}
}}
"""


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
	return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT, env=env)


def diagnose(bench: Path, base_url: str) -> tuple[int, dict]:
	"""Run the real CLI twice: human output for the reader, JSON to check the story."""
	args = ["diagnose", "--bench", str(bench), "--site", SITE, "--base-url", base_url, "--timeout", TIMEOUT]
	env = {**os.environ, "RAVEN_REALTIME_SID": ADMIN_SID}  # a logged-in session: end_to_end runs too
	say(f"$ RAVEN_REALTIME_SID=… raven-realtime {' '.join(args)}")
	shown = cli(*args, env=env)
	for line in shown.stdout.rstrip().splitlines():
		say("  " + line)
	if shown.stderr.strip():
		say("  " + shown.stderr.strip())
	say(f"  (exit {shown.returncode})")
	data = cli(*args, "--json", env=env)
	try:
		report = json.loads(data.stdout)
	except ValueError:
		report = {}
	if ADMIN_SID in shown.stdout + data.stdout:
		report["sid_leaked"] = True
	return shown.returncode, report


def stale_raven_build(stack: Stack, public: str, problems: list[str]) -> None:
	"""A client-specific failure: Raven's web app alone goes elsewhere; diagnosed, fixed, green."""
	step(5, "One client breaks: Raven's build baked a stale VITE_SOCKET_PORT")
	stale = free_port()
	bundle = raven_bundle(stack.bench, stale)
	say(f'{bundle.relative_to(stack.bench)} now holds socketPort:"{stale}" (an old build);')
	say("the page URL has a port, so Raven's web app connects to that port, not through the tunnel.")
	code, report = diagnose(stack.bench, public)
	raven = next((r for r in report.get("clients", []) if r["client"] == "Raven web app"), {})
	if code != 1 or first_failure(report) != "client_paths" or raven.get("ok") is not False:
		problems.append(f"stale Raven build: expected client_paths failing for Raven, got exit {code}")
	elif not (report.get("hint") or "").startswith("Raven web app"):
		problems.append("stale Raven build: the hint does not name Raven's web app")
	else:
		say("→ found: every other client is fine; the hint names Raven's web app, the baked port")
		say("  and the fixes.")

	step(6, f"The fix the hint gives: rebuild Raven with VITE_SOCKET_PORT={stack.socketio_port}")
	raven_bundle(stack.bench, stack.socketio_port)
	code, report = diagnose(stack.bench, public)
	if code != 0 or not report.get("ok"):
		problems.append(f"after the Raven rebuild: expected green, got exit {code}: {report.get('hint')}")
	else:
		say("→ green again: each client's socket answers.")


def raven_bundle(bench: Path, port: int) -> Path:
	"""Raven's built entry chunk, reduced to the provider call that bakes the socket port in
	(the shape the test fixture tests/fixtures/raven_build/ documents)."""
	text = (REPO_ROOT / "tests" / "fixtures" / "raven_build" / "sdk_default.js").read_text()
	bundle = bench / RAVEN_ASSETS_DIR / "index-demo.js"
	bundle.parent.mkdir(parents=True, exist_ok=True)
	bundle.write_text(text.replace("socketPort:void 0", f'socketPort:"{port}"'))
	return bundle


def first_failure(report: dict) -> str | None:
	return next((c["name"] for c in report.get("checks", []) if c["ok"] is False), None)


def main() -> int:
	problems: list[str] = []
	tmp = Path(tempfile.mkdtemp(prefix="raven-demo-"))
	try:
		step(1, "A bench with Redis, the web server and the realtime service")
		with Stack(site=SITE, site_config={"host_name": f"https://{PUBLIC_HOST}"}, tmp_path=tmp) as stack:
			say(f"bench:    {stack.bench}")
			say(
				f"site:     {SITE}, host_name https://{PUBLIC_HOST} (so the deployment type is inferred: sandbox)"
			)
			say(f"web:      127.0.0.1:{stack.web.port} (webserver_port)")
			say(f"realtime: 127.0.0.1:{stack.socketio_port} (socketio_port), Redis {stack.redis.url}")

			tunnel_port = free_port()
			public = f"http://127.0.0.1:{tunnel_port}"
			step(2, "The usual sandbox mistake: `ngrok http <webserver_port>`")
			say(f"The tunnel's public end is played by nginx on {public}; it forwards everything to")
			say(f"the web port {stack.web.port}, so /socket.io/ never reaches the realtime service.")
			with Nginx(tunnel_conf(tunnel_port, stack.web.port)):
				code, report = diagnose(stack.bench, public)
			if code != 1 or first_failure(report) != "external_handshake":
				problems.append(
					f"misrouted tunnel: expected exit 1 and external_handshake failing, got {code}"
				)
			elif "Route /socket.io/" not in (report.get("hint") or ""):
				problems.append("misrouted tunnel: the hint does not say to route /socket.io/")
			else:
				say("→ found: the public URL answers /socket.io/ with Frappe's 404 page; the hint says")
				say("  where the path must go.")

			step(3, "The fix, generated from the same config: a local multiplexer")
			mux_port = free_port()
			rendered = cli(
				"render",
				"nginx-sandbox",
				"--bench",
				str(stack.bench),
				"--site",
				SITE,
				"--listen",
				f"127.0.0.1:{mux_port}",
			)
			if rendered.returncode != 0:
				problems.append(f"render failed: {rendered.stderr.strip()}")
				return report_end(problems)
			say(
				f"$ raven-realtime render nginx-sandbox --bench … --site {SITE} --listen 127.0.0.1:{mux_port}"
			)
			for line in rendered.stdout.splitlines():
				if line.strip().startswith(("location", "server 127", "listen")):
					say("  " + line.strip())
			say(f"and the tunnel now points at the multiplexer: `ngrok http {mux_port}`.")
			with Nginx(rendered.stdout), Nginx(tunnel_conf(tunnel_port, mux_port)):
				step(4, "Diagnosis again, through tunnel → multiplexer → realtime")
				code, report = diagnose(stack.bench, public)
				if code != 0 or not report.get("ok"):
					problems.append(
						f"after the fix: expected every check to pass, got exit {code}: {report.get('hint')}"
					)
				else:
					say("→ green: the public URL reaches the realtime service, WebSockets pass, the session")
					say("  connects to /realtime.test, and a probe event published on Redis reached it.")
					stale_raven_build(stack, public, problems)
			if report.get("sid_leaked"):
				problems.append("the session id appeared in the output")

	except ServiceError as e:
		problems.append(f"the stack did not start: {e}")
	finally:
		shutil.rmtree(tmp, ignore_errors=True)
	return report_end(problems)


def report_end(problems: list[str]) -> int:
	say()
	if problems:
		for problem in problems:
			say(f"DEMO FAILED: {problem}")
		return 1
	say("Demo done: misrouting and a stale client build diagnosed with their root causes, fixed,")
	say("and verified end to end.")
	return 0


if __name__ == "__main__":
	sys.exit(main())
