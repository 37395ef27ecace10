"""The `web_site` check: the web server the realtime service calls back answers as this site.

The realtime service checks a session by calling the web server at the page's origin. A web
server that answers every Host as one site (`bench serve`/`bench start` pin the default site;
a proxy that sends a fixed X-Frappe-Site-Name) checks every site's sessions against that one:
a session of another site then passes, a session of this site comes back Guest. This app's
`get_site_name` says which site answered; without it (the app not installed there, an older
version) the check says it could not tell.
"""

import json

from raven_ai_agent.realtime import hints
from raven_ai_agent.realtime.checks import WEB_SITE, Check, Run, failed, passed, skipped
from raven_ai_agent.realtime.constants import SITE_NAME_PATH
from raven_ai_agent.realtime.failures import describe_failure, snippet
from raven_ai_agent.realtime.hints import docker


def check_web_site(run: Run) -> list[Check]:
	web, headers = run.web_route()
	http = run.http()
	try:
		result = http.request("GET", web.rstrip("/") + SITE_NAME_PATH, headers=headers)
	finally:
		http.close()
	where = f"{web}{SITE_NAME_PATH}"
	if result.error:
		return [skipped(WEB_SITE, f"not checked: {describe_failure(result)}")]
	try:
		answered = json.loads(result.body)["message"] if result.status == 200 else None
	except (ValueError, KeyError, TypeError):
		answered = None
	if not isinstance(answered, str):
		detail = f"not checked: {where} answered HTTP {result.status} {snippet(result.body, 60)!r} (raven_ai_agent not installed on the site that answered?)"
		return [skipped(WEB_SITE, detail)]
	site = run.config.site_name
	if answered == site:
		return [passed(WEB_SITE, f"{web} answers as {site}")]
	detail = (
		f"{web} answers as site {answered!r}, not {site!r}: sessions of {site} are checked against {answered}"
	)
	hint = (
		docker.site_header_hint(run.config, answered)
		if run.docker
		else hints.wrong_site_hint(run.config, web, answered)
	)
	return [failed(WEB_SITE, detail, hint)]
