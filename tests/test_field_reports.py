"""Field reports: only enumerated values are kept, counters per hour, what the figures mean."""

from datetime import datetime

import pytest

from raven_ai_agent.realtime.field_reports import (
	MAX_VALUE_LENGTH,
	OTHER,
	ReportRefused,
	bucket_key,
	bucket_keys,
	error_kind,
	field_hint,
	summarize,
	validate_report,
)


def test_a_connect_counts_the_socket_and_its_transport():
	report = validate_report(
		{"socket": "desk", "event": "connect", "transport": "websocket", "browser": "firefox"}
	)
	assert report.counters() == ["desk|connect", "desk|transport|websocket"]


def test_a_page_load_counts_whether_desk_connected_and_the_browser_family():
	report = validate_report({"socket": "desk", "event": "page", "connected": "1", "browser": "safari"})
	assert report.counters() == ["page|connected", "browser|safari"]
	report = validate_report(
		{"socket": "desk", "event": "page", "connected": "0", "browser": "Mozilla/5.0 (X11)"}
	)
	assert report.counters() == ["page|failed", "browser|other"]


def test_unknown_values_become_other_and_free_text_is_never_kept():
	report = validate_report(
		{
			"socket": "app",
			"event": "disconnect",
			"reason": "my proxy said <script>alert(1)</script>",
			"transport": "carrier pigeon",
		}
	)
	assert report.reason == OTHER and report.transport == OTHER
	assert report.counters() == ["app|disconnect", "app|disconnect|other"]
	error = validate_report(
		{"socket": "desk", "event": "connect_error", "error": "Unauthorized: jane@x.com sid=abc"}
	)
	assert error.counters() == ["desk|connect_error", "desk|error|unauthorized"]


@pytest.mark.parametrize(
	"message, kind",
	[
		("Invalid origin", "origin"),
		("Invalid namespace", "namespace"),
		("No cookie transmitted.", "no_auth"),
		("No authentication method used. Use cookie or authorization header.", "no_auth"),
		("Unauthorized: TypeError: fetch failed", "unauthorized"),
		("xhr poll error", "xhr_poll_error"),
		("websocket error", "websocket_error"),
		("timeout", "timeout"),
		("something new", "other"),
		(None, "other"),
	],
)
def test_connect_errors_are_classified_as_the_diagnosis_does(message, kind):
	assert error_kind(message) == kind


@pytest.mark.parametrize(
	"values",
	[
		{"socket": "desk", "event": "launch"},
		{"socket": "printer", "event": "connect"},
		{"event": "connect"},
		{"socket": "app", "event": "page", "connected": "1"},
		{"socket": "desk", "event": "connect", "transport": "x" * (MAX_VALUE_LENGTH + 1)},
		{"socket": "desk", "event": "connect", "transport": ["websocket"]},
	],
)
def test_reports_raven_realtime_js_never_sends_are_refused(values):
	with pytest.raises(ReportRefused):
		validate_report(values)


def test_hourly_buckets():
	at = datetime(2026, 11, 30, 9, 59, 59)
	assert bucket_key(at) == "raven_realtime_field:2026113009"
	assert bucket_keys(at, 3) == [
		"raven_realtime_field:2026113007",
		"raven_realtime_field:2026113008",
		"raven_realtime_field:2026113009",
	]


def test_summary_of_several_hours():
	summary = summarize(
		[
			{
				b"page|connected": b"3",
				b"page|failed": b"1",
				b"desk|connect": b"3",
				b"desk|transport|websocket": b"2",
			},
			{
				b"desk|transport|polling": b"1",
				b"desk|disconnect|transport close": b"4",
				b"app|error|no_auth": b"2",
			},
			{},
		]
	)
	assert summary["page_loads"] == 4 and summary["connected_share"] == 0.75
	assert summary["transports"] == {"polling": 1, "websocket": 2}
	assert summary["disconnects"] == {"transport close": 4}
	assert summary["errors"] == {"no_auth": 2}
	assert summarize([])["connected_share"] is None


def test_field_hints_name_periodic_transport_close_and_missing_cookies():
	assert field_hint(summarize([{b"desk|disconnect|transport close": b"2"}])) is None
	closes = field_hint(summarize([{b"desk|disconnect|transport close": b"5"}]))
	assert "transport close" in closes and "45 s" in closes and "5 times" in closes
	cookies = field_hint(summarize([{b"desk|error|no_auth": b"7"}]))
	assert "No cookie transmitted" in cookies and "withCredentials" in cookies
