"""The real bench for the acceptance suite: built (or taken from the cache) and started once a session.

Every test below this folder is marked `bench`: `pytest -m "not bench"` is the fast suite,
`pytest -m bench` this one. A machine that cannot build the bench fails these tests with what
is missing; nothing here is ever skipped.
"""

from pathlib import Path

import pytest

from .build import build
from .session import RealBench

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
	for item in items:
		if Path(str(item.path)).is_relative_to(HERE):
			item.add_marker(pytest.mark.bench)


@pytest.fixture(scope="session")
def real_bench():
	"""The bench as supervisor runs it: gunicorn (no DEV_SERVER), the realtime service, a worker."""
	build()
	with RealBench() as bench:
		print(f"\nrealbench: session set-up {bench.timings}")
		yield bench


@pytest.fixture
def admin(real_bench):
	"""Administrator's logged-in HTTP session with the desk's CSRF token."""
	return real_bench.login()
