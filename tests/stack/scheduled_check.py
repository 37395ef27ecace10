"""The scheduled check's core, run inside a container's namespace (FrappeDockerLayout.scheduled_check).

As monitor.run_check does it, without Frappe: the config resolved from the bench's files and
this process' environment (where RAVEN_REALTIME_INTERNAL_URL is set on a scheduler container),
the site-wide diagnosis with the container facts, the check's row and the alert decision
against what the operators were last told. Prints one JSON object.

Usage: python -m tests.stack.scheduled_check BENCH SITE [TOLD]
"""

import json
import os
import sys
from datetime import datetime

from raven_ai_agent.realtime.alerting import decide
from raven_ai_agent.realtime.benchfiles import find_sites_path, read_bench
from raven_ai_agent.realtime.containers import observe
from raven_ai_agent.realtime.diagnose import diagnose
from raven_ai_agent.realtime.monitoring import check_row
from raven_ai_agent.realtime.resolve import resolve


def main(bench: str, site: str, told: str | None = None) -> None:
	config = resolve(site, *read_bench(find_sites_path(bench), site), environment=os.environ)
	report = diagnose(config, site_wide=True, timeout=8, runtime=observe())
	row = check_row(report)
	decision = decide(told, bool(row["ok"]), None, datetime.now())
	print(json.dumps({"row": row, "alert": decision.alert, "state": decision.state, "report": report}))


if __name__ == "__main__":
	main(*sys.argv[1:])
