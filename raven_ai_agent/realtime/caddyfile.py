"""Caddyfiles read by Caddy's token grammar: site blocks, handle/route, reverse_proxy options.

Caddy's lexer: tokens are separated by blanks; a line break ends a directive; `"..."` (with
`\\"`) and backquoted tokens keep blanks and may span lines; `#` at the start of a token
comments out the rest of the line; a `{` ending a directive opens its block and a `}` closes it.
A Caddyfile with a single site may leave out the site's braces.
"""

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field

from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError


class CaddySyntaxError(ConfigSyntaxError):
	"""A file the server itself would refuse: `file:line: what`."""


@dataclass
class Node:
	"""One directive (or site block, matcher definition, option) where it is written."""

	name: str
	args: tuple[str, ...]
	file: str
	line: int
	raw: tuple[str, ...] = ()
	block: list["Node"] | None = None
	parent: "Node | None" = field(default=None, repr=False, compare=False)

	@property
	def text(self) -> str:
		return " ".join(self.raw or (self.name, *self.args)) + (" {" if self.block is not None else "")

	def ancestors(self) -> list["Node"]:
		chain, node = [], self.parent
		while node is not None:
			chain.append(node)
			node = node.parent
		return chain[::-1]


@dataclass(frozen=True)
class _Token:
	value: str
	raw: str
	line: int
	end_line: int


def _tokens(text: str, file: str) -> Iterator[_Token]:
	i, n, line = 0, len(text), 1
	while i < n:
		ch = text[i]
		if ch in " \t\r\n":
			line += ch == "\n"
			i += 1
		elif ch == "#":
			end = text.find("\n", i)
			i = n if end < 0 else end
		elif ch in '"`':
			j, value = i + 1, []
			while j < n and text[j] != ch:
				if ch == '"' and text[j] == "\\" and j + 1 < n and text[j + 1] == '"':
					j += 1
				value.append(text[j])
				j += 1
			if j >= n:
				raise CaddySyntaxError(file, line, f"unterminated {ch}quoted{ch} token")
			yield _Token("".join(value), text[i : j + 1], line, line + text.count("\n", i, j))
			line += text.count("\n", i, j)
			i = j + 1
		else:
			j = i
			while j < n and text[j] not in " \t\r\n":
				j += 1
			yield _Token(text[i:j], text[i:j], line, line)
			i = j


def parse(text: str, file: str = "Caddyfile") -> list[Node]:
	"""The top level: site blocks (and the global options block, snippets) with their directives."""
	lines: list[list[_Token]] = []
	for token in _tokens(text, file):
		if lines and lines[-1][-1].end_line == token.line:
			lines[-1].append(token)
		else:
			lines.append([token])
	root: list[Node] = []
	stack: list[tuple[list[Node], Node | None]] = [(root, None)]
	for words in lines:
		body, parent = stack[-1]
		if [w.raw for w in words] == ["}"]:
			if parent is None:
				raise CaddySyntaxError(file, words[0].line, 'unexpected "}"')
			stack.pop()
			continue
		early = next((w for w in words[:-1] if w.raw == "{"), None)
		if early is not None:
			raise CaddySyntaxError(file, early.line, "unexpected next token after '{' on same line")
		opens = words[-1].raw == "{"
		line = words[0].line
		if opens:
			words = words[:-1]
		node = Node(
			words[0].value if words else "",
			tuple(w.value for w in words[1:]),
			file,
			line,
			tuple(w.raw for w in words),
			[] if opens else None,
			parent,
		)
		body.append(node)
		if opens:
			stack.append((node.block, node))
	if len(stack) > 1:
		opened = stack[-1][1]
		raise CaddySyntaxError(file, opened.line, f'"{opened.text}" is never closed')
	if root and root[0].block is None:
		site = root[0]  # one site without braces: the rest of the file is its block
		site.block = root[1:]
		for node in site.block:
			node.parent = site
		root = [site]
	return root


def walk(nodes: list[Node]) -> Iterator[Node]:
	for node in nodes:
		yield node
		if node.block:
			yield from walk(node.block)


def _matches(pattern: str, path: str) -> bool:
	return pattern == "*" or fnmatch.fnmatchcase(path.lower(), pattern.lower())


def serves(node: Node, path: str) -> tuple[bool, bool]:
	"""(takes requests for `path`, by a path matcher that names it rather than a catch-all), for a
	directive judged with the matchers of the blocks around it (handle, route, handle_path)."""
	named = False
	site = node.ancestors()[0] if node.ancestors() else None
	for level in [*node.ancestors()[1:], node]:
		token = level.args[0] if level.args else ""
		if token.startswith("/") or token == "*":
			if not _matches(token, path):
				return False, False
			named = named or token != "*"
		elif token.startswith("@") and site is not None:
			paths = _named_paths(site, token)
			if paths is not None:
				if not any(_matches(p, path) for p in paths):
					return False, False
				named = True
	return True, named


def _named_paths(site: Node, name: str) -> list[str] | None:
	"""The path patterns of a named matcher (`@ws path /socket.io/*` or a block with `path`);
	None when it matches on something else only (taken as matching)."""
	for node in site.block or ():
		if node.name == name:
			if node.args[:1] == ("path",):
				return list(node.args[1:])
			paths = [p for child in node.block or () if child.name == "path" for p in child.args]
			return paths or None
	return None


def serving_proxies(nodes: list[Node], path: str) -> list[Node]:
	"""The reverse_proxy directives that serve `path`: those a path matcher sends it to, else the
	catch-all ones (Caddy tries the more specific handle first)."""
	found = [(n, serves(n, path)) for n in walk(nodes) if n.name == "reverse_proxy"]
	named = [n for n, (ok, by_name) in found if ok and by_name]
	return named or [n for n, (ok, _) in found if ok]
