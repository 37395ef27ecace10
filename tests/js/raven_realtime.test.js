// Tests of the browser helper in Node: the pure parts (context validation, client options,
// rendering) and, against the test stack's realtime service, a real connection.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const net = require("node:net");

const JS_DIR = path.join(__dirname, "..", "..", "raven_ai_agent", "public", "js");
const rt = require(path.join(JS_DIR, "raven_realtime.js"));
const render = require(path.join(JS_DIR, "raven_realtime_diagnosis.js"));
const client = require("socket.io-client");

const CONTEXT = Object.freeze({
	deployment_type: "vps_prod",
	socketio_base_url: "https://erp.example.com",
	socketio_path: "/socket.io/",
	socketio_namespace: "/erp.example.com",
	transports: Object.freeze(["websocket", "polling"]),
});

function context(overrides) {
	return Object.assign({}, CONTEXT, { transports: CONTEXT.transports.slice() }, overrides);
}

// A port nothing listens on: bind one, note it, close it.
function closed_port() {
	return new Promise((resolve) => {
		const srv = net.createServer();
		srv.listen(0, "127.0.0.1", () => {
			const port = srv.address().port;
			srv.close(() => resolve(port));
		});
	});
}

test.describe("build_client_options", () => {
	test("joins origin and namespace, keeps path and transports", () => {
		const built = rt.build_client_options(context());
		assert.equal(built.url, "https://erp.example.com/erp.example.com");
		assert.equal(built.options.path, "/socket.io/");
		assert.deepEqual(built.options.transports, ["websocket", "polling"]);
		assert.equal(built.options.withCredentials, true);
		assert.equal(built.options.forceNew, true);
		assert.ok(built.options.reconnectionAttempts > 0);
	});

	test("extra options win, and the context is not shared or changed", () => {
		const ctx = context({
			deployment_type: "local",
			socketio_base_url: "http://site.localhost:9000",
		});
		const built = rt.build_client_options(ctx, {
			reconnection: false,
			extraHeaders: { Cookie: "sid=x" },
		});
		assert.equal(built.url, "http://site.localhost:9000/erp.example.com");
		assert.equal(built.options.reconnection, false);
		assert.deepEqual(built.options.extraHeaders, { Cookie: "sid=x" });
		built.options.transports.push("webtransport");
		assert.deepEqual(ctx.transports, ["websocket", "polling"]);
	});
});

test.describe("validate_context", () => {
	const bad = [
		["context", null],
		["context", ["x"]],
		["deployment_type", { deployment_type: "cloud" }],
		["deployment_type", { deployment_type: undefined }],
		["socketio_base_url", { socketio_base_url: "erp.example.com" }],
		["socketio_base_url", { socketio_base_url: "https://erp.example.com/" }],
		["socketio_base_url", { socketio_base_url: "https://erp.example.com/app" }],
		["socketio_base_url", { socketio_base_url: 42 }],
		["socketio_path", { socketio_path: "socket.io/" }],
		["socketio_path", { socketio_path: null }],
		["socketio_namespace", { socketio_namespace: "erp.example.com" }],
		["socketio_namespace", { socketio_namespace: "/" }],
		["socketio_namespace", { socketio_namespace: "/a site" }],
		["transports", { transports: [] }],
		["transports", { transports: "websocket" }],
		["transports[1]", { transports: ["websocket", "flash"] }],
	];
	for (const [key, change] of bad) {
		test(`names ${key} for ${JSON.stringify(change)}`, () => {
			const value = change === null || Array.isArray(change) ? change : context(change);
			assert.throws(
				() => rt.validate_context(value),
				(err) => err instanceof Error && err.message.includes(`context: ${key} `)
			);
		});
	}

	test('explains why "/" is refused', () => {
		assert.throws(
			() => rt.validate_context(context({ socketio_namespace: "/" })),
			/never receives/
		);
	});

	test("accepts the three deployment types and extra keys", () => {
		for (const t of ["vps_prod", "sandbox", "local"]) {
			const ctx = context({ deployment_type: t, site_name: "erp.example.com" });
			assert.equal(rt.validate_context(ctx), ctx);
		}
	});
});

test.describe("get_context", () => {
	test.afterEach(() => {
		delete globalThis.frappe;
	});

	test("prefers frappe.boot.raven_realtime and never fetches then", async () => {
		globalThis.frappe = { boot: { raven_realtime: context() } };
		const ctx = await rt.get_context({
			fetch: () => assert.fail("fetch must not be called"),
		});
		assert.equal(ctx.socketio_namespace, "/erp.example.com");
	});

	test("a bad boot context rejects naming the key", async () => {
		globalThis.frappe = { boot: { raven_realtime: context({ transports: [] }) } };
		await assert.rejects(rt.get_context(), /context: transports /);
	});

	test("fetches the endpoint with credentials and the CSRF token", async () => {
		globalThis.frappe = { boot: {}, csrf_token: "tok123" };
		const calls = [];
		const ctx = await rt.get_context({
			base_url: "https://erp.example.com",
			fetch: async (url, init) => {
				calls.push([url, init]);
				return { ok: true, status: 200, json: async () => ({ message: context() }) };
			},
		});
		assert.equal(ctx.socketio_base_url, "https://erp.example.com");
		assert.equal(calls.length, 1);
		const [url, init] = calls[0];
		assert.equal(
			url,
			"https://erp.example.com/api/method/raven_ai_agent.api.realtime.get_raven_realtime_context"
		);
		assert.equal(init.credentials, "include");
		assert.equal(init.method, "GET");
		assert.equal(init.headers["X-Frappe-CSRF-Token"], "tok123");
	});

	test("sends no unrendered CSRF placeholder", async () => {
		globalThis.frappe = { csrf_token: "{{ csrf_token }}" };
		let headers = null;
		await rt.get_context({
			fetch: async (_url, init) => {
				headers = init.headers;
				return { ok: true, status: 200, json: async () => ({ message: context() }) };
			},
		});
		assert.equal("X-Frappe-CSRF-Token" in headers, false);
	});

	test("an HTTP error rejects with the status", async () => {
		await assert.rejects(
			rt.get_context({
				fetch: async () => ({ ok: false, status: 403, json: async () => ({}) }),
			}),
			/HTTP 403/
		);
	});

	test("an answer without message, or with a bad one, rejects naming the key", async () => {
		const answer = (body) => async () => ({ ok: true, status: 200, json: async () => body });
		await assert.rejects(rt.get_context({ fetch: answer({ exc: "x" }) }), /context: message /);
		await assert.rejects(
			rt.get_context({ fetch: answer({ message: context({ socketio_path: "" }) }) }),
			/context: socketio_path /
		);
	});
});

test.describe("resolve_io and connect", () => {
	test.afterEach(() => {
		delete globalThis.frappe;
	});

	test("takes a function or the socket.io-client module", () => {
		const fn = () => null;
		assert.equal(rt.resolve_io(fn), fn);
		assert.equal(rt.resolve_io(client), client.io);
	});

	test("without io or desk socket it says what is missing", () => {
		assert.throws(() => rt.resolve_io(), /no Socket\.IO client/);
	});

	test("builds io from desk's socket Manager (v15 has no global io)", () => {
		const desk_socket = client.io("http://127.0.0.1:1/desk.site", { autoConnect: false });
		globalThis.frappe = { realtime: { socket: desk_socket } };
		const socket = rt.connect(
			undefined,
			context({ socketio_base_url: "http://127.0.0.1:1" }),
			{
				autoConnect: false,
			}
		);
		assert.equal(socket.nsp, "/erp.example.com");
		assert.notEqual(socket.io, desk_socket.io, "a Manager of its own, never desk's");
		assert.equal(socket.io.opts.path, "/socket.io/");
		assert.equal(socket.io.uri, "http://127.0.0.1:1");
	});

	test("passes url and options to io", () => {
		const seen = [];
		const fake = (url, options) => {
			seen.push([url, options]);
			return { fake: true };
		};
		const socket = rt.connect(fake, context(), { autoConnect: false });
		assert.deepEqual(socket, { fake: true });
		assert.equal(seen[0][0], "https://erp.example.com/erp.example.com");
		assert.equal(seen[0][1].autoConnect, false);
	});

	test("without a context or boot it says how to get one", () => {
		assert.throws(() => rt.connect(() => null), /get_context/);
	});
});

test.describe("probe never throws", () => {
	test("a bad context comes back as an error", async () => {
		const r = await rt.probe({ io: client, context: context({ socketio_namespace: "/" }) });
		assert.equal(r.connected, false);
		assert.equal(r.transport, null);
		assert.match(r.error, /socketio_namespace/);
		assert.equal(typeof r.elapsed_ms, "number");
	});

	test("an io that throws comes back as an error", async () => {
		const r = await rt.probe({
			io: () => {
				throw new Error("boom");
			},
			context: context(),
		});
		assert.equal(r.connected, false);
		assert.equal(r.error, "boom");
		assert.equal(r.namespace, "/erp.example.com");
	});

	test("a closed port fails fast with the transport error", async () => {
		const port = await closed_port();
		const r = await rt.probe({
			io: client,
			timeout_ms: 3000,
			context: context({
				socketio_base_url: `http://127.0.0.1:${port}`,
				transports: ["polling"],
			}),
		});
		assert.equal(r.connected, false);
		assert.match(r.error, /xhr poll error|websocket error/);
		assert.ok(r.elapsed_ms < 3000, `took ${r.elapsed_ms} ms`);
		assert.equal(r.url, `http://127.0.0.1:${port}/erp.example.com`);
	});

	test("a server that never answers ends at the timeout", async () => {
		// accepts TCP and stays silent: only the probe's own deadline can end this
		const sockets = [];
		const srv = net.createServer((s) => sockets.push(s));
		await new Promise((r) => srv.listen(0, "127.0.0.1", r));
		try {
			const r = await rt.probe({
				io: client,
				timeout_ms: 400,
				context: context({ socketio_base_url: `http://127.0.0.1:${srv.address().port}` }),
			});
			assert.equal(r.connected, false);
			assert.match(r.error, /timeout|within 400 ms/);
			assert.ok(r.elapsed_ms >= 350 && r.elapsed_ms < 2000, `took ${r.elapsed_ms} ms`);
		} finally {
			sockets.forEach((s) => s.destroy());
			srv.close();
		}
	});
});

const EVIL = '<img src=x onerror="alert(1)">';

function sample_result(overrides) {
	return Object.assign(
		{
			deployment_type: "vps_prod",
			site_name: "erp.example.com",
			socketio_port: 9000,
			external_socketio_url: "https://erp.example.com",
			local_socketio_ok: true,
			external_socketio_ok: false,
			websocket_ok: null,
			hint: "Proxy drops Upgrade " + EVIL,
			ok: false,
			elapsed_ms: 812.4,
			checks: [
				{
					name: "local_socketio",
					ok: true,
					detail: "handshake 200",
					hint: null,
					elapsed_ms: 12,
				},
				{
					name: "external " + EVIL,
					ok: false,
					detail: "400 " + EVIL,
					hint: "fix " + EVIL,
					elapsed_ms: 300,
				},
				{ name: "websocket", ok: null, detail: "skipped", hint: null, elapsed_ms: 0 },
			],
		},
		overrides
	);
}

test.describe("render_diagnosis", () => {
	test("escapes every server and browser value", () => {
		const html = render.render_diagnosis(sample_result({ site_name: EVIL }), {
			connected: false,
			transport: null,
			error: "Invalid origin " + EVIL,
			elapsed_ms: 30,
			url: "https://x/" + EVIL,
			namespace: "/x",
		});
		assert.equal(html.includes("<img"), false);
		assert.equal(html.includes('onerror="'), false);
		assert.ok(html.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
	});

	test("hint first, one row per check, badges per state", () => {
		const html = render.render_diagnosis(sample_result(), {
			connected: true,
			transport: "websocket",
			error: null,
			elapsed_ms: 40,
			url: "https://erp.example.com/erp.example.com",
			namespace: "/erp.example.com",
		});
		const hint_at = html.indexOf("Proxy drops Upgrade");
		assert.ok(hint_at > -1 && hint_at < html.indexOf("<table"), "hint above the table");
		assert.equal((html.match(/<tr>/g) || []).length, 1 + 3 + 1, "head, checks, browser row");
		assert.ok(html.includes("indicator-pill green"));
		assert.ok(html.includes("indicator-pill red"));
		assert.ok(html.includes("indicator-pill gray"));
		assert.ok(html.includes(">Skipped<"));
		assert.ok(html.includes("Browser connection (this tab)"));
		assert.ok(html.includes("812 ms"));
	});

	test("all passed banner; polling-only browser is flagged", () => {
		const html = render.render_diagnosis(sample_result({ ok: true, hint: null, checks: [] }), {
			connected: true,
			transport: "polling",
			error: null,
			elapsed_ms: 5,
		});
		assert.ok(html.includes("All checks passed"));
		assert.ok(html.includes("Polling only"));
	});

	test("a browser that cannot connect is a banner even when the server passes", () => {
		const html = render.render_diagnosis(sample_result({ ok: true, hint: null }), {
			connected: false,
			error: "Invalid namespace",
		});
		assert.ok(html.includes("This browser could not connect"));
		assert.ok(html.includes("Invalid namespace"));
	});

	test("a timeout the diagnosis changed is said, escaped", () => {
		const note = "'100' is not a valid timeout: use seconds from 0.5 to 30; used 30 s <b>";
		const html = render.render_diagnosis(sample_result({ timeout_note: note }), null);
		assert.ok(html.includes("Probe timeout"));
		assert.ok(html.includes("used 30 s &lt;b&gt;"));
		const plain = render.render_diagnosis(sample_result({ timeout_note: null }), null);
		assert.ok(!plain.includes("Probe timeout"));
	});

	test("survives nothing to render", () => {
		const html = render.render_diagnosis(null, null);
		assert.ok(html.includes("Not run"));
		assert.ok(
			render.render_diagnosis(sample_result({ checks: "oops" }), null).includes("<table")
		);
	});
});

test.describe("render_config", () => {
	test("values with their source, warnings listed, all escaped", () => {
		const html = render.render_config({
			deployment_type: "sandbox",
			base_url: "https://abc.ngrok.app",
			socketio_port: 9000,
			webserver_port: 8000,
			socketio_path: "/socket.io/",
			site_name: EVIL,
			external_socketio_url: null,
			sources: {
				deployment_type: "settings override",
				site_name: "site",
				socketio_port: "common_site_config.json",
			},
			warnings: ["socketio_port only in site_config.json " + EVIL],
			context: { socketio_namespace: "/x" },
		});
		assert.equal(html.includes("<img"), false);
		assert.ok(html.includes("settings override"));
		assert.ok(html.includes("common_site_config.json"));
		assert.ok(html.includes("not set"));
		assert.ok(html.includes("<li>socketio_port only in site_config.json &lt;img"));
		assert.equal(html.includes("socketio_namespace"), false, "context is not a setting");
	});

	test("survives an empty config", () => {
		assert.ok(render.render_config(null).includes("No configuration to show."));
	});
});

test("the files merge into one window.raven_realtime: the desk part first, then either order", () => {
	const vm = require("node:vm");
	const fs = require("node:fs");
	const read = (f) => fs.readFileSync(path.join(JS_DIR, f), "utf8");
	const desk_part = read("raven_realtime_desk.js");
	const files = ["raven_realtime_diagnosis.js", "raven_realtime.js"].map(read);
	for (const order of [files, files.slice().reverse()]) {
		const sandbox = { URL, setTimeout, clearTimeout };
		sandbox.window = sandbox;
		vm.createContext(sandbox);
		[desk_part, ...order].forEach((src) => vm.runInContext(src, sandbox));
		const api = sandbox.window.raven_realtime;
		for (const fn of [
			"load",
			"report",
			"get_context",
			"build_client_options",
			"connect",
			"probe",
			"render_diagnosis",
			"render_config",
		]) {
			assert.equal(typeof api[fn], "function", fn);
		}
	}
});

test("the renderer translates through desk's window.__ and escapes the translation", () => {
	const vm = require("node:vm");
	const fs = require("node:fs");
	const sandbox = {};
	sandbox.window = sandbox;
	sandbox.__ = (text) => "<" + text + ">";
	vm.createContext(sandbox);
	vm.runInContext(
		fs.readFileSync(path.join(JS_DIR, "raven_realtime_diagnosis.js"), "utf8"),
		sandbox
	);
	const html = sandbox.window.raven_realtime.render_diagnosis({ ok: true, checks: [] }, null);
	assert.ok(html.includes("&lt;All checks passed&gt;"));
});

test.describe("validate_context agrees with the server (tests/fixtures/contexts.json)", () => {
	const table = require(path.join(__dirname, "..", "fixtures", "contexts.json"));
	for (const c of table.valid) {
		test("valid: " + c.name, () => {
			assert.equal(rt.validate_context(c.context), c.context);
		});
	}
	for (const c of table.invalid) {
		test("invalid: " + c.name, () => {
			assert.throws(
				() => rt.validate_context(c.context),
				(e) => e.message.startsWith("raven_realtime context: " + c.key + " ")
			);
		});
	}
});

