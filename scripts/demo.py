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
	say("Demo done: misrouting diagnosed with its root cause, fixed, and verified end to end.")
	return 0


if __name__ == "__main__":
	sys.exit(main())
