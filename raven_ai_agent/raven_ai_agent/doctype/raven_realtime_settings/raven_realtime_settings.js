// Copyright (c) 2026, raven_ai_agent developers
// For license information, please see license.txt

// Raven Realtime Settings: shows the effective realtime config and runs a diagnosis from
// both ends at once: the server's probes (run_diagnosis) and this browser's own Socket.IO
// connection (raven_realtime.probe), because either can fail while the other passes.
// Wrapped so that evaluating this script twice never redeclares a global const.
(function () {
	const RAVEN_RT_API = "raven_ai_agent.api.realtime.";
	// Loaded on demand, in this order: the connection helper builds on the desk part, which
	// app_include_js puts on every page (required here only when hooks or the asset cache lag
	// behind: frappe.require fetches whatever it is given again), then the renderer.
	const RAVEN_RT_DESK_ASSET = "/assets/raven_ai_agent/js/raven_realtime_desk.js";
	const RAVEN_RT_ASSETS = [
		"/assets/raven_ai_agent/js/raven_realtime.js",
		"/assets/raven_ai_agent/js/raven_realtime_diagnosis.js",
	];

	function raven_rt_ready() {
		const rt = window.raven_realtime;
		if (rt && rt.probe && rt.render_diagnosis) return Promise.resolve(rt);
		const assets = rt && rt.watch ? RAVEN_RT_ASSETS : [RAVEN_RT_DESK_ASSET, ...RAVEN_RT_ASSETS];
		return new Promise((resolve) => {
			frappe.require(assets, () => resolve(window.raven_realtime));
		});
	}

	function raven_rt_set_html(frm, fieldname, html) {
		const field = frm.get_field(fieldname);
		if (field && field.$wrapper) field.$wrapper.html(html);
	}

	function raven_rt_parse(value) {
		if (!value) return null;
		if (typeof value === "object") return value;
		try {
			return JSON.parse(value);
		} catch (e) {
			return null; // a hand-edited or truncated JSON must not break the form
		}
	}

	function raven_rt_error_html(message) {
		const esc = frappe.utils.escape_html;
		return `<div class="text-muted">${esc(message)}</div>`;
	}

	async function raven_rt_show_config(frm) {
		try {
			const [rt, r] = await Promise.all([
				raven_rt_ready(),
				frappe.call({ method: RAVEN_RT_API + "get_effective_config", type: "GET" }),
			]);
			raven_rt_set_html(frm, "effective_config_html", rt.render_config(r.message));
		} catch (e) {
			raven_rt_set_html(
				frm,
				"effective_config_html",
				raven_rt_error_html(__("Could not load the effective configuration."))
			);
		}
	}

	async function raven_rt_show_diagnosis(frm) {
		const last = frm.raven_rt_last_run;
		// a run from this tab carries the browser half, which the server never stores
		if (last && last.on === frm.doc.last_diagnosis_on) {
			const rt = await raven_rt_ready();
			raven_rt_set_html(
				frm,
				"diagnosis_html",
				rt.render_diagnosis(last.server, last.browser, last.clients)
			);
			return;
		}
		const stored = raven_rt_parse(frm.doc.last_diagnosis);
		if (!stored) {
			raven_rt_set_html(
				frm,
				"diagnosis_html",
				raven_rt_error_html(__("No diagnosis yet: click Run Diagnosis."))
			);
			return;
		}
		const rt = await raven_rt_ready();
		raven_rt_set_html(
			frm,
			"diagnosis_html",
			rt.render_diagnosis(stored.server || stored, stored.browser || null)
		);
	}

	async function raven_rt_run(frm) {
		if (frm.is_dirty()) {
			// the server diagnoses the saved settings, and the reload afterwards would drop edits
			frappe.msgprint(__("Save the settings first: the diagnosis uses the saved values."));
			return;
		}
		const rt = await raven_rt_ready();
		// both ends at once: the browser probe runs while the server call holds the freeze
		// delivery: this tab's socket must also hear an event the site publishes to this user
		const browser_probe = rt.probe({ timeout_ms: 8000, delivery: true });
		let server = null;
		try {
			const r = await frappe.call({
				method: RAVEN_RT_API + "run_diagnosis",
				type: "POST",
				// what this tab was handed, so the server can tell a stale page from a wrong config
				args: { boot_context: JSON.stringify((frappe.boot && frappe.boot.raven_realtime) || null) },
				freeze: true,
				freeze_message: __("Running realtime diagnosis…"),
			});
			server = r.message || null;
		} catch (e) {
			frappe.msgprint({
				title: __("Diagnosis failed"),
				indicator: "red",
				message: __("The server diagnosis did not run. The browser check is shown below."),
			});
		}
		const browser = await browser_probe;
		// each real client's socket (desk, Raven, this app's context) from this tab too
		const clients = server
			? await rt.probe_clients(server, { timeout_ms: 8000, delivery: true })
			: null;
		// reload to show what the server stored (last_diagnosis_on), then this run on top
		await frm.reload_doc();
		frm.raven_rt_last_run = {
			server: server,
			browser: browser,
			clients: clients,
			on: frm.doc.last_diagnosis_on,
		};
		raven_rt_set_html(frm, "diagnosis_html", rt.render_diagnosis(server, browser, clients));
		const ok = Boolean(server && server.ok && browser.connected);
		frappe.show_alert({
			message: ok
				? __("Realtime diagnosis: all checks passed")
				: __("Realtime diagnosis: problems found"),
			indicator: ok ? "green" : "red",
		});
	}

	// History: scheduled checks and field data, as Frappe's own charts (last 24 hours or 7 days);
	// the charts translate with the renderer's helper, so that comes first.
	const RAVEN_RT_HISTORY_ASSETS = [
		"/assets/raven_ai_agent/js/raven_realtime_diagnosis.js",
		"/assets/raven_ai_agent/js/raven_realtime_history.js",
	];
	const RAVEN_RT_PERIODS = [
		["24h", __("Last 24 hours")],
		["7d", __("Last 7 days")],
	];

	function raven_rt_history_ready() {
		const rt = window.raven_realtime;
		if (rt && rt.render_history) return Promise.resolve(rt);
		return new Promise((resolve) => {
			frappe.require(RAVEN_RT_HISTORY_ASSETS, () => resolve(window.raven_realtime));
		});
	}

	async function raven_rt_show_history(frm, period) {
		const field = frm.get_field("history_html");
		if (!field || !field.$wrapper) return;
		frm.raven_rt_period = period || frm.raven_rt_period || "24h";
		const wrapper = field.$wrapper[0];
		try {
			const [rt, r] = await Promise.all([
				raven_rt_history_ready(),
				frappe.call({
					method: "raven_ai_agent.api.history.get_realtime_history",
					type: "GET",
					args: { period: frm.raven_rt_period },
				}),
			]);
			wrapper.innerHTML = "";
			const toolbar = document.createElement("div");
			toolbar.className = "btn-group btn-group-sm";
			RAVEN_RT_PERIODS.forEach(([value, label]) => {
				const button = document.createElement("button");
				button.type = "button";
				button.className =
					"btn btn-default btn-xs" + (value === frm.raven_rt_period ? " active" : "");
				button.textContent = label;
				button.addEventListener("click", () => raven_rt_show_history(frm, value));
				toolbar.appendChild(button);
			});
			const charts = document.createElement("div");
			wrapper.appendChild(toolbar);
			wrapper.appendChild(charts);
			rt.render_history(charts, r.message, frappe.Chart);
		} catch (e) {
			raven_rt_set_html(frm, "history_html", raven_rt_error_html(__("Could not load the history.")));
		}
	}

	function raven_rt_copy(frm) {
		const last = frm.raven_rt_last_run;
		const payload = last
			? { server: last.server, browser: last.browser, clients: last.clients || null }
			: { server: raven_rt_parse(frm.doc.last_diagnosis), browser: null };
		frappe.utils.copy_to_clipboard(JSON.stringify(payload, null, 2));
	}

	// The handlers return their promises: desk chains them, and the form's tests await them.
	// Run Diagnosis is one toolbar button (no field of the same name).
	frappe.ui.form.on("Raven Realtime Settings", {
		refresh(frm) {
			frm.add_custom_button(__("Run Diagnosis"), () => raven_rt_run(frm));
			frm.add_custom_button(__("Copy as JSON"), () => raven_rt_copy(frm));
			return Promise.all([
				raven_rt_show_config(frm),
				raven_rt_show_diagnosis(frm),
				raven_rt_show_history(frm),
			]);
		},
	});
})();
