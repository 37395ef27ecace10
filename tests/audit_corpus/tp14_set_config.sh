bench set-config -g socketio_port 9001
bench set-config -g webserver_port 9001
curl -s "http://localhost:9001/socket.io/?EIO=4&transport=polling"
curl -s "http://localhost:9001/api/method/ping"
