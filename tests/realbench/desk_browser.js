#!/usr/bin/env node
// Debian's Chromium on the real bench's desk, driven with playwright-core (never a downloaded
// browser). One JSON spec in (argv[2]), one `RESULT <json>` line out (or `ERROR <text>`, exit 1).
//
// Spec: {base, sid, mode, out, timeout_ms}
//   mode "form":  open the Raven Realtime Settings form, press Run Diagnosis, wait for the
//                 result, and report the banner, the Clients table's rows and the history
//                 charts drawn; screenshot to `out`.
//   mode "page":  load the desk (/app) and report every request the page made after load
//                 (method, URL, type, size) and the sockets it opened; for what the app costs
//                 each page.
"use strict";

const fs = require("node:fs");
const { launch } = require("../browser/chromium");

async function withDesk(spec, fn) {
	const browser = await launch({ width: 1280, height: 1600 });
	try {
		const context = browser.context;
		const url = new URL(spec.base);
		await context.addCookies([
			{ name: "sid", value: spec.sid, domain: url.hostname, path: "/", httpOnly: true },
			{ name: "system_user", value: "yes", domain: url.hostname, path: "/" },
		]);
		const page = context.pages()[0] || (await context.newPage());
		const consoleErrors = [];
		page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
		page.on("pageerror", (e) => consoleErrors.push(String(e)));
		page.on("response", (r) => r.status() >= 400 && consoleErrors.push(`HTTP ${r.status()} ${r.url()}`));
		const pending = new Set();
		page.on("request", (r) => pending.add(r.url()));
		page.on("requestfinished", (r) => pending.delete(r.url()));
		page.on("requestfailed", (r) => pending.delete(r.url()));
		page.on("requestfailed", (r) => consoleErrors.push(`failed ${r.url()}: ${r.failure() && r.failure().errorText}`));
		page.setDefaultTimeout(spec.timeout_ms || 60000);
		try {
			return await fn(page);
		} catch (e) {
			// What the page looked like when it broke: the test prints where.
			const shot = (spec.out || "/tmp/raven-realbench-" + spec.mode + ".png").replace(/\.png$/, "") + ".error.png";
			await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
			throw new Error(`${e.message}\nurl: ${page.url()}\nscreenshot: ${shot}\nconsole: ${consoleErrors.slice(-10).join("\n")}\npending: ${[...pending].join("\n")}\nstate: ${await page
				.evaluate(() =>
					JSON.stringify({
						route: frappe.get_route_str && frappe.get_route_str(),
						cur_frm: window.cur_frm ? cur_frm.doctype : null,
						page: frappe.container && frappe.container.page ? frappe.container.page.id : null,
						pages: document.querySelectorAll(".page-container").length,
						visible: Array.from(document.querySelectorAll(".page-container")).filter((p) => p.offsetParent).map((p) => p.id),
					})
				)
				.catch((err) => String(err))}`);
		}
	} finally {
		await browser.close();
	}
}

async function form(spec, page) {
	await page.goto(spec.base + "/app/raven-realtime-settings", { waitUntil: "load" });
	await page.waitForFunction(() => window.cur_frm && cur_frm.doctype === "Raven Realtime Settings");
	const before = await page.evaluate(() => cur_frm.doc.last_diagnosis_on || null);
	const buttons = page.locator("button:visible", { hasText: "Run Diagnosis" });
	const count = await buttons.count();
	await buttons.first().click();
	await page.waitForFunction(
		(prev) => cur_frm.doc.last_diagnosis_on && cur_frm.doc.last_diagnosis_on !== prev,
		before
	);
	await page.waitForSelector(".raven-rt-diagnosis .raven-rt-table");
	const result = await page.evaluate(() => {
		const text = (el) => (el ? el.innerText.trim() : null);
		const diag = document.querySelector(".raven-rt-diagnosis");
		const tables = Array.from(diag.querySelectorAll("table.raven-rt-table"));
		return {
			banner: text(diag.querySelector(".raven-rt-banner")),
			tables: tables.map((t) =>
				Array.from(t.querySelectorAll("tr")).map((tr) =>
					Array.from(tr.querySelectorAll("th,td")).map((c) => c.innerText.trim())
				)
			),
			history: Array.from(document.querySelectorAll(".raven-rt-history-chart")).map((b) => ({
				key: b.getAttribute("data-chart"),
				drawn: Boolean(b.querySelector("svg")),
				text: b.innerText.trim().slice(0, 200),
			})),
			last_diagnosis_hint: cur_frm.doc.last_diagnosis_hint,
		};
	});
	result.run_diagnosis_buttons = count;
	if (spec.out) await page.screenshot({ path: spec.out, fullPage: true });
	return result;
}

async function pageLoad(spec, page) {
	const requests = [];
	const sockets = [];
	page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), type: r.resourceType() }));
	page.on("websocket", (ws) => sockets.push(ws.url()));
	await page.goto(spec.base + "/app", { waitUntil: "load" });
	await page.waitForFunction(() => window.frappe && frappe.boot && document.querySelector(".page-container"));
	// Let the page settle: its sockets connect and any report it would send is sent.
	await page.waitForTimeout(spec.settle_ms || 3000);
	const scripts = await page.evaluate(() =>
		Array.from(document.scripts)
			.map((s) => s.src)
			.filter(Boolean)
	);
	return { requests, sockets, scripts, boot_context: await page.evaluate(() => frappe.boot.raven_realtime || null) };
}

async function main() {
	const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
	const run = spec.mode === "form" ? form : pageLoad;
	const result = await withDesk(spec, (page) => run(spec, page));
	process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
}

main().catch((e) => {
	process.stdout.write("ERROR " + String((e && e.stack) || e) + "\n");
	process.exit(1);
});
