// The Raven Realtime Settings form script against a minimal desk stand-in: which methods it
// calls and how, what it renders where, and the order of probe, freeze and reload.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { execFileSync } = require("node:child_process");

const ROOT = path.join(__dirname, "..", "..", "raven_ai_agent");
const FORM_JS = path.join(
	ROOT,
	"raven_ai_agent",
	"doctype",
	"raven_realtime_settings",
	"raven_realtime_settings.js"
);
const RENDER_JS = path.join(ROOT, "public", "js", "raven_realtime_diagnosis.js");

// A real report: the Python diagnosis of a site whose realtime port nothing listens on.
const SERVER_RESULT = JSON.parse(
	execFileSync(
		"python3",
		[
			"-c",
			[
				"import json, socket",
				"from raven_ai_agent.realtime.resolve import resolve",
				"from raven_ai_agent.realtime.diagnose import diagnose",
				"s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()",
				"config = resolve('site.localhost', {}, {'socketio_port': port})",
				"print(json.dumps(diagnose(config, timeout=0.5, external=False)))",
			].join("\n"),
		],
		{ cwd: path.join(__dirname, "..", ".."), encoding: "utf8" }
	)
);
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
		{ server_fails: false, stored: null, dirty: false, preload: true, desk_part: true },
		options
	);
	const render_src = fs.readFileSync(RENDER_JS, "utf8");
	let sandbox = null;
	const server = o.hold_server ? deferred() : { promise: Promise.resolve() };
	const probe = deferred();
	let stored = {};
	const log = [];
	const sent = [];
	const html = {};
	const buttons = {};
	let handlers = null;
	let clipboard = null;

	const frappe = {
		boot: { raven_realtime: SERVER_RESULT.config.context },
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
			if (args.method.endsWith(".run_diagnosis")) sent.push(args.args);
			if (args.method.endsWith(".get_effective_config"))
				return Promise.resolve({ message: CONFIG });
			if (args.method.endsWith(".run_diagnosis")) {
				if (o.server_fails) return Promise.reject(new Error("500"));
				// the test answers: server.resolve() stores the result, as the server does
				const result = o.result || SERVER_RESULT;
				return server.promise.then(() => {
					log.push(["server done"]);
					stored = {
						last_diagnosis: JSON.stringify(result),
						last_diagnosis_on: "2026-11-28 10:00:00",
					};
					return { message: result };
				});
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
			Object.assign(frm.doc, stored);
			// desk refreshes the form from the reloaded doc before the promise settles
			handlers.refresh(frm);
			return Promise.resolve();
		},
	};

	const window = {
		raven_realtime: {
			// the desk part (app_include_js) is on the page unless a test says otherwise
			...(o.desk_part === false ? {} : { watch() {} }),
			probe(opts) {
				log.push(["probe start", opts.timeout_ms, opts.delivery]);
				// immediate unless the test holds it (probe.resolve())
				const held = o.hold_probe ? probe.promise : Promise.resolve();
				return held.then(() => {
					log.push(["probe done"]);
					return PROBE;
				});
			},
			// each distinct client URL of the report, probed like `probe` (after the server answered)
			probe_clients(report, opts) {
				const rows = (report && report.clients) || [];
				log.push(["probe_clients", rows.length, opts.timeout_ms, opts.delivery]);
				const out = {};
				rows.forEach((c) => {
					if (c.origin) out[c.url] = o.client_probes ? o.client_probes[c.url] : PROBE;
				});
				return Promise.resolve(out);
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
		server,
		probe,
		sent,
		// resolves once an entry whose first item is `what` was logged
		when: (what) => until(() => log.some((l) => l[0] === what || l[1] === what)),
		html,
		buttons,
		handlers: () => handlers,
		clipboard: () => clipboard,
	};
}

function deferred() {
	let resolve, reject;
	const promise = new Promise((a, b) => {
		resolve = a;
		reject = b;
	});
	return { promise, resolve, reject };
}

// Let pending promise callbacks run (one macrotask turn), until `done()` holds; bounded.
async function until(done, turns = 100) {
	for (let i = 0; i < turns; i++) {
		if (done()) return;
		await new Promise((r) => setImmediate(r));
	}
	throw new Error("the form never got there");
}

const HINT = SERVER_RESULT.hint;

test("the server result is a real report", () => {
	assert.equal(SERVER_RESULT.ok, false);
	const local = SERVER_RESULT.checks.find((c) => c.name === "local_handshake");
	assert.equal(local.ok, false);
	assert.match(HINT, /^Start the realtime service/);
});

test("refresh shows the effective config and the stored diagnosis, adds the buttons", async () => {
	const d = desk({ stored: JSON.stringify(SERVER_RESULT) });
	await d.handlers().refresh(d.frm);
	assert.deepEqual(Object.keys(d.buttons).sort(), ["Copy as JSON", "Run Diagnosis"]);
	assert.deepEqual(d.log[0], [
		"call",
		"raven_ai_agent.api.realtime.get_effective_config",
		"GET",
		undefined,
		undefined,
	]);
	assert.match(d.html.effective_config_html, /socketio_port/);
	assert.ok(d.html.diagnosis_html.includes("Start the realtime service"));
	assert.ok(d.html.diagnosis_html.includes(">Realtime service on this server<"), "checks as phrases");
	assert.ok(d.html.diagnosis_html.includes('title="local_handshake"'), "the identifier on hover");
	assert.equal(d.handlers().run_diagnosis, undefined, "Run Diagnosis is the toolbar button only");
	assert.match(d.html.diagnosis_html, /Not run/, "no browser probe stored");
});

test("refresh without a stored diagnosis says how to get one; bad JSON does not break it", async () => {
	for (const stored of [null, "{not json"]) {
		const d = desk({ stored });
		await d.handlers().refresh(d.frm);
		assert.match(d.html.diagnosis_html, /No diagnosis yet/);
	}
});

test("Run Diagnosis: the browser probe runs during the frozen POST; reload waits for the server", async () => {
	const d = desk({ hold_server: true, hold_probe: true });
	await d.handlers().refresh(d.frm);
	d.log.length = 0;
	const run = d.buttons["Run Diagnosis"]();
	await d.when("raven_ai_agent.api.realtime.run_diagnosis");
	assert.deepEqual(d.log[0], ["probe start", 8000, true], "this tab's socket must hear the site too");
	assert.deepEqual(d.log[1], [
		"call",
		"raven_ai_agent.api.realtime.run_diagnosis",
		"POST",
		true,
		"Running realtime diagnosis…",
	]);
	// the tab's own boot context goes along, for the boot_context check
	assert.deepEqual(JSON.parse(d.sent[0].boot_context), SERVER_RESULT.config.context);
	d.probe.resolve();
	await d.when("probe done");
	assert.ok(!d.log.some((l) => l[0] === "reload"), "no reload before the server answered");
	d.server.resolve();
	await run;
	const steps = d.log.map((l) => l[0]);
	assert.ok(steps.indexOf("reload") > steps.indexOf("server done"));
	assert.deepEqual(d.log[d.log.length - 1], ["alert", "red"]);
	assert.ok(d.html.diagnosis_html.includes("Start the realtime service"));
	assert.match(d.html.diagnosis_html, /Transport: websocket/);

	// a later refresh (same stored run) keeps the browser half
	await d.handlers().refresh(d.frm);
	assert.match(d.html.diagnosis_html, /Transport: websocket/);

	d.buttons["Copy as JSON"]();
	assert.deepEqual(JSON.parse(d.clipboard()), { server: SERVER_RESULT, browser: PROBE, clients: {} });
	assert.ok(steps.indexOf("probe_clients") > steps.indexOf("server done"), "client URLs come from the server");
});

test("Run Diagnosis: a server faster than the browser still waits for the browser's result", async () => {
	const d = desk({ hold_server: true, hold_probe: true });
	await d.handlers().refresh(d.frm);
	const run = d.buttons["Run Diagnosis"]();
	await d.when("raven_ai_agent.api.realtime.run_diagnosis");
	d.server.resolve();
	await d.when("server done");
	assert.ok(!d.log.some((l) => l[0] === "reload"), "no reload before the browser probe ended");
	d.probe.resolve();
	await run;
	assert.match(d.html.diagnosis_html, /Browser connection/);
	assert.match(d.html.diagnosis_html, /Transport: websocket/);
});

test("Run Diagnosis: the Clients table shows each client's URL, the server's and this tab's result", async () => {
	const desk_url = "http://site.test:8000/socket.io/";
	const raven_url = "http://site.test:9001/socket.io/";
	const row = (client, origin, ok, detail, hint, delivered, delivery) => ({
		client,
		url: origin + "/socket.io/",
		origin,
		path: "/socket.io/",
		namespace: "/site.test",
		ok,
		detail,
		why: "why " + client,
		hint,
		delivered,
		delivery,
	});
	const result = Object.assign({}, SERVER_RESULT, {
		clients: [
			row("Frappe desk", "http://site.test:8000", true, "ok", null, false, "reachable, but the realtime service there does not hear this site's events"),
			row("Raven web app", "http://site.test:9001", false, "connection refused", "Rebuild Raven <b>now</b>"),
			{ client: "raven_ai_agent context", url: null, origin: null, ok: null, why: "none" },
		],
	});
	const d = desk({
		result,
		client_probes: {
			[desk_url]: Object.assign({}, PROBE, { received: false }),
			[raven_url]: Object.assign({}, PROBE, { connected: false, transport: null, error: "xhr poll error" }),
		},
	});
	await d.handlers().refresh(d.frm);
	await d.buttons["Run Diagnosis"]();
	assert.ok(d.log.some((l) => l[0] === "probe_clients" && l[1] === 3 && l[2] === 8000 && l[3] === true));
	const html = d.html.diagnosis_html;
	const table = html.slice(html.indexOf("Clients"));
	assert.ok(html.indexOf("Clients") > html.indexOf("Browser connection"), "after the checks");
	for (const text of ["Frappe desk", desk_url, "Raven web app", raven_url, "xhr poll error", "connection refused", "why Raven web app"]) {
		assert.ok(table.includes(text), text);
	}
	assert.ok(table.includes("Rebuild Raven &lt;b&gt;now&lt;/b&gt;"), "hints are escaped");
	assert.ok(table.includes("Delivered"), "a column for delivery");
	assert.ok(table.includes("does not hear this site&#39;s events") || table.includes("does not hear this site's events"));
	assert.match(table, /Not delivered/, "this tab's socket there connected but heard nothing");
	assert.match(table, /Not run/, "a client with no URL is not probed");
	d.buttons["Copy as JSON"]();
	assert.equal(JSON.parse(d.clipboard()).clients[raven_url].error, "xhr poll error");
});

test("unsaved edits stop the run with a message", async () => {
	const d = desk({ dirty: true });
	await d.handlers().refresh(d.frm);
	d.log.length = 0;
	await d.buttons["Run Diagnosis"]();
	assert.deepEqual(d.log, [
		["msgprint", "Save the settings first: the diagnosis uses the saved values."],
	]);
});

test("a failing server call still shows the browser result", async () => {
	const d = desk({ server_fails: true });
	await d.handlers().refresh(d.frm);
	await d.buttons["Run Diagnosis"]();
	assert.ok(d.log.some((l) => l[0] === "msgprint"));
	assert.match(d.html.diagnosis_html, /No server diagnosis yet/);
	assert.match(d.html.diagnosis_html, /Transport: websocket/);
	d.buttons["Copy as JSON"]();
	assert.deepEqual(JSON.parse(d.clipboard()), { server: null, browser: PROBE, clients: null });
	assert.ok(!d.log.some((l) => l[0] === "probe_clients"), "no client URLs without a server report");
});

test("the form requires the connection helper and the renderer, not the desk part desk has", async () => {
	const d = desk({ stored: JSON.stringify(SERVER_RESULT), preload: false });
	await d.handlers().refresh(d.frm);
	const req = d.log.find((l) => l[0] === "require");
	assert.deepEqual(
		[...req[1]],
		["/assets/raven_ai_agent/js/raven_realtime.js", "/assets/raven_ai_agent/js/raven_realtime_diagnosis.js"]
	);
});

test("assets are required when app_include_js did not load them", async () => {
	const d = desk({ stored: JSON.stringify(SERVER_RESULT), preload: false, desk_part: false });
	await d.handlers().refresh(d.frm);
	const req = d.log.find((l) => l[0] === "require");
	assert.deepEqual(
		[...req[1]],
		[
			"/assets/raven_ai_agent/js/raven_realtime_desk.js",
			"/assets/raven_ai_agent/js/raven_realtime.js",
			"/assets/raven_ai_agent/js/raven_realtime_diagnosis.js",
		]
	);
	assert.ok(d.html.diagnosis_html.includes("Start the realtime service"));
});
