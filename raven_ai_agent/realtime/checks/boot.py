"""The `boot_context` check: the context a page was handed is the one the site resolves now.

A page keeps the `frappe.boot.raven_realtime` it loaded with; after a change of host_name, a
port or a setting, an open page (or a boot an app caches per user) still points browsers at
the old place. The settings form sends its own tab's context with Run Diagnosis.
"""

from raven_ai_agent.realtime import hints
from raven_ai_agent.realtime.checks import BOOT_CONTEXT, Check, Run, failed, passed, skipped


def check_boot_context(run: Run) -> list[Check]:
	handed = run.handed_context
	if handed is None:
		return [
			skipped(BOOT_CONTEXT, "skipped: no page's context to compare (Run Diagnosis sends its tab's)")
		]
	fresh = run.config.get_frontend_context()
	if not isinstance(handed, dict):
		return [failed(BOOT_CONTEXT, "the page has no realtime context in its boot", hints.BOOT_MISSING_HINT)]
	changed = [key for key in fresh if handed.get(key) != fresh[key]]
	if not changed:
		return [passed(BOOT_CONTEXT, "the page's boot context is the one the site resolves now")]
	differences = "; ".join(f"{key}: {handed.get(key)!r} -> {fresh[key]!r}" for key in changed)
	detail = f"the page was handed an older context ({differences})"
	return [failed(BOOT_CONTEXT, detail, hints.stale_boot_hint(run.config.site_name))]
