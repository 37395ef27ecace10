app_name = "raven_ai_agent"
app_title = "Raven AI Agent"
app_publisher = "raven_ai_agent developers"
app_description = (
	"Makes Raven's realtime (Socket.IO) path work the same on every deployment, and says why when it doesn't"
)
app_email = "dev@raven-ai-agent.invalid"
app_license = "mit"
# No required_apps: Frappe is always installed, and install-app resolves every bare name in
# that list with a request to GitHub (installer.parse_app_name -> find_org), which fails offline.

# Includes in <head>
# ------------------
# Served raw from public/js (no build step). Only what every desk page needs: the field reports
# (which send nothing unless a System Manager turned them on) and `raven_realtime.load()`, which
# fetches the connection helper (raven_realtime.js) when something asks for it. The settings
# form loads the diagnosis renderer and the history charts itself (benchmarks/bench_page.py
# measures what a page load costs).
app_include_js = ["/assets/raven_ai_agent/js/raven_realtime_desk.js"]

# Boot
# ----
# extend_bootinfo, not boot_session: Frappe caches boot_session's output per user until a
# clear-cache, while extend_bootinfo runs on every page load, so a changed host_name or port
# never leaves browsers with a stale realtime context.
extend_bootinfo = "raven_ai_agent.boot.extend_bootinfo"

# Installation
# ------------
after_install = "raven_ai_agent.install.after_install"

# Scheduled checks
# ----------------
# A tick every 5 minutes (the shortest Check Interval); monitor.run_scheduled_check decides from
# the settings whether a check is due, so "Off" costs one cached read per tick.
scheduler_events = {
	"cron": {
		"*/5 * * * *": ["raven_ai_agent.monitor.run_scheduled_check"],
	},
}

# Log Settings adds this row on its daily clean-up; an operator changes the days there.
default_log_clearing_doctypes = {"Raven Realtime Check": 30}
