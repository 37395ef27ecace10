"""The diagnosis' report as the bench command prints it, and ways to read it in tests."""

import json

from .session import RealBench


def diagnose(bench: RealBench, *args: str, **env) -> dict:
	"""`bench --site ... raven-realtime diagnose --json`: the report (exit 0 healthy, 1 a problem)."""
	result = bench.bench(bench.site, "raven-realtime", "diagnose", "--json", *args, check=False, **env)
	assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
	return json.loads(result.stdout[result.stdout.index("{") :])


def first_failure(report: dict) -> str | None:
	return next((c["name"] for c in report["checks"] if c["ok"] is False), None)


def check(report: dict, name: str) -> dict:
	return next(c for c in report["checks"] if c["name"] == name)


def checks(report: dict) -> dict[str, dict]:
	return {c["name"]: c for c in report["checks"]}
