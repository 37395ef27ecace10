"""Checks for every value an operator can type: ports, hosts, base URLs, paths, timeouts.

One module so the settings form, the resolver and the config renderers refuse the same
things with the same words. Each check returns the normalised value or raises
ValueError with a message that says what is allowed.
"""

import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from raven_ai_agent.realtime.constants import (
	DEFAULT_PROBE_TIMEOUT,
	DEFAULT_SOCKETIO_PATH,
	DEFAULT_SOCKETIO_PORT,
	MAX_PROBE_TIMEOUT,
	MIN_PROBE_TIMEOUT,
	unix_socket_url,
)

# Always fullmatch: `$` also matches before a trailing newline, which would let one into a config.
# A socketio path goes into URLs and nginx `location` lines: keep it to URL-safe characters.
# At least one segment: "/" would send every request, the desk's too, to the realtime service.
_PATH_RE = re.compile(r"^/(?:[A-Za-z0-9._~-]+/)+$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Names that end up in proxy configs (nginx upstreams and variables, Traefik routers,
# entrypoints, cert resolvers, ngrok endpoints): no spaces, quotes, ';', '{', '$' or '`'.
# 32 at most: nginx variables are named `<name>_connection` etc., and longer ones overflow
# nginx's default variables_hash_bucket_size (64), which fails `nginx -t`.
MAX_IDENTIFIER_LENGTH = 32
_IDENTIFIER_RE = re.compile(rf"^[A-Za-z][A-Za-z0-9_-]{{0,{MAX_IDENTIFIER_LENGTH - 1}}}$")
# A Frappe site name is a folder under sites/: usually a host name, sometimes with '_'.
_SITE_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$")


@dataclass(frozen=True)
class HostPart:
	"""A host as typed by an operator, split into what a URL needs."""

	scheme: str | None
	host: str  # lower-case; IDNs in their ASCII (punycode) form; IPv6 without brackets
	port: int | None
	dropped: tuple[str, ...] = ()  # parts that were present but have no place in a host

	@property
	def netloc_host(self) -> str:
		"""The host as it appears in a URL (IPv6 in brackets)."""
		return f"[{self.host}]" if ":" in self.host else self.host


def check_port(value: object) -> int:
	"""A TCP port as found in a JSON config: an integer (or digits) from 1 to 65535."""
	if isinstance(value, bool):
		raise ValueError(f"{value!r} is not a port: use a whole number from 1 to 65535")
	if isinstance(value, int):
		port = value
	elif isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
		port = int(value.strip())
	elif isinstance(value, float) and value.is_integer():
		port = int(value)
	else:
		raise ValueError(f"{value!r} is not a port: use a whole number from 1 to 65535")
	if not 1 <= port <= 65535:
		raise ValueError(f"{port} is out of range: use a whole number from 1 to 65535")
	return port


def check_host(value: object) -> str:
	"""A bare host name or IP address (no scheme, port or path); IDNs become punycode."""
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"{value!r} is not a host: use a host name or an IP address")
	host = value.strip().lower()
	if host.startswith("[") and host.endswith("]"):
		host = host[1:-1]
	try:
		return str(ipaddress.ip_address(host))
	except ValueError:
		pass
	host = host.rstrip(".")
	try:
		ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
	except UnicodeError:
		raise ValueError(f"{value!r} is not a valid host name") from None
	labels = ascii_host.split(".")
	if len(ascii_host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
		raise ValueError(
			f"{value!r} is not a valid host name: use letters, digits, '-' and '.', e.g. erp.example.com"
		)
	return ascii_host


def split_host_name(value: object) -> HostPart:
	"""Split Frappe's `host_name`, which operators write as a host or as a URL.

	Frappe accepts `erp.example.com`, `https://erp.example.com` and `http://10.0.0.5:8080`
	alike, so comparisons must happen on the normalised host, never on the raw string.
	Paths, queries and credentials have no meaning here: they are dropped and reported.
	"""
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"{value!r} is not a host name: use e.g. erp.example.com or https://erp.example.com")
	text = value.strip()
	has_scheme = "://" in text
	if not has_scheme and ":" in text and not text.startswith("["):
		try:  # a bare IPv6 literal: its colons are not a port separator
			text = f"[{ipaddress.IPv6Address(text.split('/', 1)[0])}]" + text[len(text.split("/", 1)[0]) :]
		except ValueError:
			pass
	try:
		parts = urlsplit(text if has_scheme else "//" + text)
		port = parts.port
	except ValueError as e:
		raise ValueError(f"{value!r} is not a valid host name ({e})") from None
	scheme = parts.scheme.lower() if has_scheme else None
	if scheme not in (None, "http", "https"):
		raise ValueError(f"{value!r} has scheme {scheme!r}: use http or https")
	if not parts.hostname:
		raise ValueError(f"{value!r} has no host: use e.g. erp.example.com")
	host = check_host(parts.hostname)
	if port == 0:
		raise ValueError(f"{value!r} has port 0: use a port from 1 to 65535")
	dropped = []
	if parts.username is not None or parts.password is not None:
		dropped.append("credentials")
	if parts.path not in ("", "/"):
		dropped.append(f"path {parts.path!r}")
	if parts.query:
		dropped.append(f"query {parts.query!r}")
	if parts.fragment:
		dropped.append(f"fragment {parts.fragment!r}")
	return HostPart(scheme=scheme, host=host, port=port, dropped=tuple(dropped))


def check_base_url(value: object) -> str:
	"""A public origin: `http(s)://host[:port]`, nothing more; returned without a trailing slash."""
	allowed = "use http(s)://host[:port] with no path, query, fragment or credentials"
	if not isinstance(value, str) or "://" not in value:
		raise ValueError(f"{value!r} is not a base URL: {allowed}")
	part = split_host_name(value)
	if part.scheme is None:
		raise ValueError(f"{value!r} is not a base URL: {allowed}")
	if part.dropped:
		raise ValueError(f"{value!r} has {', '.join(part.dropped)}: {allowed}")
	return make_origin(part.scheme, part.netloc_host, part.port)


def make_origin(scheme: str, netloc_host: str, port: int | None) -> str:
	"""`scheme://host[:port]`, leaving out the port the scheme implies."""
	default = 443 if scheme == "https" else 80
	return f"{scheme}://{netloc_host}" if port in (None, default) else f"{scheme}://{netloc_host}:{port}"


def check_socketio_path(value: object) -> str:
	"""The Socket.IO path: starts and ends with '/', URL-safe characters, no '..'."""
	allowed = (
		"it must start and end with '/', name at least one segment and use only letters, digits "
		"and . _ ~ - (e.g. /socket.io/)"
	)
	if not isinstance(value, str) or not _PATH_RE.fullmatch(value) or ".." in value:
		raise ValueError(f"{value!r} is not a valid Socket.IO path: {allowed}")
	return value


def check_timeout(value: object) -> float:
	"""Probe timeout in seconds, within the bounds a diagnosis can honour."""
	try:
		timeout = float(value)  # type: ignore[arg-type]
	except (TypeError, ValueError):
		timeout = float("nan")
	if isinstance(value, bool) or not MIN_PROBE_TIMEOUT <= timeout <= MAX_PROBE_TIMEOUT:
		raise ValueError(
			f"{value!r} is not a valid timeout: use seconds from {MIN_PROBE_TIMEOUT:g} to {MAX_PROBE_TIMEOUT:g}"
		)
	return timeout


def bounded_timeout(value: object) -> tuple[float, str | None]:
	"""The timeout a diagnosis uses for `value`, and a note when that is not `value` itself.

	The one timeout policy: what a person types (the settings form, a CLI flag) goes through
	check_timeout and is refused out of range; the diagnosis itself never refuses (it is
	called from code, or with a value stored behind validation), it takes the nearest
	allowed value, or the default for a non-number, and the report says so.
	"""
	if value is None:
		return DEFAULT_PROBE_TIMEOUT, None
	try:
		return check_timeout(value), None
	except ValueError as e:
		try:
			number = float(value)  # type: ignore[arg-type]
		except (TypeError, ValueError):
			number = float("nan")
		if isinstance(value, bool) or number != number:
			used = DEFAULT_PROBE_TIMEOUT
		else:
			used = min(max(number, MIN_PROBE_TIMEOUT), MAX_PROBE_TIMEOUT)
		return used, f"{e}; used {used:g} s"


_LOG_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]+$")


def check_log_path(value: object) -> str:
	"""An absolute file path for a proxy's access log: safe in a config line (no spaces or `;`)."""
	if not isinstance(value, str) or not _LOG_PATH_RE.fullmatch(value) or "/../" in value + "/":
		raise ValueError(
			f"{value!r} is not a log file path: use an absolute path of letters, digits and . _ - / "
			"(e.g. /var/log/nginx/access.log)"
		)
	return value


# A Unix socket's path: sun_path holds 108 bytes with the terminating NUL.
MAX_UNIX_SOCKET_PATH = 107


def check_unix_socket_path(value: object) -> str:
	"""An absolute path for a Unix socket (socketio_uds): safe in a config line, short enough to bind."""
	if (
		not isinstance(value, str)
		or not _LOG_PATH_RE.fullmatch(value)
		or "/../" in value + "/"
		or len(value.encode()) > MAX_UNIX_SOCKET_PATH
	):
		raise ValueError(
			f"{value!r} is not a Unix socket path: use an absolute path of letters, digits and . _ - / "
			f"of at most {MAX_UNIX_SOCKET_PATH} bytes (e.g. /home/frappe/frappe-bench/config/socketio.sock)"
		)
	return value


MAX_CA_FILE_BYTES = 1_000_000


def check_ca_file(value: object) -> str:
	"""A PEM file of extra CA certificates for the probes: its absolute path.

	Only a path is ever stored, and a file holding a private key is refused: the trust a
	probe needs is the CA's certificate, never its key.
	"""
	allowed = "give the path of a readable PEM file of CA certificates (never a private key)"
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"{value!r} is not a CA file: {allowed}")
	path = os.path.abspath(os.path.expanduser(value.strip()))
	try:
		with open(path, "rb") as f:
			data = f.read(MAX_CA_FILE_BYTES + 1)
	except OSError as e:
		raise ValueError(f"CA file {path}: {e.strerror or e}; {allowed}") from None
	if len(data) > MAX_CA_FILE_BYTES:
		raise ValueError(f"CA file {path} is over {MAX_CA_FILE_BYTES // 1000} kB: {allowed}")
	if b"PRIVATE KEY" in data:
		raise ValueError(f"CA file {path} holds a private key: give the CA's certificate only")
	if b"-----BEGIN CERTIFICATE-----" not in data:
		raise ValueError(f"CA file {path} has no PEM certificate: {allowed}")
	try:
		ssl.create_default_context().load_verify_locations(cafile=path)
	except ssl.SSLError as e:
		raise ValueError(f"CA file {path} cannot be loaded ({e.reason or e}): {allowed}") from None
	return path


def is_local_host(host: str) -> bool:
	"""Hosts that only make sense on a developer's machine or a private network."""
	try:
		ip = ipaddress.ip_address(host)
	except ValueError:
		return host == "localhost" or host.endswith((".localhost", ".local", ".test"))
	return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified


def check_upstream(value: object) -> HostPart:
	"""A `host:port` a proxy forwards to (IPv6 in brackets, `[::1]:PORT`); both parts are required.

	Proxies reach the realtime service on one exact address, so a missing port is an
	error rather than a guess.
	"""
	allowed = f"use host:port, e.g. 127.0.0.1:{DEFAULT_SOCKETIO_PORT} or [::1]:{DEFAULT_SOCKETIO_PORT}"
	if not isinstance(value, str) or not value.strip() or "://" in value or "/" in value or "@" in value:
		raise ValueError(f"{value!r} is not an upstream: {allowed}")
	try:
		parts = urlsplit("//" + value.strip())
		port = parts.port
	except ValueError as e:
		raise ValueError(f"{value!r} is not an upstream ({e}): {allowed}") from None
	if port is None or not parts.hostname or parts.query or parts.fragment:
		raise ValueError(f"{value!r} is not an upstream: {allowed}")
	return HostPart(scheme=None, host=check_host(parts.hostname), port=check_port(port))


def check_realtime_address(value: object) -> str:
	"""The realtime service's internal address, as an operator types it: `host:port` (a container's
	service name too, `websocket:<port>`), `http://host:port`, or a Unix socket path (`/path.sock`,
	`unix:/path.sock`). Returns the probes' URL form: `http://host:port` or constants.unix_socket_url."""
	allowed = (
		f"use host:port (e.g. websocket:{DEFAULT_SOCKETIO_PORT} or 127.0.0.1:{DEFAULT_SOCKETIO_PORT}), "
		"http://host:port, or a Unix socket path (/home/frappe/frappe-bench/config/socketio.sock)"
	)
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"{value!r} is not a realtime address: {allowed}")
	text = value.strip()
	if text.startswith(("unix:", "/")):
		return unix_socket_url(check_unix_socket_path(text.removeprefix("unix:")))
	if text.lower().startswith("http://"):
		text = text[len("http://") :].rstrip("/")
	try:
		part = check_upstream(text)
	except ValueError:
		raise ValueError(f"{value!r} is not a realtime address: {allowed}") from None
	return f"http://{part.netloc_host}:{part.port}"


def check_identifier(value: object, what: str = "name") -> str:
	"""A name used inside a proxy config: a letter, then letters, digits, '_' or '-' (32 at most)."""
	if not isinstance(value, str) or not _IDENTIFIER_RE.fullmatch(value):
		raise ValueError(
			f"{value!r} is not a valid {what}: start with a letter, then use only letters, digits, '_' "
			f"and '-' ({MAX_IDENTIFIER_LENGTH} characters at most)"
		)
	return value


def check_site_name(value: object) -> str:
	"""A site folder name as Frappe's realtime service compares it with the namespace."""
	if not isinstance(value, str) or not _SITE_NAME_RE.fullmatch(value) or ".." in value:
		raise ValueError(
			f"{value!r} is not a valid site name: use letters, digits, '.', '-' and '_', e.g. erp.example.com"
		)
	return value


PROBE_TOKEN_RE = re.compile(r"[0-9a-f]{8,64}")


def check_probe_token(value: object) -> str:
	"""The token a tab's probe asks the site to publish back to it: lowercase hex, 8 to 64 digits
	(nothing else is ever echoed into an event)."""
	if not isinstance(value, str) or not PROBE_TOKEN_RE.fullmatch(value):
		raise ValueError(f"token {value!r} is not allowed: use 8 to 64 lowercase hex digits")
	return value


MAX_CLIENT_URLS = 10


def check_client_url(value: object) -> tuple[str, str]:
	"""A socket URL an operator adds as a client of the site: (origin, Socket.IO path).

	`http(s)://host[:port][/path/]`; the path defaults to /socket.io/. No credentials, query or
	fragment: the diagnosis opens exactly this origin with the site's page as Origin."""
	allowed = "use http(s)://host[:port] with an optional Socket.IO path, e.g. http://app.example.com:8443/socket.io/"
	if not isinstance(value, str) or not value.strip():
		raise ValueError(f"{value!r} is not a client URL: {allowed}")
	text = value.strip()
	parts = urlsplit(text)
	if parts.scheme not in ("http", "https") or not parts.hostname:
		raise ValueError(f"{text!r} is not a client URL: {allowed}")
	if parts.username or parts.password or parts.query or parts.fragment:
		raise ValueError(f"{text!r} carries credentials, a query or a fragment: {allowed}")
	try:
		port = parts.port
	except ValueError:
		raise ValueError(f"{text!r} has an invalid port: {allowed}") from None
	host = check_host(parts.hostname)
	netloc_host = f"[{host}]" if ":" in host else host
	path = parts.path or DEFAULT_SOCKETIO_PATH
	if not path.endswith("/"):
		path += "/"
	return make_origin(parts.scheme, netloc_host, port), check_socketio_path(path)


def check_client_urls(value: object) -> list[tuple[str, str]]:
	"""One client URL per line (blank lines ignored), at most MAX_CLIENT_URLS."""
	if value is None:
		return []
	if not isinstance(value, str):
		raise ValueError(f"{value!r} is not a list of client URLs: put one URL per line")
	lines = [line.strip() for line in value.splitlines() if line.strip()]
	if len(lines) > MAX_CLIENT_URLS:
		raise ValueError(f"{len(lines)} client URLs: at most {MAX_CLIENT_URLS} are probed")
	return [check_client_url(line) for line in lines]
