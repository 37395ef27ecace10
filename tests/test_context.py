"""The connection context: the server's check agrees with the browser's on one shared table,
and every context the resolver builds passes it."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raven_ai_agent.realtime.context import ContextError, check_context
from raven_ai_agent.realtime.resolve import resolve
from tests.recorded import FIXTURES

TABLE = json.loads((FIXTURES / "contexts.json").read_text())


@pytest.mark.parametrize("case", TABLE["valid"], ids=lambda c: c["name"])
def test_valid_contexts_pass(case):
	assert check_context(case["context"]) is case["context"]


@pytest.mark.parametrize("case", TABLE["invalid"], ids=lambda c: c["name"])
def test_invalid_contexts_name_their_key(case):
	with pytest.raises(ContextError) as error:
		check_context(case["context"])
	assert error.value.key == case["key"]
	assert str(error.value).startswith(f"context {case['key']}: ")


hosts = st.sampled_from(
	[
		"erp.example.com",
		"https://erp.example.com",
		"http://10.0.0.5:8080",
		"raven.localhost",
		"abc.ngrok-free.app",
		"[::1]",
		"ERP.Example.COM:8443",
	]
)


@settings(max_examples=200, deadline=None)
@given(
	site=st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True).filter(lambda s: ".." not in s),
	host=hosts,
	deployment=st.sampled_from([None, "vps_prod", "sandbox", "local"]),
	port=st.integers(1, 65535),
)
def test_every_resolved_context_passes(site, host, deployment, port):
	config = resolve(site, {"host_name": host}, {"socketio_port": port}, {"deployment_type": deployment})
	check_context(config.get_frontend_context())
