// raven_realtime.connect()/probe() with the real socket.io-client against the test stack's
// Frappe v15 realtime stand-in (own Redis, web and realtime processes): the site namespace
// gets the user's events from Redis, the default namespace "/" connects and hears nothing.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const client = require("socket.io-client");
const { startStack } = require("../stack/harness");

const rt = require(
	path.join(__dirname, "..", "..", "raven_ai_agent", "public", "js", "raven_realtime.js")
);

const WAIT_MS = 5000;
const SILENCE_MS = 500;
const USER_ROOM = "user:Administrator";

let stack;
const sockets = [];

before(async () => {
	stack = await startStack();
});

after(async () => {
	for (const socket of sockets) socket.close();
	if (stack) await stack.stop();
});

function context(overrides) {
	return Object.assign(
		{
			deployment_type: "local",
			socketio_base_url: stack.realtimeUrl,
			socketio_path: "/socket.io/",
			socketio_namespace: "/" + stack.site,
			transports: ["websocket", "polling"],
		},
		overrides
	);
}

// What a browser on the web port sends by itself; Node has to be told. Lower-case
// "cookie": with withCredentials the Node websocket transport writes its (empty) cookie
// jar into headers.cookie, which would hide a "Cookie" key. Fresh object per socket: the
// client keeps and extends it.
function browser_headers(sid = "admin-sid") {
	const headers = { Origin: stack.webUrl };
	if (sid) headers.cookie = `sid=${sid}`;
	return { extraHeaders: headers, reconnection: false, timeout: WAIT_MS };
}

function track(socket) {
	sockets.push(socket);
	return socket;
}

function connected(socket) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`not connected within ${WAIT_MS} ms`)),
			WAIT_MS
		);
		socket.once("connect", () => {
			clearTimeout(timer);
			resolve();
		});
		socket.once("connect_error", (err) => {
			clearTimeout(timer);
			reject(new Error(`connect_error: ${err.message}`));
		});
	});
}

function next(socket, event, ms = WAIT_MS) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
		socket.once(event, (...args) => {
			clearTimeout(timer);
			resolve(args);
		});
	});
}

test("connect() joins the site namespace over websocket and gets the user's event", async () => {
	const socket = track(rt.connect(client, context(), browser_headers()));
	await connected(socket);
	assert.equal(socket.nsp, "/" + stack.site);
	assert.equal(socket.io.engine.transport.name, "websocket");
	const got = next(socket, "raven_test_event");
	assert.equal(await stack.publish("raven_test_event", { text: "hi" }, USER_ROOM), 1);
	assert.deepEqual(await got, [{ text: "hi" }]);
});

test('the default namespace "/" connects without error and never hears the event', async () => {
	// connect() refuses such a context, so open it by hand with the very same options
	assert.throws(
		() => rt.connect(client, context({ socketio_namespace: "/" })),
		/socketio_namespace/
	);
	const for_site = rt.build_client_options(context(), browser_headers());
	const for_root = rt.build_client_options(context(), browser_headers());
	const root = track(client.io(stack.realtimeUrl + "/", for_root.options));
	const site = track(client.io(for_site.url, for_site.options));
	await Promise.all([connected(root), connected(site)]);
	assert.equal(root.connected, true, "no error, no hint that anything is wrong");

	const heard = [];
	root.onAny((event) => heard.push(event));
	const control = next(site, "raven_test_event");
	await stack.publish("raven_test_event", { text: "for the site" }, USER_ROOM);
	await stack.publish("raven_test_event", { text: "to everyone" }, null);
	assert.deepEqual(await control, [{ text: "for the site" }]);
	await new Promise((r) => setTimeout(r, SILENCE_MS));
	assert.deepEqual(heard, []);
});

test("probe() reports websocket, polling, and the upgrade from polling", async () => {
	const ws = await rt.probe({ io: client, context: context(), options: browser_headers() });
	assert.equal(ws.connected, true, ws.error);
	assert.equal(ws.transport, "websocket");
	assert.equal(ws.error, null);
	assert.equal(ws.namespace, "/" + stack.site);
	assert.equal(ws.url, stack.realtimeUrl + "/" + stack.site);

	const polling = await rt.probe({
		io: client,
		context: context({ transports: ["polling"] }),
		options: browser_headers(),
	});
	assert.equal(polling.connected, true, polling.error);
	assert.equal(polling.transport, "polling");

	// desk's order: polling first, upgraded once the server offers websocket
	const upgraded = await rt.probe({
		io: client,
		context: context({ transports: ["polling", "websocket"] }),
		options: browser_headers(),
	});
	assert.equal(upgraded.connected, true, upgraded.error);
	assert.equal(upgraded.transport, "websocket");
});

test("probe() returns Frappe's own rejection text", async () => {
	const wrong_ns = await rt.probe({
		io: client,
		context: context({ socketio_namespace: "/wrong.site" }),
		options: browser_headers(),
	});
	assert.equal(wrong_ns.connected, false);
	assert.equal(wrong_ns.error, "Invalid namespace");

	const no_cookie = await rt.probe({
		io: client,
		context: context(),
		options: browser_headers(null),
	});
	assert.equal(no_cookie.connected, false);
	assert.equal(no_cookie.error, "No cookie transmitted.");
	assert.ok(no_cookie.elapsed_ms < WAIT_MS);
});

test("probe({delivery}) reports whether this socket heard the site's probe event", async () => {
	const published = [];
	const heard = await rt.probe({
		io: client,
		context: context(),
		options: browser_headers(),
		timeout_ms: WAIT_MS,
		delivery: async (token) => {
			published.push(token);
			const message = { token: token, room: USER_ROOM, probe: "raven_ai_agent tab" };
			return (await stack.publish(rt.PROBE_EVENT, message, USER_ROOM)) > 0;
		},
	});
	assert.equal(heard.connected, true, heard.error);
	assert.equal(heard.received, true);
	assert.ok(heard.received_ms >= 0);
	assert.match(published[0], /^[0-9a-f]{16}$/, "a fresh hex token, as send_probe_event accepts");
});

test("probe({delivery}): a socket that connects but never hears says received false", async () => {
	// another bench's service would take the token too and never see it: nothing is published here
	const deaf = await rt.probe({
		io: client,
		context: context(),
		options: browser_headers(),
		timeout_ms: SILENCE_MS,
		delivery: async () => true,
	});
	assert.equal(deaf.connected, true, deaf.error);
	assert.equal(deaf.received, false);
	assert.equal(deaf.delivery_error, null);
});

test("probe({delivery}): a failed publish is said, not taken for silence", async () => {
	const failed = await rt.probe({
		io: client,
		context: context(),
		options: browser_headers(),
		timeout_ms: WAIT_MS,
		delivery: async () => {
			throw new Error("HTTP 403");
		},
	});
	assert.equal(failed.connected, true, failed.error);
	assert.equal(failed.received, null);
	assert.match(failed.delivery_error, /HTTP 403/);
});
