"""Docker compose files as the audits read them: each service's environment, command and
extra_hosts, with the line each value is on.

One small reader, so every audit that looks into compose files (stale ports, frappe_docker's
frontend environment) reads them the same way: YAML parsed once (safe loader, no tags run),
environment given as a mapping or as `KEY=VALUE` items, `${VAR:-default}` read as its default.
No I/O beyond the text handed in; no frappe import.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

COMPOSE_NAME = re.compile(r"^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$", re.IGNORECASE)
# ${VAR:-default} / ${VAR-default}: the value compose uses when VAR is unset.
_DEFAULTED = re.compile(r"^\$\{[A-Za-z_]\w*:?-(?P<default>[^}]*)\}$")
_UNRESOLVED = re.compile(r"^\$\{[^}]*\}$")


@dataclass(frozen=True)
class Value:
	"""A value of a compose file and the line it is on (1-based)."""

	text: str | None  # None: set from the shell's environment with no default (unknown here)
	line: int


@dataclass(frozen=True)
class Service:
	"""One service of a compose file, as far as the audits need it."""

	name: str
	line: int
	environment: Mapping[str, Value] = field(default_factory=dict)
	command: str = ""  # command and entrypoint, joined: what the container runs
	extra_hosts: tuple[Value, ...] = ()


def is_compose_file(name: str) -> bool:
	"""compose.yaml, docker-compose.yml, compose.override.yaml, compose.https.yaml, ..."""
	return bool(COMPOSE_NAME.fullmatch(name))


def read_services(text: str) -> dict[str, Service] | None:
	"""The services of a compose file's text; None when it is not YAML with a `services` mapping."""
	try:
		root = yaml.compose(text, Loader=yaml.SafeLoader)
	except yaml.YAMLError:
		return None
	services = _get(root, "services")
	if not isinstance(services, yaml.MappingNode):
		return None
	out = {}
	for key, node in services.value:
		if isinstance(node, yaml.MappingNode) and isinstance(key, yaml.ScalarNode):
			out[key.value] = _service(key.value, key.start_mark.line + 1, node)
	return out


def _service(name: str, line: int, node: yaml.MappingNode) -> Service:
	command = " ".join(_scalars(_get(node, "entrypoint")) + _scalars(_get(node, "command")))
	hosts = _get(node, "extra_hosts")
	extra_hosts: list[Value] = []
	if isinstance(hosts, yaml.SequenceNode):
		extra_hosts = [_value(item.value, item) for item in hosts.value if isinstance(item, yaml.ScalarNode)]
	elif isinstance(hosts, yaml.MappingNode):  # name: address
		extra_hosts = [
			_value(f"{k.value}:{v.value}", v) for k, v in hosts.value if isinstance(v, yaml.ScalarNode)
		]
	return Service(name, line, _environment(_get(node, "environment")), command, tuple(extra_hosts))


def _environment(node) -> dict[str, Value]:
	env: dict[str, Value] = {}
	if isinstance(node, yaml.MappingNode):
		for key, value in node.value:
			if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode):
				env[key.value] = _value(value.value, value)
	elif isinstance(node, yaml.SequenceNode):
		for item in node.value:
			if isinstance(item, yaml.ScalarNode) and "=" in item.value:
				key, _, text = item.value.partition("=")
				env[key.strip()] = _value(text, item)
	return env


def _value(text: str, node) -> Value:
	"""The value compose would use: `${VAR:-default}` is its default, `${VAR}` unknown."""
	text = text.strip()
	match = _DEFAULTED.fullmatch(text)
	if match:
		text = match.group("default")
	elif _UNRESOLVED.fullmatch(text):
		return Value(None, node.start_mark.line + 1)
	return Value(text, node.start_mark.line + 1)


def _get(node, key: str):
	if not isinstance(node, yaml.MappingNode):
		return None
	for k, v in node.value:
		if isinstance(k, yaml.ScalarNode) and k.value == key:
			return v
	return None


def _scalars(node) -> list[str]:
	if isinstance(node, yaml.ScalarNode):
		return [node.value]
	if isinstance(node, yaml.SequenceNode):
		return [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]
	return []
