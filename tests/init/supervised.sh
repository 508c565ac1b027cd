#!/bin/bash
# SPDX-License-Identifier: MIT
# The broker under a supervisor from Debian, runit's runsv or s6-svscan:
# it starts and reports ready (s6: notification-fd 3 with --ready-fd 3, as
# conf/init/s6 does; runit: its socket exists), is restarted after
# SIGKILL, and the daemon it had started is adopted by the new broker, not
# started twice.
#
#   supervised.sh runit|s6 BROKER FAKE_DAEMON
set -euo pipefail

mode=$1
broker=$(realpath "$2")
fake=$(realpath "$3")
DEADLINE_MS=15000

log() { printf 'init-%s: %s\n' "$mode" "$*" >&2; }
die() {
	printf 'FAIL: %s\n' "$*" >&2
	[[ -f ${T:-/nonexistent}/broker.log ]] && sed 's/^/  | /' "$T/broker.log" >&2
	exit 1
}
now_ms() { date +%s%3N; }

# wait_for CMD...: poll every 50 ms until CMD succeeds, or die.
wait_for() {
	local end=$(($(now_ms) + DEADLINE_MS))
	until "$@"; do
		(($(now_ms) < end)) || die "timed out waiting for: $*"
		sleep 0.05
	done
}

case $mode in
runit) need=(runsv sv) ;;
s6) need=(s6-svscan s6-svscanctl s6-svwait s6-svstat) ;;
*) echo "usage: $0 runit|s6 BROKER FAKE_DAEMON" >&2; exit 2 ;;
esac
for tool in "${need[@]}" socat; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is not installed (tests/run installs it)"
		exit 77
	}
done

T=$(mktemp -d /tmp/vb-init.XXXXXX)
SUP_PID=
cleanup() {
	local rc=$?
	set +e
	case $mode in
	runit) sv -w 10 down "$T/sv/virt-broker" >/dev/null 2>&1 ;;
	s6) s6-svscanctl -t "$T/sv" 2>/dev/null ;;
	esac
	[[ -n $SUP_PID ]] && kill "$SUP_PID" 2>/dev/null && wait "$SUP_PID" 2>/dev/null
	pkill -KILL -f "$T/" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

xdg=$T/run
rt=$xdg/libvirt
install -d -m 0700 "$xdg"
svc=$T/sv/virt-broker
install -d "$svc"
cat >"$T/broker.conf" <<EOF
[broker]
search_path = /nonexistent
publish = none
[fake]
exec = $fake
args = --pidfile $rt/fake-daemon.pid
socket = a.socket sock-a
EOF
ready_arg=
if [[ $mode == s6 ]]; then
	echo 3 >"$svc/notification-fd"
	ready_arg="--ready-fd 3"
fi
cat >"$svc/run" <<EOF
#!/bin/sh
exec 2>>$T/broker.log
exec env XDG_RUNTIME_DIR=$xdg HOME=$T $broker --session -v -f $T/broker.conf $ready_arg
EOF
chmod +x "$svc/run"

broker_pid() {
	case $mode in
	runit) cat "$svc/supervise/pid" 2>/dev/null ;;
	s6) s6-svstat -o pid "$svc" 2>/dev/null | grep -v '^-1$' ;;
	esac
}

hello() { socat -t 5 - "UNIX-CONNECT:$rt/sock-a" </dev/null 2>/dev/null | sed -n 's/^hello //p'; }

is_ready() {
	case $mode in
	runit) [[ -S $rt/sock-a ]] ;;
	s6) s6-svwait -U -t 100 "$svc" 2>/dev/null ;;
	esac
}

pid_changed_from() {	# OLD
	local p
	p=$(broker_pid) || return 1
	[[ -n $p && $p != "$1" ]] && kill -0 "$p" 2>/dev/null
}

case $mode in
runit) runsv "$svc" & ;;
s6) s6-svscan "$T/sv" & ;;
esac
SUP_PID=$!

wait_for is_ready
wait_for broker_pid >/dev/null
b1=$(broker_pid)
log "broker $b1 ready under $mode"
d=$(hello)
[[ -n $d ]] || die "no answer on $rt/sock-a"
[[ $(ps -o ppid= -p "$d" | tr -d ' ') == "$b1" ]] ||
	die "the fake daemon $d is not the broker's child"
log "fake daemon $d serves"

kill -KILL "$b1"
wait_for pid_changed_from "$b1"
b2=$(broker_pid)
wait_for is_ready
wait_for grep -q "unit fake: adopted pid $d," "$T/broker.log"
[[ $(hello) == "$d" ]] || die "after the restart another daemon answered"
[[ $(pgrep -c -f -- "--pidfile $rt/") == 1 ]] || die "two fake daemons run"
log "broker killed; $mode restarted it as $b2, which adopted daemon $d"
log "ok"
