"""A Raven frontend stand-in: the npm socket.io-client subscribed to one Raven Channel.

tests/js/helpers/raven_channel_listener.js joins the site namespace with a session cookie and
`doc_subscribe('Raven Channel', id)`, as Raven's frontend does; this module runs it as a child
process and reads its events. Shared by the end-to-end tests and the delivery benchmark.
"""

import json
import queue
import subprocess
import threading
import time
import uuid

from raven_ai_agent.realtime.constants import MESSAGE_CREATED, RAVEN_CHANNEL_DOCTYPE, doc_room
from tests.recorded import RAVEN_EVENTS
from tests.stack.procs import REPO_ROOT, hermetic_env, node_modules_check, require_tool, wait_until
from tests.stack.stack import ADMIN_SID

LISTENER_JS = REPO_ROOT / "tests" / "js" / "helpers" / "raven_channel_listener.js"
RAVEN_CREATED = next(e for e in RAVEN_EVENTS["events"] if e["event"] == MESSAGE_CREATED)["args"][0]
CHANNEL = RAVEN_CREATED["channel_id"]
OTHER_CHANNEL = "Raven-rt-check-other"
OTHER_SITE = "other.test"
CAN_SUBSCRIBE_DOC = "/api/method/frappe.realtime.can_subscribe_doc"
WAIT = 10.0
FENCE = "raven_e2e_fence"


class ChannelListener:
	"""tests/js/helpers/raven_channel_listener.js as a child process; its JSON lines in a queue.

	`extra` args pass through (e.g. `--timing`). Stop it by closing stdin (the script exits on
	EOF); terminate/kill only if it does not.
	"""

	def __init__(self, url: str, site: str, channel: str, sid: str = ADMIN_SID, extra: tuple = ()):
		node_modules_check()
		self.channel, self.site = channel, site
		argv = [require_tool("node"), str(LISTENER_JS), "--url", url, "--site", site, "--channel", channel]
		argv += ["--sid", sid, *extra]
		self.proc = subprocess.Popen(
			argv,
			stdin=subprocess.PIPE,
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
			cwd=REPO_ROOT,
			env=hermetic_env(),
		)
		self.lines: queue.Queue = queue.Queue()
		self._reader = threading.Thread(target=self._read, daemon=True)
		self._reader.start()
		self.ready = self.next(lambda m: "ready" in m or "error" in m)
		if "error" in self.ready:
			raise RuntimeError(f"listener for {site}/{channel}: {self.ready['error']}\n{self.stderr()}")

	def _read(self):
		for raw in self.proc.stdout:
			self.lines.put(json.loads(raw))
		self.lines.put(None)

	def next(self, match=lambda m: True, timeout: float = WAIT) -> dict:
		"""The next line matching `match` (earlier ones are dropped); bounded."""
		deadline = time.monotonic() + timeout
		while True:
			try:
				line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
			except queue.Empty:
				raise TimeoutError(
					f"listener {self.site}/{self.channel}: nothing matching in {timeout}s"
				) from None
			if line is None:
				raise RuntimeError(f"listener exited ({self.proc.poll()}):\n{self.stderr()}")
			if match(line):
				return line

	def events_until(self, event: str, marker: str, timeout: float = WAIT) -> list[dict]:
		"""Every event line up to and including the first `event` whose first arg has `marker`."""
		seen = []
		deadline = time.monotonic() + timeout
		while True:
			line = self.next(lambda m: "event" in m, max(0.0, deadline - time.monotonic()))
			seen.append(line)
			if line["event"] == event and line["args"] and line["args"][0].get("marker") == marker:
				return seen

	def stderr(self) -> str:
		if self.proc.poll() is None:
			return ""
		return self.proc.stderr.read().decode("utf-8", "replace")

	def close(self):
		if self.proc.poll() is None:
			self.proc.stdin.close()
			try:
				self.proc.wait(timeout=5)
			except subprocess.TimeoutExpired:
				self.proc.terminate()
				self.proc.wait(timeout=5)
		self._reader.join(timeout=5)
		for stream in (self.proc.stdout, self.proc.stderr):
			stream.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()
		return False


def subscribed(stack, listener: ChannelListener, namespace: str | None = None) -> None:
	"""Wait until `listener` is in its channel's room: the permission callback answered, then
	a probe event to the room arrives (the join follows the callback's answer by a moment)."""
	wait_until(
		lambda: any(
			r["query"].get("docname") == listener.channel and r["status"] == 200
			for r in stack.web.requests(CAN_SUBSCRIBE_DOC)
		),
		timeout=WAIT,
		message=f"permission callback for {listener.channel}",
	)
	joined(stack.publish, listener, namespace)


def joined(publish, listener: ChannelListener, namespace: str | None = None) -> None:
	"""Wait until a probe event published to the listener's channel room (with `publish`, as
	frappe.publish_realtime puts it on Redis) arrives: the join has taken effect."""
	marker = uuid.uuid4().hex
	room = doc_room(RAVEN_CHANNEL_DOCTYPE, listener.channel)

	def probe_arrived():
		publish(FENCE, {"marker": marker}, room, namespace or listener.site)
		try:
			listener.next(lambda m: m.get("event") == FENCE and m["args"][0]["marker"] == marker, 0.2)
			return True
		except TimeoutError:
			return False

	wait_until(probe_arrived, timeout=WAIT, interval=0, message=f"{listener.channel} joined")


def fence(stack, listener: ChannelListener, namespace: str | None = None) -> list[dict]:
	"""Publish a fence to the listener's room; return the events it got before the fence
	(earlier fences and probes left out)."""
	marker = uuid.uuid4().hex
	room = doc_room(RAVEN_CHANNEL_DOCTYPE, listener.channel)
	stack.publish(FENCE, {"marker": marker}, room, namespace or listener.site)
	return [m for m in listener.events_until(FENCE, marker) if m["event"] != FENCE]
