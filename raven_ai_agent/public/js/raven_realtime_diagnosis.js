/*
 * raven_realtime_diagnosis.js: turns a realtime diagnosis into HTML. Pure: strings in, a
 * string out, no DOM, no requests; every value from the server or the browser is escaped.
 *
 * API on window.raven_realtime (merged with raven_realtime.js, load order free):
 *   render_diagnosis(result, browser_probe?, client_probes?) -> HTML string
 *       result: the dict run_diagnosis returns (may be null when only the browser ran);
 *       browser_probe: what raven_realtime.probe() resolved to (may be null);
 *       client_probes: what raven_realtime.probe_clients(result) resolved to (may be null).
 *       The root-cause hint comes first, then one row per server check, a row for this
 *       browser's own connection, and the Clients table (desk, Raven, this app's context).
 *   render_config(config) -> HTML string: effective values, where each came from, warnings.
 *   escape_html(value) -> string
 *
 * Markup uses desk's classes (indicator-pill, table, text-muted) plus inline styles built on
 * desk's CSS variables with plain fallbacks, so it reads the same on a bare page.
 */
(function (root, factory) {
	const api = factory(root);
	if (typeof module === "object" && module && module.exports) {
		module.exports = api;
	}
	if (root) {
		root.raven_realtime = Object.assign(root.raven_realtime || {}, api);
	}
})(typeof window !== "undefined" ? window : null, function (root) {
	"use strict";

	// Named __ so that Frappe's string extractor finds the texts; hands them to desk's
	// window.__ when present, else does the same {0} substitution.
	function __(text, args) {
		if (root && typeof root.__ === "function") return root.__(text, args);
		if (!args) return text;
		return text.replace(/\{(\d+)\}/g, function (m, i) {
			return args[i] === undefined ? m : String(args[i]);
		});
	}

	const ESCAPES = {
		"&": "&amp;",
		"<": "&lt;",
		">": "&gt;",
		'"': "&quot;",
		"'": "&#39;",
		"`": "&#96;",
	};

	function escape_html(value) {
		if (value === null || value === undefined) return "";
		const text = typeof value === "object" ? JSON.stringify(value) : String(value);
		return text.replace(/[&<>"'`]/g, function (ch) {
			return ESCAPES[ch];
		});
	}

	// color -> [background, text] as desk's variables with light-theme fallbacks
	const COLORS = {
		green: ["var(--bg-green, #e4f5e9)", "var(--text-on-green, #16794c)"],
		red: ["var(--bg-red, #fff0f0)", "var(--text-on-red, #cc2929)"],
		orange: ["var(--bg-orange, #fff1e7)", "var(--text-on-orange, #c4501f)"],
		gray: ["var(--bg-gray, #f3f3f3)", "var(--text-on-gray, #525252)"],
		blue: ["var(--bg-blue, #e7f1ff)", "var(--text-on-blue, #1f5fbf)"],
	};

	function badge(color, label) {
		const c = COLORS[color] || COLORS.gray;
		return (
			'<span class="indicator-pill ' +
			color +
			' raven-rt-badge" style="display:inline-block;white-space:nowrap;padding:2px 10px;' +
			"border-radius:999px;font-size:12px;font-weight:600;background-color:" +
			c[0] +
			";color:" +
			c[1] +
			';">' +
			escape_html(label) +
			"</span>"
		);
	}

	function check_badge(ok) {
		if (ok === true) return badge("green", __("Pass"));
		if (ok === false) return badge("red", __("Fail"));
		return badge("gray", __("Skipped"));
	}

	function banner(color, title, body) {
		const c = COLORS[color] || COLORS.gray;
		return (
			'<div class="raven-rt-banner" role="status" style="padding:12px 16px;margin-bottom:12px;' +
			"border-radius:8px;background-color:" +
			c[0] +
			";color:" +
			c[1] +
			';">' +
			'<div style="font-weight:700;font-size:14px;">' +
			escape_html(title) +
			"</div>" +
			(body
				? '<div class="raven-rt-hint" style="margin-top:4px;font-size:14px;white-space:pre-wrap;">' +
					escape_html(body) +
					"</div>"
				: "") +
			"</div>"
		);
	}

	function ms(value) {
		return typeof value === "number" && isFinite(value) ? Math.round(value) + " ms" : "";
	}

	const TABLE_OPEN =
		'<table class="table table-bordered raven-rt-table" style="width:100%;border-collapse:collapse;' +
		'font-size:13px;margin-bottom:12px;">';
	const CELL =
		'style="padding:6px 10px;border:1px solid var(--border-color, #e2e2e2);vertical-align:top;"';

	// labels: [text, width] pairs; a width keeps badges and times from wrapping oddly
	function head(labels) {
		return (
			"<thead><tr>" +
			labels
				.map(function (l) {
					const width = l[1] ? "width:" + l[1] + ";" : "";
					return (
						'<th style="' +
						width +
						"text-align:left;padding:6px 10px;border:1px solid var(--border-color, #e2e2e2);" +
						'">' +
						escape_html(l[0]) +
						"</th>"
					);
				})
				.join("") +
			"</tr></thead>"
		);
	}

	function row(cells) {
		// cells are already HTML: callers escape what they put in
		return (
			"<tr>" +
			cells
				.map(function (c) {
					return "<td " + CELL + ">" + c + "</td>";
				})
				.join("") +
			"</tr>"
		);
	}

	function small_hint(text) {
		if (!text) return "";
		return (
			'<div class="text-muted" style="margin-top:4px;font-size:12px;color:var(--text-muted, #6b6b6b);">' +
			escape_html(__("Hint")) +
			": " +
			escape_html(text) +
			"</div>"
		);
	}

	// What a System Manager reads for each check (the CLI and the JSON keep the identifiers, shown
	// on hover); a check this list does not know yet reads as its identifier in words.
	const CHECK_PHRASES = {
		config: "Configuration",
		boot_context: "This page's connection settings",
		local_handshake: "Realtime service on this server",
		external_handshake: "Public address",
		external_websocket: "WebSocket through the public address",
		client_paths: "Each client's socket address",
		web_site: "Web server answers for this site",
		namespace: "Site namespace and login check",
		websocket_session: "WebSocket-only clients",
		sticky_session: "Sticky sessions",
		redis_bridge: "Redis to realtime service",
		end_to_end: "Message delivery end to end",
	};

	function check_phrase(name) {
		const text = String(name || "");
		const phrase = CHECK_PHRASES[text];
		if (phrase) return __(phrase);
		const words = text.replace(/_/g, " ");
		return words.charAt(0).toUpperCase() + words.slice(1);
	}

	// Deployment Type as the settings form shows it.
	const DEPLOYMENT_LABELS = {
		vps_prod: "Production VPS",
		sandbox: "Sandbox tunnel",
		local: "Local bench",
	};

	function deployment_label(value) {
		return DEPLOYMENT_LABELS[value] ? __(DEPLOYMENT_LABELS[value]) : value;
	}

	function check_row(check) {
		const c = check && typeof check === "object" ? check : {};
		return row([
			'<strong title="' + escape_html(c.name) + '">' + escape_html(check_phrase(c.name)) + "</strong>",
			check_badge(c.ok),
			escape_html(c.detail) + small_hint(c.hint),
			'<span style="white-space:nowrap;">' + escape_html(ms(c.elapsed_ms)) + "</span>",
		]);
	}

	function probe_badge(p) {
		if (!p) return badge("gray", __("Not run"));
		if (!p.connected) return badge("red", __("Fail"));
		// connected to a realtime service that does not hear this site: reachable is not delivered
		if (p.received === false) return badge("red", __("Not delivered"));
		// connected, but stuck on polling means the proxy drops the websocket upgrade
		if (p.transport && p.transport !== "websocket") return badge("orange", __("Polling only"));
		return badge("green", __("Pass"));
	}

	function probe_detail(p) {
		if (!p) return escape_html(__("The browser probe did not run."));
		const parts = [];
		parts.push(
			escape_html(__("Connected")) + ": " + escape_html(p.connected ? __("Yes") : __("No"))
		);
		parts.push(escape_html(__("Transport")) + ": " + escape_html(p.transport || "-"));
		if (p.received === true || p.received === false) {
			parts.push(
				escape_html(__("Heard this site's probe event")) +
					": " +
					escape_html(p.received ? __("Yes") : __("No"))
			);
		}
		if (p.url)
			parts.push(escape_html(__("URL")) + ": <code>" + escape_html(p.url) + "</code>");
		if (p.path)
			parts.push(escape_html(__("Path")) + ": <code>" + escape_html(p.path) + "</code>");
		let html = parts.join(" &middot; ");
		if (p.delivery_error) {
			html +=
				'<div style="margin-top:4px;">' +
				escape_html(__("Probe event")) +
				": " +
				escape_html(p.delivery_error) +
				"</div>";
		}
		if (p.error) {
			html +=
				'<div style="margin-top:4px;color:var(--text-on-red, #cc2929);">' +
				escape_html(__("Error")) +
				": " +
				escape_html(p.error) +
				"</div>";
		}
		return html;
	}

	function top_banners(r, p) {
		let html = "";
		if (r && r.hint) {
			html += banner(r.ok ? "orange" : "red", __("Most likely cause"), r.hint);
		} else if (r && r.ok) {
			html += banner("green", __("All checks passed"), null);
		} else if (r) {
			html += banner("red", __("Some checks failed"), __("See the failed checks below."));
		}
		if (r && r.timeout_note) {
			html += banner("orange", __("Probe timeout"), r.timeout_note);
		}
		// the server can reach itself while this browser still cannot reach the server
		if (p && !p.connected) {
			html += banner(
				"red",
				__("This browser could not connect to the realtime service"),
				p.error || null
			);
		} else if (p && p.received === false) {
			html += banner(
				"red",
				__("This browser's socket does not hear this site's events"),
				__(
					"It connected, but the probe event this site published never arrived: the realtime service it reached is not this site's (another bench's or another Redis)."
				)
			);
		} else if (p && p.transport && p.transport !== "websocket") {
			html += banner(
				"orange",
				__("This browser is connected over long polling only"),
				__(
					"WebSocket upgrades are blocked on the way (proxy without Upgrade/Connection headers)."
				)
			);
		}
		return html;
	}

	function summary(r) {
		const items = [
			[__("Deployment"), deployment_label(r.deployment_type)],
			[__("Site"), r.site_name],
			[__("Socket.IO port"), r.socketio_port],
			[__("External URL"), r.external_socketio_url],
			[__("Took"), ms(r.elapsed_ms)],
		];
		return (
			'<div class="raven-rt-summary text-muted" style="margin-bottom:8px;font-size:12px;' +
			'color:var(--text-muted, #6b6b6b);">' +
			items
				.filter(function (i) {
					return i[1] !== null && i[1] !== undefined && i[1] !== "";
				})
				.map(function (i) {
					return escape_html(i[0]) + ": <strong>" + escape_html(i[1]) + "</strong>";
				})
				.join(" &middot; ") +
			"</div>"
		);
	}

	// The socket each real client opens: what the server found, and what this tab got there.
	function clients_table(r, client_probes) {
		const rows = r && Array.isArray(r.clients) ? r.clients : [];
		if (!rows.length) return "";
		const probes = client_probes && typeof client_probes === "object" ? client_probes : null;
		let html = '<h5 style="margin:12px 0 6px;">' + escape_html(__("Clients")) + "</h5>";
		html += TABLE_OPEN;
		html += head([
			[__("Client"), "18%"],
			[__("URL"), "28%"],
			[__("Server"), "90px"],
			[__("Delivered"), "90px"],
			[__("This browser"), "110px"],
			[__("Why / hint"), ""],
		]);
		html += "<tbody>";
		rows.forEach(function (c) {
			const p = probes && c.url ? probes[c.url] : null;
			let mine = badge("gray", __("Not run"));
			if (p) {
				mine =
					probe_badge(p) +
					(p.error
						? '<div style="margin-top:4px;font-size:12px;">' + escape_html(p.error) + "</div>"
						: "") +
					(p.received === false
						? '<div style="margin-top:4px;font-size:12px;">' +
							escape_html(__("connected, but this site's probe event never arrived")) +
							"</div>"
						: "");
			}
			html += row([
				"<strong>" + escape_html(c.client) + "</strong>",
				c.url ? "<code>" + escape_html(c.url) + "</code>" : "-",
				check_badge(c.ok),
				// reachable is not delivered: did an event published by this site arrive there
				check_badge(c.delivered === undefined ? null : c.delivered),
				mine,
				escape_html(c.why) +
					(c.ok === false
						? '<div style="margin-top:4px;">' + escape_html(c.detail) + "</div>"
						: "") +
					(c.delivered === false
						? '<div class="raven-rt-delivery" style="margin-top:4px;">' +
							escape_html(c.delivery) +
							"</div>"
						: "") +
					small_hint(c.hint),
			]);
		});
		html += "</tbody></table>";
		return html;
	}

	function render_diagnosis(result, browser_probe, client_probes) {
		const r = result && typeof result === "object" ? result : null;
		const p = browser_probe && typeof browser_probe === "object" ? browser_probe : null;
		let html = '<div class="raven-rt-diagnosis">';
		html += top_banners(r, p);
		if (r) html += summary(r);
		html += TABLE_OPEN;
		html += head([
			[__("Check"), "22%"],
			[__("Result"), "120px"],
			[__("Detail"), ""],
			[__("Time"), "80px"],
		]);
		html += "<tbody>";
		const checks = r && Array.isArray(r.checks) ? r.checks : [];
		checks.forEach(function (c) {
			html += check_row(c);
		});
		if (!r) {
			html += row([
				"<strong>" + escape_html(__("Server checks")) + "</strong>",
				badge("gray", __("Not run")),
				escape_html(__("No server diagnosis yet.")),
				"",
			]);
		}
		html += row([
			"<strong>" + escape_html(__("Browser connection (this tab)")) + "</strong>",
			probe_badge(p),
			probe_detail(p),
			'<span style="white-space:nowrap;">' +
				escape_html(p ? ms(p.elapsed_ms) : "") +
				"</span>",
		]);
		html += "</tbody></table>";
		html += clients_table(r, client_probes);
		html += "</div>";
		return html;
	}

	function render_config(config) {
		const c = config && typeof config === "object" ? config : {};
		const sources = c.sources && typeof c.sources === "object" ? c.sources : {};
		// the effective values; "context" and the bookkeeping keys are shown elsewhere
		const skip = { sources: 1, warnings: 1, context: 1 };
		const keys = Object.keys(c).filter(function (k) {
			return !skip[k];
		});
		let html = '<div class="raven-rt-config">';
		html += TABLE_OPEN;
		html += head([
			[__("Setting"), "30%"],
			[__("Effective value"), ""],
			[__("Source"), "25%"],
		]);
		html += "<tbody>";
		keys.forEach(function (k) {
			const v = c[k];
			html += row([
				"<code>" + escape_html(k) + "</code>",
				v === null || v === undefined || v === ""
					? '<span class="text-muted" style="color:var(--text-muted, #6b6b6b);">' +
						escape_html(__("not set")) +
						"</span>"
					: escape_html(v),
				sources[k]
					? '<span class="text-muted" style="color:var(--text-muted, #6b6b6b);">' +
						escape_html(sources[k]) +
						"</span>"
					: "",
			]);
		});
		if (!keys.length) {
			html += row([escape_html(__("No configuration to show.")), "", ""]);
		}
		html += "</tbody></table>";
		const warnings = Array.isArray(c.warnings) ? c.warnings : [];
		if (warnings.length) {
			html +=
				'<div class="raven-rt-warnings" style="padding:10px 14px;border-radius:8px;font-size:13px;' +
				"background-color:" +
				COLORS.orange[0] +
				";color:" +
				COLORS.orange[1] +
				';">' +
				'<div style="font-weight:700;margin-bottom:4px;">' +
				escape_html(__("Warnings")) +
				'</div><ul style="margin:0;padding-left:18px;">' +
				warnings
					.map(function (w) {
						return "<li>" + escape_html(w) + "</li>";
					})
					.join("") +
				"</ul></div>";
		}
		html += "</div>";
		return html;
	}

	return {
		render_diagnosis: render_diagnosis,
		check_phrase: check_phrase,
		render_config: render_config,
		escape_html: escape_html,
		translate: __,
	};
});
