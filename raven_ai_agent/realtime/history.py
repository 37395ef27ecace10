"""The settings form's pictures: scheduled checks and field counters as hourly series.

One point per clock hour over the last 24 hours or 7 days, so the two charts of a range line up
hour by hour: when the scheduled checks failed and how slow they were, and what browsers saw in
the same hours (share of page loads connected, transports, disconnect reasons). Pure: the Frappe
shell (api/history.py) reads the rows and the Redis buckets and returns what this builds.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from raven_ai_agent.realtime.field_reports import summarize

RANGES = {"24h": 24, "7d": 7 * 24}


def hour_starts(end: datetime, hours: int) -> list[datetime]:
	"""The starts of the `hours` clock hours up to and including `end`'s, oldest first."""
	last = end.replace(minute=0, second=0, microsecond=0)
	return [last - timedelta(hours=h) for h in reversed(range(hours))]


def _label(start: datetime, hours: int) -> str:
	return f"{start:%H}:00" if hours <= 24 else f"{start:%a %H}h"


def check_series(rows: Iterable[Mapping], starts: list[datetime]) -> dict:
	"""Per hour: checks run, checks failed, mean total milliseconds (None when none ran)."""
	index = {start: i for i, start in enumerate(starts)}
	runs, failed, total = [0] * len(starts), [0] * len(starts), [0.0] * len(starts)
	for row in rows:
		when = row.get("checked_on")
		i = index.get(when.replace(minute=0, second=0, microsecond=0)) if when else None
		if i is None:
			continue
		runs[i] += 1
		failed[i] += 0 if row.get("ok") else 1
		total[i] += float(row.get("total_ms") or 0.0)
	return {
		"runs": runs,
		"failed": failed,
		"passed": [r - f for r, f in zip(runs, failed, strict=True)],
		"latency_ms": [round(t / r, 1) if r else None for t, r in zip(total, runs, strict=True)],
	}


def field_series(buckets: list[Mapping]) -> dict:
	"""Per hour (one Redis bucket each, in the order of the hours): the share of page loads
	whose desk socket connected, connects by transport, disconnects by reason."""
	hours = [summarize([raw]) for raw in buckets]
	transports = sorted({name for h in hours for name in h["transports"]})
	reasons = sorted({name for h in hours for name in h["disconnects"]})
	return {
		"page_loads": [h["page_loads"] for h in hours],
		"connected_share": [h["connected_share"] for h in hours],
		"transports": {t: [h["transports"].get(t, 0) for h in hours] for t in transports},
		"disconnects": {r: [h["disconnects"].get(r, 0) for h in hours] for r in reasons},
	}


def history(rows: Iterable[Mapping], buckets: list[Mapping], starts: list[datetime]) -> dict:
	"""Everything the form's charts need for one range."""
	return {
		"labels": [_label(s, len(starts)) for s in starts],
		"checks": check_series(rows, starts),
		"field": field_series(buckets),
	}
