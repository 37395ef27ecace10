"""A tiny Frappe app for the stand-in's own tests (a Single DocType, hooks, whitelisted API)."""

__version__ = "0.0.1"
