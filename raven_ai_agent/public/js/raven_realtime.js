/*
 * raven_realtime.js: how a browser reaches Frappe's realtime (Socket.IO) service for Raven.
 *
 * Served raw (no build step, no imports), so this is plain ES2017. Not on every page: desk loads
 * raven_realtime_desk.js (field reports and `raven_realtime.load()`), which fetches this file
 * when something asks for it; it uses that file's helpers, so load it after that one.
 * In Node, require() returns the same API (for tests); the pure functions need no DOM.
 *
 * The context comes from the server (frappe.boot.raven_realtime, or the REST endpoint):
 *   {
 *     deployment_type:    "vps_prod" | "sandbox" | "local",
 *     socketio_base_url:  origin of the realtime service, e.g. "https://erp.example.com"
 *     socketio_path:      Engine.IO path, e.g. "/socket.io/"
 *     socketio_namespace: "/<site name>"
 *     transports:         e.g. ["websocket", "polling"]
 *   }
 *
 * Why the namespace matters: Frappe's realtime service emits every event in the namespace
 * named after the site ("/" + site name). A socket on the default namespace "/" connects
 * without any error (that namespace has no auth middleware) and then never hears a single
 * event. So the URL handed to io() is always socketio_base_url + socketio_namespace, and a
 * context whose namespace is "/" is rejected here instead of failing silently.
 *
 * API on window.raven_realtime:
 *   get_context({fetch, base_url, timeout_ms}?) -> Promise<context>
 *       frappe.boot.raven_realtime when present, else GET CONTEXT_METHOD (with credentials
 *       and X-Frappe-CSRF-Token). Rejects with an Error naming the bad key.
 *   validate_context(context) -> context (throws an Error naming the bad key)
 *   build_client_options(context, extra_options?) -> {url, options}   (pure)
 *       url = socketio_base_url + socketio_namespace; options = {path, transports,
 *       withCredentials: true, reconnectionAttempts, forceNew, tryAllTransports, ...extra}.
 *   resolve_io(io?) -> io function
 *       The given io (function or the socket.io-client module), else window.io, else one
 *       built from desk's own socket (frappe.realtime.socket, alias frappe.socketio.socket):
 *       desk v15 bundles socket.io-client without exposing a global io, but its socket's
 *       Manager class can open further connections.
 *   connect(io?, context?, extra_options?) -> socket
 *       Opens a new, independent connection (never desk's shared one). context defaults to
 *       frappe.boot.raven_realtime; extra_options is merged into the io() options (e.g.
 *       {extraHeaders: {Cookie, Origin}} in Node, {autoConnect: false}).
 *   probe({io, context, timeout_ms, upgrade_wait_ms, options}?) -> Promise<{connected,
 *       transport: "websocket"|"polling"|null, error: string|null, elapsed_ms, url, path,
 *       namespace}>
 *       Connects, waits for connect / connect_error / timeout, waits briefly for a possible
 *       polling -> websocket upgrade, reports the transport, disconnects. Never rejects.
 *       With `delivery` (true, or a function(token) -> Promise<bool> that publishes) it then asks
 *       the site to publish the probe event with a fresh token to this user's room and reports
 *       `received` (true/false; null when the publish failed, `delivery_error` says why) and
 *       `received_ms`: a socket on another bench's realtime service connects and hears nothing.
 */
(function (root, factory) {
	const api = factory(root);
	if (typeof module === "object" && module && module.exports) {
		module.exports = api;
	}
	if (root) {
		// the desk part and the diagnosis renderer were loaded first: merge, don't replace
		root.raven_realtime = Object.assign(root.raven_realtime || {}, api);
	}
})(typeof window !== "undefined" ? window : null, function (root) {
	"use strict";

	// Field reports, frappe, the CSRF token and error texts: raven_realtime_desk.js, on the page before this
	// file (or beside it, under Node).
	const loaded = root && root.raven_realtime;
	let desk_part = loaded && loaded.watch ? loaded : null;
	if (!desk_part && typeof require === "function") desk_part = require("./raven_realtime_desk.js");
	if (!desk_part) {
		throw new Error(
			"raven_realtime.js: load raven_realtime_desk.js first (desk's app_include_js does)"
		);
	}
	const get_frappe = desk_part.get_frappe;
	const csrf_token = desk_part.csrf_token;
	const error_text = desk_part.error_text;
	const transport_name = desk_part.transport_name;

	const CONTEXT_METHOD = "raven_ai_agent.api.realtime.get_raven_realtime_context";
	const CONTEXT_ENDPOINT = "/api/method/" + CONTEXT_METHOD;
	// The diagnosis' probe event, and the endpoint that publishes one to the caller's own room.
	const PROBE_EVENT = "raven_ai_agent_probe";
	const PROBE_ENDPOINT = "/api/method/raven_ai_agent.api.realtime.send_probe_event";
	const DEPLOYMENT_TYPES = ["vps_prod", "sandbox", "local"];
	const KNOWN_TRANSPORTS = ["websocket", "polling", "webtransport"];
	const DEFAULT_PROBE_TIMEOUT_MS = 5000;
	const DEFAULT_UPGRADE_WAIT_MS = 1000;
	// Desk itself gives up after 3 attempts; a diagnosis tool must not retry forever.
	const RECONNECTION_ATTEMPTS = 3;

	function boot_context() {
		const f = get_frappe();
		return (f && f.boot && f.boot.raven_realtime) || null;
	}

	function describe(value) {
		if (value === null) return "null";
		if (Array.isArray(value)) return "an array";
		if (typeof value === "string") return JSON.stringify(value);
		return typeof value;
	}

	function context_error(key, problem, value) {
		const shown = arguments.length > 2 ? " (got " + describe(value) + ")" : "";
		return new Error("raven_realtime context: " + key + " " + problem + shown);
	}

	// The server's rules (raven_ai_agent/realtime/validate.py, context.py); the cases both
	// must agree on are tests/fixtures/contexts.json.
	const PATH_RE = /^\/(?:[A-Za-z0-9._~-]+\/)+$/;
	const SITE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
	const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}$/;
	const ORIGIN_RE = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/\s?#@:[\]]+)(?::(\d{1,5}))?$/;

	function is_origin(value) {
		if (typeof value !== "string") return false;
		const m = ORIGIN_RE.exec(value);
		if (!m) return false;
		const host = m[2];
		if (host.charAt(0) !== "[") {
			const labels = host.split(".");
			if (host.length > 253 || !labels.every((l) => LABEL_RE.test(l) && l.slice(-1) !== "-")) {
				return false;
			}
		}
		if (m[3] === undefined) return true;
		const port = Number(m[3]);
		const default_port = m[1] === "https" ? 443 : 80;
		return port >= 1 && port <= 65535 && port !== default_port && m[3].charAt(0) !== "0";
	}

	function validate_context(context) {
		if (!context || typeof context !== "object" || Array.isArray(context)) {
			throw context_error("context", "must be an object", context);
		}
		const c = context;
		if (DEPLOYMENT_TYPES.indexOf(c.deployment_type) === -1) {
			throw context_error(
				"deployment_type",
				"must be one of " + DEPLOYMENT_TYPES.join(", "),
				c.deployment_type
			);
		}
		// An origin only, as the server normalises it (lower-case host, no default port): a
		// path here would end up in front of the namespace.
		if (!is_origin(c.socketio_base_url)) {
			throw context_error(
				"socketio_base_url",
				'must be an origin like "https://erp.example.com" (scheme and host, no path)',
				c.socketio_base_url
			);
		}
		if (
			typeof c.socketio_path !== "string" ||
			!PATH_RE.test(c.socketio_path) ||
			c.socketio_path.indexOf("..") !== -1
		) {
			throw context_error(
				"socketio_path",
				'must start and end with "/" and use only letters, digits and . _ ~ -',
				c.socketio_path
			);
		}
		if (c.socketio_namespace === "/") {
			throw context_error(
				"socketio_namespace",
				'is "/": Frappe emits events only in "/<site name>", a socket on "/" ' +
					"connects but never receives anything"
			);
		}
		if (
			typeof c.socketio_namespace !== "string" ||
			c.socketio_namespace.charAt(0) !== "/" ||
			!SITE_NAME_RE.test(c.socketio_namespace.slice(1)) ||
			c.socketio_namespace.indexOf("..") !== -1
		) {
			throw context_error(
				"socketio_namespace",
				'must be "/" followed by the site name',
				c.socketio_namespace
			);
		}
		if (!Array.isArray(c.transports) || !c.transports.length) {
			throw context_error("transports", "must be a non-empty array", c.transports);
		}
		for (let i = 0; i < c.transports.length; i++) {
			if (KNOWN_TRANSPORTS.indexOf(c.transports[i]) === -1) {
				throw context_error(
					"transports[" + i + "]",
					"must be one of " + KNOWN_TRANSPORTS.join(", "),
					c.transports[i]
				);
			}
		}
		return context;
	}

	async function fetch_context(opts) {
		const fetch_fn = opts.fetch || (typeof fetch === "function" ? fetch : null);
		if (!fetch_fn) throw new Error("raven_realtime: no fetch() to load the context with");
		const url = (opts.base_url || "") + CONTEXT_ENDPOINT;
		const headers = { Accept: "application/json" };
		const token = csrf_token();
		if (token) headers["X-Frappe-CSRF-Token"] = token;
		const init = { method: "GET", credentials: "include", headers: headers };
		let timer = null;
		if (opts.timeout_ms && typeof AbortController === "function") {
			const controller = new AbortController();
			init.signal = controller.signal;
			timer = setTimeout(function () {
				controller.abort();
			}, opts.timeout_ms);
		}
		let response;
		let body;
		try {
			response = await fetch_fn(url, init);
			if (!response.ok) {
				throw new Error(
					"raven_realtime: GET " + CONTEXT_ENDPOINT + " answered HTTP " + response.status
				);
			}
			body = await response.json();
		} catch (e) {
			if (e && e.name === "AbortError") {
				throw new Error(
					"raven_realtime: GET " +
						CONTEXT_ENDPOINT +
						" gave no answer within " +
						opts.timeout_ms +
						" ms"
				);
			}
			throw e;
		} finally {
			if (timer) clearTimeout(timer);
		}
		// Frappe wraps a whitelisted method's return value as {"message": ...}
		if (!body || typeof body !== "object" || !("message" in body)) {
			throw context_error("message", "missing from the " + CONTEXT_ENDPOINT + " answer");
		}
		return validate_context(body.message);
	}

	async function get_context(opts) {
		const o = opts || {};
		const from_boot = boot_context();
		if (from_boot) return validate_context(from_boot);
		return fetch_context(o);
	}

	function build_client_options(context, extra_options) {
		const c = validate_context(context);
		const options = {
			path: c.socketio_path,
			transports: c.transports.slice(),
			// the sid cookie must travel, also when the socket port differs from the page's
			withCredentials: true,
			reconnectionAttempts: RECONNECTION_ATTEMPTS,
			// our own Manager: closing this socket must never close desk's shared one
			forceNew: true,
			// websocket first, but fall back to polling when a proxy drops the upgrade
			tryAllTransports: true,
		};
		return {
			url: c.socketio_base_url + c.socketio_namespace,
			options: Object.assign(options, extra_options || {}),
		};
	}

	// io() from a socket.io Manager class: what lookup() does, without its shared cache.
	function io_from_manager(Manager) {
		return function (url, options) {
			const parsed = new URL(url);
			const manager = new Manager(parsed.origin, options);
			return manager.socket(parsed.pathname || "/", options);
		};
	}

	function resolve_io(io) {
		if (typeof io === "function") return io;
		if (io && typeof io.io === "function") return io.io; // the socket.io-client module
		if (root && typeof root.io === "function") return root.io;
		const f = get_frappe();
		const desk = f && (f.realtime || f.socketio);
		const manager = desk && desk.socket && desk.socket.io;
		if (
			manager &&
			typeof manager.constructor === "function" &&
			manager.constructor !== Object
		) {
			return io_from_manager(manager.constructor);
		}
		throw new Error(
			"raven_realtime: no Socket.IO client: pass io, load socket.io.min.js (window.io), " +
				"or wait until desk's frappe.realtime.socket exists"
		);
	}

	function connect(io, context, extra_options) {
		const io_fn = resolve_io(io);
		const ctx = context || boot_context();
		if (!ctx) {
			throw new Error(
				"raven_realtime: no context: frappe.boot.raven_realtime is missing; " +
					"pass the result of await raven_realtime.get_context()"
			);
		}
		const extra = Object.assign({}, extra_options || {});
		const probing = Boolean(extra[NO_FIELD_REPORTS]);
		delete extra[NO_FIELD_REPORTS];
		const built = build_client_options(ctx, extra);
		const socket = io_fn(built.url, built.options);
		if (!probing) desk_part.watch(socket, "app");
		return socket;
	}

	// A diagnosis probe is not a page's socket: never counted in the field reports.
	const NO_FIELD_REPORTS = "raven_no_field_reports";

	function now() {
		if (typeof performance !== "undefined" && performance.now) return performance.now();
		return Date.now();
	}

	function wait_for_connect(socket, wait_ms, timeout_ms) {
		return new Promise(function (resolve) {
			let timer = null;
			function done(error) {
				clearTimeout(timer);
				socket.off("connect", on_connect);
				socket.off("connect_error", on_error);
				resolve(error);
			}
			function on_connect() {
				done(null);
			}
			function on_error(err) {
				done(error_text(err));
			}
			timer = setTimeout(function () {
				done("no connection within " + timeout_ms + " ms");
			}, wait_ms);
			socket.on("connect", on_connect);
			socket.on("connect_error", on_error);
			if (socket.connected) done(null);
		});
	}

	// Polling may be upgraded to websocket right after connect; give it a moment.
	function wait_for_upgrade(socket, wait_ms) {
		const engine = socket.io && socket.io.engine;
		if (!engine || transport_name(socket) !== "polling" || wait_ms <= 0) {
			return Promise.resolve();
		}
		const offered = engine._upgrades || engine.upgrades;
		if (Array.isArray(offered) && !offered.length && !engine.upgrading) {
			return Promise.resolve();
		}
		return new Promise(function (resolve) {
			let timer = null;
			function done() {
				clearTimeout(timer);
				engine.off("upgrade", done);
				engine.off("upgradeError", done);
				resolve();
			}
			timer = setTimeout(done, wait_ms);
			engine.on("upgrade", done);
			engine.on("upgradeError", done);
		});
	}

	function new_token() {
		const bytes = new Uint8Array(8);
		const c = root && root.crypto ? root.crypto : typeof crypto !== "undefined" ? crypto : null;
		if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
		else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
		return Array.prototype.map
			.call(bytes, function (b) {
				return (b < 16 ? "0" : "") + b.toString(16);
			})
			.join("");
	}

	// POST the token to the site, which publishes it to this user's room; resolves to whether
	// the site handed the event to its realtime Redis.
	async function send_probe_event(opts, token) {
		const fetch_fn = opts.fetch || (typeof fetch === "function" ? fetch : null);
		if (!fetch_fn) throw new Error("raven_realtime: no fetch() to ask for the probe event");
		const headers = { Accept: "application/json", "Content-Type": "application/json" };
		const csrf = csrf_token();
		if (csrf) headers["X-Frappe-CSRF-Token"] = csrf;
		const response = await fetch_fn((opts.base_url || "") + PROBE_ENDPOINT, {
			method: "POST",
			credentials: "include",
			headers: headers,
			body: JSON.stringify({ token: token }),
		});
		if (!response.ok) {
			throw new Error("POST " + PROBE_ENDPOINT + " answered HTTP " + response.status);
		}
		const body = await response.json();
		return !!(body && body.message && body.message.published);
	}

	// Listen for the probe event carrying `token`, then have it published; settle on arrival,
	// on a failed publish, or after wait_ms.
	function wait_for_probe_event(socket, token, publish, wait_ms) {
		return new Promise(function (resolve) {
			const started = now();
			let timer = null;
			let settled = false;
			function done(out) {
				if (settled) return;
				settled = true;
				if (timer) clearTimeout(timer);
				socket.off(PROBE_EVENT, on_event);
				resolve(out);
			}
			function on_event(message) {
				if (message && message.token === token) {
					done({ received: true, received_ms: Math.round(now() - started), error: null });
				}
			}
			socket.on(PROBE_EVENT, on_event);
			timer = setTimeout(function () {
				done({ received: false, received_ms: null, error: null });
			}, wait_ms);
			Promise.resolve()
				.then(function () {
					return publish(token);
				})
				.then(
					function (published) {
						if (published === false) {
							done({
								received: null,
								received_ms: null,
								error: "the site could not hand the probe event to its realtime Redis",
							});
						}
					},
					function (err) {
						done({ received: null, received_ms: null, error: error_text(err) });
					}
				);
		});
	}

	async function probe(opts) {
		const o = opts || {};
		const started = now();
		const timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEFAULT_PROBE_TIMEOUT_MS;
		const upgrade_wait_ms =
			o.upgrade_wait_ms >= 0 ? o.upgrade_wait_ms : DEFAULT_UPGRADE_WAIT_MS;
		const result = {
			connected: false,
			transport: null,
			error: null,
			elapsed_ms: 0,
			url: null,
			path: null,
			namespace: null,
			received: null,
			received_ms: null,
			delivery_error: null,
		};
		let socket = null;
		try {
			const context = o.context
				? validate_context(o.context)
				: await get_context({
						fetch: o.fetch,
						base_url: o.base_url,
						timeout_ms: timeout_ms,
					});
			result.url = context.socketio_base_url + context.socketio_namespace;
			result.path = context.socketio_path;
			result.namespace = context.socketio_namespace;
			// one attempt: the first failure is the answer a diagnosis needs
			const extra = Object.assign(
				{ reconnection: false, timeout: timeout_ms },
				o.options || {}
			);
			extra[NO_FIELD_REPORTS] = true; // a diagnosis probe is not a page's socket
			socket = connect(o.io, context, extra);
			const left = Math.max(1, timeout_ms - (now() - started));
			const error = await wait_for_connect(socket, left, timeout_ms);
			if (error) {
				result.error = error;
			} else {
				result.connected = true;
				await wait_for_upgrade(socket, upgrade_wait_ms);
				result.transport = transport_name(socket);
				if (o.delivery) {
					const publish =
						typeof o.delivery === "function"
							? o.delivery
							: function (token) {
									return send_probe_event(o, token);
								};
					const wait_ms = Math.max(1, timeout_ms - (now() - started));
					const heard = await wait_for_probe_event(socket, new_token(), publish, wait_ms);
					result.received = heard.received;
					result.received_ms = heard.received_ms;
					result.delivery_error = heard.error;
				}
			}
		} catch (e) {
			result.error = error_text(e);
		} finally {
			if (socket) {
				try {
					socket.disconnect();
				} catch (e) {
					// closing a half-open socket may throw in old clients; the result stands
				}
			}
		}
		result.elapsed_ms = Math.round(now() - started);
		return result;
	}

	// Each distinct client socket of a diagnosis report (its `clients` rows: Frappe desk, Raven's
	// web app, this app's context) probed from this tab, as those clients connect: with the
	// client library's default transports. Resolves to {row url: probe result}.
	async function probe_clients(report, opts) {
		const o = opts || {};
		const rows = report && Array.isArray(report.clients) ? report.clients : [];
		const jobs = {};
		rows.forEach(function (c) {
			if (!c || !c.origin || jobs[c.url]) return;
			const context = {
				deployment_type: report.deployment_type,
				socketio_base_url: c.origin,
				socketio_path: c.path,
				socketio_namespace: c.namespace,
				transports: ["polling", "websocket"],
			};
			jobs[c.url] = probe(Object.assign({}, o, { context: context }));
		});
		const urls = Object.keys(jobs);
		const results = await Promise.all(
			urls.map(function (u) {
				return jobs[u];
			})
		);
		const out = {};
		urls.forEach(function (u, i) {
			out[u] = results[i];
		});
		return out;
	}

	return {
		CONTEXT_METHOD: CONTEXT_METHOD,
		CONTEXT_ENDPOINT: CONTEXT_ENDPOINT,
		DEPLOYMENT_TYPES: DEPLOYMENT_TYPES,
		get_context: get_context,
		validate_context: validate_context,
		build_client_options: build_client_options,
		resolve_io: resolve_io,
		connect: connect,
		probe: probe,
		probe_clients: probe_clients,
		PROBE_EVENT: PROBE_EVENT,
		PROBE_ENDPOINT: PROBE_ENDPOINT,
	};
});
