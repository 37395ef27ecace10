"""Fuzzed config through the renderers and a real `nginx -t`.

Whatever the config files, settings and options hold, a renderer either refuses with a
RenderError that says what is allowed, or writes a config that nginx accepts (and YAML that
parses back for Traefik and ngrok). Hundreds of samples go through the real nginx.
"""

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from raven_ai_agent.realtime.render import RenderError, render
from raven_ai_agent.realtime.resolve import resolve
from tests.stack import nginx_test
from tests.test_fuzz_config import config_dicts, settings_dicts, site_names

texts = st.text(max_size=25) | st.from_regex(r"[a-z0-9.:\[\]; {}\"'$`#\n/-]{1,25}", fullmatch=True)
hostish = st.sampled_from(["127.0.0.1", "10.0.0.5", "[::1]", "realtime", "bücher.example"]) | texts
portish = st.integers(-5, 70000).map(str) | texts
upstreams = st.builds(lambda h, p: f"{h}:{p}", hostish, portish) | texts
nginx_options = st.fixed_dictionaries(
	{},
	optional={
		"upstream_host": hostish,
		"upstream": st.lists(upstreams, max_size=3),
		"web_upstream": upstreams,
		"listen": portish | st.builds(lambda h, p: f"{h}:{p}", hostish, portish),
		"name": texts,
		"sticky": st.booleans(),
		"proxy_timeout": st.integers(-10, 100_000),
	},
)
# Plausible options, so that most samples render and reach nginx; hostile ones are above.
sane_ports = st.integers(1, 65535).map(str)
# nginx resolves upstream names when it loads a config; only these resolve in a sandbox.
sane_hosts = st.sampled_from(["127.0.0.1", "10.0.0.5", "172.17.0.1", "[::1]", "localhost"])
sane_options = st.fixed_dictionaries(
	{},
	optional={
		"upstream_host": sane_hosts,
		"upstream": st.lists(st.builds(lambda h, p: f"{h}:{p}", sane_hosts, sane_ports), max_size=3),
		"web_upstream": st.builds(lambda h, p: f"{h}:{p}", sane_hosts, sane_ports),
		"listen": sane_ports
		| st.builds(lambda h, p: f"{h}:{p}", st.sampled_from(["127.0.0.1", "[::1]"]), sane_ports),
		"name": st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
		"sticky": st.booleans(),
		"proxy_timeout": st.integers(46, 3600),
	},
)
sane_sites = st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}(\.[a-z0-9][a-z0-9-]{0,15}){0,3}", fullmatch=True)
FUZZ = settings(
	max_examples=300,
	deadline=None,
	suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


ENVIRONMENT_ONLY = ("host not found in", "(99: Cannot assign requested address)")


def assert_refusal_is_clear(error: RenderError) -> None:
	message = str(error)
	assert message and len(message) > 15, message
	assert "\n" not in message.strip() or "use" in message, message


def nginx_configs(sites):
	"""Any config the files and settings can hold, resolved for an nginx target."""
	return st.builds(
		lambda target, site, site_config, common, overrides: (
			target,
			resolve(site, site_config, common, overrides),
		),
		st.sampled_from(["nginx-vps", "nginx-sandbox"]),
		sites,
		config_dicts,
		config_dicts,
		settings_dicts,
	)


@FUZZ
@given(case=nginx_configs(site_names | sane_sites), options=nginx_options)
def test_nginx_renderers_refuse_hostile_options_or_nginx_accepts(case, options):
	check_rendered_nginx(*case, options)


@FUZZ
@given(case=nginx_configs(sane_sites), options=sane_options)
def test_fuzzed_config_renders_configs_nginx_accepts(case, options):
	"""Plausible sites and options, fuzzed config files and settings: most of these render."""
	check_rendered_nginx(*case, options)


def check_rendered_nginx(target: str, config, options: dict) -> None:
	try:
		text = render(target, config, **options)
	except RenderError as e:
		event(f"refused: {str(e)[:40]}")
		assert_refusal_is_clear(e)
		return
	event("rendered and checked by nginx -t")
	ok, message = nginx_test(text)
	if not ok and any(cause in message for cause in ENVIRONMENT_ONLY):
		# nginx resolves upstream names and binds listen addresses at load time; this sandbox
		# has no DNS and not every address: the syntax passed, the values were validated.
		event("valid, but not resolvable or bindable on this machine")
		return
	assert ok, f"nginx -t refused the rendered config: {message}\n{text}"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
	target=st.sampled_from(["traefik", "ngrok"]),
	site=site_names,
	site_config=config_dicts,
	common=config_dicts,
	overrides=settings_dicts,
	name=st.none() | texts,
	fmt=st.sampled_from(["labels", "file"]),
)
def test_yaml_renderers_refuse_or_parse_back(target, site, site_config, common, overrides, name, fmt):
	config = resolve(site, site_config, common, overrides)
	options = {"name": name} if name is not None else {}
	if target == "traefik":
		options["format"] = fmt
	try:
		text = render(target, config, **options)
	except RenderError as e:
		assert_refusal_is_clear(e)
		return
	data = yaml.safe_load(text)
	assert isinstance(data, (dict, list)), text
