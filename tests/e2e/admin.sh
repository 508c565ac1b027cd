#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, real libvirt (modular daemons), unprivileged user:
# virt-brokerctl's view through libvirt's admin API and state directory.
#   1. an idle unit (virtnetworkd, never started): status and debug leave
#      it listening, pid 0, its activation count unchanged, no daemon;
#   2. a running TCG guest and two virsh clients kept open (an interactive
#      virsh on a FIFO and `virsh event --loop`): the table counts the two
#      clients; status virtqemud lists both with their pids, command name
#      and user, and counts the guest; --json carries the same;
#   3. debug virtqemud: its debug lines appear in `log virtqemud -f`
#      within a second; debug off (another invocation) puts back its own
#      filters and outputs: no debug line after it (an error the daemon
#      logs anyway marks the point);
#   4. virtqemud stopped with SIGSTOP: status and debug report that it does
#      not answer, naming the stopped process, within the timeout (3 s);
#   5. the guest gone and the clients closed, virtqemud exits idle
#      (--timeout 5) while the table is polled (the table never connects
#      to a daemon); then status virtqemud does not start it again.
#
#   admin.sh BROKER_BINARY
#
# Exit: 0 pass, 1 fail, 77 skip (reason printed).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CTL=		# virt-brokerctl, beside the broker
CLIENT1=	# the interactive virsh
CLIENT2=	# virsh event --loop
FOLLOW=		# virt-brokerctl log virtqemud -f
BROKER_LOG_MARK=1	# first line of broker.log that assert_idle reads

ctl() { timeout 30 "$CTL" --session "$@"; }

# A unit's field from the status JSON (no JSON tool needed: flat values).
json_field() {	# UNIT FIELD
	ctl status --json |
		sed -n "s/.*{\"name\":\"$1\"[^{}]*\"$2\":\\([^,}]*\\).*/\\1/p" |
		tr -d '"'
}

unit_state_is() { [[ $(json_field "$1" state) == "$2" ]]; }

# The CLIENTS column of UNIT in the table: UNIT STATE PID SINCE ACT
# CLIENTS ..., SINCE being a date and a time, or "-".
table_clients() {	# UNIT
	ctl status | awk -v u="$1" '$1 == u { print ($4 == "-") ? $6 : $7 }'
}

# Both the table and --json say UNIT has N clients.
clients_are() {	# UNIT N
	[[ $(table_clients "$1") == "$2" && $(json_field "$1" clients) == "$2" ]]
}

# Assert that UNIT is idle: listening, pid 0, activations as given, and no
# daemon of that name (a connection would have started one within ms).
assert_idle() {	# UNIT ACTIVATIONS WHAT
	local unit=$1 acts=$2 what=$3 state pid n
	state=$(json_field "$unit" state)
	pid=$(json_field "$unit" pid)
	n=$(json_field "$unit" activations)
	[[ $state == listening && $pid == 0 && $n == "$acts" ]] ||
		die "$what: $unit is $state, pid $pid, $n activations (expected listening, 0, $acts)"
	grep -qF "unit $unit: started" <(tail -n +"$BROKER_LOG_MARK" "$T/broker.log") &&
		die "$what: the broker started $unit: $(grep -F "unit $unit" "$T/broker.log" | tail -3)"
	# shellcheck disable=SC2046 # one pid per word
	no_daemon "$unit" || die "$what: $unit runs: $(describe_pids $(daemon_pids "$unit"))"
}

stop_clients() {
	[[ -n $CLIENT1 ]] && exec 5>&- && kill "$CLIENT1" 2>/dev/null
	[[ -n $CLIENT2 ]] && kill "$CLIENT2" 2>/dev/null
	[[ -n $FOLLOW ]] && kill "$FOLLOW" 2>/dev/null
	CLIENT1='' CLIENT2='' FOLLOW=
	return 0
}

# log_marker N: make virtqemud log an error naming vbmarkN (a guest of
# that architecture cannot be defined) until log -f shows it: again and
# again, as log -f may not follow yet.
log_marker() {
	local deadline=$(($(now_ms) + WAIT_TIMEOUT * 1000))
	printf "<domain type='qemu'><name>vb-marker</name><memory>65536</memory><os><type arch='vbmark%s'>hvm</type></os></domain>\n" \
		"$1" >"$T/marker.xml"
	until grep -q "vbmark$1" "$T/follow.txt"; do
		(($(now_ms) < deadline)) || die "log -f never showed the marker vbmark$1: $(tail -3 "$T/follow.txt")"
		pid_alive "$FOLLOW" || die "log -f exited: $(cat "$T/follow.txt")"
		! vsh define "$T/marker.xml" >/dev/null 2>&1 || die "a guest of arch vbmark$1 was defined"
		sleep 0.2
	done
}

write_conf() {
	cat >"$T/broker.conf" <<EOF
[broker]
search_path = $VB_PREFIX/sbin
log_dir = $T

[virtqemud]
args = --timeout 5
EOF
}

body() {
	need_modular_qemu
	CTL=$(dirname "$BROKER")/virt-brokerctl

	local qemud qemu acts t0 ms mark n rc pid
	write_conf
	forget_stale_guest
	add_cleanup stop_clients
	start_broker "$T/broker.conf"
	BROKER_LOG_MARK=$(($(wc -l <"$T/broker.log") + 1))
	vsh list >/dev/null || die "virsh list through the broker failed"
	qemud=$(the_daemon_pid virtqemud)

	# 1. an idle unit is never connected to
	[[ $(json_field virtnetworkd state) == listening ]] ||
		die "virtnetworkd is not listening: $(ctl status virtnetworkd)"
	acts=$(json_field virtnetworkd activations)
	for _ in 1 2 3; do
		ctl status virtnetworkd >"$T/idle.txt" || die "status virtnetworkd: $(cat "$T/idle.txt")"
	done
	ctl status --json virtnetworkd >/dev/null || die "status --json virtnetworkd failed"
	rc=0
	ctl debug virtnetworkd >"$T/idle-debug.txt" 2>&1 || rc=$?
	assert_idle virtnetworkd "$acts" "1. status and debug of idle virtnetworkd"
	grep -q "admin: not asked: virtnetworkd is listening" "$T/idle.txt" ||
		die "status virtnetworkd does not say why it did not ask: $(cat "$T/idle.txt")"
	((rc == 3)) || die "debug of an idle unit: status $rc, not 3: $(cat "$T/idle-debug.txt")"
	grep -q "virtnetworkd is listening, not running" "$T/idle-debug.txt" ||
		die "debug of an idle unit: $(cat "$T/idle-debug.txt")"
	log "1. status and debug of idle virtnetworkd: still listening, pid 0, $acts activations"

	# 2. a guest and two clients
	check_tcg_available
	define_and_start_guest vsh
	qemu=$(guest_pid)
	mkfifo "$T/client1.in"
	"$VIRSH" -c qemu:///session <"$T/client1.in" >"$T/client1.out" 2>&1 &
	CLIENT1=$!
	exec 5>"$T/client1.in"
	echo list >&5
	"$VIRSH" -c qemu:///session event --loop --all >"$T/client2.out" 2>&1 &
	CLIENT2=$!
	wait_for grep -q "$GUEST" "$T/client1.out"
	wait_for -t 10 clients_are virtqemud 2
	qemud=$(the_daemon_pid virtqemud)
	ctl status virtqemud >"$T/status.txt" || die "status virtqemud: $(cat "$T/status.txt")"
	! grep -q "built without libvirt-admin" "$T/status.txt" ||
		die "virt-brokerctl was built without libvirt-admin (apt-get install libvirt-dev, then build again)"
	log "2. virt-brokerctl status virtqemud:"
	sed 's/^/    /' "$T/status.txt" >&2
	grep -Eq "^virtqemud +running +$qemud .* 2 " "$T/status.txt" ||
		die "status virtqemud: not running $qemud with 2 clients"
	grep -q "^  server virtqemud:" "$T/status.txt" || die "status: no server virtqemud"
	grep -q "^  server admin:" "$T/status.txt" || die "status: no server admin"
	for pid in "$CLIENT1" "$CLIENT2"; do
		grep -Eq "^    client [0-9]+: unix, uid $(my_uid) \\($(id -un)\\), pid $pid \\(virsh\\), read-write, since " "$T/status.txt" ||
			die "status virtqemud does not list virsh $pid of $(id -un)"
	done
	n=$(sed -n '/^  server virtqemud:/,/^  server /p' "$T/status.txt" | grep -c '^    client ')
	((n == 2)) || die "server virtqemud lists $n clients, not 2"
	grep -q "(this query)" "$T/status.txt" || die "status: its own admin connection is not marked"
	grep -Eq "^    clients: 2 of max [0-9]+; unauthenticated 0 of max [0-9]+" "$T/status.txt" ||
		die "status: no client limits with 2 clients"
	grep -Eq "^    thread pool: [0-9]+ workers \\(min [0-9]+, max [0-9]+\\)" "$T/status.txt" ||
		die "status: no thread pool"
	grep -q "^  guests: 1 running ($(runtime_dir)/qemu/run)" "$T/status.txt" ||
		die "status: the guest is not counted"
	grep -q "^    $GUEST: running, QEMU pid $qemu" "$T/status.txt" ||
		die "status: guest $GUEST (QEMU $qemu) not listed"
	ctl status --json virtqemud >"$T/status.json" || die "status --json virtqemud failed"
	for pid in "$CLIENT1" "$CLIENT2"; do
		grep -q "\"comm\":\"virsh\",\"readonly\":false,[^}]*\"unix_process_id\":$pid" "$T/status.json" ||
			die "status --json does not carry virsh $pid: $(cat "$T/status.json")"
	done
	if ! grep -q '"clients":2,"admin":{"servers":\[{"name":' "$T/status.json" ||
		! grep -q '{"name":"virtqemud","threadpool":{[^}]*},"client_limits":{[^}]*"nclients":2,' "$T/status.json"; then
		die "status --json: no clients count or servers: $(cat "$T/status.json")"
	fi
	grep -q "\"guests\":{[^}]*\"running\":1,\"list\":\\[{\"name\":\"$GUEST\",\"state\":\"running\",\"pid\":$qemu,\"alive\":true}" "$T/status.json" ||
		die "status --json does not count the guest: $(cat "$T/status.json")"
	if command -v python3 >/dev/null; then
		python3 -m json.tool "$T/status.json" >/dev/null ||
			die "status --json is not JSON: $(cat "$T/status.json")"
	fi
	log "2. two virsh clients ($CLIENT1, $CLIENT2) and the guest (QEMU $qemu) shown, in text and JSON"

	# 3. debug on, seen in log -f within a second; off. An error the
	#    daemon logs at its default level (a guest of an unknown
	#    architecture) shows that log -f follows, and later that all the
	#    daemon wrote before it has come through.
	"$CTL" --session log virtqemud -n 0 -f >"$T/follow.txt" 2>&1 &
	FOLLOW=$!
	log_marker 1
	! grep -q ' debug : ' "$T/follow.txt" ||
		die "debug lines before debug: $(grep ' debug : ' "$T/follow.txt" | head -3)"
	t0=$(now_ms)
	ctl debug virtqemud >"$T/debug.txt" 2>&1 || die "debug virtqemud: $(cat "$T/debug.txt")"
	echo list >&5		# the interactive client asks something
	wait_for -t 1 grep -q ' debug : ' "$T/follow.txt"
	ms=$(($(now_ms) - t0))
	grep -q "lasts until the daemon exits" "$T/debug.txt" ||
		die "debug does not say how long it lasts: $(cat "$T/debug.txt")"
	[[ -s $(runtime_dir)/virt-brokerctl-debug.virtqemud ]] ||
		die "debug saved no settings to put back"
	log "3. debug on: $(head -1 "$T/debug.txt"); a debug line in log -f after $ms ms"
	ctl debug virtqemud off >"$T/off.txt" 2>&1 || die "debug virtqemud off: $(cat "$T/off.txt")"
	mark=$(wc -l <"$T/follow.txt")
	echo list >&5
	vsh list >/dev/null
	log_marker 2
	n=$(tail -n +"$((mark + 1))" "$T/follow.txt" | grep -c ' debug : ' || true)
	((n == 0)) ||
		die "$n debug lines after debug off: $(tail -n +"$((mark + 1))" "$T/follow.txt" | grep ' debug : ' | head -3)"
	[[ ! -e $(runtime_dir)/virt-brokerctl-debug.virtqemud ]] || die "debug off left its file"
	rc=0
	ctl debug virtqemud off >"$T/off2.txt" 2>&1 || rc=$?
	if ((rc != 1)) || ! grep -q "nothing to undo" "$T/off2.txt"; then
		die "a second debug off: status $rc: $(cat "$T/off2.txt")"
	fi
	log "3. debug off: $(cat "$T/off.txt"); no debug line after it"

	# 4. a stopped daemon: a clear message within the timeout
	kill -STOP "$qemud"
	t0=$(now_ms)
	ctl status virtqemud >"$T/stopped.txt" 2>&1 || die "status of a stopped virtqemud failed: $(cat "$T/stopped.txt")"
	ms=$(($(now_ms) - t0))
	rc=0
	ctl debug virtqemud >"$T/stopped-debug.txt" 2>&1 || rc=$?
	kill -CONT "$qemud"
	grep -q "admin: virtqemud (pid $qemud): no answer on its admin socket .* within 3 s: the process is stopped" "$T/stopped.txt" ||
		die "status of a stopped virtqemud: $(cat "$T/stopped.txt")"
	((ms < 6000)) || die "status of a stopped virtqemud took $ms ms"
	if ((rc != 1)) || ! grep -q "no answer on its admin socket" "$T/stopped-debug.txt"; then
		die "debug of a stopped virtqemud: status $rc: $(cat "$T/stopped-debug.txt")"
	fi
	log "4. SIGSTOP: status answered in $ms ms: $(grep 'admin:' "$T/stopped.txt")"

	# 5. idle exit while the table is polled; status does not restart it
	stop_clients
	vsh destroy "$GUEST" >/dev/null || die "virsh destroy failed"
	vsh undefine "$GUEST" >/dev/null || die "virsh undefine failed"
	wait_for pid_dead "$qemu"
	t0=$(now_ms)
	until pid_dead "$qemud"; do
		(($(now_ms) - t0 < 30000)) || die "virtqemud $qemud did not exit idle while the table was polled"
		ctl status >"$T/table.txt" || die "status (table) failed: $(cat "$T/table.txt")"
		sleep 0.2
	done
	log "5. virtqemud exited idle after $(($(now_ms) - t0)) ms while the table was polled"
	wait_for unit_state_is virtqemud listening
	acts=$(json_field virtqemud activations)
	BROKER_LOG_MARK=$(($(wc -l <"$T/broker.log") + 1))
	for _ in 1 2 3; do
		ctl status virtqemud >"$T/idle2.txt" || die "status virtqemud: $(cat "$T/idle2.txt")"
	done
	assert_idle virtqemud "$acts" "5. status of virtqemud after its idle exit"
	grep -q "admin: not asked: virtqemud is listening" "$T/idle2.txt" ||
		die "status of idle virtqemud: $(cat "$T/idle2.txt")"
	log "5. status of idle virtqemud: still listening, pid 0, $acts activations"

	stop_broker
}

main() {
	[[ $# == 1 ]] || { echo "usage: $0 BROKER_BINARY" >&2; exit 2; }
	NEED_PREFIX=yes e2e_main admin.sh body "$1"
}

main "$@"
