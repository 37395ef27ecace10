// Preloaded into Frappe's realtime service in tests (`node -r loopback.js apps/frappe/socketio.js`):
// the service listens on every interface by default; here it must stay on loopback.
"use strict";
const net = require("net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
	const first = args[0];
	if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
		if (typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
	} else if (first && typeof first === "object" && first.port !== undefined && !first.host && !first.path) {
		args[0] = { ...first, host: "127.0.0.1" };
	}
	return listen.apply(this, args);
};
