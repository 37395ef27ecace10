"""Type checks for annotated arguments of whitelisted functions (v15 validates them with pydantic).

The stand-in covers str, int, float, bool, Optional/Union of those and leaves other annotations
alone; values from a request arrive as strings and are converted the way pydantic's lax mode
does (e.g. "3" -> 3, "true" -> True). A mismatch raises frappe.FrappeTypeError."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}
_SKIP = object()


def _convert(annotation, value):
	if annotation is inspect.Parameter.empty or annotation is typing.Any:
		return value
	origin = typing.get_origin(annotation)
	if origin in (typing.Union, types.UnionType):
		args = typing.get_args(annotation)
		if value is None and type(None) in args:
			return None
		for arg in args:
			if arg is type(None):
				continue
			try:
				return _convert(arg, value)
			except (TypeError, ValueError):
				continue
		raise TypeError
	if annotation is bool:
		if isinstance(value, bool):
			return value
		if isinstance(value, int) and value in (0, 1):
			return bool(value)
		if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
			return value.strip().lower() in _TRUE
		raise TypeError
	if annotation is int:
		if isinstance(value, bool):
			return int(value)
		if isinstance(value, int):
			return value
		if isinstance(value, float) and value.is_integer():
			return int(value)
		if isinstance(value, str):
			return int(value.strip())
		raise TypeError
	if annotation is float:
		if isinstance(value, int | float) and not isinstance(value, bool):
			return float(value)
		if isinstance(value, str):
			return float(value.strip())
		raise TypeError
	if annotation is str:
		if isinstance(value, str):
			return value
		raise TypeError
	return value


def validate_argument_types(func: Callable, apply_condition: Callable = lambda: True):
	@functools.wraps(func)
	def wrapper(*args, **kwargs):
		if not apply_condition():
			return func(*args, **kwargs)

		import frappe

		signature = inspect.signature(func)
		try:
			hints = typing.get_type_hints(func)
		except Exception:
			hints = {}
		bound = signature.bind_partial(*args, **kwargs)
		for name, value in list(bound.arguments.items()):
			param = signature.parameters[name]
			if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
				continue
			annotation = hints.get(name, inspect.Parameter.empty)
			if value is None and param.default is None:
				continue
			try:
				bound.arguments[name] = _convert(annotation, value)
			except (TypeError, ValueError) as e:
				type_name = getattr(annotation, "__name__", str(annotation))
				raise frappe.FrappeTypeError(
					f"Argument '{name}' should be of type '{type_name}' but got "
					f"'{type(value).__name__}' instead."
				) from e
		return func(*bound.args, **bound.kwargs)

	return wrapper
