#!/bin/bash
# SPDX-License-Identifier: MIT
# The broker under a supervisor from Debian, runit's runsv or s6-svscan:
# it starts and reports ready (s6: notification-fd 3 with --ready-fd 3, as
# conf/init/s6 does, waited for with s6-svwait -U; runit: its socket
# exists), is restarted after SIGKILL, and the daemon it had started is
# adopted by the new broker, not started twice; then the supervisor stops
# it (sv down / s6-svc -d) and exits.
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

# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
case $mode in
runit)
	# Debian's runit package: runsv, sv, runsvdir; runit-init (which
	# would make runit pid 1) is a separate package, not needed.
	need runsv runit
	need sv runit
	;;
s6)
	for tool in s6-svscan s6-svscanctl s6-svc s6-svwait s6-svstat; do
		need "$tool" s6
	done
	;;
*) echo "usage: $0 runit|s6 BROKER FAKE_DAEMON" >&2; exit 2 ;;
esac
# The client: socat speaks AF_UNIX (bash's /dev/tcp does not).
need socat socat

T=$(mktemp -d /tmp/vb-init.XXXXXX)
SUP_PID=
PIDS=()		# every broker and daemon seen, for the cleanup
cleanup() {
	local rc=$? pid
	trap - EXIT
	set +e
	if [[ -n $SUP_PID ]]; then
		case $mode in
		runit) sv -w 10 down "$T/sv/virt-broker" && sv exit "$T/sv/virt-broker" ;;
		s6) s6-svc -wD -T 10000 -d "$T/sv/virt-broker" && s6-svscanctl -t "$T/sv" ;;
		esac >/dev/null 2>&1
		kill "$SUP_PID" 2>/dev/null
		wait "$SUP_PID" 2>/dev/null
	fi
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

xdg=$T/run
rt=$T/.cache/libvirt	# R: the session default (HOME=$T below)
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
exec env -u XDG_CACHE_HOME XDG_RUNTIME_DIR=$xdg HOME=$T $broker --session -v -f $T/broker.conf $ready_arg
EOF
chmod +x "$svc/run"

# The broker's pid as the supervisor knows it (fails while it is down).
broker_pid() {
	local p
	case $mode in
	runit) p=$(cat "$svc/supervise/pid" 2>/dev/null) ;;
	s6) p=$(s6-svstat -o pid "$svc" 2>/dev/null) ;;
	esac
	[[ -n $p && $p != -1 && $p != 0 ]] && echo "$p"
}

broker_down() {
	case $mode in
	runit) [[ $(sv status "$svc" 2>/dev/null) == down:* ]] ;;
	s6) [[ $(s6-svstat -o up "$svc" 2>/dev/null) == false ]] ;;
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
	[[ $p != "$1" ]] && kill -0 "$p" 2>/dev/null
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

fake_count() { pgrep -c -f -- "--pidfile $rt/fake-daemon.pid" || true; }

case $mode in
runit) runsv "$svc" & ;;
s6) s6-svscan "$T/sv" & ;;
esac
SUP_PID=$!

wait_for is_ready
wait_for broker_pid >/dev/null
b1=$(broker_pid)
PIDS+=("$b1")
log "broker $b1 ready under $mode"
d=$(hello)
[[ -n $d ]] || die "no answer on $rt/sock-a"
PIDS+=("$d")
[[ $(ps -o ppid= -p "$d" | tr -d ' ') == "$b1" ]] ||
	die "the fake daemon $d is not the broker's child"
[[ $(<"$rt/fake-daemon.pid") == "$d" ]] || die "$rt/fake-daemon.pid is not $d"
log "fake daemon $d (pidfile $rt/fake-daemon.pid) serves"

kill -KILL "$b1"
wait_for pid_changed_from "$b1"
b2=$(broker_pid)
PIDS+=("$b2")
wait_for is_ready
wait_for grep -q "unit fake: adopted pid $d," "$T/broker.log"
[[ $(hello) == "$d" ]] || die "after the restart another daemon answered"
[[ $(fake_count) == 1 ]] || die "$(fake_count) fake daemons run"
log "broker killed; $mode restarted it as $b2, which adopted daemon $d"

# The supervisor stops the broker. An adopted daemon is one the broker
# did not start: it is left running, as the previous broker left it.
case $mode in
runit) sv -w 10 down "$svc" >/dev/null || die "sv down failed" ;;
s6) s6-svc -wD -T 10000 -d "$svc" || die "s6-svc -d failed" ;;
esac
wait_for pid_gone "$b2"
wait_for broker_down
[[ $(tail -n 1 "$T/broker.log") == *": stopped" ]] ||
	die "broker $b2 did not log its clean stop last"
pid_gone "$d" && die "the adopted daemon $d was stopped"
log "the supervisor stopped broker $b2; adopted daemon $d left running"
kill -TERM "$d"
wait_for pid_gone "$d"

case $mode in
runit) sv exit "$svc" >/dev/null ;;
s6) s6-svscanctl -t "$T/sv" ;;
esac
wait "$SUP_PID" || die "the supervisor exited with status $?"
SUP_PID=
log "ok"
