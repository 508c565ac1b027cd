#!/bin/bash
# SPDX-License-Identifier: MIT
# The generated service directories under a supervisor from Debian, with
# only the installed paths replaced by the build's (binaries, /var/log):
#
# runit: runit/virt-broker-user for a temporary user in a temporary
# supplementary group, under runsv with log/ (svlogd, into
# LOG/virt-broker-USER/broker): it starts as that
# user with that group and `sv check` (its check script) passes; `sv hup`
# reloads; `sv 2` (SIGUSR2) re-executes the broker: same pid, same daemon;
# `sv restart` gives a new broker that serves (SIGTERM).
# s6: s6/virt-broker (with log/, s6-log into LOG/virt-broker/broker) under
# s6-svscan, in session mode
# via env/VIRT_BROKER_OPTS (the last --session wins over --system): ready
# through notification-fd 3 (s6-svwait -U); `s6-svc -h` reloads, `s6-svc
# -2` re-executes it (same pid, same daemon).
# Both: restarted after SIGKILL, and the daemon it had started is adopted
# by the new broker, not started twice; then the supervisor stops it as at
# the host's shutdown (sv down while runit marks one: control/t; s6-svc -d
# with down-signal SIGPWR, as README's rc.shutdown lines write it): SIGPWR,
# not SIGTERM; and exits.
#
#   supervised.sh runit|s6 INIT_DIR SBINDIR BINDIR BROKER CTL FAKE_DAEMON
set -euo pipefail

mode=$1
init=$2
sbindir=$3
bindir=$4
broker=$(realpath "$5")
ctl=$(realpath "$6")
fake=$(realpath "$7")
NAME="init-$mode"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
export PATH=$PATH:/usr/sbin:/sbin
case $mode in
runit)
	# Debian's runit package: runsv, sv, chpst, svlogd; runit-init
	# (which would make runit pid 1) is a separate package, not needed.
	for tool in runsv sv chpst svlogd; do
		need "$tool" runit
	done
	[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (a test user)"; exit 77; }
	need useradd passwd
	;;
s6)
	for tool in s6-svscan s6-svscanctl s6-svc s6-svwait s6-svstat s6-log; do
		need "$tool" s6
	done
	;;
*) echo "usage: $0 runit|s6 INIT_DIR SBINDIR BINDIR BROKER CTL FAKE" >&2; exit 2 ;;
esac
# The client: socat speaks AF_UNIX (bash's /dev/tcp does not).
need socat socat

T=$(mktemp -d /tmp/vb-init.XXXXXX)
chmod 0755 "$T"		# the test user reaches its home and the config
# The test user may not reach the build dir (a clone in a 0700 home): it
# runs copies of the binaries, in $T.
install -d -m 0755 "$T/bin"
for f in "$broker" "$ctl" "$fake"; do
	install -m 0755 "$f" "$T/bin/"
done
broker=$T/bin/$(basename "$broker")
ctl=$T/bin/$(basename "$ctl")
fake=$T/bin/$(basename "$fake")
SUP_PID=
TEST_USER='' TEST_GROUP=''
PIDS=()		# every broker and daemon seen, for the cleanup
cleanup() {
	local rc=$? pid
	trap - EXIT
	set +e
	if [[ -n $SUP_PID ]]; then
		case $mode in
		runit) sv -w 10 down "$svc" && sv exit "$svc" ;;
		s6) s6-svc -wD -T 10000 -d "$svc" && s6-svscanctl -t "$T/sv" ;;
		esac >/dev/null 2>&1
		kill "$SUP_PID" 2>/dev/null
		wait "$SUP_PID" 2>/dev/null
	fi
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	[[ -n $TEST_USER ]] && userdel "$TEST_USER" 2>/dev/null
	[[ -n $TEST_GROUP ]] && groupdel "$TEST_GROUP" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

cat >"$T/broker.conf.in" <<EOF
[broker]
search_path = /nonexistent
publish = none
[fake]
exec = $fake
args = --pidfile @RT@/fake-daemon.pid
socket = a.socket sock-a
EOF

case $mode in
runit)
	TEST_GROUP=vbinitg$$
	groupadd "$TEST_GROUP"
	useradd -M -d "$T/home" -s /usr/sbin/nologin -G "$TEST_GROUP" \
		"vbinit$$"
	TEST_USER=vbinit$$
	install -d -o "$TEST_USER" "$T/home"
	rt=$T/home/.cache/libvirt	# R: the session default
	svc=$T/sv/virt-broker-$TEST_USER
	mkdir -p "$T/sv"
	cp -a "$init/runit/virt-broker-user" "$svc"
	for f in run check log/run; do
		localize "$init/runit/virt-broker-user/$f" "$svc/$f" \
			"$sbindir/virt-broker" "$broker" \
			"$bindir/virt-brokerctl" "$ctl" "/var/log/" "$T/log/"
	done
	printf 'USER=%s\nOPTS="-v -f %s"\n' "$TEST_USER" "$T/broker.conf" \
		>"$svc/conf"
	LOGFILE=$T/log/virt-broker-$TEST_USER/broker/current
	;;
s6)
	rt=$T/.cache/libvirt
	svc=$T/sv/virt-broker
	mkdir -p "$T/sv"
	cp -a "$init/s6/virt-broker" "$svc"
	for f in run log/run; do
		localize "$init/s6/virt-broker/$f" "$svc/$f" \
			"$sbindir/virt-broker" "$broker" "/var/log/" "$T/log/"
	done
	mkdir "$svc/env"
	echo "--session -v -f $T/broker.conf" >"$svc/env/VIRT_BROKER_OPTS"
	LOGFILE=$T/log/virt-broker/broker/current
	;;
esac
sed "s|@RT@|$rt|" "$T/broker.conf.in" >"$T/broker.conf"

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

# Ready: runit's check script passes (sv check runs it), s6's readiness
# notification arrived.
is_ready() {
	case $mode in
	# sv check can pass before the run script has exec'd the broker:
	# the service's own check script, run here, is what says so.
	runit) (cd "$svc" && ./check) && sv -w 1 check "$svc" >/dev/null 2>&1 ;;
	s6) s6-svwait -U -t 100 "$svc" 2>/dev/null ;;
	esac
}

pid_changed_from() {	# OLD
	local p
	p=$(broker_pid) || return 1
	[[ $p != "$1" ]] && kill -0 "$p" 2>/dev/null
}

log_count() { grep -c -- "$1" "$LOGFILE" 2>/dev/null || true; }
log_has_n() { (($(log_count "$1") >= $2)); }	# TEXT N
stopped_last() { [[ $(tail -n 1 "$LOGFILE" 2>/dev/null) == *": stopped" ]]; }
fake_count() { pgrep -c -f -- "--pidfile $rt/fake-daemon.pid" || true; }

check_serves() {	# BROKER: a client starts one fake daemon, its child
	local d
	d=$(hello)
	[[ -n $d ]] || die "no answer on $rt/sock-a"
	[[ $(ps -o ppid= -p "$d" | tr -d ' ') == "$1" ]] ||
		die "the fake daemon $d is not broker $1's child"
	[[ $(<"$rt/fake-daemon.pid") == "$d" ]] || die "$rt/fake-daemon.pid is not $d"
	echo "$d"
}

# As at boot: a bare environment (s6: the session broker's HOME).
case $mode in
runit) env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin runsv "$svc" & ;;
s6) env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T" s6-svscan "$T/sv" & ;;
esac
SUP_PID=$!

wait_for is_ready
wait_for broker_pid >/dev/null
b1=$(broker_pid)
PIDS+=("$b1")
log "broker $b1 ready under $mode"
if [[ $mode == runit ]]; then
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$b1/status")
	[[ $uid == "$(id -u "$TEST_USER")" ]] ||
		die "broker $b1 runs as uid $uid: $(ps -o pid,ppid,uid,args -p "$b1"; cat "$LOGFILE" 2>/dev/null; ls -la "$svc" "$svc/supervise")"
	gid=$(getent group "$TEST_GROUP" | cut -d: -f3)
	grep -qE "^Groups:.*\\b$gid\\b" "/proc/$b1/status" ||
		die "broker $b1 lost the supplementary group $TEST_GROUP ($gid)"
	log "runs as $TEST_USER with its supplementary group $TEST_GROUP"
fi
d=$(check_serves "$b1")
PIDS+=("$d")
log "fake daemon $d (pidfile $rt/fake-daemon.pid) serves"

# Reload: SIGHUP.
case $mode in
runit) sv hup "$svc" >/dev/null ;;
s6) s6-svc -h "$svc" ;;
esac
wait_for log_has_n "reload: done" 1
[[ $(broker_pid) == "$b1" ]] || die "the reload replaced the broker"
log "reload: broker $b1 logged it and runs on"

# Re-execution in place (an upgrade): SIGUSR2, sv 2 / s6-svc -2. The
# supervisor sees the same pid throughout; the daemon runs on.
case $mode in
runit) sv 2 "$svc" >/dev/null ;;
s6) s6-svc -2 "$svc" ;;
esac
wait_for log_has_n "runs on from before the reexec" 1
{ [[ $(broker_pid) == "$b1" ]] && kill -0 "$b1"; } ||
	die "the reexec replaced broker $b1"
[[ $(hello) == "$d" ]] || die "after the reexec another daemon answered"
log "reexec: broker $b1 re-executed itself, daemon $d runs on"

if [[ $mode == runit ]]; then
	# sv 1 would send SIGUSR1: control/1 says so and sends nothing.
	# runsv handles commands in order, and waits for a control script:
	# once the next reload is logged, sv 1 is done.
	sv 1 "$svc" >/dev/null
	sv hup "$svc" >/dev/null
	wait_for log_has_n "reload: done" 2
	[[ $(log_count "SIGUSR1 not sent") == 1 ]] || die "control/1 did not run"
	[[ $(broker_pid) == "$b1" ]] || die "sv 1 replaced broker $b1"
	log "sv 1: control/1 said so, broker $b1 runs on"

	# sv restart: SIGTERM, the broker stops its daemon, a new broker.
	sv -w 60 restart "$svc" >/dev/null || die "sv restart failed"
	wait_for pid_gone "$d"
	wait_for pid_changed_from "$b1"
	b1=$(broker_pid)
	PIDS+=("$b1")
	wait_for is_ready
	d=$(check_serves "$b1")
	PIDS+=("$d")
	log "sv restart: broker $b1, which serves (daemon $d)"
	# control/t let runsv send SIGTERM: no shutdown is marked.
	[[ $(log_count "SIGPWR") == 0 ]] || die "sv restart sent SIGPWR: $(grep SIGPWR "$LOGFILE")"
fi

kill -KILL "$b1"
wait_for pid_changed_from "$b1"
b2=$(broker_pid)
PIDS+=("$b2")
wait_for is_ready
wait_for log_has_n "unit fake: adopted pid $d," 1
[[ $(hello) == "$d" ]] || die "after the restart another daemon answered"
[[ $(fake_count) == 1 ]] || die "$(fake_count) fake daemons run"
log "broker killed; $mode restarted it as $b2, which adopted daemon $d"

# The supervisor stops the broker. An adopted daemon is one the broker
# did not start: it is left running, as the previous broker left it.
# As at the host's shutdown, the broker gets SIGPWR instead of SIGTERM.
# runit: runit-init 0 made /etc/runit/stopit executable (here STOPIT in
# conf names the test's), and control/t sends it. s6: the lines README
# puts in rc.shutdown write down-signal (and timeout-kill), which
# s6-supervise reads at each down.
case $mode in
runit)
	install -m 0100 /dev/null "$T/stopit"
	printf 'STOPIT=%s\n' "$T/stopit" >>"$svc/conf"
	sv -w 10 down "$svc" >/dev/null || die "sv down failed"
	;;
s6)
	echo SIGPWR >"$svc/down-signal"
	echo 330000 >"$svc/timeout-kill"
	s6-svc -wD -T 10000 -d "$svc" || die "s6-svc -d failed"
	;;
esac
wait_for pid_gone "$b2"
wait_for broker_down
wait_for stopped_last
[[ $(log_count "SIGPWR: the host shuts down") == 1 ]] ||
	die "at the host's shutdown the broker got no SIGPWR: $(tail -n 5 "$LOGFILE")"
log "the host's shutdown: $mode sent SIGPWR"
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
