"""`frappe.cache`: the v15 RedisWrapper surface over an in-memory store.

Same keys (`<db_name>|<key>`, `user:<user>:<key>` for per-user values), same pickling, same
per-request local cache in `frappe.local.cache` (a value read or written once is served from
there for the rest of the request). Every Redis command goes through `execute_command`, which
counts it: `frappe.standin.cache_round_trips()` reads the count, and FrappeTestCase's
`assertRedisCallCounts` patches it as with real redis-py.
"""

from __future__ import annotations

import fnmatch
import pickle
import time
from typing import Any

import frappe

# the "server": shared by every request / connection of the process, like one redis_cache
_DATA: dict[bytes, Any] = {}
_EXPIRY: dict[bytes, float] = {}
COMMANDS: list[tuple] = []


def flush_all() -> None:
	"""Stand-in control: empty the server and the command log."""
	_DATA.clear()
	_EXPIRY.clear()
	COMMANDS.clear()


def _b(key) -> bytes:
	return key if isinstance(key, bytes) else str(key).encode()


class RedisWrapper:
	"""In-memory Redis client with the methods of frappe.utils.redis_wrapper.RedisWrapper (v15)."""

	# -- raw commands (what a redis-py client would send) --

	def execute_command(self, *args, **options):
		COMMANDS.append(args)
		name, rest = args[0], args[1:]
		return getattr(self, "_cmd_" + name.lower())(*rest)

	def _alive(self, key: bytes) -> bool:
		exp = _EXPIRY.get(key)
		if exp is not None and exp <= time.monotonic():
			_DATA.pop(key, None)
			_EXPIRY.pop(key, None)
		return key in _DATA

	def _cmd_get(self, key):
		key = _b(key)
		return _DATA[key] if self._alive(key) and isinstance(_DATA[key], bytes) else None

	def _cmd_set(self, key, value, *options):
		"""SET key value [EX seconds] [NX]: None when NX finds the key (redis-py's answer)."""
		key = _b(key)
		opts = [o.upper() if isinstance(o, str) else o for o in options]
		if "NX" in opts and self._alive(key):
			return None
		_DATA[key] = _b(value) if not isinstance(value, bytes) else value
		_EXPIRY.pop(key, None)
		if "EX" in opts:
			_EXPIRY[key] = time.monotonic() + int(opts[opts.index("EX") + 1])
		return True

	def _cmd_incrby(self, key, amount):
		key = _b(key)
		value = int(_DATA[key]) if self._alive(key) else 0
		value += int(amount)
		_DATA[key] = str(value).encode()
		return value

	def _cmd_expire(self, key, seconds):
		key = _b(key)
		if not self._alive(key):
			return False
		_EXPIRY[key] = time.monotonic() + int(seconds)
		return True

	def _cmd_hincrby(self, name, key, amount):
		h = self._hash(name, create=True)
		value = int(h.get(_b(key), b"0")) + int(amount)
		h[_b(key)] = str(value).encode()
		return value

	def _cmd_setex(self, key, seconds, value):
		self._cmd_set(key, value)
		_EXPIRY[_b(key)] = time.monotonic() + int(seconds)
		return True

	def _cmd_del(self, *keys):
		count = 0
		for key in keys:
			key = _b(key)
			if self._alive(key):
				count += 1
			_DATA.pop(key, None)
			_EXPIRY.pop(key, None)
		return count

	def _cmd_keys(self, pattern):
		pattern = _b(pattern).decode()
		return [k for k in list(_DATA) if self._alive(k) and fnmatch.fnmatchcase(k.decode(), pattern)]

	def _hash(self, name, create=False) -> dict | None:
		name = _b(name)
		if not self._alive(name):
			if not create:
				return None
			_DATA[name] = {}
		return _DATA[name]

	def _cmd_hset(self, name, key, value):
		self._hash(name, create=True)[_b(key)] = value
		return 1

	def _cmd_hget(self, name, key):
		h = self._hash(name)
		return None if h is None else h.get(_b(key))

	def _cmd_hdel(self, name, *keys):
		h = self._hash(name)
		if h is None:
			return 0
		count = sum(1 for k in keys if h.pop(_b(k), None) is not None)
		if not h:
			_DATA.pop(_b(name), None)
		return count

	def _cmd_hgetall(self, name):
		return dict(self._hash(name) or {})

	def _list(self, name, create=False) -> list | None:
		name = _b(name)
		if not self._alive(name):
			if not create:
				return None
			_DATA[name] = []
		return _DATA[name]

	def _cmd_rpush(self, name, *values):
		lst = self._list(name, create=True)
		lst.extend(_b(v) for v in values)
		return len(lst)

	def _cmd_lpop(self, name):
		lst = self._list(name)
		return lst.pop(0) if lst else None

	def get(self, name):
		return self.execute_command("GET", name)

	def set(self, name, value, ex=None, nx=False):
		"""redis-py `set` with the options the app uses (EX seconds, NX)."""
		options = (["EX", ex] if ex is not None else []) + (["NX"] if nx else [])
		return self.execute_command("SET", name, value, *options)

	def incrby(self, name, amount=1):
		return self.execute_command("INCRBY", name, amount)

	def pipeline(self, transaction=True, shard_hint=None) -> Pipeline:
		"""redis-py pipeline: commands queue up and go in one round trip on `execute()`."""
		return Pipeline(self, transaction)

	def setex(self, name, time, value):
		return self.execute_command("SETEX", name, time, value)

	def delete(self, *names):
		return self.execute_command("DEL", *names)

	def keys(self, pattern="*"):
		return self.execute_command("KEYS", pattern)

	# -- RedisWrapper (frappe/utils/redis_wrapper.py) --

	def make_key(self, key, user=None, shared=False):
		if shared:
			return key
		if user:
			if user is True:
				user = frappe.session.user
			key = f"user:{user}:{key}"
		return f"{frappe.conf.db_name}|{key}".encode()

	def set_value(self, key, val, user=None, expires_in_sec=None, shared=False):
		"""Pickle into Redis; without expiry also keep the object in `frappe.local.cache`."""
		key = self.make_key(key, user, shared)
		if not expires_in_sec:
			frappe.local.cache[key] = val
		if expires_in_sec:
			self.setex(name=key, time=expires_in_sec, value=pickle.dumps(val))
		else:
			self.set(key, pickle.dumps(val))

	def get_value(self, key, generator=None, user=None, expires=False, shared=False):
		"""`frappe.local.cache` first, then Redis; on a miss call `generator` and store its value."""
		original_key = key
		key = self.make_key(key, user, shared)

		if key in frappe.local.cache:
			val = frappe.local.cache[key]
		else:
			val = self.get(key)
			if val is not None:
				val = pickle.loads(val)
			if not expires:
				if val is None and generator:
					val = generator()
					self.set_value(original_key, val, user=user)
				else:
					frappe.local.cache[key] = val
		return val

	def get_keys(self, key):
		"""Keys starting with `key` (already made into full keys)."""
		return self.keys(self.make_key(key + "*"))

	def delete_keys(self, key):
		self.delete_value(self.get_keys(key), make_keys=False)

	def delete_value(self, keys, user=None, make_keys=True, shared=False):
		"""Delete one key or a list, locally and in Redis (one DEL for all)."""
		if not keys:
			return
		if not isinstance(keys, list | tuple):
			keys = (keys,)
		if make_keys:
			keys = [self.make_key(k, shared=shared, user=user) for k in keys]
		for key in keys:
			frappe.local.cache.pop(key, None)
		self.delete(*keys)

	def hset(self, name: str, key: str, value, shared: bool = False, *args, **kwargs):
		if key is None:
			return
		_name = self.make_key(name, shared=shared)
		frappe.local.cache.setdefault(_name, {})[key] = value
		self.execute_command("HSET", _name, key, pickle.dumps(value))

	def hget(self, name, key, generator=None, shared=False):
		"""Hash field via `frappe.local.cache[name]` first, then Redis, then `generator`."""
		_name = self.make_key(name, shared=shared)
		if _name not in frappe.local.cache:
			frappe.local.cache[_name] = {}
		if not key:
			return None
		if key in frappe.local.cache[_name]:
			return frappe.local.cache[_name][key]

		value = self.execute_command("HGET", _name, key)
		if value is not None:
			value = pickle.loads(value)
			frappe.local.cache[_name][key] = value
		elif generator:
			value = generator()
			self.hset(name, key, value, shared=shared)
		return value

	def hdel(self, name, key, shared=False):
		_name = self.make_key(name, shared=shared)
		if _name in frappe.local.cache:
			if key in frappe.local.cache[_name]:
				del frappe.local.cache[_name][key]
		self.execute_command("HDEL", _name, key)

	def hdel_names(self, names: list | tuple, key: str):
		for name in names:
			self.hdel(name, key)

	def rpush(self, key, value):
		self.execute_command("RPUSH", self.make_key(key), value)

	def lpop(self, key):
		return self.execute_command("LPOP", self.make_key(key))


class Pipeline:
	"""redis-py's Pipeline: plain Redis commands (not RedisWrapper's pickling overrides, as in
	v15 where `frappe.cache.pipeline()` is redis-py's), sent as one round trip on `execute()`.
	The log entry is ("PIPELINE", n, sent): `sent` is what the server sees, wrapped in MULTI/EXEC
	when the pipeline is a transaction (redis-py's default)."""

	def __init__(self, client: RedisWrapper, transaction: bool = True) -> None:
		self._client = client
		self._transaction = transaction
		self._queue: list[tuple] = []

	def __getattr__(self, name):
		command = getattr(self._client, "_cmd_" + name.lower())

		def queue(*args):
			self._queue.append((command, name.upper(), args))
			return self

		return queue

	def execute(self) -> list:
		sent = tuple((name, *args) for _command, name, args in self._queue)
		if self._transaction:
			sent = (("MULTI",), *sent, ("EXEC",))
		COMMANDS.append(("PIPELINE", len(self._queue), sent))
		results = [command(*args) for command, _name, args in self._queue]
		self._queue.clear()
		return results

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self._queue.clear()


def setup_cache() -> RedisWrapper:
	return RedisWrapper()
