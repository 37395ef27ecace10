"""nginx config files read as nginx reads them: directives with file:line, includes followed.

A small tokenizer of nginx's grammar (ngx_conf_read_token): tokens are separated by blanks,
a directive ends at `;`, a block opens at `{` and closes at `}`; `#` starts a comment only at
the start of a token; quoted strings (`"..."`, `'...'`) keep blanks, `;`, `{` and `#`; `\\`
escapes the next character; `${name}` is a variable, not a block. Line breaks mean nothing, so a
compact file (several directives, or a block and its directives, on one line) reads the same as
one written one directive per line.

Why not `crossplane` (PyPI 0.5.8, evaluated): it lexes quotes, comments and line numbers right,
but it reads only from a path (the audits also read text), resolves a relative `include` against
the including file's folder where nginx uses its prefix (a site file in sites-enabled/ includes
`snippets/x.conf` relative to /etc/nginx), and has had no release since 2022. The grammar is
small enough to follow here, with the error messages naming file and line.

Also here: nginx's location matching order (which location serves a URI) and the inheritance
of array directives such as `proxy_set_header` (a level that sets any drops all inherited).
"""

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from raven_ai_agent.realtime.configsyntax import ConfigSyntaxError

MAX_INCLUDE_DEPTH = 16


class NginxSyntaxError(ConfigSyntaxError):
	"""A file the server itself would refuse: `file:line: what`."""


@dataclass(frozen=True)
class Token:
	value: str  # unquoted, escapes applied
	raw: str  # as written
	line: int
	word: bool = True  # False for the punctuation `;`, `{`, `}`


@dataclass
class Directive:
	"""One directive: `name args;` or `name args { block }`, where it is written."""

	name: str
	args: tuple[str, ...]
	file: str
	line: int
	raw: tuple[str, ...] = ()  # name and args as written (quotes kept)
	block: list["Directive"] | None = None
	parent: "Directive | None" = field(default=None, repr=False, compare=False)

	@property
	def text(self) -> str:
		"""The directive as written, blanks collapsed: `proxy_read_timeout 30s;`, `location /x {`."""
		return " ".join(self.raw or (self.name, *self.args)) + (" {" if self.block is not None else ";")

	@property
	def where(self) -> str:
		return f"{self.file}:{self.line}"

	def children(self, name: str | None = None) -> list["Directive"]:
		return [d for d in self.block or () if name is None or d.name == name]

	def ancestors(self) -> list["Directive"]:
		"""The enclosing blocks, outermost first."""
		chain = []
		node = self.parent
		while node is not None:
			chain.append(node)
			node = node.parent
		return chain[::-1]


# ---- tokenizer -----------------------------------------------------------------------------

_BLANK = " \t\r\n"
_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", '"': '"', "'": "'", "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(raw: str) -> str:
	"""nginx's escapes: \\" \\' \\\\ \\t \\r \\n; any other backslash stays (regexes keep `\\.`)."""
	return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw)


def tokenize(text: str, file: str = "<text>") -> Iterator[Token]:
	"""Words, and the punctuation `;`, `{`, `}` (word=False), each with its line."""
	i, n, line = 0, len(text), 1
	while i < n:
		ch = text[i]
		if ch in _BLANK:
			line += ch == "\n"
			i += 1
		elif ch == "#":
			end = text.find("\n", i)
			i = n if end < 0 else end
		elif ch in ";{}":
			yield Token(ch, ch, line, word=False)
			i += 1
		elif ch in "\"'":
			j = i + 1
			while j < n and text[j] != ch:
				j += 2 if text[j] == "\\" else 1
			if j >= n:
				raise NginxSyntaxError(file, line, f"unterminated {ch}quoted string{ch}")
			if j + 1 < n and text[j + 1] not in _BLANK + ";{)":
				raise NginxSyntaxError(file, line, f'unexpected "{text[j + 1]}" after a quoted string')
			yield Token(_unescape(text[i + 1 : j]), text[i : j + 1], line)
			line += text.count("\n", i, j)
			i = j + 1
		else:
			j = i
			while j < n:
				c = text[j]
				if c == "{" and j > i and text[j - 1] == "$":
					j += 1  # ${name}: a variable, not a block
				elif c in _BLANK or c in ";{":
					break
				else:
					j += 2 if c == "\\" else 1
			j = min(j, n)
			yield Token(_unescape(text[i:j]), text[i:j], line)
			line += text.count("\n", i, j)
			i = j


def parse_text(text: str, file: str = "<text>") -> list[Directive]:
	"""The directives of one file, blocks nested; includes are left as they are."""
	root: list[Directive] = []
	stack: list[tuple[list[Directive], Directive | None]] = [(root, None)]
	words: list[Token] = []
	for token in tokenize(text, file):
		if token.word:
			words.append(token)
			continue
		body, parent = stack[-1]
		if token.value == "}":
			if words:
				raise NginxSyntaxError(file, token.line, f'unexpected "}}" after "{words[-1].raw}"')
			if parent is None:
				raise NginxSyntaxError(file, token.line, 'unexpected "}"')
			stack.pop()
			continue
		if not words:
			raise NginxSyntaxError(file, token.line, f'unexpected "{token.value}"')
		directive = Directive(
			words[0].value,
			tuple(w.value for w in words[1:]),
			file,
			words[0].line,
			tuple(w.raw for w in words),
			[] if token.value == "{" else None,
			parent,
		)
		body.append(directive)
		words = []
		if directive.block is not None:
			stack.append((directive.block, directive))
	if words:
		raise NginxSyntaxError(
			file, words[-1].line, f'unexpected end of file after "{words[-1].raw}", expecting ";"'
		)
	if len(stack) > 1:
		opened = stack[-1][1]
		raise NginxSyntaxError(file, opened.line, f'"{opened.text}" is never closed (unexpected end of file)')
	return root


# ---- files and includes ------------------------------------------------------------------------


@dataclass
class NginxConfig:
	"""A file's directives with its includes spliced in, and every file that went into it."""

	directives: list[Directive]
	files: list[str]
	missing_includes: list[Directive]

	def walk(self) -> Iterator[Directive]:
		yield from walk(self.directives)


def walk(directives: list[Directive]) -> Iterator[Directive]:
	"""Every directive, depth first in file order."""
	for d in directives:
		yield d
		if d.block:
			yield from walk(d.block)


def nginx_prefix(path: Path) -> Path:
	"""Where nginx resolves a relative `include` for this file: the folder of the nginx.conf
	that (by the usual layout: sites-enabled/, conf.d/ beside it) includes it, else the file's own."""
	for folder in [path.parent, *path.parent.parents][:3]:
		if (folder / "nginx.conf").is_file():
			return folder
	return path.parent


def load(path: Path, text: str | None = None, prefix: Path | None = None) -> NginxConfig:
	"""Parse `path` (or `text` as that file) and follow its includes, as nginx does: a relative
	pattern is taken from `prefix`, a glob's files in sorted order, a missing plain file is kept
	as a missing include."""
	prefix = prefix or nginx_prefix(path)
	if text is None:
		text = _read(path)
	config = NginxConfig([], [str(path)], [])
	config.directives = _splice(parse_text(text, str(path)), prefix, config, [str(path)])
	return config


def _read(path: Path) -> str:
	try:
		return path.read_bytes().decode("utf-8", "replace")
	except OSError as e:
		raise NginxSyntaxError(str(path), 0, f"cannot read: {e.strerror or e}") from None


def _splice(
	directives: list[Directive], prefix: Path, config: NginxConfig, chain: list[str]
) -> list[Directive]:
	out: list[Directive] = []
	for d in directives:
		if d.block is not None:
			d.block = _splice(d.block, prefix, config, chain)
		if d.name != "include" or len(d.args) != 1:
			out.append(d)
			continue
		pattern = d.args[0] if os.path.isabs(d.args[0]) else str(prefix / d.args[0])
		names = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
		if not glob.has_magic(pattern) and not os.path.isfile(pattern):
			config.missing_includes.append(d)
			out.append(d)
			continue
		for name in names:
			if name in chain or len(chain) > MAX_INCLUDE_DEPTH:
				raise NginxSyntaxError(d.file, d.line, f"include loop through {name}")
			included = parse_text(_read(Path(name)), name)
			for child in included:
				child.parent = d.parent
			config.files.append(name)
			out.extend(_splice(included, prefix, config, [*chain, name]))
	return out


# ---- locations -----------------------------------------------------------------------------------

LOCATION_MODIFIERS = ("=", "^~", "~", "~*")


def location_match(directive: Directive) -> tuple[str, str]:
	"""(modifier, pattern) of a `location`: `location = /x`, `location ~* \\.php$`, `location /x`."""
	args = directive.args
	if len(args) >= 2 and args[0] in LOCATION_MODIFIERS:
		return args[0], args[1]
	arg = args[0] if args else ""
	for modifier in ("^~", "~*", "=", "~"):  # nginx also reads `location =/x` and `location ~*\.php`
		if arg.startswith(modifier) and len(arg) > len(modifier):
			return modifier, arg[len(modifier) :]
	return "", arg


def serving_location(container: list[Directive], uri: str) -> Directive | None:
	"""The location nginx picks for `uri` among `container`'s (a server block's) locations:
	an exact `=` match; else the longest prefix, whose nested locations are searched first; then,
	unless that prefix is `^~`, the first regex (`~`, `~*`) in file order, nested ones included."""
	found, _ = _find(container, uri)
	return found


def _find(container: list[Directive], uri: str) -> tuple[Directive | None, bool]:
	locations = [d for d in container if d.name == "location" and d.block is not None]
	regexes, prefixes = [], []
	for loc in locations:
		modifier, pattern = location_match(loc)
		if modifier == "=" and pattern == uri:
			return loc, True
		if modifier in ("~", "~*"):
			regexes.append((loc, modifier, pattern))
		elif modifier in ("", "^~") and not pattern.startswith("@") and uri.startswith(pattern):
			prefixes.append((len(pattern), loc, modifier))
	chosen, noregex = None, False
	if prefixes:
		_, chosen, modifier = max(prefixes, key=lambda p: p[0])
		noregex = modifier == "^~"
		nested, done = _find(chosen.block or [], uri)
		if done:
			return nested, True
		chosen = nested or chosen
	if not noregex:
		for loc, modifier, pattern in regexes:
			try:
				matched = re.search(pattern, uri, re.IGNORECASE if modifier == "~*" else 0)
			except re.error:
				continue  # a PCRE-only pattern: it cannot be judged here
			if matched:
				nested, _ = _find(loc.block or [], uri)
				return nested or loc, True
	return chosen, False


def servers(config_directives: list[Directive]) -> list[list[Directive]]:
	"""The blocks whose locations compete for a request: every `server`, and the file's top level
	when it holds locations itself (a fragment meant for inclusion in a server)."""
	out = [
		d.block for d in walk(config_directives) if d.name == "server" and d.block is not None and _in_http(d)
	]
	if any(d.name == "location" for d in config_directives):
		out.append(config_directives)
	return out


def _in_http(server: Directive) -> bool:
	"""A `server` of http (not of an `upstream`, whose `server` lines are addresses)."""
	return server.parent is None or server.parent.name in ("http",)


def levels(location: Directive) -> list[Directive | None]:
	"""The levels a location inherits from, outermost first: top level (None), http, server,
	enclosing locations, and the location itself (`if` blocks are conditional: left out)."""
	return [None, *(a for a in location.ancestors() if a.name != "if"), location]


def level_directives(level: Directive | None, top: list[Directive], name: str) -> list[Directive]:
	body = top if level is None else level.block or []
	return [d for d in body if d.name == name]


def effective(location: Directive, top: list[Directive], name: str) -> list[Directive]:
	"""The `name` directives in force in `location`: those of the innermost level that sets any
	(nginx merges array directives such as proxy_set_header this way: no level adds to another)."""
	for level in reversed(levels(location)):
		found = level_directives(level, top, name)
		if found:
			return found
	return []
