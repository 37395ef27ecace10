"""What the site's running web process says about itself, read from one Guest page.

Frappe v15 renders `window.dev_server = {{ dev_server }};` into every website page
(templates/base.html) from `frappe.local.dev_server`: the DEV_SERVER of the process that
answered. That is the value the desk acts on, so it beats any guess from how the bench is
started (a Procfile that says `bench serve` while gunicorn actually serves the site).
"""

import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace

from raven_ai_agent.realtime.benchfiles import infer_dev_server
from raven_ai_agent.realtime.clients import DevServer
from raven_ai_agent.realtime.constants import DEV_SERVER_PAGE, SITE_NAME_HEADER
from raven_ai_agent.realtime.failures import describe_failure
from raven_ai_agent.realtime.model import DeploymentType, RavenConfig
from raven_ai_agent.realtime.probe import Deadline, Http

_DEV_SERVER_RE = re.compile(r"window\.dev_server\s*=\s*(\d+)\s*;")


def read_dev_server(http: Http, web: str, headers: Mapping[str, str]) -> tuple[DevServer | None, str]:
	"""(dev_server as the web process at `web` renders it, or None with why it could not be read)."""
	url = web.rstrip("/") + DEV_SERVER_PAGE
	result = http.request("GET", url, headers=dict(headers))
	if result.error:
		return None, f"{url}: {describe_failure(result)}"
	if result.status != 200:
		return None, f"{url} answered HTTP {result.status}"
	found = _DEV_SERVER_RE.search(result.body)
	if found is None:
		return None, f"{url} has no window.dev_server (not a Frappe page)"
	on = int(found.group(1)) != 0
	return DevServer(on, f"window.dev_server = {found.group(1)} on {url}: the running web process"), ""


def local_web(config: RavenConfig) -> tuple[str, dict[str, str]]:
	"""The site's web process on its own port, with the site header a proxy would add."""
	return f"http://127.0.0.1:{config.webserver_port}", {SITE_NAME_HEADER: config.site_name}


def live_dev_server(
	config: RavenConfig, timeout: float, *, external: bool = True, ca_file: str | None = None
) -> tuple[DevServer | None, str]:
	"""(dev_server as the site's running web process renders it, or None and why not).

	The web port first (the process itself), then the public URL (a bench whose web port this
	machine cannot reach, e.g. in a container); all within `timeout`."""
	http = Http(Deadline(timeout), timeout, ca_file)
	routes = [local_web(config)]
	if external:
		routes.append((config.get_external_http_base(), {}))
	failures = []
	for web, headers in routes:
		found, why = read_dev_server(http, web, headers)
		if found is not None:
			return found, ""
		failures.append(why)
	return None, "; ".join(failures)


def site_dev_server(
	config: RavenConfig,
	bench_root: os.PathLike | str | None,
	environ: Mapping[str, str],
	timeout: float,
	*,
	external: bool = True,
	ca_file: str | None = None,
) -> tuple[DevServer, float]:
	"""(dev_server of the site's running web process, the seconds it took to find out).

	For code that is not that web process (the CLI, a bench command, a background job): the
	site's own page says it; when no page answers, it is guessed from the environment and the
	bench's files (benchfiles.infer_dev_server), and the source says why it is a guess."""
	start = time.monotonic()
	found, why = live_dev_server(config, timeout, external=external, ca_file=ca_file)
	if found is None:
		guess = infer_dev_server(bench_root, environ, config.deployment_type is DeploymentType.LOCAL)
		found = replace(guess, source=f"{guess.source}; the running site could not be asked: {why}")
	return found, time.monotonic() - start
