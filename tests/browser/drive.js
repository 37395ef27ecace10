#!/usr/bin/env node
// Drives Debian's Chromium (never a downloaded browser) with playwright-core for
// tests/test_browser.py. One JSON spec file in, JSON lines out on stdout:
//   READY <json>   the page is connected and listening (realtime mode): publish now
//   RESULT <json>  the outcome; the process exits 0 after it
//   ERROR <text>   something broke; exit code 1
//
// Modes:
//   realtime: {url, context, cookies, event, timeout_ms}
//       Loads `url` (a page that loads socket.io.min.js and raven_realtime.js) with
//       frappe.boot.raven_realtime = context, runs raven_realtime.probe(), connects with
//       raven_realtime.connect() twice (window.io, and the Manager of a desk-like
//       frappe.realtime.socket with window.io removed), prints READY, then waits for `event`
//       on both sockets.
//   clients: {url, result, cookies, timeout_ms, out}
//       Loads `url` (the test page, so the probes run from a real page origin), runs
//       raven_realtime.probe_clients(result) as Run Diagnosis does, renders the report with
//       those results and screenshots it.
//   render: {result, probe, config, out, width}
//       Renders raven_realtime_diagnosis.js output on a blank page and screenshots it.
//   desk: {url, boot, site, timeout_ms, quiet_ms}
//       Loads `url` (a desk-like page: desk's socket.io client, the app's app_include_js, then a
//       desk stand-in that opens desk's socket on /<site> and fires app_ready) with
//       frappe.boot = boot, waits until desk's socket is connected (and, with field reports on,
//       for its reports), then `quiet_ms` more; reports every request and WebSocket the page
//       made, with the size of each response body.
//   history: {history, out, width}
//       Draws the settings form's history charts (raven_realtime_history.js) with frappe-charts
//       on a blank page, reports what each chart drew, and screenshots it.
//
// Usage: node tests/browser/drive.js SPEC.json
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const { launch } = require("./chromium");
const JS_DIR = path.join(__dirname, "..", "..", "raven_ai_agent", "public", "js");

function emit(tag, payload) {
	process.stdout.write(`${tag} ${JSON.stringify(payload)}\n`);
}

async function run_realtime(context, spec) {
	const timeout_ms = spec.timeout_ms || 10000;
	if (spec.cookies && spec.cookies.length) await context.addCookies(spec.cookies);
	await context.addInitScript((ctx) => {
		window.frappe = { boot: { raven_realtime: ctx } };
	}, spec.context);
	const page = context.pages()[0] || (await context.newPage());
	const console_lines = [];
	page.on("console", (m) => console_lines.push(`${m.type()}: ${m.text()}`));
	page.on("pageerror", (e) => console_lines.push(`pageerror: ${e.message}`));
	const response = await page.goto(spec.url, { waitUntil: "load", timeout: timeout_ms });
	if (!response || !response.ok()) {
		throw new Error(`GET ${spec.url} answered ${response ? response.status() : "nothing"}`);
	}

	const probe = await page.evaluate((t) => window.raven_realtime.probe({ timeout_ms: t }), 5000);

	// Two sockets: one through window.io, one the way desk v15 must do it (no global io).
	const sockets = await page.evaluate(
		({ event, wait_ms }) => {
			function listen(socket, name) {
				window.__raven_received[name] = [];
				socket.on(event, (msg) => window.__raven_received[name].push(msg));
				return new Promise((resolve) => {
					const timer = setTimeout(
						() => resolve({ connected: false, error: "timeout" }),
						wait_ms
					);
					socket.on("connect", () => {
						clearTimeout(timer);
						resolve({
							connected: true,
							transport: socket.io.engine.transport.name,
							namespace: socket.nsp,
						});
					});
					socket.on("connect_error", (e) => {
						clearTimeout(timer);
						resolve({ connected: false, error: e.message });
					});
				});
			}
			window.__raven_received = {};
			const via_io = window.raven_realtime.connect();
			// desk v15 bundles socket.io-client: only frappe.realtime.socket is visible
			const io = window.io;
			window.frappe.realtime = {
				socket: io(location.origin + "/desk-standin", { autoConnect: false }),
			};
			window.io = undefined;
			let via_desk;
			try {
				via_desk = window.raven_realtime.connect();
			} finally {
				window.io = io;
			}
			window.__raven_sockets = [via_io, via_desk];
			return Promise.all([listen(via_io, "via_io"), listen(via_desk, "via_desk")]).then(
				(r) => ({
					via_io: r[0],
					via_desk: r[1],
				})
			);
		},
		{ event: spec.event, wait_ms: timeout_ms }
	);
	emit("READY", { probe, sockets });

	let received = null;
	let error = null;
	try {
		await page.waitForFunction(
			() =>
				window.__raven_received.via_io.length > 0 &&
				window.__raven_received.via_desk.length > 0,
			null,
			{ timeout: timeout_ms, polling: 50 }
		);
	} catch (e) {
		error = `event ${spec.event} not received within ${timeout_ms} ms`;
	}
	received = await page.evaluate(() => window.__raven_received);
	const transports = await page.evaluate(() =>
		window.__raven_sockets.map((s) => s.io.engine && s.io.engine.transport.name)
	);
	await page.evaluate(() => window.__raven_sockets.forEach((s) => s.disconnect()));
	return { probe, sockets, received, transports, error, console: console_lines };
}

async function run_clients(context, spec) {
	const timeout_ms = spec.timeout_ms || 10000;
	if (spec.cookies && spec.cookies.length) await context.addCookies(spec.cookies);
	const page = context.pages()[0] || (await context.newPage());
	const response = await page.goto(spec.url, { waitUntil: "load", timeout: timeout_ms });
	if (!response || !response.ok()) {
		throw new Error(`GET ${spec.url} answered ${response ? response.status() : "nothing"}`);
	}
	await page.addScriptTag({ path: path.join(JS_DIR, "raven_realtime_diagnosis.js") });
	const out = await page.evaluate(async (s) => {
		const probes = await window.raven_realtime.probe_clients(s.result, {
			timeout_ms: s.timeout_ms,
			delivery: !!s.delivery,
		});
		document.body.innerHTML =
			'<div id="diagnosis">' +
			window.raven_realtime.render_diagnosis(s.result, null, probes) +
			"</div>";
		return { probes, text: document.body.innerText };
	}, spec);
	fs.mkdirSync(path.dirname(spec.out), { recursive: true });
	await page.screenshot({ path: spec.out, fullPage: true });
	return out;
}

async function run_render(context, spec) {
	const page = context.pages()[0] || (await context.newPage());
	await page.setViewportSize({ width: spec.width || 1000, height: 600 });
	// a bare page: no desk CSS, so the renderer's own fallbacks must carry it
	await page.setContent(
		'<!DOCTYPE html><html><head><meta charset="utf-8"><title>diagnosis</title></head>' +
			'<body style="font-family: sans-serif; margin: 24px;">' +
			'<h3>Realtime diagnosis</h3><div id="diagnosis"></div>' +
			'<h3>Effective configuration</h3><div id="config"></div></body></html>'
	);
	await page.addScriptTag({ path: path.join(JS_DIR, "raven_realtime_diagnosis.js") });
	const text = await page.evaluate((s) => {
		document.getElementById("diagnosis").innerHTML = window.raven_realtime.render_diagnosis(
			s.result,
			s.probe
		);
		document.getElementById("config").innerHTML = window.raven_realtime.render_config(
			s.config
		);
		return document.body.innerText;
	}, spec);
	// script injection through a value would show up as an element or a dialog
	const injected = await page.evaluate(
		() => document.querySelectorAll("#diagnosis img, #config img").length
	);
	// each check row: its identifier (on hover) and what the reader sees
	const check_labels = await page.evaluate(() =>
		Array.from(document.querySelectorAll("#diagnosis strong[title]")).map((el) => [
			el.getAttribute("title"),
			el.innerText,
		])
	);
	fs.mkdirSync(path.dirname(spec.out), { recursive: true });
	await page.screenshot({ path: spec.out, fullPage: true });
	return { text, injected, check_labels, out: spec.out };
}

async function run_desk(context, spec) {
	const timeout_ms = spec.timeout_ms || 10000;
	if (spec.cookies && spec.cookies.length) await context.addCookies(spec.cookies);
	await context.addInitScript((boot) => {
		// what desk has before app_include_js runs: frappe.boot, the CSRF token, jQuery's events
		const listeners = {};
		window.jQuery = function () {
			return {
				on(name, fn) {
					(listeners[name] = listeners[name] || []).push(fn);
				},
				trigger(name) {
					(listeners[name] || []).forEach((fn) => fn());
				},
			};
		};
		window.frappe = { boot: boot, csrf_token: "desk-csrf-token" };
	}, spec.boot);
	const page = context.pages()[0] || (await context.newPage());
	const requests = [];
	const websockets = [];
	page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), type: r.resourceType() }));
	page.on("requestfinished", async (r) => {
		const entry = requests.find((e) => e.url === r.url() && e.bytes === undefined);
		const response = await r.response();
		const body = response ? await response.body().catch(() => null) : null;
		if (entry) entry.bytes = body ? body.length : 0;
	});
	page.on("websocket", (ws) => websockets.push(ws.url()));
	const response = await page.goto(spec.url, { waitUntil: "load", timeout: timeout_ms });
	if (!response || !response.ok()) {
		throw new Error(`GET ${spec.url} answered ${response ? response.status() : "nothing"}`);
	}
	await page.waitForFunction(() => window.frappe.realtime.socket.connected, null, {
		timeout: timeout_ms,
		polling: 50,
	});
	if (spec.boot.raven_realtime_field_reports === 1) {
		// the desk socket's connect and the page load's verdict
		await page.waitForFunction(
			() =>
				performance
					.getEntriesByType("resource")
					.filter((e) => e.name.indexOf("report_connection") !== -1).length >= 2,
			null,
			{ timeout: timeout_ms, polling: 50 }
		);
	}
	// reports go out on the socket's events at once: a quiet moment shows nothing else follows
	await page.waitForTimeout(spec.quiet_ms || 500);
	const reports = requests
		.filter((r) => r.url.indexOf("report_connection") !== -1)
		.map((r) => r.method);
	return { requests, websockets, reports, api: await page.evaluate(() => Object.keys(window.raven_realtime || {})) };
}

async function run_history(context, spec) {
	const page = context.pages()[0] || (await context.newPage());
	await page.setViewportSize({ width: spec.width || 1000, height: 600 });
	const errors = [];
	page.on("pageerror", (e) => errors.push(String(e)));
	await page.setContent(
		'<!DOCTYPE html><html><head><meta charset="utf-8"><title>history</title></head>' +
			'<body style="font-family: sans-serif; margin: 24px;"><div id="history"></div></body></html>'
	);
	// Frappe's own chart library, the version Frappe v15 bundles as frappe.Chart
	const charts_dist = path.join(__dirname, "..", "node_modules", "frappe-charts", "dist");
	await page.addStyleTag({ path: path.join(charts_dist, "frappe-charts.min.css") });
	await page.addScriptTag({ path: path.join(charts_dist, "frappe-charts.min.umd.js") });
	// as on desk: the diagnosis renderer (app_include_js) is on the page before the form's script
	await page.addScriptTag({ path: path.join(JS_DIR, "raven_realtime_diagnosis.js") });
	await page.addScriptTag({ path: path.join(JS_DIR, "raven_realtime_history.js") });
	const drawn = await page.evaluate(
		(s) =>
			window.raven_realtime.render_history(
				document.getElementById("history"),
				s.history,
				window.frappe.Chart
			),
		spec
	);
	// frappe-charts draws its axes at once and grows the data in (an animation): wait until
	// every chart's data has a height, or the charts are there when there is nothing to show
	await page.waitForFunction(
		(n) => {
			const svgs = document.querySelectorAll("#history svg.frappe-chart");
			if (svgs.length < n) return false;
			return Array.from(svgs).every((svg) => {
				const bars = Array.from(svg.querySelectorAll("rect.bar"));
				const lines = Array.from(svg.querySelectorAll("path"));
				const grown = bars.some((b) => parseFloat(b.getAttribute("height")) > 0);
				const drawn_line = lines.some((p) => /[0-9]/.test(p.getAttribute("d") || ""));
				return grown || (!bars.length && drawn_line);
			});
		},
		drawn,
		{ timeout: spec.timeout_ms || 10000, polling: 50 }
	);
	const charts = await page.evaluate(() =>
		Array.from(document.querySelectorAll("#history .raven-rt-history-chart")).map((el) => ({
			key: el.getAttribute("data-chart"),
			svg: Boolean(el.querySelector("svg.frappe-chart")),
			bars: el.querySelectorAll("rect.bar").length,
			paths: el.querySelectorAll("path").length,
			text: el.innerText,
		}))
	);
	fs.mkdirSync(path.dirname(spec.out), { recursive: true });
	await page.screenshot({ path: spec.out, fullPage: true });
	return { drawn, charts, errors, out: spec.out };
}

async function main() {
	const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
	const browser = await launch();
	// a hard stop: a test run must never hang on the browser
	const guard = setTimeout(
		() => {
			process.stdout.write("ERROR driver timed out\n");
			process.exit(1);
		},
		(spec.timeout_ms || 10000) * 3 + 10000
	);
	try {
		const run =
			{ realtime: run_realtime, clients: run_clients, history: run_history, desk: run_desk }[
				spec.mode
			] ||
			run_render;
		emit("RESULT", await run(browser.context, spec));
	} finally {
		clearTimeout(guard);
		await browser.close();
	}
}

main().catch((e) => {
	process.stdout.write(`ERROR ${String((e && e.stack) || e).replace(/\n/g, " | ")}\n`);
	process.exit(1);
});
