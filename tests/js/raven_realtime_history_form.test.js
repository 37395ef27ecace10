// The settings form's History section: which endpoint it asks (GET, the period), what it hands
// to frappe.Chart, and the period buttons. A minimal desk and DOM, the real history renderer.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const ROOT = path.join(__dirname, "..", "..", "raven_ai_agent");
const FORM_JS = path.join(ROOT, "raven_ai_agent", "doctype", "raven_realtime_settings", "raven_realtime_settings.js");
const HISTORY_JS = path.join(ROOT, "public", "js", "raven_realtime_history.js");
const RENDER_JS = path.join(ROOT, "public", "js", "raven_realtime_diagnosis.js");

function element(tag) {
	return {
		tag,
		children: [],
		listeners: {},
		attributes: {},
		style: {},
		className: "",
		textContent: "",
		ownerDocument: document_stub,
		set innerHTML(v) {
			this.children = [];
			this._html = v;
		},
		appendChild(c) {
			this.children.push(c);
			return c;
		},
		addEventListener(name, fn) {
			this.listeners[name] = fn;
		},
		setAttribute(k, v) {
			this.attributes[k] = v;
		},
	};
}
const document_stub = { createElement: element };
// objects made inside the vm context have its prototypes: compare their JSON
const plain = (value) => JSON.parse(JSON.stringify(value));

const HISTORY = {
	period: "24h",
	labels: ["12:00", "13:00"],
	checks: { runs: [1, 2], passed: [1, 1], failed: [0, 1], latency_ms: [40, 55.5] },
	field: {
		page_loads: [0, 2],
		connected_share: [null, 0.5],
		transports: { websocket: [0, 2] },
		disconnects: { "transport close": [0, 3] },
	},
};

function desk() {
	const calls = [];
	const charts = [];
	const wrapper = element("div");
	let handlers = null;
	const frappe = {
		ui: { form: { on: (_dt, h) => (handlers = h) } },
		call(args) {
			calls.push(args);
			if (args.method.endsWith(".get_realtime_history"))
				return Promise.resolve({ message: Object.assign({}, HISTORY, { period: args.args.period }) });
			return Promise.reject(new Error("not this test's"));
		},
		require(_assets, cb) {
			vm.runInContext(fs.readFileSync(HISTORY_JS, "utf8"), sandbox);
			cb();
		},
		Chart: function (el, options) {
			charts.push({ el, options });
		},
		utils: { escape_html: (s) => String(s) },
	};
	const frm = {
		doc: {},
		get_field: (name) => (name === "history_html" ? { $wrapper: [wrapper] } : { $wrapper: { html() {} } }),
		add_custom_button() {},
	};
	const sandbox = { window: {}, frappe, document: document_stub, __: (s) => s, console, setTimeout, Promise, JSON };
	vm.createContext(sandbox);
	// as on desk: app_include_js has loaded the diagnosis renderer before any form script
	vm.runInContext(fs.readFileSync(RENDER_JS, "utf8"), sandbox);
	vm.runInContext(fs.readFileSync(FORM_JS, "utf8"), sandbox);
	return { frm, calls, charts, wrapper, handlers: () => handlers };
}

test("refresh asks the last 24 hours with GET and draws five frappe.Charts", async () => {
	const d = desk();
	await d.handlers().refresh(d.frm);
	const call = d.calls.find((c) => c.method === "raven_ai_agent.api.history.get_realtime_history");
	assert.equal(call.type, "GET");
	assert.deepEqual(plain(call.args), { period: "24h" });
	assert.equal(d.charts.length, 5);
	const checks = d.charts[0].options;
	assert.equal(checks.type, "bar");
	assert.deepEqual(plain(checks.data.labels), ["12:00", "13:00"]);
	assert.deepEqual(
		plain(checks.data.datasets.map((s) => s.values)),
		[
			[1, 1],
			[0, 1],
		]
	);
	assert.deepEqual(plain(d.charts[2].options.data.datasets[0].values), [0, 50]); // connected share in %
});

test("the period buttons ask again for 7 days", async () => {
	const d = desk();
	await d.handlers().refresh(d.frm);
	const toolbar = d.wrapper.children[0];
	assert.deepEqual(
		toolbar.children.map((b) => [b.textContent, b.className.includes("active")]),
		[
			["Last 24 hours", true],
			["Last 7 days", false],
		]
	);
	await toolbar.children[1].listeners.click();
	const last = d.calls.filter((c) => c.method.endsWith(".get_realtime_history")).pop();
	assert.deepEqual(plain(last.args), { period: "7d" });
	assert.equal(d.frm.raven_rt_period, "7d");
});

test("with field reports off the three field charts say 'Not collected', the check charts draw", () => {
	const { history_charts } = require(HISTORY_JS);
	const hours = ["10:00", "11:00"];
	const history = {
		labels: hours,
		checks: { passed: [1, 1], failed: [0, 1], latency_ms: [30, 40] },
		field: { page_loads: [3, 0], connected_share: [1, null], transports: { websocket: [3, 0] }, disconnects: {} },
	};
	const empty = (h) => Object.fromEntries(history_charts(h).map((c) => [c.key, c.empty]));
	const off = empty({ ...history, field_reports: false });
	assert.equal(off.checks, null);
	assert.equal(off.latency, null);
	for (const key of ["connected", "transports", "disconnects"]) assert.match(off[key], /^Not collected/, key);
	const on = empty({ ...history, field_reports: true });
	assert.equal(on.connected, null);
	assert.equal(on.transports, null);
	assert.equal(on.disconnects, "No disconnects reported.");
});
