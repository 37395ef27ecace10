"""The real-bench tier: a Frappe v15.41.0 + Raven v2.6.4 bench built by the test command, the app
installed on it from this checkout with bench's own install-app, and the acceptance suite run on it."""
