"""The repo's copy of the recorded facts is the project's, byte for byte, where both exist."""

import pytest

from tests.recorded import FIXTURES, SHARED_FIXTURES


def test_the_repo_carries_every_recorded_file():
	names = {p.name for p in FIXTURES.glob("*.json")}
	assert {"frappe-v15.41-realtime-wire.json", "raven-2.6.4-message-events.json"} <= names


@pytest.mark.skipif(not SHARED_FIXTURES.is_dir(), reason="no shared/ beside this clone (a user's clone)")
def test_the_repo_copy_matches_the_shared_originals():
	for original in sorted(SHARED_FIXTURES.glob("*.json")):
		copy = FIXTURES / original.name
		assert copy.is_file(), f"{original.name} is not carried in tests/fixtures/"
		assert copy.read_bytes() == original.read_bytes(), (
			f"tests/fixtures/{original.name} differs from shared/"
		)
