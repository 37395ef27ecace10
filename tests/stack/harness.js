// JS twin of tests/stack (Python): start Redis, the Frappe web and realtime stand-ins on
// free loopback ports for `node --test` suites, wait until each is really ready (a READY
// line, Redis's "Ready to accept connections"), and stop them again. Every wait is bounded.
//
//   const { startStack } = require("../stack/harness");
//   const stack = await startStack({ sessions: { "admin-sid": { user: "Administrator",
//       user_type: "System User" } } });
//   ... stack.realtimeUrl, stack.site, await stack.publish("evt", {x: 1}, "user:Administrator")
//   await stack.stop();
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const REALTIME_JS = path.join(__dirname, "realtime", "server.js");
// The Frappe releases the stand-ins behave as (realtime/server.js PROFILES).
const PROFILES = ["v15.41", "v15", "v16"];
const DEFAULT_PROFILE = "v15.41";
const WEB_JS = path.join(__dirname, "web", "server.js");
const DEFAULT_SITE = "realtime.test";
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;

const DEFAULT_SESSIONS = {
	"admin-sid": { user: "Administrator", user_type: "System User" },
	"website-sid": { user: "web@example.com", user_type: "Website User" },
};

// Children still running when the test process exits are killed (by pid) as a last resort.
const live = new Set();
process.on("exit", () => {
	for (const child of live) {
		try {
			child.kill("SIGKILL");
		} catch {
			// already gone
		}
	}
});

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

class Service {
	constructor(name, child) {
		this.name = name;
		this.child = child;
		this.port = null;
		this.stdout = [];
		this.stderrChunks = [];
		this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
		child.stderr.on("data", (chunk) => this.stderrChunks.push(chunk));
	}

	stderr() {
		return Buffer.concat(this.stderrChunks).toString("utf8");
	}

	get running() {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	/** SIGTERM, wait (bounded), then SIGKILL. Resolves with the exit code/signal. */
	async stop() {
		if (this.running) {
			this.child.kill("SIGTERM");
			const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
			await this.exited;
			clearTimeout(timer);
		}
		live.delete(this.child);
		return this.exited;
	}
}

/** Spawn `argv` and resolve once a stdout line matches `readyRe` (group 1 = port, if any). */
function spawnService(name, argv, { readyRe, env = process.env, timeoutMs = START_TIMEOUT_MS } = {}) {
	const child = spawn(argv[0], argv.slice(1), { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
	live.add(child);
	const service = new Service(name, child);
	return new Promise((resolve, reject) => {
		let done = false;
		const fail = async (why) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			await service.stop();
			reject(new Error(`${name}: ${why}\ncommand: ${argv.join(" ")}\nstdout:\n${service.stdout.join("\n")}\nstderr:\n${service.stderr()}`));
		};
		const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
		child.once("error", (err) => fail(`could not start: ${err}`));
		child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
		readline.createInterface({ input: child.stdout }).on("line", (line) => {
			service.stdout.push(line);
			const m = !done && line.match(readyRe);
			if (m) {
				done = true;
				clearTimeout(timer);
				if (m[1]) service.port = Number(m[1]);
				resolve(service);
			}
		});
	});
}

/** FRAPPE_* variables would override the bench config in the realtime service. */
function hermeticEnv() {
	return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FRAPPE_")));
}

function tempDir(prefix) {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** redis-server without persistence; `.url` is redis://127.0.0.1:<port>. */
async function startRedis() {
	const dir = tempDir("stack-redis-");
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await freePort();
		const argv = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""];
		try {
			const redis = await spawnService("redis", argv, { readyRe: /Ready to accept connections/ });
			redis.port = port;
			redis.url = `redis://127.0.0.1:${port}`;
			const stop = redis.stop.bind(redis);
			redis.stop = async () => {
				const result = await stop();
				fs.rmSync(dir, { recursive: true, force: true });
				return result;
			};
			return redis;
		} catch (err) {
			// A port taken between freePort() and bind: try another one.
			if (!/Address already in use/.test(String(err)) || attempt === 2) {
				fs.rmSync(dir, { recursive: true, force: true });
				throw err;
			}
		}
	}
}

/** The Frappe web stand-in; `addSession()` rewrites its sessions file (it re-reads it). */
async function startWeb({
	sessions = DEFAULT_SESSIONS,
	staticDir = null,
	socketioPort = null,
	verbose = false,
	profile = DEFAULT_PROFILE,
} = {}) {
	const dir = tempDir("stack-web-");
	const sessionsFile = path.join(dir, "sessions.json");
	const current = { ...sessions };
	const write = () => {
		fs.writeFileSync(sessionsFile + ".tmp", JSON.stringify(current, null, 1));
		fs.renameSync(sessionsFile + ".tmp", sessionsFile);
	};
	write();
	const argv = [process.execPath, WEB_JS, "--port", "0", "--sessions", sessionsFile];
	if (staticDir) argv.push("--static", staticDir);
	if (socketioPort) argv.push("--socketio-port", String(socketioPort));
	if (verbose) argv.push("--verbose");
	argv.push("--profile", profile);
	let web;
	try {
		web = await spawnService("web", argv, { readyRe: /^READY (\d+)$/ });
	} catch (err) {
		fs.rmSync(dir, { recursive: true, force: true });
		throw err;
	}
	web.url = `http://127.0.0.1:${web.port}`;
	web.addSession = (sid, user, userType = "System User", extra = {}) => {
		current[sid] = { user, user_type: userType, ...extra };
		write();
	};
	web.requests = async (urlPath = null) => {
		const res = await fetch(`${web.url}/__standin__/requests`);
		const { requests } = await res.json();
		return requests.filter((r) => urlPath === null || r.path === urlPath);
	};
	const stop = web.stop.bind(web);
	web.stop = async () => {
		const result = await stop();
		fs.rmSync(dir, { recursive: true, force: true });
		return result;
	};
	return web;
}

/** <dir>/bench with sites/common_site_config.json, sites/<site>/site_config.json, apps.txt. */
function makeBench(dir, { site = DEFAULT_SITE, common = {}, siteConfig = {} } = {}) {
	const bench = path.join(dir, "bench");
	const sites = path.join(bench, "sites");
	fs.mkdirSync(path.join(sites, site), { recursive: true });
	fs.mkdirSync(path.join(bench, "apps"), { recursive: true });
	fs.writeFileSync(path.join(sites, "common_site_config.json"), JSON.stringify(common, null, 1) + "\n");
	fs.writeFileSync(path.join(sites, site, "site_config.json"), JSON.stringify(siteConfig, null, 1) + "\n");
	fs.writeFileSync(path.join(sites, "apps.txt"), "frappe\n");
	return bench;
}

/** The realtime stand-in for a bench's sites dir, as Frappe `profile`; `port` overrides socketio_port. */
async function startRealtime({ sitesPath, port = null, profile = DEFAULT_PROFILE }) {
	const argv = [process.execPath, REALTIME_JS, "--sites-path", sitesPath, "--profile", profile];
	if (port) argv.push("--port", String(port));
	const realtime = await spawnService("realtime", argv, { readyRe: /^READY (\d+)$/, env: hermeticEnv() });
	realtime.url = `http://127.0.0.1:${realtime.port}`;
	return realtime;
}

function sortKeys(value) {
	if (Array.isArray(value)) return value.map(sortKeys);
	if (value && typeof value === "object") {
		return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
	}
	return value;
}

/** The JSON frappe.publish_realtime puts on Redis `events` (frappe.as_json: indent 1,
 * sorted keys), byte for byte for plain JSON values. */
function frappeEventJson(event, message, room, namespace) {
	return JSON.stringify(sortKeys({ event, message, namespace, room: room ?? null }), null, 1);
}

/** Redis + web + bench + realtime, wired like a bench. Always call `stop()`. */
async function startStack({
	site = DEFAULT_SITE,
	sessions = DEFAULT_SESSIONS,
	common = {},
	staticDir = null,
	profile = DEFAULT_PROFILE,
} = {}) {
	const started = [];
	const dir = tempDir("stack-bench-");
	const stack = { site, dir, started, profile };
	let publisher = null;

	stack.stop = async () => {
		if (publisher) await publisher.quit().catch(() => {});
		publisher = null;
		for (const service of started.reverse()) await service.stop();
		started.length = 0;
		fs.rmSync(dir, { recursive: true, force: true });
	};

	try {
		stack.redis = await startRedis();
		started.push(stack.redis);
		stack.socketioPort = common.socketio_port || (await freePort());
		stack.web = await startWeb({
			sessions,
			staticDir,
			socketioPort: stack.socketioPort,
			profile,
		});
		started.push(stack.web);
		stack.common = {
			default_site: site,
			redis_cache: stack.redis.url,
			redis_queue: stack.redis.url,
			socketio_port: stack.socketioPort,
			webserver_port: stack.web.port,
			...common,
		};
		stack.bench = makeBench(dir, { site, common: stack.common });
		stack.sitesPath = path.join(stack.bench, "sites");
		stack.realtime = await startRealtime({ sitesPath: stack.sitesPath, profile });
		started.push(stack.realtime);
	} catch (err) {
		await stack.stop();
		throw err;
	}

	stack.realtimeUrl = stack.realtime.url;
	stack.webUrl = stack.web.url;

	/** Publish raw text on Redis `events`; resolves with the subscriber count. */
	stack.publishRaw = async (text) => {
		if (!publisher) {
			const { createClient } = require("redis");
			publisher = createClient({ url: stack.redis.url });
			// Without a listener a Redis hiccup would crash the test process.
			publisher.on("error", (err) => {
				stack.publisherError = err;
			});
			await publisher.connect();
		}
		return publisher.publish("events", text);
	};
	/** Publish like frappe.publish_realtime (namespace defaults to the site). */
	stack.publish = (event, message, room = null, namespace = site) =>
		stack.publishRaw(frappeEventJson(event, message, room, namespace));
	/** Another realtime node on the same bench and Redis. */
	stack.addRealtimeNode = async (port = null) => {
		const node = await startRealtime({ sitesPath: stack.sitesPath, port: port || (await freePort()), profile });
		started.push(node);
		return node;
	};
	return stack;
}

module.exports = {
	DEFAULT_PROFILE,
	DEFAULT_SESSIONS,
	PROFILES,
	DEFAULT_SITE,
	REPO_ROOT,
	freePort,
	frappeEventJson,
	makeBench,
	spawnService,
	startRealtime,
	startRedis,
	startStack,
	startWeb,
};
