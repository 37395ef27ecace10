#!/bin/sh
# start the realtime service on its old port 9001
cd /home/frappe/frappe-bench
node apps/frappe/socketio.js --port 9001 &
sleep 9001
bench serve --port 8000
