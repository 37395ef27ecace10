echo "socket.io client 4.9001 installed"
echo "realtime: waited 9001 ms"
pip install python-socketio==5.9001
export SOCKETIO_TIMEOUT=9001
git checkout v9001 -- apps/frappe/socketio.js
