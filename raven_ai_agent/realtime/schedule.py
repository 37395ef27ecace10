"""Run dependent tasks concurrently under one deadline; call back on the caller's thread.

A generic scheduler: it knows tasks by the names of what they produce and by what they
require, nothing about what they check. Each task runs in a thread of its own once its
prerequisites are in (or the wall passed); the thread that called `Schedule.run` waits, and
meanwhile runs every function a task hands it with `Schedule.on_caller`.

Why the caller's thread: Frappe keeps the site, its config, DB and Redis connections in
`frappe.local`, a context-local. A new thread sees none of it (`frappe.publish_realtime`
fails there with `AttributeError: site`, or `RuntimeError: object is not bound` under the
CLI), so whatever touches Frappe must run where the request (or the bench command) runs.

Why threads are joined: in a web worker a thread left running outlives the request. After
the wall the deadline is cut (every connection opened under it is shut, so blocked reads
wake up) and each thread is joined for at most JOIN_SECONDS; one still alive then (a DNS
lookup nothing can interrupt) is named in `Outcome.lingering`, and ends by its own timeout.
"""

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from raven_ai_agent.realtime.probe import Deadline, ProbeTimeout

# How long the caller waits for the threads after the deadline was cut.
JOIN_SECONDS = 0.15


@dataclass(frozen=True)
class Task:
	"""`run(context)` produces one result per name in `names`, once `requires` are in."""

	names: tuple[str, ...]
	run: Callable[[Any], list]
	requires: tuple[str, ...] = ()


@dataclass
class Outcome:
	"""The results by name (missing: not finished by the wall), and threads still alive."""

	results: dict[str, Any]
	lingering: list[str] = field(default_factory=list)


class _Call:
	"""A function handed to the caller's thread, and the way back of its result."""

	__slots__ = ("done", "error", "fn", "value")

	def __init__(self, fn: Callable[[], Any]):
		self.fn = fn
		self.done = threading.Event()
		self.value: Any = None
		self.error: BaseException | None = None

	def run(self) -> None:
		try:
			self.value = self.fn()
		except Exception as e:  # noqa: BLE001 - handed back to the task's thread, which judges it
			self.error = e
		finally:
			self.done.set()

	def refuse(self, why: str) -> None:
		self.error = ProbeTimeout(why)
		self.done.set()


class Schedule:
	"""One run of tasks within `deadline` (+ `grace` for the tasks to report)."""

	def __init__(self, deadline: Deadline, grace: float):
		self.deadline = deadline
		self.wall = deadline.at + grace
		self._results: dict[str, Any] = {}
		self._lock = threading.Lock()
		self._done: dict[str, threading.Event] = {}
		self._inbox: queue.SimpleQueue = queue.SimpleQueue()
		self._closed = False
		self._caller: threading.Thread | None = None

	# -- for tasks -------------------------------------------------------------------------------

	@property
	def names(self) -> set[str]:
		"""The names of the results this run produces."""
		return set(self._done)

	def result(self, name: str) -> Any:
		"""The result of `name` if it is in, without waiting."""
		with self._lock:
			return self._results.get(name)

	def wait(self, name: str) -> Any:
		"""The result of `name`, waiting for it at most until the deadline."""
		self._done[name].wait(max(0.0, self.deadline.remaining()))
		return self.result(name)

	def on_caller(self, fn: Callable[[], Any]) -> Any:
		"""Run `fn()` on the thread that runs the schedule; return its result or raise its error.

		Called from the caller's thread itself it runs at once. Raises ProbeTimeout when the
		wall passes before the caller got to it.
		"""
		if threading.current_thread() is self._caller or self._caller is None:
			return fn()
		call = _Call(fn)
		with self._lock:
			if self._closed:
				call.refuse("the diagnosis ended before this step could run")
			else:
				self._inbox.put(call)
		if not call.done.wait(max(0.0, self.wall - time.monotonic())):
			raise ProbeTimeout("timed out: the diagnosis ended before this step could run")
		if call.error is not None:
			raise call.error
		return call.value

	# -- for the caller --------------------------------------------------------------------------

	def run(
		self,
		tasks: Sequence[Task],
		gate: Callable[[Task, dict], list | None],
		crashed: Callable[[Task, Exception], list],
		context: Any = None,
		name_of: Callable[[Any], str] = lambda result: result.name,
	) -> Outcome:
		"""Run `tasks` (each as `task.run(context)`); return when all are in, or at the wall.

		`gate(task, prerequisites)` returns results to use instead of running the task (its
		prerequisites failed or were skipped) or None to run it; `crashed(task, error)` turns a
		task's unexpected exception into its results, so one bug hides no other finding.
		"""
		self._caller = threading.current_thread()
		for task in tasks:
			for name in task.names:
				self._done[name] = threading.Event()
		threads = [
			threading.Thread(
				target=self._work,
				args=(task, gate, crashed, context, name_of),
				name=f"raven-realtime-{task.names[0]}",
				daemon=True,  # never keeps the process alive; joined below
			)
			for task in tasks
		]
		for thread in threads:
			thread.start()
		self._serve(lambda: all(event.is_set() for event in self._done.values()))
		with self._lock:
			self._closed = True
			results = dict(self._results)
			pending = self._drain()
		for call in pending:
			call.refuse("the diagnosis ended before this step could run")
		self.deadline.cut()  # after the snapshot: what a cut task reports next is not part of it
		until = time.monotonic() + JOIN_SECONDS
		for thread in threads:
			thread.join(max(0.0, until - time.monotonic()))
		return Outcome(results, [t.name for t in threads if t.is_alive()])

	def _serve(self, finished: Callable[[], bool]) -> None:
		"""Run what tasks hand over until `finished()` or the wall."""
		while not finished():
			left = self.wall - time.monotonic()
			if left <= 0:
				return
			try:
				item = self._inbox.get(timeout=left)
			except queue.Empty:
				return
			if isinstance(item, _Call):
				item.run()

	def _drain(self) -> list:
		calls = []
		while True:
			try:
				item = self._inbox.get_nowait()
			except queue.Empty:
				return calls
			if isinstance(item, _Call):
				calls.append(item)

	def _work(self, task: Task, gate, crashed, context, name_of) -> None:
		for name in task.requires:
			if not self._done[name].wait(max(0.0, self.wall - time.monotonic())):
				return  # the wall passed: the caller reports it as unfinished
		try:
			with self._lock:
				prerequisites = {name: self._results.get(name) for name in task.requires}
			results = gate(task, prerequisites)
			if results is None:
				results = task.run(context)
		except Exception as e:  # noqa: BLE001 - a bug in one task must not hide the others' findings
			results = crashed(task, e)
		with self._lock:
			for result in results:
				self._results[name_of(result)] = result
		for result in results:
			self._done[name_of(result)].set()
		self._inbox.put(None)  # wake the caller to look again
