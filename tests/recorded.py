"""Facts recorded on a real Frappe 15.41 + Raven 2.6.4 bench, kept in the repo (tests/fixtures/).

The stand-ins and the codec are held to these transcripts. They were captured once on a real
bench (see tests/fixtures/README.md) and travel with the repo, so the suite passes on a clone
with nothing beside it; test_recorded.py checks this copy against the project's shared folder
when one sits beside the repo.
"""

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WIRE_FILE = FIXTURES / "frappe-v15.41-realtime-wire.json"
RAVEN_EVENTS_FILE = FIXTURES / "raven-2.6.4-message-events.json"
# Recorded by this project on its own verification bench (not among the shared originals).
LOGIN_HEAD_FILE = FIXTURES / "frappe-v15.41-login-head.json"
# The same bench: Redis MONITOR during field reports (Frappe's rate limiter's commands and ours).
FIELD_REPORT_REDIS_FILE = FIXTURES / "frappe-v15.41-field-report-redis.json"
# message_created's keys, in Raven's order, read from raven_message.py at each Raven tag 2.6.4-2.8.11.
RAVEN_KEYS_FILE = FIXTURES / "raven-message-created.json"
# Where the project keeps the originals, beside a developer's checkout (absent on a user's clone).
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

WIRE: dict = json.loads(WIRE_FILE.read_text())
RAVEN_EVENTS: dict = json.loads(RAVEN_EVENTS_FILE.read_text())
# "DEV_SERVER unset" / "DEV_SERVER=1" -> the <script> block of the site's /login page.
LOGIN_HEAD: dict = json.loads(LOGIN_HEAD_FILE.read_text())["login_head_script"]
# request name -> {user, form, status, request_round_trips, endpoint_commands}
FIELD_REPORT_REDIS: dict = json.loads(FIELD_REPORT_REDIS_FILE.read_text())["requests"]
RAVEN_KEYS: dict = json.loads(RAVEN_KEYS_FILE.read_text())
