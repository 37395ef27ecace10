"""The scheduler on its own: order, gates, crashes, the deadline, the caller's thread, no leftovers.

It knows nothing of checks: these tasks produce plain named results.
"""

import threading
import time
from dataclasses import dataclass

import pytest

from raven_ai_agent.realtime.probe import Deadline, ProbeTimeout
from raven_ai_agent.realtime.schedule import Schedule, Task


@dataclass
class Result:
	name: str
	value: object = None


def gate(task, prerequisites):
	if any(r is not None and r.value == "failed" for r in prerequisites.values()):
		return [Result(n, "skipped") for n in task.names]
	return None


def crashed(task, error):
	return [Result(n, f"crashed: {type(error).__name__}") for n in task.names]


def run(tasks, seconds=2.0, grace=0.2, context=None):
	schedule = Schedule(Deadline(seconds), grace)
	return schedule, schedule.run(tasks, gate, crashed, context=context)


def test_a_task_runs_after_what_it_requires_and_sees_it():
	seen = {}

	def first(ctx):
		time.sleep(0.05)  # a slow prerequisite: the dependent must wait for it, not race it
		return [Result("a", 1)]

	def second(ctx):
		seen["a"] = ctx.result("a").value
		return [Result("b", 2)]

	schedule = Schedule(Deadline(2), 0.2)
	tasks = [Task(("b",), second, ("a",)), Task(("a",), first)]
	outcome = schedule.run(tasks, gate, crashed, context=schedule)
	assert seen == {"a": 1}
	assert {k: v.value for k, v in outcome.results.items()} == {"a": 1, "b": 2}


def test_a_failed_prerequisite_gates_its_dependents():
	_, outcome = run(
		[
			Task(("a",), lambda c: [Result("a", "failed")]),
			Task(("b",), lambda c: [Result("b", "ran")], ("a",)),
		]
	)
	assert outcome.results["b"].value == "skipped"


def test_a_crashing_task_is_reported_and_hides_nothing():
	def boom(ctx):
		raise KeyError("bug")

	_, outcome = run([Task(("a",), boom), Task(("b",), lambda c: [Result("b", "fine")])])
	assert outcome.results["a"].value == "crashed: KeyError"
	assert outcome.results["b"].value == "fine"


def test_one_task_may_produce_several_results():
	_, outcome = run(
		[
			Task(("a", "b"), lambda c: [Result("a"), Result("b")]),
			Task(("c",), lambda c: [Result("c")], ("b",)),
		]
	)
	assert set(outcome.results) == {"a", "b", "c"}


def test_on_caller_runs_on_the_thread_that_runs_the_schedule():
	caller = threading.current_thread()
	seen = []
	schedule = Schedule(Deadline(2), 0.2)

	def task(ctx):
		assert threading.current_thread() is not caller
		value = schedule.on_caller(lambda: seen.append(threading.current_thread()) or 42)
		return [Result("a", value)]

	outcome = schedule.run([Task(("a",), task)], gate, crashed)
	assert seen == [caller]
	assert outcome.results["a"].value == 42


def test_an_error_on_the_callers_thread_reaches_the_task():
	schedule = Schedule(Deadline(2), 0.2)

	def task(ctx):
		try:
			schedule.on_caller(lambda: 1 / 0)
		except ZeroDivisionError:
			return [Result("a", "got it")]
		return [Result("a", "missed")]

	outcome = schedule.run([Task(("a",), task)], gate, crashed)
	assert outcome.results["a"].value == "got it"


def test_at_the_wall_unfinished_tasks_are_missing_and_the_report_does_not_wait():
	stop = threading.Event()

	def hangs(ctx):
		stop.wait(5)
		return [Result("slow")]

	start = time.monotonic()
	_, outcome = run(
		[Task(("slow",), hangs), Task(("fast",), lambda c: [Result("fast")])], seconds=0.3, grace=0.1
	)
	elapsed = time.monotonic() - start
	stop.set()
	assert "slow" not in outcome.results and "fast" in outcome.results
	assert elapsed < 0.3 + 0.1 + 0.3
	assert outcome.lingering == ["raven-realtime-slow"]


def test_a_call_handed_over_after_the_wall_is_refused():
	release = threading.Event()
	schedule = Schedule(Deadline(0.2), 0.05)
	errors = []

	def late(ctx):
		release.wait(2)
		try:
			schedule.on_caller(lambda: "ran")
		except ProbeTimeout as e:
			errors.append(str(e))
		return [Result("late")]

	thread_outcome = schedule.run([Task(("late",), late)], gate, crashed)
	release.set()
	assert "late" not in thread_outcome.results
	for thread in threading.enumerate():
		if thread.name == "raven-realtime-late":
			thread.join(2)
	assert errors and "ended before" in errors[0]


def test_no_thread_is_left_once_every_task_finished():
	before = {t.ident for t in threading.enumerate()}
	_, outcome = run([Task((f"t{i}",), lambda c, i=i: [Result(f"t{i}")]) for i in range(6)])
	assert outcome.lingering == []
	assert not [
		t for t in threading.enumerate() if t.ident not in before and t.name.startswith("raven-realtime")
	]


def test_the_deadline_is_cut_when_the_schedule_ends():
	cut = threading.Event()
	deadline = Deadline(2)
	deadline.on_cut(cut.set)
	Schedule(deadline, 0.1).run([Task(("a",), lambda c: [Result("a")])], gate, crashed)
	assert cut.is_set()


@pytest.mark.parametrize("context", [None, object()])
def test_tasks_get_the_context_they_were_run_with(context):
	got = []
	run([Task(("a",), lambda c: got.append(c) or [Result("a")])], context=context)
	assert got == [context]
