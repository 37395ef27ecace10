// The realtime stand-in seen through the real socket.io-client: rooms, namespaces and the
// authenticate middleware behave like Frappe v15 (its own Redis/web/realtime processes).
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { io } = require("socket.io-client");
const { startStack, frappeEventJson } = require("../stack/harness");

const WIRE = require(path.resolve(__dirname, "..", "fixtures", "frappe-v15.41-realtime-wire.json"));
const WAIT_MS = 5000;

let stack;
const sockets = [];

before(async () => {
	stack = await startStack();
	stack.web.addSession("other-site-sid", "Administrator", "System User");
});

after(async () => {
	for (const socket of sockets) socket.close();
	if (stack) await stack.stop();
});

/** A socket.io-client socket as a browser on the bench's web port would open it. */
function connect(namespace, { sid = "admin-sid", origin = stack.webUrl, headers = {}, transports } = {}) {
	const extraHeaders = { ...headers };
	if (sid) extraHeaders.Cookie = `sid=${sid}`;
	if (origin) extraHeaders.Origin = origin;
	const socket = io(`${stack.realtimeUrl}/${namespace}`, {
		extraHeaders,
		reconnection: false,
		forceNew: true,
		timeout: WAIT_MS,
		...(transports ? { transports } : {}),
	});
	sockets.push(socket);
	return socket;
}

/** Resolve with the args of the next `event` on `socket`, reject after `ms`. */
function next(socket, event, ms = WAIT_MS) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			socket.off(event, on);
			reject(new Error(`no "${event}" within ${ms} ms`));
		}, ms);
		const on = (...args) => {
			clearTimeout(timer);
			socket.off(event, on);
			resolve(args);
		};
		socket.on(event, on);
	});
}

/** Resolve once `socket` connects; reject with the connect_error message or a timeout. */
function connected(socket, ms = WAIT_MS) {
	return new Promise((resolve, reject) => {
		const done = (err) => {
			clearTimeout(timer);
			socket.off("connect", on_connect);
			socket.off("connect_error", on_error);
			if (err) reject(err);
			else resolve();
		};
		const on_connect = () => done();
		const on_error = (err) => done(new Error(`connect_error: ${err.message}`));
		const timer = setTimeout(() => done(new Error(`not connected within ${ms} ms`)), ms);
		socket.on("connect", on_connect);
		socket.on("connect_error", on_error);
	});
}

test("publish_realtime's JSON is the captured Redis message, byte for byte", () => {
	const [userMsg, docMsg] = WIRE.redis_events_channel_messages;
	assert.equal(frappeEventJson("probe_event", { x: 1 }, "user:Administrator", "realtime.test"), userMsg);
	assert.equal(frappeEventJson("probe_doc", { y: 2 }, "doc:Raven Channel/ch-1", "realtime.test"), docMsg);
});

test("a session cookie connects and the user room gets events from Redis", async () => {
	const socket = connect(stack.site);
	await connected(socket);
	const got = next(socket, "probe_event");
	assert.ok((await stack.publishRaw(WIRE.redis_events_channel_messages[0])) >= 1);
	assert.deepEqual(await got, [{ x: 1 }]);
});

test("doc_subscribe joins the doc room once the permission callback allows it", async () => {
	const socket = connect(stack.site, { transports: ["websocket"] });
	await connected(socket);
	socket.emit("doc_subscribe", "Raven Channel", "ch-1");
	// The join waits for an HTTP callback: publish until the event lands (bounded).
	let got = null;
	const deadline = Date.now() + WAIT_MS;
	while (!got && Date.now() < deadline) {
		await stack.publishRaw(WIRE.redis_events_channel_messages[1]);
		got = await next(socket, "probe_doc", 200).catch(() => null);
	}
	assert.deepEqual(got, [{ y: 2 }]);
});

test("a socket in another namespace receives nothing of this site's events", async () => {
	const mine = connect(stack.site);
	const other = connect("other.site", { sid: "other-site-sid", headers: { "X-Frappe-Site-Name": "other.site" } });
	await Promise.all([connected(mine), connected(other)]);
	const leaked = [];
	other.on("probe_event", () => leaked.push("probe_event"));
	const mineGot = next(mine, "probe_event");
	const sentinel = next(other, "sentinel");
	await stack.publish("probe_event", { x: 1 }, "user:Administrator");
	await stack.publish("sentinel", {}, "user:Administrator", "other.site");
	assert.deepEqual(await mineGot, [{ x: 1 }]);
	assert.deepEqual(await sentinel, [{}]);
	assert.deepEqual(leaked, []);
});

test("a foreign Origin gets connect_error 'Invalid origin'", async () => {
	const socket = connect(stack.site, { origin: "http://evil.example:8000" });
	const [err] = await next(socket, "connect_error");
	assert.equal(err.message, "Invalid origin");
});

test("no cookie gets 'No cookie transmitted.' and a wrong namespace 'Invalid namespace'", async () => {
	const [noCookie] = await next(connect(stack.site, { sid: null }), "connect_error");
	assert.equal(noCookie.message, "No cookie transmitted.");
	const [wrongNs] = await next(connect("wrong.site"), "connect_error");
	assert.equal(wrongNs.message, "Invalid namespace");
});
