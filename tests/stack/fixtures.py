"""pytest fixtures for the real-services stack.

Enable in tests/conftest.py with `pytest_plugins = ["tests.stack.fixtures"]`.
"""

import pytest

from .services import PROFILES, BlackHole, Nginx, RedisServer
from .stack import Stack


@pytest.fixture(scope="session")
def redis_server():
	"""One redis-server for the session (tests that need a private one start RedisServer())."""
	with RedisServer() as server:
		yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
	"""Redis + web stand-in + bench + realtime stand-in, shared by a module's tests.

	Shared for speed (a start costs ~1 s); tests must not stop its processes or rely on
	rooms other tests joined. Use `Stack()` directly for a private one."""
	with Stack(tmp_path=tmp_path_factory.mktemp("stack")) as s:
		yield s


@pytest.fixture(scope="module", params=PROFILES)
def profiled_stack(request, tmp_path_factory):
	"""The stack once per Frappe release profile (v15.41, latest v15, v16), shared by a module."""
	with Stack(tmp_path=tmp_path_factory.mktemp("profiled"), profile=request.param) as s:
		yield s


@pytest.fixture
def nginx_factory():
	"""`nginx_factory(conf_body) -> Nginx`, started now, stopped after the test."""
	started = []

	def start(conf_body: str) -> Nginx:
		server = Nginx(conf_body)
		server.__enter__()
		started.append(server)
		return server

	yield start
	for server in reversed(started):
		server.__exit__(None, None, None)


@pytest.fixture
def black_hole():
	"""A TCP port that accepts and never answers."""
	with BlackHole() as hole:
		yield hole
