// Debian's Chromium (never a downloaded browser) under playwright-core, for every browser test:
// tests/browser/drive.js (the app's pages on the stand-in stack) and tests/realbench/desk_browser.js
// (the real bench's desk). A new empty profile each launch, removed on close.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const CHROMIUM = process.env.RAVEN_CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps calling home on a closed network.
const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

async function launch(viewport = { width: 1100, height: 800 }) {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium)`);
	}
	const { chromium } = require("playwright-core");
	const user_data_dir = fs.mkdtempSync(path.join(os.tmpdir(), "raven-chromium-"));
	const context = await chromium.launchPersistentContext(user_data_dir, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport,
	});
	return {
		context,
		async close() {
			await context.close().catch(() => {});
			fs.rmSync(user_data_dir, { recursive: true, force: true });
		},
	};
}

module.exports = { CHROMIUM, CHROMIUM_ARGS, launch };
