"""What the real bench is built from, and where it is cached.

The bench is rebuilt whenever anything here (or the build recipe) changes: the cache key is a
hash of these inputs and of build.py's own text.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# ../shared/vendor beside the checkout: the upstream source archives for machines without GitHub.
VENDOR = Path(os.environ.get("RAVEN_BENCH_VENDOR", REPO_ROOT.parent / "shared" / "vendor"))

SITE = "realtime.test"
# A second site on the same bench: multi-site routing, and the "other bench" of issue 23 is
# the same code with another Redis.
OTHER_SITE = "other.test"
ADMIN_PASSWORD = "admin"
DB_ROOT_PASSWORD = "raven-bench-root"
BENCH_USER = "raven-bench"
# bench 5.x: the newest release on PyPI when this was written; it wants setuptools>=83, so it
# gets a venv of its own (not the bench's env).
BENCH_CLI = "frappe-bench==5.31.1"
YARN = "yarn@1.22.22"
# Raven 2.6.4 declares unpinned dependencies that upgrade packages past what Frappe 15.41 imports.
BENCH_ENV_PINS = ("setuptools<81", "pydantic==2.12.5", "python-dateutil==2.9.0.post0")


@dataclass(frozen=True)
class Source:
	"""One upstream source archive: `git archive` of a tag or commit, one top-level folder."""

	name: str  # the app's folder name on the bench (frappe, raven) or the npm package
	repo: str  # upstream, for machines with GitHub
	ref: str  # tag or commit
	archive: str  # file name in VENDOR
	sha256: str


FRAPPE = Source(
	"frappe",
	"https://github.com/frappe/frappe",
	"v15.41.0",
	"frappe-v15.41.0.tar.gz",
	"60c8ec98c890ae9e861cf787a2eb9adb32e0b838bda171912d3df94f8b6e61e8",
)
RAVEN = Source(
	"raven",
	"https://github.com/The-Commit-Company/raven",
	"v2.6.4",
	"raven-v2.6.4.tar.gz",
	"01ddb25964b5d061b5f36ff2c386c919d087f7fdc7d14ebe4cc2492d317c092a",
)
# Frappe's yarn.lock takes air-datepicker as GitHub's tarball of this commit; yarn 1 finds it in
# its offline mirror under the bare commit hash.
AIR_DATEPICKER = Source(
	"air-datepicker",
	"https://github.com/frappe/air-datepicker",
	"ed37b94d95c68d8544357e330be0c89d044a3eea",
	"air-datepicker-ed37b94d95c68d8544357e330be0c89d044a3eea.tar.gz",
	"d9cd005f3fe9f4579ef9acc5dd4c2782a7443d20184d95a0d9286e65a33ecbc1",
)
SOURCES = (FRAPPE, RAVEN, AIR_DATEPICKER)


def cache_root() -> Path:
	"""Outside the repo: RAVEN_BENCH_CACHE, else /var/cache/raven_ai_agent (root) or the user's cache."""
	if os.environ.get("RAVEN_BENCH_CACHE"):
		return Path(os.environ["RAVEN_BENCH_CACHE"])
	if os.geteuid() == 0:
		return Path("/var/cache/raven_ai_agent")
	return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "raven_ai_agent"


def cache_key() -> str:
	"""Changes when a version, an archive, a pin or the recipe changes."""
	h = hashlib.sha256()
	for src in SOURCES:
		h.update(f"{src.name} {src.ref} {src.sha256}\n".encode())
	h.update(f"{BENCH_CLI} {YARN} {SITE} {OTHER_SITE} {' '.join(BENCH_ENV_PINS)}\n".encode())
	here = Path(__file__).resolve().parent
	for recipe in ("build.py", "inputs.py"):
		h.update((here / recipe).read_bytes())
	return h.hexdigest()[:16]


def bench_home() -> Path:
	"""The cached build for the current inputs."""
	return cache_root() / f"bench-{cache_key()}"
