#!/bin/bash
# SPDX-License-Identifier: MIT
# The generated sysvinit script, run as root by hand (no init system
# involved: start-stop-daemon needs none): start twice (the second start
# is a no-op, exit 0), reload, status 0; the binary replaced: start a no-op
# still, upgrade returns with the new binary running in the same pid; stop
# twice (exit 0 both times), status 3. The broker runs in session mode under a temporary HOME (via
# VIRT_BROKER_OPTS in the defaults file, which the script reads; the last
# --session wins over the script's --system), so /run/libvirt is not
# touched; only the installed paths are replaced by the build's.
#
#   sysvinit.sh INIT_DIR SBINDIR SYSCONFDIR BROKER FAKE_DAEMON
set -euo pipefail

init=$1
sbindir=$2
sysconfdir=$3
broker=$(realpath "$4")
fake=$(realpath "$5")
NAME="init-sysvinit"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP: the init script needs root"; exit 77; }
need start-stop-daemon dpkg

T=$(mktemp -d /tmp/vb-sysv.XXXXXX)
script=$T/virt-broker
cleanup() {
	local rc=$?
	trap - EXIT
	set +e
	[[ -f $T/broker.pid ]] && kill -KILL "$(cat "$T/broker.pid")" 2>/dev/null
	pkill -KILL -f -- "--pidfile $T/fake.pid" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

mkdir -p "$T/default" "$T/sbin"
# A copy, which the upgrade below replaces as a package manager would.
install -m 0755 "$broker" "$T/sbin/virt-broker"
broker=$T/sbin/virt-broker
localize "$init/sysvinit/virt-broker" "$script" \
	"$sbindir/virt-broker" "$broker" \
	"$sysconfdir/default/virt-broker" "$T/default/virt-broker"
cat >"$T/broker.conf" <<CONF
[broker]
search_path = /nonexistent
publish = none
[fake]
exec = $fake
args = --pidfile $T/fake.pid
socket = a.socket sock-a
CONF
cat >"$T/default/virt-broker" <<CONF
PIDFILE=$T/broker.pid
VIRT_BROKER_OPTS="--session -f $T/broker.conf"
CONF

# As an init system would run it: a bare environment.
rc() {	# ACTION: the script's exit status, its output on stderr
	local r=0
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T" "$script" "$1" >&2 || r=$?
	echo "$r"
}
# The same with RUNLEVEL, as rc exports it.
rc_env() {	# ACTION
	local r=0
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T" RUNLEVEL="$RUNLEVEL" \
		"$script" "$1" >&2 || r=$?
	echo "$r"
}
sock=$T/.cache/libvirt/sock-a

[[ $(rc status) == 3 ]] || die "status before start is not 3"
[[ $(rc start) == 0 ]] || die "start failed"
# -d: start returns once every socket is bound.
[[ -S $sock ]] || die "start returned before $sock was bound"
pid=$(<"$T/broker.pid")
[[ $(readlink "/proc/$pid/exe") == "$broker" ]] || die "$T/broker.pid is not the broker"
log "started: broker $pid"
[[ $(rc start) == 0 ]] || die "a second start is not exit 0"
[[ $(<"$T/broker.pid") == "$pid" ]] || die "a second start replaced the broker"
[[ $(pgrep -c -f -- "--pidfile $T/broker.pid") == 1 ]] || die "two brokers run"
log "second start: exit 0, broker $pid still the only one"
[[ $(rc status) == 0 ]] || die "status while running is not 0"
[[ $(rc reload) == 0 ]] || die "reload failed"
kill -0 "$pid" || die "reload killed the broker"
# upgrade: the binary replaced (a new inode), then the broker execs it in
# place: same pid, its socket never closed, /proc/PID/exe the new file.
install -m 0755 "$broker" "$broker.new" && mv "$broker.new" "$broker"
[[ $(readlink "/proc/$pid/exe") == *"(deleted)" ]] || die "the binary was not replaced"
# A start now (debhelper's postinst runs one after the upgrade action) finds
# it by pidfile and name, not by the replaced binary: exit 0, no second.
[[ $(rc start) == 0 ]] || die "start with the binary replaced failed"
[[ $(pgrep -c -f -- "--pidfile $T/broker.pid") == 1 ]] ||
	die "start with the binary replaced started a second broker"
# upgrade returns once the broker runs the new file.
[[ $(rc upgrade) == 0 ]] || die "upgrade failed"
[[ $(readlink "/proc/$pid/exe") == "$broker" ]] ||
	die "upgrade returned before the broker ran the new binary"
[[ $(<"$T/broker.pid") == "$pid" ]] || die "upgrade replaced the broker"
[[ -S $sock ]] || die "$sock gone after the upgrade"
[[ $(rc status) == 0 ]] || die "status after the upgrade is not 0 (--exec on a replaced binary?)"
log "upgrade: broker $pid re-executed the new binary"
[[ $(rc stop) == 0 ]] || die "stop failed"
pid_gone "$pid" || die "stop returned while broker $pid runs"
log "stop: broker $pid gone when it returned"
[[ $(rc stop) == 0 ]] || die "a second stop is not exit 0"
[[ $(rc status) == 3 ]] || die "status after stop is not 3"
log "second stop: exit 0; status 3"
[[ $(rc restart) == 0 ]] || die "restart of a stopped broker failed"
[[ $(rc status) == 0 ]] || die "status after restart is not 0"
pid=$(<"$T/broker.pid")
# rc's stop at runlevel 0: SIGPWR, the host's shutdown (which the broker
# says in its log, here syslog: its status answer is enough); then gone.
[[ $(RUNLEVEL=0 rc_env stop) == 0 ]] || die "stop at runlevel 0 failed"
pid_gone "$pid" || die "stop at runlevel 0 returned while broker $pid runs"
log "stop at runlevel 0 (SIGPWR): broker $pid gone when it returned"
log "ok"
