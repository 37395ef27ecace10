// The Raven Realtime Settings form script against a minimal desk stand-in: which methods it
// calls and how, what it renders where, and the order of probe, freeze and reload.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const ROOT = path.join(__dirname, "..", "..", "raven_ai_agent");
const FORM_JS = path.join(
	ROOT,
	"raven_ai_agent",
	"doctype",
	"raven_realtime_settings",
	"raven_realtime_settings.js"
);
const RENDER_JS = path.join(ROOT, "public", "js", "raven_realtime_diagnosis.js");

const SERVER_RESULT = {
	deployment_type: "local",
	site_name: "site.localhost",
	ok: false,
	hint: "Start the realtime service <now>",
	elapsed_ms: 20,
	checks: [
		{
			name: "local_socketio",
			ok: false,
			detail: "connection refused",
			hint: null,
			elapsed_ms: 2,
		},
	],
};
const CONFIG = {
	deployment_type: "local",
	socketio_port: 9000,
	sources: { socketio_port: "default" },
	warnings: [],
};
const PROBE = {
	connected: true,
	transport: "websocket",
	error: null,
	elapsed_ms: 9,
	url: "http://x/site",
	namespace: "/site",
};

// A desk just big enough for the form script; `log` records what happened, in order.
function desk(options) {
	const o = Object.assign(
		{ server_fails: false, stored: null, dirty: false, preload: true },
		options
	);
	const render_src = fs.readFileSync(RENDER_JS, "utf8");
	let sandbox = null;
	const log = [];
	const html = {};
	const buttons = {};
	let handlers = null;
	let clipboard = null;

	const frappe = {
		ui: {
			form: {
				on(doctype, h) {
					assert.equal(doctype, "Raven Realtime Settings");
					handlers = h;
				},
			},
		},
		call(args) {
			log.push(["call", args.method, args.type, args.freeze, args.freeze_message]);
			if (args.method.endsWith(".get_effective_config"))
				return Promise.resolve({ message: CONFIG });
			if (args.method.endsWith(".run_diagnosis")) {
				if (o.server_fails) return Promise.reject(new Error("500"));
				return new Promise((resolve) =>
					setTimeout(() => {
						log.push(["server done"]);
						frm.doc.last_diagnosis = JSON.stringify(SERVER_RESULT);
						frm.doc.last_diagnosis_on = "2026-11-28 10:00:00";
						resolve({ message: SERVER_RESULT });
					}, 20)
				);
			}
			return Promise.reject(new Error("unexpected method " + args.method));
		},
		require(assets, cb) {
			log.push(["require", assets]);
			vm.runInContext(render_src, sandbox);
			cb();
		},
		msgprint(m) {
			log.push(["msgprint", typeof m === "string" ? m : m.message]);
		},
		show_alert(m) {
			log.push(["alert", m.indicator]);
		},
		utils: {
			escape_html: (s) => String(s).replace(/</g, "&lt;").replace(/>/g, "&gt;"),
			copy_to_clipboard: (text) => {
				clipboard = text;
			},
		},
	};

	const frm = {
		doc: {
			last_diagnosis: o.stored,
			last_diagnosis_on: o.stored ? "2026-11-27 09:00:00" : null,
		},
		get_field(name) {
			return { $wrapper: { html: (h) => (html[name] = h) } };
		},
		add_custom_button(label, fn) {
			buttons[label] = fn;
		},
		is_dirty: () => o.dirty,
		reload_doc() {
			log.push(["reload"]);
			// desk refreshes the form from the reloaded doc before the promise settles
			handlers.refresh(frm);
			return Promise.resolve();
		},
	};

	const window = {
		raven_realtime: {
			probe(opts) {
				log.push(["probe start", opts.timeout_ms]);
				return new Promise((resolve) =>
					setTimeout(() => {
						log.push(["probe done"]);
						resolve(PROBE);
					}, 5)
				);
			},
		},
	};
	sandbox = { window, frappe, __: (s) => s, console, setTimeout, clearTimeout, Promise, JSON };
	vm.createContext(sandbox);
	// the real renderer, so the form gets real HTML (it attaches to window.raven_realtime)
	if (o.preload) vm.runInContext(render_src, sandbox);
	vm.runInContext(fs.readFileSync(FORM_JS, "utf8"), sandbox);
	return {
		frm,
		log,
		html,
		buttons,
		handlers: () => handlers,
		clipboard: () => clipboard,
	};
}

const settle = () => new Promise((r) => setTimeout(r, 60));

test("refresh shows the effective config and the stored diagnosis, adds the buttons", async () => {
	const d = desk({ stored: JSON.stringify(SERVER_RESULT) });
	d.handlers().refresh(d.frm);
	await settle();
	assert.deepEqual(Object.keys(d.buttons).sort(), ["Copy as JSON", "Run Diagnosis"]);
	assert.deepEqual(d.log[0], [
		"call",
		"raven_ai_agent.api.realtime.get_effective_config",
		"GET",
		undefined,
		undefined,
	]);
	assert.match(d.html.effective_config_html, /socketio_port/);
	assert.match(d.html.diagnosis_html, /Start the realtime service &lt;now&gt;/);
	assert.match(d.html.diagnosis_html, /Not run/, "no browser probe stored");
});

test("refresh without a stored diagnosis says how to get one; bad JSON does not break it", async () => {
	for (const stored of [null, "{not json"]) {
		const d = desk({ stored });
		d.handlers().refresh(d.frm);
		await settle();
		assert.match(d.html.diagnosis_html, /No diagnosis yet/);
	}
});

test("Run Diagnosis: probe and frozen POST in parallel, reload, then both rendered", async () => {
	const d = desk();
	d.handlers().refresh(d.frm);
	await settle();
	d.log.length = 0;
	await d.buttons["Run Diagnosis"]();
	const steps = d.log.map((l) => l[0]);
	assert.deepEqual(d.log[0], ["probe start", 8000]);
	assert.deepEqual(d.log[1], [
		"call",
		"raven_ai_agent.api.realtime.run_diagnosis",
		"POST",
		true,
		"Running realtime diagnosis…",
	]);
	assert.ok(
		steps.indexOf("probe done") < steps.indexOf("server done"),
		"the probe ran during the call"
	);
	assert.ok(steps.indexOf("reload") > steps.indexOf("server done"));
	assert.deepEqual(d.log[d.log.length - 1], ["alert", "red"]);
	assert.match(d.html.diagnosis_html, /Start the realtime service/);
	assert.match(d.html.diagnosis_html, /Transport: websocket/);

	// a later refresh (same stored run) keeps the browser half
	d.handlers().refresh(d.frm);
	await settle();
	assert.match(d.html.diagnosis_html, /Transport: websocket/);

	d.buttons["Copy as JSON"]();
	assert.deepEqual(JSON.parse(d.clipboard()), { server: SERVER_RESULT, browser: PROBE });
});

test("the Button field runs the same diagnosis", async () => {
	const d = desk();
	d.handlers().run_diagnosis(d.frm);
	await settle();
	assert.ok(d.log.some((l) => l[1] === "raven_ai_agent.api.realtime.run_diagnosis"));
	assert.match(d.html.diagnosis_html, /Browser connection/);
});

test("unsaved edits stop the run with a message", async () => {
	const d = desk({ dirty: true });
	await d.handlers().run_diagnosis(d.frm);
	await settle();
	assert.deepEqual(d.log, [
		["msgprint", "Save the settings first: the diagnosis uses the saved values."],
	]);
});

test("a failing server call still shows the browser result", async () => {
	const d = desk({ server_fails: true });
	d.handlers().refresh(d.frm);
	await settle();
	await d.buttons["Run Diagnosis"]();
	assert.ok(d.log.some((l) => l[0] === "msgprint"));
	assert.match(d.html.diagnosis_html, /No server diagnosis yet/);
	assert.match(d.html.diagnosis_html, /Transport: websocket/);
	d.buttons["Copy as JSON"]();
	assert.deepEqual(JSON.parse(d.clipboard()), { server: null, browser: PROBE });
});

test("assets are required when app_include_js did not load them", async () => {
	const d = desk({ stored: JSON.stringify(SERVER_RESULT), preload: false });
	d.handlers().refresh(d.frm);
	await settle();
	const req = d.log.find((l) => l[0] === "require");
	assert.deepEqual(
		[...req[1]],
		[
			"/assets/raven_ai_agent/js/raven_realtime.js",
			"/assets/raven_ai_agent/js/raven_realtime_diagnosis.js",
		]
	);
	assert.match(d.html.diagnosis_html, /Start the realtime service/);
});
