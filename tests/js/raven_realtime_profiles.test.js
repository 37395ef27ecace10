// raven_realtime.connect() with the real socket.io-client against the realtime stand-in as each
// Frappe release it supports (15.41, latest v15, v16: tests/stack/realtime/server.js PROFILES):
// the site namespace connects with the browser's cookie and hears the user's event everywhere.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const client = require("socket.io-client");
const { PROFILES, startStack } = require("../stack/harness");

const rt = require(path.join(__dirname, "..", "..", "raven_ai_agent", "public", "js", "raven_realtime.js"));

const WAIT_MS = 5000;

function once(socket, event) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`no "${event}" within ${WAIT_MS} ms`)), WAIT_MS);
		socket.once(event, (...args) => {
			clearTimeout(timer);
			resolve(args);
		});
		socket.once("connect_error", (err) => {
			clearTimeout(timer);
			reject(new Error(`connect_error: ${err.message}`));
		});
	});
}

for (const profile of PROFILES) {
	test(`connect() gets the user's event on Frappe ${profile}`, async () => {
		const stack = await startStack({ profile });
		let socket;
		try {
			const context = {
				deployment_type: "local",
				socketio_base_url: stack.realtimeUrl,
				socketio_path: "/socket.io/",
				socketio_namespace: "/" + stack.site,
				transports: ["websocket", "polling"],
			};
			const options = { extraHeaders: { Origin: stack.webUrl, cookie: "sid=admin-sid" }, reconnection: false };
			socket = rt.connect(client, context, options);
			await once(socket, "connect");
			const got = once(socket, "raven_profile_event");
			assert.equal(await stack.publish("raven_profile_event", { profile }, "user:Administrator"), 1);
			assert.deepEqual(await got, [{ profile }]);
			const calls = await stack.web.requests("/api/method/frappe.realtime.get_user_info");
			// The session check carries the sid alone (a query on 15.41, a cookie later); no secret.
			const carried = (c) => (profile === "v15.41" ? c.query.sid === "admin-sid" : c.cookie === "sid=admin-sid");
			assert.ok(calls.length > 0 && calls.every(carried), JSON.stringify(calls));
		} finally {
			if (socket) socket.close();
			await stack.stop();
		}
	});
}
