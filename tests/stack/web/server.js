#!/usr/bin/env node
// Stand-in for Frappe's web server (v15.41, latest v15, v16: --profile), as far as the realtime path needs it: the
// auth and permission callbacks the realtime service makes, `ping`, optional static
// files (for browser tests) and Frappe's HTML 404 page for everything else (the page a
// `/socket.io/` request gets when a proxy sends it to the web port).
//
// Like Frappe, it reads DEV_SERVER from its environment (`int(sbool(...))` in frappe/__init__.py)
// and renders it into every website page as `window.dev_server = 0|1;` (templates/base.html);
// a value Frappe cannot read stops it, as Frappe's import fails on it. GET /login is such a page.
//
// Usage: node tests/stack/web/server.js --sessions FILE [--port N] [--host H]
//                                       [--static DIR] [--socketio-port N] [--site NAME] [--verbose]
//                                       [--profile v15.41|v15|v16] [--redis-url URL]
//
// frappe.realtime.get_user_info per profile: 15.41 answers {user, user_type}; later v15 and v16
// (a v16.4.1 release) add installed_apps. None checks a socket secret (only develop does).
//
// Which site answers: with --site, that one for every request (as `bench serve`/`bench start`
// pin the default site); without, X-Frappe-Site-Name, else the Host's name (as gunicorn's
// frappe.app does). raven_ai_agent's get_site_name says which.
//
// GET /__standin__/requests lists the requests it answered (not a Frappe route; tests use
// it to see the realtime service's callbacks).
//
// Sessions file: {"<sid or full Authorization header>": {"user": ..., "user_type":
// "System User" | "Website User", "allow": ["DocType/name", "DocType", "*"],
// "deny": [...], "delay_ms": N, "subscribe_delay_ms": N}}. It is re-read whenever it changes, so tests add sessions by
// rewriting it. Permissions: System Users may read everything not denied; other users
// only what "allow" lists.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const redis = require("redis");

const PROFILES = ["v15.41", "v15", "v16"];

function parse_args(argv) {
	const args = {
		port: 0,
		host: "127.0.0.1",
		sessions: null,
		static_dir: null,
		socketio_port: 9000,
		verbose: false,
		profile: "v15.41",
	};
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		if (flag === "--verbose") {
			args.verbose = true;
			continue;
		}
		const value = argv[++i];
		if (flag === "--port") args.port = Number(value);
		else if (flag === "--host") args.host = value;
		else if (flag === "--sessions") args.sessions = value;
		else if (flag === "--static") args.static_dir = path.resolve(value);
		else if (flag === "--socketio-port") args.socketio_port = Number(value);
		else if (flag === "--site") args.site = value;
		else if (flag === "--redis-url") args.redis_url = value;
		else if (flag === "--profile") {
			if (!PROFILES.includes(value)) {
				console.error(`--profile: ${value} is not one of ${PROFILES.join(", ")}`);
				process.exit(2);
			}
			args.profile = value;
		} else {
			console.error(`unknown argument: ${flag}`);
			process.exit(2);
		}
	}
	return args;
}

const args = parse_args(process.argv.slice(2));

// frappe/__init__.py: _dev_server = int(sbool(os.environ.get("DEV_SERVER", False))).
function read_dev_server(value) {
	if (value === undefined) return 0;
	const text = value.trim().toLowerCase();
	if (text === "true" || text === "false") return text === "true" ? 1 : 0;
	if (/^[+-]?\d+$/.test(text)) return Number(text) !== 0 ? 1 : 0;
	console.error(`DEV_SERVER=${JSON.stringify(value)}: invalid literal for int() with base 10`);
	process.exit(2);
}
const DEV_SERVER = read_dev_server(process.env.DEV_SERVER);
// This app's send_probe_event publishes to redis_queue (--redis-url), like frappe.publish_realtime.
let redis_client = null;
async function redis_connection() {
	if (!redis_client) {
		redis_client = redis.createClient({ url: args.redis_url });
		redis_client.on("error", (err) => console.error(`web stand-in: Redis error: ${err}`));
		await redis_client.connect();
	}
	return redis_client;
}

function user_info(session, res) {
	const info = { user: session.user, user_type: session.user_type };
	if (args.profile !== "v15.41") info.installed_apps = ["frappe"];
	send_json(res, 200, { message: info });
}

// ---- sessions, re-read when the file changes ------------------------------------------

let sessions = {};
let sessions_stamp = null;

function current_sessions() {
	if (!args.sessions) return sessions;
	let stat;
	try {
		stat = fs.statSync(args.sessions);
	} catch {
		sessions = {};
		sessions_stamp = null;
		return sessions;
	}
	const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
	if (stamp !== sessions_stamp) {
		sessions = JSON.parse(fs.readFileSync(args.sessions, "utf8") || "{}");
		sessions_stamp = stamp;
	}
	return sessions;
}

// ---- helpers ---------------------------------------------------------------------------

function parse_cookies(header) {
	const cookies = {};
	for (const part of (header || "").split(";")) {
		const eq = part.indexOf("=");
		if (eq < 0) continue;
		const key = part.slice(0, eq).trim();
		if (key && !(key in cookies)) cookies[key] = decodeURIComponent(part.slice(eq + 1).trim());
	}
	return cookies;
}

function send_json(res, status, payload) {
	const body = JSON.stringify(payload);
	res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
}

// Frappe answers a PermissionError from a whitelisted method with 403 and this shape.
function send_exception(res, status, exc_type, message) {
	send_json(res, status, {
		exception: `frappe.exceptions.${exc_type}`,
		exc_type,
		_server_messages: JSON.stringify([JSON.stringify({ message })]),
	});
}

// The head every website page renders from templates/base.html, as far as clients read it.
const WEBSITE_PAGE = (title, data_path, content) => `<!DOCTYPE html>
<!-- Built on Frappe. https://frappeframework.com/ -->
<html lang="en">
<head>
	<meta charset="utf-8">
	<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no">
	<meta name="generator" content="frappe">
	<meta name="title" content="${title}"><meta name="language" content="en">
	<title>${title}</title>
	<script>
		window.frappe = {};
		frappe.ready_events = [];
		frappe.ready = function(fn) {
			frappe.ready_events.push(fn);
		}
		window.dev_server = ${DEV_SERVER};
		window.socketio_port = ${args.socketio_port};
		window.show_language_picker = false;
	</script>
</head>
<body frappe-session-status="logged-out" data-path="${data_path}" class="">
	<div class="page-content-wrapper">
		${content}
	</div>
</body>
</html>
`;

function send_page(res, status, body) {
	res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
}

function send_not_found(res) {
	const content = "<h1>Page Not Found</h1>\n\t\t<p>Sorry! I could not find what you were looking for.</p>";
	send_page(res, 404, WEBSITE_PAGE("Not Found", "404", content));
}

const CONTENT_TYPES = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".json": "application/json",
	".map": "application/json",
	".svg": "image/svg+xml",
	".png": "image/png",
	".ico": "image/x-icon",
	".txt": "text/plain; charset=utf-8",
};

// A file under --static for this URL path, or null. Never leaves the directory.
function static_file(url_path) {
	if (!args.static_dir) return null;
	let rel;
	try {
		rel = decodeURIComponent(url_path);
	} catch {
		return null;
	}
	if (rel.endsWith("/")) rel += "index.html";
	const file = path.resolve(args.static_dir, "." + rel);
	if (file !== args.static_dir && !file.startsWith(args.static_dir + path.sep)) return null;
	try {
		return fs.statSync(file).isFile() ? file : null;
	} catch {
		return null;
	}
}

// ---- whitelisted methods ---------------------------------------------------------------

function can_read(session, doctype, docname) {
	const keys = ["*", doctype, docname !== undefined ? `${doctype}/${docname}` : null].filter(Boolean);
	if ((session.deny || []).some((k) => keys.includes(k))) return false;
	if (session.user_type === "System User") return true;
	return (session.allow || []).some((k) => keys.includes(k));
}

// frappe.app: `_site or X-Frappe-Site-Name or get_site_name(request.host)` (port stripped).
function site_of(req) {
	if (args.site) return args.site;
	const header = req.headers["x-frappe-site-name"];
	if (header) return header;
	return (req.headers.host || "").replace(/:\d+$/, "");
}

const METHODS = {
	ping: (_session, _form, res) => send_json(res, 200, { message: "pong" }),
	"raven_ai_agent.api.realtime.get_site_name": (_session, _form, res, req) =>
		send_json(res, 200, { message: site_of(req) }),
	"frappe.realtime.get_user_info": (session, _form, res, req) =>
		later(session.delay_ms, () => user_info(session, res)),
	"frappe.realtime.can_subscribe_doc": (session, form, res) =>
		later(session.subscribe_delay_ms, () => {
			if (!can_read(session, form.doctype, form.docname)) {
				return send_exception(res, 403, "PermissionError", "Insufficient Permission for " + form.doctype);
			}
			send_json(res, 200, { message: true });
		}),
	"frappe.realtime.can_subscribe_doctype": (session, form, res) => {
		if (!can_read(session, form.doctype)) {
			return send_exception(res, 403, "PermissionError", "Insufficient Permission for " + form.doctype);
		}
		send_json(res, 200, { message: true });
	},
	// This app's endpoint, as far as a tab's delivery probe needs it: the probe event with the
	// tab's token, published like frappe.publish_realtime to the caller's own user room.
	"raven_ai_agent.api.realtime.send_probe_event": (session, form, res, req) => {
		if (session.user === "Guest") return send_exception(res, 403, "PermissionError", "Not permitted");
		if (!/^[0-9a-f]{8,64}$/.test(form.token || "")) {
			return send_exception(res, 417, "ValidationError", "token: use 8 to 64 lowercase hex digits");
		}
		if (!args.redis_url) return send_exception(res, 500, "ConnectionError", "no --redis-url");
		const room = "user:" + session.user;
		const message = { token: form.token, room, probe: "raven_ai_agent tab" };
		const event = { event: "raven_ai_agent_probe", message, namespace: site_of(req), room };
		redis_connection()
			.then((client) => client.publish("events", JSON.stringify(event)))
			.then(
				(count) => send_json(res, 200, { message: { published: count > 0, room } }),
				(err) => send_exception(res, 500, "ConnectionError", String(err))
			);
	},
	"frappe.auth.get_logged_user": (session, _form, res) => {
		if (session.user === "Guest") return send_exception(res, 403, "PermissionError", "Not permitted");
		send_json(res, 200, { message: session.user });
	},
};

const GUEST = { user: "Guest", user_type: null };

// A slow web worker (a cold gunicorn): the session's "delay_ms" holds get_user_info back,
// "subscribe_delay_ms" can_subscribe_doc.
function later(ms, answer) {
	if (ms > 0) setTimeout(answer, ms);
	else answer();
}

// Like frappe.auth: an Authorization header must match a known token (401 otherwise);
// else the sid from the form (query/body) or the cookie; an unknown sid is Guest.
function resolve_session(req, form) {
	const known = current_sessions();
	const authorization = req.headers.authorization;
	if (authorization) return known[authorization] ? { ...known[authorization] } : undefined;
	const sid = form.sid || parse_cookies(req.headers.cookie).sid;
	const entry = sid && known[sid];
	if (!entry) return { ...GUEST };
	return { user_type: null, ...entry };
}

function read_form(req, url, callback) {
	const form = Object.fromEntries(url.searchParams);
	if (req.method === "GET" || req.method === "HEAD") return callback(form);
	const chunks = [];
	req.on("data", (c) => chunks.push(c));
	req.on("end", () => {
		const text = Buffer.concat(chunks).toString("utf8");
		const type = req.headers["content-type"] || "";
		try {
			if (type.includes("application/json") && text) Object.assign(form, JSON.parse(text));
			else if (text) Object.assign(form, Object.fromEntries(new URLSearchParams(text)));
		} catch {
			// a body Frappe could not parse adds nothing to form_dict
		}
		callback(form);
	});
}

// What came in, for tests that must know a callback happened (a denied permission check
// changes nothing a client can see). Newest last, bounded.
const seen = [];
const SEEN_MAX = 1000;

function record(req, url, res) {
	res.on("finish", () => {
		seen.push({
			method: req.method,
			path: url.pathname,
			query: Object.fromEntries(url.searchParams),
			host: req.headers.host || null,
			origin: req.headers.origin || null,
			cookie: req.headers.cookie || null,
			authorization: req.headers.authorization || null,
			site: req.headers["x-frappe-site-name"] || null,
			status: res.statusCode,
		});
		if (seen.length > SEEN_MAX) seen.shift();
	});
}

function handle(req, res) {
	const url = new URL(req.url, "http://stand-in");
	if (args.verbose) console.error(`${req.method} ${req.url} host=${req.headers.host || ""}`);

	if (url.pathname === "/__standin__/requests") {
		req.resume();
		return send_json(res, 200, { requests: seen });
	}
	record(req, url, res);

	if (url.pathname.startsWith("/api/method/")) {
		const method = url.pathname.slice("/api/method/".length);
		return read_form(req, url, (form) => {
			const session = resolve_session(req, form);
			if (!session) return send_exception(res, 401, "AuthenticationError", "Invalid token");
			const fn = METHODS[method];
			// Frappe: frappe.throw (ValidationError, HTTP 417) when the dotted path doesn't import.
			if (!fn) {
				return send_exception(res, 417, "ValidationError", `Failed to get method for command ${method} with No module named '${method.split(".")[0]}'`);
			}
			fn(session, form, res, req);
		});
	}

	if (url.pathname === "/login" && (req.method === "GET" || req.method === "HEAD")) {
		return send_page(res, 200, WEBSITE_PAGE("Login", "login", '<form class="form-signin"></form>'));
	}
	const file = req.method === "GET" || req.method === "HEAD" ? static_file(url.pathname) : null;
	if (file) {
		const type = CONTENT_TYPES[path.extname(file)] || "application/octet-stream";
		const body = fs.readFileSync(file);
		res.writeHead(200, { "Content-Type": type, "Content-Length": body.length });
		return res.end(req.method === "HEAD" ? undefined : body);
	}
	req.resume();
	send_not_found(res);
}

const server = http.createServer((req, res) => {
	try {
		handle(req, res);
	} catch (err) {
		console.error(err);
		if (!res.headersSent) send_exception(res, 500, "Exception", String(err));
	}
});

server.on("error", (err) => {
	console.error(`web stand-in failed: ${err}`);
	process.exit(1);
});
server.listen(args.port, args.host, () => {
	current_sessions();
	process.stdout.write(`READY ${server.address().port}\n`);
});

function shutdown() {
	setTimeout(() => process.exit(0), 1000).unref();
	server.close(() => process.exit(0));
	server.closeAllConnections();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
