"""The functional core: plain data in, plain data out. Never imports frappe."""
