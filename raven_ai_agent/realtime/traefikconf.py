"""Traefik settings from its YAML and TOML dynamic files and Docker labels, with their lines.

Each setting is a key path (`http.middlewares.rt.headers.customRequestHeaders.Origin`) and a
value, where it is written. YAML goes through PyYAML's composer, whose nodes carry marks; a
compose file's labels (list `- traefik.a.b=v` or map `traefik.a.b: v`) are split into the same
paths. TOML goes through tomllib (tomli before Python 3.11), which has no positions: each
statement is located by growing a chunk of lines from its first line until tomllib accepts it,
so the key path of that line is the parser's own reading (quoting, dotted keys, multi-line
values), never a guess from the text.
"""

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError

if sys.version_info >= (3, 11):
	import tomllib
else:  # pragma: no cover - Python 3.10 (Frappe v15's floor)
	import tomli as tomllib


@dataclass(frozen=True)
class Setting:
	"""One value where it is written: its key path (a label's own key split at the dots), the
	path of the keys around it in the file (a label: the compose service's `labels`), and
	whether it is a list item."""

	path: tuple[str, ...]
	value: str
	file: str
	line: int
	text: str  # `key: value`, `key = value`, or the item / label as written
	where: tuple[str, ...] = ()
	item: bool = False

	def ends_with(self, *keys: str) -> bool:
		tail = tuple(k.lower() for k in self.path[-len(keys) :])
		return tail == tuple(k.lower() for k in keys)


# compose keys whose list is one command line (`["node", "socketio.js", "--port", "<port>"]`).
COMMAND_KEYS = ("command", "entrypoint", "test")


def source_line(text: str, line: int) -> str:
	"""The line a setting stands on, as written (what a finding shows)."""
	lines = text.splitlines()
	return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def yaml_settings(text: str, file: str) -> list[Setting]:
	"""Every scalar of every YAML document, with Traefik labels expanded into key paths."""
	try:
		documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
	except yaml.YAMLError as e:
		mark = getattr(e, "problem_mark", None)
		raise ConfigSyntaxError(file, mark.line + 1 if mark else 0, f"not valid YAML: {e}") from None
	out: list[Setting] = []
	for document in documents:
		if document is not None:
			out.extend(_yaml_walk(document, (), file))
	return out


def _yaml_walk(node: yaml.Node, path: tuple[str, ...], file: str) -> Iterator[Setting]:
	if isinstance(node, yaml.MappingNode):
		for key, value in node.value:
			name = str(key.value)
			if isinstance(value, yaml.ScalarNode):
				yield _scalar((*path, name), str(value.value), file, key.start_mark.line + 1)
			else:
				yield from _yaml_walk(value, (*path, name), file)
	elif isinstance(node, yaml.SequenceNode):
		scalars = [item for item in node.value if isinstance(item, yaml.ScalarNode)]
		for item in node.value:
			if isinstance(item, yaml.ScalarNode):
				yield _scalar(path, str(item.value), file, item.start_mark.line + 1, item=True)
			else:
				yield from _yaml_walk(item, path, file)
		if len(scalars) > 1 and path and path[-1].lower() in COMMAND_KEYS:  # also read as one command line
			joined = " ".join(str(item.value) for item in scalars)
			yield Setting(path, joined, file, scalars[0].start_mark.line + 1, f"{path[-1]}: {joined}", path)


def _scalar(path: tuple[str, ...], value: str, file: str, line: int, item: bool = False) -> Setting:
	if item and value.startswith("traefik.") and "=" in value:
		key, _, label_value = value.partition("=")
		return Setting(tuple(key.split(".")), label_value, file, line, f"- {value}", path, True)
	if not item and path and path[-1].startswith("traefik."):
		return Setting(tuple(path[-1].split(".")), value, file, line, f"{path[-1]}: {value}", path)
	text = f"- {value}" if item else f"{path[-1]}: {value}" if path else value
	return Setting(path, value, file, line, text, path, item)


def toml_settings(text: str, file: str) -> list[Setting]:
	"""Every leaf value of a TOML file, at the line its statement starts on."""
	try:
		tomllib.loads(text)
	except tomllib.TOMLDecodeError as e:
		raise ConfigSyntaxError(file, getattr(e, "lineno", 0), f"not valid TOML: {e}") from None
	lines = text.splitlines()
	out: list[Setting] = []
	table: tuple[str, ...] = ()
	counts: dict[tuple[str, ...], int] = {}
	i = 0
	while i < len(lines):
		stripped = lines[i].strip()
		if not stripped or stripped.startswith("#"):
			i += 1
			continue
		end, parsed = _statement(lines, i)
		if stripped.startswith("["):
			table = _header_path(parsed, stripped.startswith("[["), counts)
		else:
			for path, value in _leaves(parsed, ()):
				full = (*table, *path)
				out.append(Setting(full, str(value), file, i + 1, f"{full[-1]} = {value}", full))
		i = end
	return out


def _statement(lines: list[str], start: int) -> tuple[int, dict]:
	"""The smallest chunk of lines from `start` that tomllib reads: (end, what it read)."""
	for end in range(start + 1, len(lines) + 1):
		try:
			return end, tomllib.loads("\n".join(lines[start:end]))
		except tomllib.TOMLDecodeError:
			continue
	return len(lines), {}


def _header_path(parsed: dict, array: bool, counts: dict) -> tuple[str, ...]:
	path: tuple[str, ...] = ()
	node = parsed
	while isinstance(node, dict) and len(node) == 1:
		((key, node),) = node.items()
		path = (*path, key)
		if isinstance(node, list):
			node = node[-1] if node else {}
	if array:
		counts[path] = counts.get(path, -1) + 1
		return (*path, str(counts[path]))
	return path


def _leaves(value, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
	if isinstance(value, dict):
		for key, item in value.items():
			yield from _leaves(item, (*path, key))
	elif isinstance(value, list):
		for item in value:
			yield from _leaves(item, path)
	else:
		yield path, value


def settings(kind: str, text: str, file: str) -> list[Setting]:
	return (
		yaml_settings(text, file) if kind == "yaml" else toml_settings(text, file) if kind == "toml" else []
	)
