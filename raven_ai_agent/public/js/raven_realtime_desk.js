/*
 * raven_realtime_desk.js: the only part of this app on every desk page (app_include_js).
 *
 * It does nothing unless Raven Realtime Settings has Collect Field Reports from Browsers on
 * (frappe.boot.raven_realtime_field_reports === 1, read on every page load): then it watches
 * desk's own socket (no socket of its own) and POSTs small enumerated reports to
 * raven_ai_agent.api.field.report_connection. Everything else (connect, probe, the diagnosis)
 * lives in raven_realtime.js, loaded on demand:
 *
 *   const rt = await raven_realtime.load();   // the full API of raven_realtime.js
 *
 * API on window.raven_realtime (also what require() returns in Node, for tests):
 *   load() -> Promise<api>; reports_enabled(); report(record, {fetch}?); watch(socket, name,
 *   opts?); watch_page(socket, opts?); field_record(socket, event, detail); browser_family(ua);
 *   csrf_token(); REPORT_ENDPOINT.
 */
(function (root, factory) {
	const api = factory(root);
	if (typeof module === "object" && module && module.exports) module.exports = api;
	if (root) root.raven_realtime = Object.assign(root.raven_realtime || {}, api);
})(typeof window !== "undefined" ? window : null, function (root) {
	"use strict";

	const LIBRARY = "/assets/raven_ai_agent/js/raven_realtime.js";
	const REPORT_ENDPOINT = "/api/method/raven_ai_agent.api.field.report_connection";
	// Compact enumerated records, fire-and-forget: never awaited by the page, never retried, a
	// budget per page and one report per kind within THROTTLE_MS, so a reconnect loop cannot
	// become a request loop. The server keeps only enumerated values (field_reports.py).
	const REPORTS_PER_PAGE = 40;
	const THROTTLE_MS = 10000;
	// How long a page load waits for desk's socket before it counts as not connected.
	const PAGE_WAIT_MS = 20000;
	const field = { sent: 0, last: {} };

	function get_frappe() {
		if (root && root.frappe) return root.frappe;
		if (typeof frappe !== "undefined") return frappe; // eslint-disable-line no-undef
		return null;
	}

	// The site's choice, as this page load was handed it: off unless exactly 1.
	function reports_enabled() {
		const f = get_frappe();
		return Boolean(f && f.boot && f.boot.raven_realtime_field_reports === 1);
	}

	function csrf_token() {
		const f = get_frappe();
		const token = f && f.csrf_token;
		// desk leaves "{{ csrf_token }}" unrendered on some pages; never send that
		return typeof token === "string" && token && token.indexOf("{{") === -1 ? token : null;
	}

	function now() {
		if (typeof performance !== "undefined" && performance.now) return performance.now();
		return Date.now();
	}

	function browser_family(ua) {
		const s = String(ua || "");
		if (/Edg\//.test(s)) return "edge";
		if (/Firefox\//.test(s)) return "firefox";
		if (/Chrome\/|Chromium\//.test(s)) return "chrome";
		if (/Safari\//.test(s)) return "safari";
		return "other";
	}

	// The record of one socket event: enumerated names only (the server maps the rest to "other").
	function field_record(socket_name, event, detail) {
		const d = detail || {};
		const record = { socket: socket_name, event: event };
		if (d.transport) record.transport = String(d.transport);
		if (event === "disconnect") record.reason = String(d.reason || "");
		if (event === "connect_error") record.error = String(d.error || "").slice(0, 80);
		if (event === "page") {
			record.connected = d.connected ? "1" : "0";
			record.browser = browser_family(root && root.navigator && root.navigator.userAgent);
		}
		return record;
	}

	function error_text(err) {
		if (!err) return "unknown error";
		if (typeof err === "string") return err;
		let text = err.message || String(err);
		// transport errors carry the HTTP status or close code in description
		const d = err.description;
		if (typeof d === "number" || (typeof d === "string" && d)) text += " (" + d + ")";
		return text;
	}

	function transport_name(socket) {
		const engine = socket && socket.io && socket.io.engine;
		return (engine && engine.transport && engine.transport.name) || null;
	}

	function report(record, opts) {
		const o = opts || {};
		const fetch_fn = o.fetch || (typeof fetch === "function" ? fetch : null);
		if (!reports_enabled() || !fetch_fn || field.sent >= REPORTS_PER_PAGE) return false;
		const key = [record.socket, record.event, record.reason || record.error || ""].join("|");
		const at = now();
		if (field.last[key] !== undefined && at - field.last[key] < THROTTLE_MS) return false;
		field.last[key] = at;
		field.sent += 1;
		const headers = { Accept: "application/json" };
		const token = csrf_token();
		if (token) headers["X-Frappe-CSRF-Token"] = token;
		try {
			const pending = fetch_fn((o.base_url || "") + REPORT_ENDPOINT, {
				method: "POST",
				credentials: "same-origin",
				keepalive: true,
				headers: headers,
				body: new URLSearchParams(record),
			});
			if (pending && typeof pending.catch === "function") pending.catch(function () {});
		} catch (e) {
			// a report is advice: losing one never matters to the page
		}
		return true;
	}

	function watch(socket, socket_name, opts) {
		if (!reports_enabled()) return socket;
		if (!socket || typeof socket.on !== "function" || socket.__raven_field) return socket;
		socket.__raven_field = true;
		const send = function (event, detail) {
			report(field_record(socket_name, event, detail), opts);
		};
		socket.on("connect", function () {
			send("connect", { transport: transport_name(socket) });
			const engine = socket.io && socket.io.engine;
			if (engine && typeof engine.once === "function") {
				engine.once("upgrade", function (t) {
					send("upgrade", { transport: (t && t.name) || transport_name(socket) });
				});
			}
		});
		socket.on("connect_error", function (err) {
			send("connect_error", { error: error_text(err) });
		});
		socket.on("disconnect", function (reason) {
			send("disconnect", { reason: reason });
		});
		return socket;
	}

	// Once per page load: did desk's socket connect within PAGE_WAIT_MS?
	function watch_page(socket, opts) {
		const o = opts || {};
		if (!reports_enabled() || !socket || typeof socket.on !== "function") return;
		let told = false;
		const tell = function (connected) {
			if (told) return;
			told = true;
			report(field_record("desk", "page", { connected: connected }), o);
		};
		if (socket.connected) tell(true);
		else socket.once("connect", function () {
			tell(true);
		});
		setTimeout(function () {
			tell(Boolean(socket.connected));
		}, o.page_wait_ms || PAGE_WAIT_MS);
	}

	// The full API (raven_realtime.js), fetched the first time it is asked for.
	function load() {
		const rt = root && root.raven_realtime;
		if (rt && rt.connect) return Promise.resolve(rt);
		const f = get_frappe();
		if (!f || typeof f.require !== "function") {
			return Promise.reject(new Error("raven_realtime: frappe.require is not on this page"));
		}
		return new Promise(function (resolve) {
			f.require(LIBRARY, function () {
				resolve(root.raven_realtime);
			});
		});
	}

	// In desk, and only when the site turned reports on: watch desk's own socket once the app is
	// ready (frappe.realtime.init has run; the boot is read then, not while this file loads).
	if (root && root.jQuery && root.document) {
		root.jQuery(root.document).on("app_ready", function () {
			const f = get_frappe();
			const socket = f && f.realtime && f.realtime.socket;
			if (!reports_enabled() || !socket) return;
			watch(socket, "desk");
			watch_page(socket);
		});
	}

	return {
		REPORT_ENDPOINT: REPORT_ENDPOINT,
		load: load,
		reports_enabled: reports_enabled,
		get_frappe: get_frappe,
		csrf_token: csrf_token,
		error_text: error_text,
		transport_name: transport_name,
		browser_family: browser_family,
		field_record: field_record,
		report: report,
		watch: watch,
		watch_page: watch_page,
		_reset_field: function () {
			field.sent = 0;
			field.last = {};
		},
	};
});
