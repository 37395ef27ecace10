// Field reports of raven_realtime_desk.js: sent only when the site turned them on (the boot
// says so), enumerated records, fire-and-forget, bounded per page, and the listeners on a real
// socket.io-client socket against a real socket.io server.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const http = require("node:http");
const { Server } = require("socket.io");
const client = require("socket.io-client");

const JS = path.join(__dirname, "..", "..", "raven_ai_agent", "public", "js");
const rt = require(path.join(JS, "raven_realtime_desk.js"));
const lib = require(path.join(JS, "raven_realtime.js"));

// What desk's boot carries: 1 when Raven Realtime Settings has field reports on.
function boot(field_reports) {
	globalThis.frappe = { boot: { raven_realtime_field_reports: field_reports } };
}

function recorder() {
	const calls = [];
	const fetch = (url, init) => {
		calls.push({ url: url, init: init, body: Object.fromEntries(init.body) });
		return Promise.reject(new Error("offline")); // a failed report must never surface
	};
	return { calls, fetch };
}

test.beforeEach(() => {
	rt._reset_field();
	boot(1);
});

async function real_server(t) {
	const server = http.createServer();
	const io = new Server(server);
	io.of("/site.test"); // the site's namespace, as Frappe's realtime service has it
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	t.after(() => new Promise((resolve) => io.close(() => resolve())));
	return { io, url: `http://127.0.0.1:${server.address().port}` };
}

test("off (the default, or a boot without the key): nothing is reported, nothing is listened to", { timeout: 10000 }, async (t) => {
	const { io, url } = await real_server(t);
	for (const value of [0, undefined, "1", true]) {
		rt._reset_field();
		boot(value);
		assert.equal(rt.reports_enabled(), false, String(value));
		const r = recorder();
		assert.equal(rt.report(rt.field_record("desk", "connect", {}), { fetch: r.fetch }), false);
		const socket = client(url, { transports: ["websocket"], reconnection: false });
		rt.watch(socket, "app", { fetch: r.fetch });
		assert.equal(socket.listeners("connect").length, 0, "no listener added");
		await new Promise((resolve) => socket.once("connect", resolve));
		io.disconnectSockets(true);
		await new Promise((resolve) => socket.once("disconnect", () => setImmediate(resolve)));
		assert.deepEqual(r.calls, []);
	}
});

test("connect() of the full library reports its socket only when the boot says on", { timeout: 10000 }, async (t) => {
	const { url } = await real_server(t);
	const context = {
		deployment_type: "local",
		socketio_base_url: url,
		socketio_path: "/socket.io/",
		socketio_namespace: "/site.test",
		transports: ["websocket"],
	};
	const sent = [];
	const saved = globalThis.fetch;
	globalThis.fetch = (u, init) => {
		sent.push(Object.fromEntries(init.body));
		return Promise.resolve({ ok: true });
	};
	t.after(() => {
		globalThis.fetch = saved;
	});
	for (const on of [0, 1]) {
		boot(on);
		const socket = lib.connect(client, context, { reconnection: false });
		await new Promise((resolve) => socket.once("connect", resolve));
		socket.disconnect();
	}
	assert.deepEqual(
		sent.map((b) => [b.socket, b.event]),
		[
			["app", "connect"],
			["app", "disconnect"],
		]
	);
});

test("browser families, nothing more of the user agent", () => {
	const ua = {
		chrome: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		edge: "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0",
		firefox: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		safari: "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		other: "curl/8.5.0",
	};
	for (const [family, string] of Object.entries(ua)) assert.equal(rt.browser_family(string), family);
});

test("records carry enumerated fields only", () => {
	assert.deepEqual(rt.field_record("desk", "connect", { transport: "websocket" }), {
		socket: "desk",
		event: "connect",
		transport: "websocket",
	});
	assert.deepEqual(rt.field_record("app", "disconnect", { reason: "transport close" }), {
		socket: "app",
		event: "disconnect",
		reason: "transport close",
	});
	const error = rt.field_record("desk", "connect_error", { error: "x".repeat(500) });
	assert.equal(error.error.length, 80);
});

test("a report is a POST with the CSRF token, never awaited, throttled and bounded per page", async () => {
	const r = recorder();
	const record = rt.field_record("desk", "disconnect", { reason: "transport close" });
	assert.equal(rt.report(record, { fetch: r.fetch }), true);
	assert.equal(rt.report(record, { fetch: r.fetch }), false); // same kind within the throttle
	assert.equal(r.calls.length, 1);
	const call = r.calls[0];
	assert.equal(call.url, rt.REPORT_ENDPOINT);
	assert.equal(call.init.method, "POST");
	assert.equal(call.init.keepalive, true);
	assert.deepEqual(call.body, { socket: "desk", event: "disconnect", reason: "transport close" });
	for (let i = 0; i < 100; i++) rt.report(rt.field_record("app", "connect_error", { error: "e" + i }), { fetch: r.fetch });
	assert.equal(r.calls.length, 40); // the page's budget, then silence
	await new Promise((resolve) => setImmediate(resolve)); // the rejected fetches stayed quiet
});

test("watch reports connect, its transport and the disconnect reason of a real socket", async (t) => {
	const server = http.createServer();
	const io = new Server(server);
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	t.after(() => new Promise((resolve) => io.close(() => resolve())));
	const r = recorder();
	const socket = client(`http://127.0.0.1:${server.address().port}`, {
		transports: ["websocket"],
		reconnection: false,
	});
	rt.watch(socket, "app", { fetch: r.fetch });
	await new Promise((resolve) => socket.once("connect", resolve));
	io.disconnectSockets(true);
	await new Promise((resolve) => socket.once("disconnect", () => setImmediate(resolve)));
	assert.deepEqual(
		r.calls.map((c) => c.body),
		[
			{ socket: "app", event: "connect", transport: "websocket" },
			{ socket: "app", event: "disconnect", reason: "io server disconnect" },
		]
	);
});

test("a page load counts as connected when desk's socket connects in time, else not", async () => {
	const r = recorder();
	const { EventEmitter } = require("node:events");
	const late = new EventEmitter();
	late.connected = false;
	rt.watch_page(late, { fetch: r.fetch, page_wait_ms: 20 });
	await new Promise((resolve) => setTimeout(resolve, 40));
	const early = new EventEmitter();
	early.connected = true;
	rt._reset_field();
	rt.watch_page(early, { fetch: r.fetch, page_wait_ms: 20 });
	await new Promise((resolve) => setTimeout(resolve, 40));
	assert.deepEqual(
		r.calls.map((c) => [c.body.event, c.body.connected]),
		[
			["page", "0"],
			["page", "1"],
		]
	);
});
