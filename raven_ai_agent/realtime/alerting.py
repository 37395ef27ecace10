"""When a scheduled check tells the System Managers: only when the path changes state.

Operators want to hear "realtime broke" once, and "it works again" once, not a message every
interval. A flapping path (a proxy that cuts sockets now and then) would still alert at every
change, so a new failure alert waits QUIET after the previous one: at most one failure alert
(and the recovery that closes it) per hour. An hour is the longest check interval, so a real
change is never swallowed at any interval, and the history rows and charts still show every
flap. No frappe import.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

HEALTHY = "healthy"
FAILING = "failing"
RECOVERED = "recovered"
QUIET = timedelta(minutes=60)


@dataclass(frozen=True)
class Decision:
	"""What to send (`alert`: FAILING, RECOVERED or None) and the state to remember."""

	alert: str | None
	state: str  # the state the operators were last told (HEALTHY or FAILING)
	failure_alert_on: datetime | None  # when the last failure alert went out


def decide(
	told: str | None,
	ok: bool,
	failure_alert_on: datetime | None,
	now: datetime,
	quiet: timedelta = QUIET,
) -> Decision:
	"""Compare this check with what the operators were last told.

	`told` is None before the first check: a site starts out presumed healthy, so a first
	healthy check says nothing and a first failing one alerts.
	"""
	told = told if told in (HEALTHY, FAILING) else HEALTHY
	if ok:
		if told == FAILING:
			return Decision(RECOVERED, HEALTHY, failure_alert_on)
		return Decision(None, HEALTHY, failure_alert_on)
	if told == FAILING:
		return Decision(None, FAILING, failure_alert_on)
	if failure_alert_on is not None and now - failure_alert_on < quiet:
		# Flapping: the previous failure alert is recent; stay quiet and keep the told state, so
		# the next check after the quiet time alerts if the path is still failing.
		return Decision(None, HEALTHY, failure_alert_on)
	return Decision(FAILING, FAILING, now)
