"""frappe's own hooks, as far as the stand-in needs them (the app's hooks are appended after)."""

app_name = "frappe"
app_title = "Frappe Framework"
