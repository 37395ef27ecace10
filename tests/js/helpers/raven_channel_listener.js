#!/usr/bin/env node
// A Raven frontend's realtime subscription, with the real socket.io-client: connect to
// `<url>/<site>` (path /socket.io/, cookie `sid`, credentials), then `doc_subscribe` to
// "Raven Channel" / <channel> as Raven's channel view does. Prints JSON lines on stdout:
//
//   {"ready": true, "id": "<socket id>"}       connected and doc_subscribe sent
//   {"event": "...", "args": [...], "t": ms}   every event received (t: wall clock, ms)
//   {"error": "..."}                           connect_error / disconnect (then exit 1)
//
// --timing prints only `{"c": <message_details.content>, "t": ms}` for message_created (other
// events as above), for the delivery benchmark. `t` is performance.timeOrigin +
// performance.now(): wall-clock milliseconds with microsecond resolution, comparable with
// Python's time.time() * 1000 on the same machine; a stdin line `clock` is answered with
// `{"clock": t}` so the parent can check that. Exits when stdin closes, so the parent owns
// its lifetime.
//
// Usage: node tests/js/helpers/raven_channel_listener.js --url http://127.0.0.1:8080
//          --site realtime.test --sid admin-sid --channel general [--origin URL]
//          [--transports websocket,polling] [--timing]
"use strict";

const { performance } = require("node:perf_hooks");
const readline = require("node:readline");
const { io } = require("socket.io-client");

const RAVEN_CHANNEL = "Raven Channel";
const CONNECT_TIMEOUT_MS = 10000;

function parseArgs(argv) {
	const args = { url: null, site: null, sid: null, channel: null, origin: null, transports: null, timing: false };
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		if (flag === "--timing") {
			args.timing = true;
			continue;
		}
		const value = argv[++i];
		if (flag === "--url") args.url = value;
		else if (flag === "--site") args.site = value;
		else if (flag === "--sid") args.sid = value;
		else if (flag === "--channel") args.channel = value;
		else if (flag === "--origin") args.origin = value;
		else if (flag === "--transports") args.transports = value.split(",");
		else {
			console.error(`unknown argument: ${flag}`);
			process.exit(2);
		}
	}
	if (!args.url || !args.site || !args.channel) {
		console.error("usage: raven_channel_listener.js --url URL --site SITE --channel ID [--sid SID]");
		process.exit(2);
	}
	return args;
}

const args = parseArgs(process.argv.slice(2));
const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const extraHeaders = { Origin: args.origin || args.url };
if (args.sid) extraHeaders.Cookie = `sid=${args.sid}`;

const socket = io(`${args.url}/${args.site}`, {
	path: "/socket.io/",
	withCredentials: true,
	extraHeaders,
	reconnection: false,
	timeout: CONNECT_TIMEOUT_MS,
	...(args.transports ? { transports: args.transports } : {}),
});

socket.onAny((event, ...eventArgs) => {
	const t = now();
	if (args.timing && event === "message_created") {
		const payload = eventArgs[0];
		out({ c: payload && payload.message_details ? payload.message_details.content : null, t });
	} else {
		out({ event, args: eventArgs, t });
	}
});

socket.on("connect", () => {
	socket.emit("doc_subscribe", RAVEN_CHANNEL, args.channel);
	out({ ready: true, id: socket.id });
});

function fail(why) {
	out({ error: why });
	process.exit(1);
}

socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));
socket.on("disconnect", (reason) => {
	if (reason !== "io client disconnect") fail(`disconnect: ${reason}`);
});

const input = readline.createInterface({ input: process.stdin });
input.on("line", (line) => {
	if (line.trim() === "clock") out({ clock: now() });
});
input.on("close", () => {
	socket.close();
	process.exit(0);
});
