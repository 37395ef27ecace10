"""Which files of a tree are config files, and their text: what the audits read.

Folders are walked for config-like files (nginx, compose/YAML, JSON, .env, shell scripts,
systemd units, Procfiles, Caddyfiles), skipping node_modules, VCS folders, virtualenvs,
binary files and files over 1 MB; a file named explicitly is always read. No frappe import.
"""

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from raven_ai_agent.realtime.nginxconf import NginxConfig, load

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


# ---- what each file is, read by its own format's reader ------------------------------------------

# An nginx block opening: what makes a `.conf` (or an extensionless file in sites-enabled/) nginx
# rather than INI, Redis or supervisor.
# A statement starts a line or follows `;`, `{` or `}`; its `{` may come on a later line.
_NGINX_BLOCK = re.compile(r"(?m)(?:^|[;{}])\s*(?:server|location|upstream|http|map|events)\b[^;{}#]*\{")
_CADDY_WORDS = re.compile(r"(?m)^\s*(?:reverse_proxy|handle|handle_path|route)\b")


def config_kind(file: str, text: str) -> str:
	"""nginx, caddy, yaml, toml, json or text (read line by line): by name, then by content."""
	path = Path(file)
	name, suffix = path.name.lower(), path.suffix.lower()
	if name.startswith("caddyfile") or suffix in (".caddy", ".caddyfile"):
		return "caddy"
	if suffix in (".yml", ".yaml"):
		return "yaml"
	if suffix == ".toml":
		return "toml"
	if suffix == ".json":
		return "json"
	if suffix in (".env", ".sh", ".bash", ".zsh", ".service", ".ini", ".cfg", ".md") or name.startswith(
		(".env", "procfile")
	):
		return "text"
	if _NGINX_BLOCK.search(text):
		return "nginx"
	if _CADDY_WORDS.search(text):
		return "caddy"
	return "text"


@dataclass
class ConfigFile:
	"""One file to audit: its text, its kind, and for nginx its directives with includes followed."""

	path: Path
	text: str
	kind: str
	nginx: NginxConfig | None = None


def read_configs(paths: Iterable[str | os.PathLike]) -> list[ConfigFile]:
	"""Every config file under `paths`, nginx files parsed (NginxSyntaxError names the file and
	line nginx would refuse). A file that another one includes is read as part of it, not alone:
	its locations inherit from the includer's server and http."""
	files = []
	for path in config_files(paths):
		text = read_config_text(path)
		if text is not None:
			kind = config_kind(str(path), text)
			files.append(ConfigFile(path, text, kind, load(path, text) if kind == "nginx" else None))
	included = {os.path.realpath(f) for c in files if c.nginx for f in c.nginx.files[1:]}
	return [c for c in files if not (c.nginx and os.path.realpath(c.path) in included)]
