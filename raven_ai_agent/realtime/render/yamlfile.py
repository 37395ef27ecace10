"""YAML output of the Traefik and ngrok renders."""

import yaml


def dump(header: str, data) -> str:
	"""YAML with a leading comment block; never wrapped, so labels stay on one line."""
	comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
	return comment + yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=10_000)
