#!/usr/bin/env node
// Stand-in for Frappe's realtime service (apps/frappe/realtime/index.js,
// middlewares/authenticate.js, utils.js, handlers/frappe_handlers.js, node_utils.js), one
// version profile at a time (--profile, default v15.41; see PROFILES). Behaviour follows the
// sources named there and the wire captures in tests/fixtures; the code is our own.
// Differences that exist only to make it testable: it binds to --host (default 127.0.0.1
// instead of every interface), --port overrides socketio_port, and it prints `READY <port>`
// (or `READY unix:<path>` on a Unix socket) on stdout once it listens and is subscribed to
// Redis.
//
// Usage: node tests/stack/realtime/server.js --sites-path <bench>/sites [--port N] [--host H]
//                                            [--profile v15.41|v15|v16]
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const path = require("node:path");
const { Server } = require("socket.io");
const redis = require("redis");

// What differs on the wire between the Frappe releases this app supports. Facts, read in the
// real sources (the code here is our own):
// - v15.41 (apps/frappe on a 15.41.0 bench, realtime/middlewares/authenticate.js, utils.js):
//   io.listen(port) answers other paths with an empty 404; "No cookie transmitted." when no
//   Cookie header; the session check is superagent GET <Origin>/api/method/...get_user_info with
//   `?sid=` when the cookie has a sid, else the Authorization header.
// - v15 (latest version-15; frappe/frappe realtime/index.js, node_utils.js): Socket.IO on a bare
//   http.Server (other paths never answered) that listens on `socketio_uds` when set (also
//   FRAPPE_SOCKETIO_UDS) and then opens no TCP port; authenticate.js sends the Authorization
//   header first, else `Cookie: sid=<sid>`, with fetch ("Unauthorized: TypeError: fetch failed"
//   when the callback gets no answer), still to the Origin.
// - v16 (a v16.4.1 release: authenticate.js, utils.js, frappe/realtime.py): as v15, plus "Missing
//   cookie and authorization header. Either one needed for authentication." when a request
//   carries neither, and with developer_mode the check goes to <origin host>:<webserver_port>
//   (utils.js get_url). No socket secret: that is develop (17.0.0-dev), which the app does not
//   admit.
const PROFILES = {
	"v15.41": {
		superagent: true,
		bare_http: false,
		uds: false,
		missing_credentials: null,
		authorization_first: false,
		sid_as_cookie: false,
		developer_mode_port: false,
	},
	v15: {
		superagent: false,
		bare_http: true,
		uds: true,
		missing_credentials: null,
		authorization_first: true,
		sid_as_cookie: true,
		developer_mode_port: false,
	},
	v16: {
		superagent: false,
		bare_http: true,
		uds: true,
		missing_credentials: "Missing cookie and authorization header. Either one needed for authentication.",
		authorization_first: true,
		sid_as_cookie: true,
		developer_mode_port: true,
	},
};

function parse_args(argv) {
	const args = { sites_path: null, port: null, host: "127.0.0.1", profile: "v15.41" };
	for (let i = 0; i < argv.length; i++) {
		const flag = argv[i];
		const value = argv[i + 1];
		if (flag === "--sites-path") args.sites_path = value;
		else if (flag === "--port") args.port = Number(value);
		else if (flag === "--host") args.host = value;
		else if (flag === "--profile") {
			if (!(value in PROFILES)) {
				console.error(`--profile: ${value} is not one of ${Object.keys(PROFILES).join(", ")}`);
				process.exit(2);
			}
			args.profile = value;
		} else {
			console.error(`unknown argument: ${flag}`);
			process.exit(2);
		}
		i++;
	}
	if (!args.sites_path) {
		console.error("usage: server.js --sites-path <bench>/sites [--port N] [--host H]");
		process.exit(2);
	}
	return args;
}

const args = parse_args(process.argv.slice(2));
const profile = PROFILES[args.profile];

// Like node_utils.get_conf: defaults, then <bench>/config.json, then
// sites/common_site_config.json (falsy values are skipped), then FRAPPE_* environment
// overrides. A site's own site_config.json is never read.
function get_conf(sites_path) {
	const conf = { socketio_port: 3000 };
	const bench_path = path.resolve(sites_path, "..");
	for (const file of [path.join(bench_path, "config.json"), path.join(sites_path, "common_site_config.json")]) {
		if (!fs.existsSync(file)) continue;
		const values = JSON.parse(fs.readFileSync(file, "utf8"));
		for (const key of Object.keys(values)) {
			if (values[key]) conf[key] = values[key];
		}
	}
	const env = process.env;
	if (env.FRAPPE_SITE) conf.default_site = env.FRAPPE_SITE;
	if (env.FRAPPE_REDIS_CACHE) conf.redis_cache = env.FRAPPE_REDIS_CACHE;
	if (env.FRAPPE_REDIS_QUEUE) conf.redis_queue = env.FRAPPE_REDIS_QUEUE;
	if (env.FRAPPE_SOCKETIO_PORT) conf.socketio_port = env.FRAPPE_SOCKETIO_PORT;
	if (env.FRAPPE_SOCKETIO_UDS) conf.socketio_uds = env.FRAPPE_SOCKETIO_UDS;
	return conf;
}

const conf = get_conf(path.resolve(args.sites_path));

// ---- HTTP callbacks into the web server ------------------------------------------------
// v15 uses superagent. What matters on the wire and in error texts is reproduced here:
// the sid travels as a `?sid=` query parameter (not as a cookie), a URL without a scheme
// gets `http://`, redirects are followed (at most 5; the query is dropped, Authorization
// too when the host changes), a non-2xx answer fails with the status text
// ("Error: Not Found"), JSON bodies are parsed (a bad one fails with the SyntaxError),
// other bodies read as {}, and there is no timeout.

function status_error(status) {
	const err = new Error(http.STATUS_CODES[status] || "Unsuccessful HTTP response");
	err.status = status;
	return err;
}

function http_get(url, { query = null, headers = {} } = {}, redirects = 0) {
	return new Promise((resolve, reject) => {
		let target = url;
		if (target.indexOf("http") !== 0) target = `http://${target}`;
		let parsed;
		try {
			parsed = new URL(target);
		} catch (err) {
			reject(err);
			return;
		}
		if (query) {
			for (const [key, value] of Object.entries(query)) parsed.searchParams.append(key, value);
		}
		const lib = parsed.protocol === "https:" ? https : http;
		const req = lib.request(
			parsed,
			{
				method: "GET",
				headers: {
					"Accept-Encoding": "identity",
					"Content-Type": "application/x-www-form-urlencoded",
					...headers,
				},
			},
			(res) => {
				const chunks = [];
				res.on("data", (chunk) => chunks.push(chunk));
				res.on("error", reject);
				res.on("end", () => {
					const status = res.statusCode;
					if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects < 5) {
						const next_url = new URL(res.headers.location, parsed).href;
						const next_headers = { ...headers };
						if (new URL(next_url).host !== parsed.host) {
							delete next_headers.Authorization;
							delete next_headers.Cookie;
						}
						resolve(http_get(next_url, { headers: next_headers }, redirects + 1));
						return;
					}
					const text = Buffer.concat(chunks).toString("utf8");
					const type = res.headers["content-type"] || "";
					let body = {};
					if (/[/+]json($|[^-\w])/i.test(type)) {
						try {
							body = text && JSON.parse(text);
						} catch (err) {
							reject(err);
							return;
						}
					}
					const response = { status, body, text, headers: res.headers };
					if (status >= 200 && status < 300) resolve(response);
					else {
						const err = status_error(status);
						err.response = response;
						reject(err);
					}
				});
			}
		);
		req.on("error", reject);
		req.end();
	});
}

// utils.get_url: the Origin of the Engine.IO session's first request plus the path; v16 with
// developer_mode swaps the port for webserver_port. (No server_ip in any of these profiles.)
function get_url(socket, url_path) {
	let url = socket.request.headers.origin;
	if (profile.developer_mode_port && conf.developer_mode && url) {
		const [scheme, host] = url.split(":");
		url = `${scheme}:${host}:${conf.webserver_port}`;
	}
	return url + (url_path || "");
}

// How a callback carries the session, per profile: 15.41 puts the sid in the query and prefers
// it over Authorization; later versions prefer Authorization and send the sid as a cookie.
function credentials(sid, authorization_header, query, headers) {
	const use_auth = authorization_header && (profile.authorization_first || !sid);
	if (use_auth) headers.Authorization = authorization_header;
	else if (sid && profile.sid_as_cookie) headers.Cookie = `sid=${sid}`;
	else if (sid) query.sid = sid;
}

async function callback(socket_like, url_path, query = {}) {
	const headers = {};
	query = { ...query };
	credentials(socket_like.sid, socket_like.authorization_header, query, headers);
	const sent = http_get(get_url(socket_like, url_path), { query, headers });
	if (profile.superagent) return sent;
	// fetch (v15 latest, v16) fails a request that never got an answer with this one text.
	return sent.catch((err) => {
		if (err.status === undefined && !(err instanceof SyntaxError)) throw new TypeError("fetch failed");
		throw err;
	});
}

// utils.frappe_request: a GET authenticated like the socket was.
function frappe_request(socket, url_path, query = {}) {
	return callback(socket, url_path, query);
}

// ---- authenticate middleware -----------------------------------------------------------

// Scheme and port stripped, exactly as Frappe does it (so "[::1]:80" gives "[").
function get_hostname(url) {
	if (!url) return undefined;
	if (url.indexOf("://") > -1) url = url.split("/")[2];
	return url.match(/:/g) ? url.slice(0, url.indexOf(":")) : url;
}

function get_site_name(socket) {
	if (socket.site_name) return socket.site_name;
	const headers = socket.request.headers;
	if (headers["x-frappe-site-name"]) {
		socket.site_name = get_hostname(headers["x-frappe-site-name"]);
	} else if (conf.default_site && ["localhost", "127.0.0.1"].indexOf(get_hostname(headers.host)) !== -1) {
		socket.site_name = conf.default_site;
	} else if (headers.origin) {
		socket.site_name = get_hostname(headers.origin);
	} else {
		socket.site_name = get_hostname(headers.host);
	}
	return socket.site_name;
}

// The `cookie` package's parse(): first value of a name wins, quotes stripped,
// percent-decoding when possible.
function parse_cookies(header) {
	const cookies = {};
	for (const part of header.split(";")) {
		const eq = part.indexOf("=");
		if (eq < 0) continue;
		const key = part.slice(0, eq).trim();
		if (!key || key in cookies) continue;
		let value = part.slice(eq + 1).trim();
		if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
		try {
			value = value.indexOf("%") !== -1 ? decodeURIComponent(value) : value;
		} catch {
			// keep the raw value, as cookie.parse does
		}
		cookies[key] = value;
	}
	return cookies;
}

// socket.request is the Engine.IO session's FIRST request (the polling handshake or the
// websocket upgrade), not the request that carried the CONNECT packet.
function authenticate(socket, next) {
	const namespace = socket.nsp.name.slice(1);
	const headers = socket.request.headers;

	if (namespace != get_site_name(socket)) {
		// Frappe does not return here: later checks may send a second error, or even connect.
		next(new Error("Invalid namespace"));
	}

	if (get_hostname(headers.host) != get_hostname(headers.origin)) {
		next(new Error("Invalid origin"));
		return;
	}

	if (profile.missing_credentials) {
		if (!headers.cookie && !headers.authorization) {
			next(new Error(profile.missing_credentials));
			return;
		}
	} else if (!headers.cookie) {
		next(new Error("No cookie transmitted."));
		return;
	}

	const cookies = parse_cookies(headers.cookie || "");
	const authorization_header = headers.authorization;
	if (!cookies.sid && !authorization_header) {
		next(new Error("No authentication method used. Use cookie or authorization header."));
		return;
	}

	const who = { request: socket.request, sid: cookies.sid, authorization_header };
	callback(who, "/api/method/frappe.realtime.get_user_info")
		.then((res) => {
			socket.user = res.body.message.user;
			socket.user_type = res.body.message.user_type;
			socket.installed_apps = res.body.message.installed_apps;
			socket.sid = cookies.sid;
			socket.authorization_header = authorization_header;
			next();
		})
		.catch((e) => {
			next(new Error(`Unauthorized: ${e}`));
		});
}

// ---- handlers --------------------------------------------------------------------------

const doc_room = (doctype, docname) => "doc:" + doctype + "/" + docname;
const open_doc_room = (doctype, docname) => "open_doc:" + doctype + "/" + docname;
const user_room = (user) => "user:" + user;
const doctype_room = (doctype) => "doctype:" + doctype;
const task_room = (task_id) => "task_progress:" + task_id;

// A failed permission check is only logged, as in Frappe: the client never hears of it.
function check_permission(socket, url_path, query, on_allowed) {
	frappe_request(socket, url_path, query).then(
		(res) => {
			if (res.status == 200) on_allowed();
			else console.error(`permission check ${url_path}: unexpected status ${res.status}`);
		},
		(err) => {
			if (err.status === 403) return;
			console.error(`permission check ${url_path} failed:`, String(err));
		}
	);
}

function can_subscribe_doc(socket, doctype, docname, on_allowed) {
	if (!doctype || !docname) return;
	check_permission(socket, "/api/method/frappe.realtime.can_subscribe_doc", { doctype, docname }, on_allowed);
}

function can_subscribe_doctype(socket, doctype, on_allowed) {
	if (!doctype) return;
	check_permission(socket, "/api/method/frappe.realtime.can_subscribe_doctype", { doctype }, on_allowed);
}

// "Who is viewing this form": sent to the open_doc room unless the only viewer is oneself.
function notify_subscribed_doc_users(socket, doctype, docname) {
	if (!doctype || !docname) return;
	const room = open_doc_room(doctype, docname);
	const members = socket.nsp.adapter.rooms.get(room) || new Set();
	const users = [];
	socket.nsp.sockets.forEach((sock) => {
		if (members.has(sock.id)) users.push(sock.user);
	});
	if (users.length == 1 && users[0] == socket.user) return;
	socket.nsp.to(room).emit("doc_viewers", { doctype, docname, users: Array.from(new Set(users)) });
}

function frappe_handlers(socket) {
	socket.join(user_room(socket.user));
	socket.join("website");
	if (socket.user_type == "System User") socket.join("all");

	socket.on("ping", () => socket.emit("pong"));

	socket.on("doctype_subscribe", (doctype) => {
		can_subscribe_doctype(socket, doctype, () => socket.join(doctype_room(doctype)));
	});
	socket.on("doctype_unsubscribe", (doctype) => socket.leave(doctype_room(doctype)));

	socket.on("task_subscribe", (task_id) => socket.join(task_room(task_id)));
	socket.on("task_unsubscribe", (task_id) => socket.leave(task_room(task_id)));
	socket.on("progress_subscribe", (task_id) => socket.join(task_room(task_id)));

	socket.on("doc_subscribe", (doctype, docname) => {
		can_subscribe_doc(socket, doctype, docname, () => socket.join(doc_room(doctype, docname)));
	});
	socket.on("doc_unsubscribe", (doctype, docname) => socket.leave(doc_room(doctype, docname)));

	socket.on("doc_open", (doctype, docname) => {
		can_subscribe_doc(socket, doctype, docname, () => {
			socket.join(open_doc_room(doctype, docname));
			if (!socket.subscribed_documents) socket.subscribed_documents = [];
			socket.subscribed_documents.push([doctype, docname]);
			notify_subscribed_doc_users(socket, doctype, docname);
		});
	});
	socket.on("doc_close", (doctype, docname) => {
		socket.leave(open_doc_room(doctype, docname));
		// Frappe's filter callback returns nothing, so every entry is dropped; kept as is.
		if (socket.subscribed_documents) socket.subscribed_documents = [];
		notify_subscribed_doc_users(socket, doctype, docname);
	});

	socket.on("disconnect", () => {
		for (const [doctype, docname] of socket.subscribed_documents || []) {
			notify_subscribed_doc_users(socket, doctype, docname);
		}
	});
}

// ---- server ----------------------------------------------------------------------------

const io = new Server({
	cors: { origin: true, credentials: true },
	cleanupEmptyChildNamespaces: true,
});

// Any namespace is accepted here; the middleware checks it against the derived site.
const realtime = io.of(/^\/.*$/);
realtime.use(authenticate);
realtime.on("connection", frappe_handlers);

// What io.listen(port) builds in 15.41, bound to one host: every non-/socket.io/ path
// gets an empty 404. Later versions attach to a bare http.Server: such paths never answer.
const http_server = profile.bare_http
	? http.createServer()
	: http.createServer((_req, res) => {
			res.writeHead(404);
			res.end();
		});
io.attach(http_server);

const port = args.port !== null ? args.port : Number(conf.socketio_port);
// Versions that know socketio_uds listen there instead of on any TCP port.
const uds = profile.uds && conf.socketio_uds ? String(conf.socketio_uds) : null;

// Frappe's subscriber has no "error" listener: when Redis refuses at start (or goes away
// later) the process dies on the unhandled error. Same outcome here, with a readable line.
const subscriber = redis.createClient({ url: conf.redis_queue });
subscriber.on("error", (err) => {
	console.error(`Realtime service: Redis error on ${conf.redis_queue || "redis://localhost:6379"}: ${err}`);
	process.exit(1);
});

function on_event(raw) {
	const message = JSON.parse(raw);
	const namespace = "/" + message.namespace;
	if (message.room) {
		io.of(namespace).to(message.room).emit(message.event, message.message);
	} else {
		// No room: every site namespace (Frappe uses this for build events).
		realtime.emit(message.event, message.message);
	}
}

const listening = new Promise((resolve, reject) => {
	http_server.once("error", reject);
	if (uds) http_server.listen(uds, () => resolve(`unix:${uds}`));
	else http_server.listen(port, args.host, () => resolve(http_server.address().port));
});

Promise.all([listening, subscriber.connect().then(() => subscriber.subscribe("events", on_event))])
	.then(([where]) => {
		console.error(`Realtime service (${args.profile}) listening on: ${uds ? where : `${args.host}:${where}`}`);
		process.stdout.write(`READY ${where}\n`);
	})
	.catch((err) => {
		console.error(`Realtime service failed to start: ${err}`);
		process.exit(1);
	});

let stopping = false;
function shutdown() {
	if (stopping) return;
	stopping = true;
	// Bounded: never hang a test run on a slow close.
	setTimeout(() => process.exit(0), 2000).unref();
	io.close(() => {
		Promise.allSettled([subscriber.disconnect()]).finally(() => process.exit(0));
	});
	// Requests nobody answers (bare http.Server) would hold close() open.
	http_server.closeAllConnections();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
