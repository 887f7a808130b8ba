#!/bin/bash
# Slow readers: backends that send far more than the clients read. The
# proxy stops reading the backend while the client is behind, so its RSS
# stays flat; when the clients go, their sessions and fds go with them.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc

flood=$(free_port)
port=$(free_port)
bg flood $PVXTOOL flood "127.0.0.1:$flood" --mb 512
wait_for 20 port_open "$flood"
graph "$(ingress flood "127.0.0.1:$port" "127.0.0.1:$flood")"
start_pvx
wait_for 20 listening flood
rss_before=$(rss_kb "$PVX_PID")
fds_before=$(fd_count "$PVX_PID")

$PVXTOOL slow "127.0.0.1:$port" --until "$T/slow.stop" --count 8 >"$T/slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 30 grep -q "connected 8" "$T/slow.log"
# Every session through to the flood server: two sockets each.
fds_at_least() { [ "$(fd_count "$PVX_PID")" -ge "$1" ]; }
wait_for 30 fds_at_least $((fds_before + 16))
# A window in which a proxy that kept reading its backends would take
# hundreds of MiB (the floods run at loopback speed): it must not.
sleep 3
rss_during=$(rss_kb "$PVX_PID")
fds_during=$(fd_count "$PVX_PID")
grow=$((rss_during - rss_before))
echo "RSS before ${rss_before} KiB, with 8 stalled readers of 512 MiB each ${rss_during} KiB (+${grow} KiB)"
# Two sockets a session, and a pipe (two fds) for the bulk bytes that wait
# for the stalled reader: never more.
more=$((fds_during - fds_before))
[ "$more" -ge 16 ] && [ "$more" -le 32 ] || fail "expected 16 to 32 more fds during, got $more"
# At most one 64 KiB buffer per direction and session, plus slack.
[ "$grow" -lt 4096 ] || fail "RSS grew by $grow KiB behind slow readers"
touch "$T/slow.stop"
wait "$slow" || fail "slow clients: $(cat "$T/slow.log")"
wait_for 30 fds_are "$PVX_PID" "$fds_before"
pvx_alive
echo "PASS"
