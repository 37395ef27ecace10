"""The realtime address in the Frappe shell: Raven Realtime Settings' field, the environment of
the container (RAVEN_REALTIME_INTERNAL_URL) and the bench command's option, each with its source;
browsers never see it."""

import frappe
import pytest
from frappe import standin

from raven_ai_agent.config import SETTINGS_DOCTYPE, get_config
from raven_ai_agent.realtime.constants import REALTIME_ADDRESS_ENV
from raven_ai_agent.realtime.model import Source
from tests.test_shell import SYSTEM_MANAGER, SYSTEM_USER, save_settings, site  # noqa: F401 - the fixture


def test_saved_address_reaches_the_diagnosis_config(site, monkeypatch):  # noqa: F811
	monkeypatch.delenv(REALTIME_ADDRESS_ENV, raising=False)
	save_settings(realtime_address=" websocket:9000 ")
	assert standin.single_values(SETTINGS_DOCTYPE)["realtime_address"] == "websocket:9000"
	with standin.request("GET", user=SYSTEM_USER):
		config = get_config()
	assert config.get_internal_socketio_url() == "http://websocket:9000"
	assert config.sources["realtime_address"] is Source.SETTINGS
	assert "websocket:9000" not in str(config.get_frontend_context())


def test_the_containers_environment_wins_and_says_so(site, monkeypatch):  # noqa: F811
	save_settings(realtime_address="old-websocket:9000")
	monkeypatch.setenv(REALTIME_ADDRESS_ENV, "websocket:9000")
	with standin.request("GET", user=SYSTEM_USER):
		config = get_config()
	assert config.get_internal_socketio_url() == "http://websocket:9000"
	assert config.sources["realtime_address"] is Source.ENVIRONMENT
	assert any("old-websocket" in w for w in config.warnings)


def test_the_command_line_wins(site, monkeypatch):  # noqa: F811
	monkeypatch.setenv(REALTIME_ADDRESS_ENV, "websocket:9000")
	with standin.request("GET", user=SYSTEM_USER):
		config = get_config(realtime_address="10.0.0.9:9000")
	assert config.get_internal_socketio_url() == "http://10.0.0.9:9000"
	assert config.sources["realtime_address"] is Source.COMMAND_LINE


def test_a_bad_address_is_refused_with_the_field_label(site):  # noqa: F811
	with standin.request("POST", user=SYSTEM_MANAGER):
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.realtime_address = "websocket"
		with pytest.raises(
			frappe.ValidationError, match="Realtime Address: 'websocket' is not a realtime address"
		):
			doc.save()
