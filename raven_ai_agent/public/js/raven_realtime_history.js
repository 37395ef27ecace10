/*
 * raven_realtime_history.js: the settings form's pictures of realtime health over time, drawn
 * with Frappe's own charts (frappe.Chart, i.e. frappe-charts).
 *
 * API on window.raven_realtime (merged with the other helpers, load order free):
 *   history_charts(history) -> [{key, title, empty, options}]   (pure)
 *       history: what raven_ai_agent.api.history.get_realtime_history returns (hourly labels,
 *       checks {passed, failed, latency_ms}, field {connected_share, transports, disconnects}).
 *       One entry per chart: scheduled checks (passed/failed per hour), check latency, share of
 *       page loads connected, transport mix, disconnect reasons. `empty` names what has no data
 *       yet (the chart is then replaced by that sentence); with `field_reports: false` the three
 *       field charts say "Not collected".
 *   render_history(element, history, Chart, extra_options?) -> number of charts drawn
 *       Fills `element` with a block per chart and draws each with `new Chart(el, options)`
 *       (extra_options merged in, e.g. {animate: 0}).
 *
 * Loaded by the form only (frappe.require), not on every desk page.
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

	// The app's one translation helper, from raven_realtime_diagnosis.js (app_include_js: on every
	// desk page before a form loads this file); under Node, required from beside this file.
	const shared = root && root.raven_realtime && root.raven_realtime.translate;
	const __ = shared || require("./raven_realtime_diagnosis.js").translate;

	const GREEN = "#2f9d58";
	const RED = "#e24c4c";
	const PALETTE = ["#5e64ff", "#ffa00a", "#7cd6fd", "#ff5858", "#98d85b", "#b554ff", "#743ee2"];
	const HEIGHT = 180;

	function sum(values) {
		return (values || []).reduce(function (a, b) {
			return a + (b || 0);
		}, 0);
	}

	// frappe-charts draws no gaps: an hour without data is 0 (the "runs"/"page loads" charts say
	// whether there was anything to measure).
	function numbers(values, scale) {
		return (values || []).map(function (v) {
			return v === null || v === undefined ? 0 : Math.round(v * (scale || 1) * 10) / 10;
		});
	}

	function series(named) {
		return Object.keys(named || {}).map(function (name) {
			return { name: name, values: numbers(named[name]) };
		});
	}

	function base(type, labels, datasets, extra) {
		return Object.assign(
			{
				type: type,
				height: HEIGHT,
				data: { labels: labels, datasets: datasets },
				axisOptions: { xIsSeries: 1, xAxisMode: "tick" },
				tooltipOptions: {},
			},
			extra || {}
		);
	}

	function history_charts(history) {
		const h = history || {};
		const labels = h.labels || [];
		const checks = h.checks || {};
		const field = h.field || {};
		const ran = sum(checks.passed) + sum(checks.failed);
		const loads = sum(field.page_loads);
		const no_checks = ran ? null : __("No scheduled checks in this period.");
		// off: the browsers were told not to report (what an hour still holds was sent before)
		const not_collected =
			h.field_reports === false
				? __("Not collected: field reports are off (Collect Field Reports from Browsers, above).")
				: null;
		const no_field = not_collected || (loads ? null : __("No reports from browsers in this period."));
		return [
			{
				key: "checks",
				title: __("Scheduled checks (passed / failed per hour)"),
				empty: no_checks,
				options: base(
					"bar",
					labels,
					[
						{ name: __("Passed"), values: numbers(checks.passed) },
						{ name: __("Failed"), values: numbers(checks.failed) },
					],
					{ colors: [GREEN, RED], barOptions: { stacked: 1, spaceRatio: 0.2 } }
				),
			},
			{
				key: "latency",
				title: __("Scheduled check duration (ms, mean per hour)"),
				empty: no_checks,
				options: base(
					"line",
					labels,
					[{ name: __("Duration (ms)"), values: numbers(checks.latency_ms) }],
					{ colors: [PALETTE[0]], lineOptions: { regionFill: 1, hideDots: 1 } }
				),
			},
			{
				key: "connected",
				title: __("Page loads whose desk socket connected (%)"),
				empty: no_field,
				options: base(
					"line",
					labels,
					[{ name: __("Connected (%)"), values: numbers(field.connected_share, 100) }],
					{ colors: [GREEN], lineOptions: { hideDots: 1 } }
				),
			},
			{
				key: "transports",
				title: __("Transports (connects and upgrades per hour)"),
				empty:
					not_collected ||
					(Object.keys(field.transports || {}).length ? null : no_field || __("No connects reported.")),
				options: base("bar", labels, series(field.transports), {
					colors: PALETTE,
					barOptions: { stacked: 1, spaceRatio: 0.2 },
				}),
			},
			{
				key: "disconnects",
				title: __("Disconnect reasons (per hour)"),
				empty:
					not_collected ||
					(Object.keys(field.disconnects || {}).length ? null : __("No disconnects reported.")),
				options: base("bar", labels, series(field.disconnects), {
					colors: PALETTE.slice(1),
					barOptions: { stacked: 1, spaceRatio: 0.2 },
				}),
			},
		];
	}

	function render_history(element, history, Chart, extra_options) {
		const doc = element.ownerDocument;
		element.innerHTML = "";
		let drawn = 0;
		history_charts(history).forEach(function (chart) {
			const block = doc.createElement("div");
			block.className = "raven-rt-history-chart";
			block.setAttribute("data-chart", chart.key);
			const title = doc.createElement("div");
			title.className = "text-muted small";
			title.style.marginTop = "12px";
			title.textContent = chart.title;
			block.appendChild(title);
			const body = doc.createElement("div");
			block.appendChild(body);
			element.appendChild(block);
			if (chart.empty || !Chart) {
				body.className = "text-muted";
				body.textContent = chart.empty || __("Charts are not available on this page.");
				return;
			}
			new Chart(body, Object.assign({}, chart.options, extra_options || {})); // eslint-disable-line no-new
			drawn += 1;
		});
		return drawn;
	}

	return {
		history_charts: history_charts,
		render_history: render_history,
	};
});
