"""Test-wide set-up: the Frappe stand-in on sys.path, and the real-services fixtures.

The stand-in (tests/frappe_standin/frappe) is importable as `frappe` in tests only; the
package never ships it, and the core is proven importable without it.
"""

import sys
from pathlib import Path

STANDIN = Path(__file__).resolve().parent / "tests" / "frappe_standin"
if str(STANDIN) not in sys.path:
	sys.path.insert(0, str(STANDIN))

pytest_plugins = ["tests.stack.fixtures"]
