#!/usr/bin/env bash
# Starts the server example on a free port, asks it for / once, stops it with TERM; prints
# the reply's last line and the exit status. Usage: check_server_app.sh PROGRAM LOG
set -u
program=$1 log=$2
"$program" 127.0.0.1:0 2>"$log" &
app=$!
port=""
for _ in $(seq 300); do
  port=$(sed -n 's|.*Listening at: http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
  [ -n "$port" ] && break
  sleep 0.1
done
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
reply=$(cat <&3)
kill -TERM "$app"
wait "$app"
status=$?
echo "${reply}" | tail -1
echo "exit $status"
