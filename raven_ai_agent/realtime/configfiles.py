"""Which files of a tree are config files, and their text: what the audits read.

Folders are walked for config-like files (nginx, compose/YAML, JSON, .env, shell scripts,
systemd units, Procfiles, Caddyfiles), skipping node_modules, VCS folders, virtualenvs,
binary files and files over 1 MB; a file named explicitly is always read. No frappe import.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

MAX_FILE_BYTES = 1_000_000
SKIP_DIRS = frozenset(
	{"node_modules", ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}
)
CONFIG_SUFFIXES = frozenset(
	{
		".conf",
		".nginx",
		".yml",
		".yaml",
		".json",
		".env",
		".sh",
		".bash",
		".zsh",
		".service",
		".ini",
		".cfg",
		".toml",
	}
)
CONFIG_NAMES = frozenset({"procfile", "caddyfile", ".env"})
NGINX_DIRS = frozenset({"sites-available", "sites-enabled", "conf.d", "nginx"})


def config_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
	for raw in paths:
		path = Path(raw)
		if path.is_file():
			yield path
			continue
		for root, dirs, names in os.walk(path):
			dirs[:] = sorted(
				d for d in dirs if d not in SKIP_DIRS and not (Path(root, d) / "pyvenv.cfg").exists()
			)
			for name in sorted(names):
				candidate = Path(root, name)
				if _is_config_file(candidate) and not candidate.is_symlink():
					yield candidate


def _is_config_file(path: Path) -> bool:
	name = path.name.lower()
	return (
		path.suffix.lower() in CONFIG_SUFFIXES
		or name in CONFIG_NAMES
		or name.startswith((".env.", "procfile"))
		or name.endswith(".env")
		or (path.parent.name.lower() in NGINX_DIRS and "." not in name)
	)


def read_config_text(path: Path) -> str | None:
	"""The file's text, or None for binary, huge or unreadable files."""
	try:
		if path.stat().st_size > MAX_FILE_BYTES:
			return None
		data = path.read_bytes()
	except OSError:
		return None
	if b"\0" in data[:8192]:
		return None
	return data.decode("utf-8", "replace")
