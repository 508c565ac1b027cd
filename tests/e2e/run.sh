#!/bin/bash
# End-to-end test of virt-broker against real libvirt daemons.
#
#   run.sh BROKER_BINARY libvirtd   Debian's packaged monolithic libvirtd
#   run.sh BROKER_BINARY modular    modular daemons built by build-libvirt.sh
#
# As root, the test runs as the unprivileged user vbtest (created if needed)
# with a fresh XDG_RUNTIME_DIR; otherwise as the current user with a private
# XDG_RUNTIME_DIR and HOME.  Exit: 0 pass, 1 fail, 77 skip (reason printed).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


usage() {
	echo "usage: $0 BROKER_BINARY libvirtd|modular" >&2
	exit 2
}

# ---------------------------------------------------------------- helpers

# Sockets currently in the runtime dir (absolute paths, sorted).
list_sockets() {
	find "$(runtime_dir)" -maxdepth 1 -type s 2>/dev/null | sort
}

# After the broker stopped: every socket it had bound is gone, except those
# of virtlogd/virtlockd while that daemon still runs (stop_on_exit = no).
assert_sockets_removed() {
	local sock base daemon
	for sock in "$@"; do
		[[ -e $sock || -L $sock ]] || continue
		base=$(basename "$sock")
		daemon=${base%-admin-sock}
		daemon=${daemon%-sock}
		case $daemon in
		virtlogd | virtlockd)
			if ! no_daemon "$daemon"; then
				log "note: $base left in place, $daemon still runs (stop_on_exit = no)"
				continue
			fi
			;;
		esac
		die "socket $sock still exists after the broker stopped"
	done
}

# Dangling links in the published XDG place are only reported: the
# publishing feature is not part of this test.
report_leftover_links() {
	local l
	for l in "$(xdg_dir)"/*-sock; do
		[[ -L $l ]] || continue
		log "note: link $l -> $(readlink "$l") left after the broker stopped"
	done
}

# The broker still runs (it is our child: a zombie would pass kill -0).
assert_broker_alive() {	# WHEN
	! pid_gone "$BROKER_PID" || die "the broker $BROKER_PID died $1"
}

# wait_for predicates that fail the test at once if the broker dies.
reaped_by_broker() {	# PID: gone, not even a zombie: the broker waited
	assert_broker_alive "while its child $1 was dying"
	pid_dead "$1"
}
daemon_back() {	# NAME: some NAME daemon runs again
	assert_broker_alive "while $1 was down"
	! no_daemon "$1"
}

# virt-brokerctl says the unit's daemon sent READY=1.
ctl_ready() {	# CTL UNIT
	"$1" --session status "$2" 2>/dev/null | grep -q "yes ("
}

# Has the (c4) loader LOADER_PID started a client, or already written? Asked
# anew at each of wait_for's tries (pgrep inside, not in its arguments,
# which were expanded once: the wait then hung whenever the first virsh
# had not started yet).
loader_running() {	# LOADER_PID
	[[ -s $T/load.err || -e $T/load.out ]] || pgrep -P "$1" >/dev/null
}

# ---------------------------------------------------------------- libvirtd

body_libvirtd() {
	[[ -x /usr/sbin/libvirtd ]] || skip "no /usr/sbin/libvirtd (apt-get install libvirt-daemon)"
	[[ -x /usr/bin/virsh ]] || skip "no /usr/bin/virsh (apt-get install libvirt-clients)"
	[[ -n $(find /usr/lib -path '*/libvirt/connection-driver/libvirt_driver_qemu.so' \
		-print -quit 2>/dev/null) ]] ||
		skip "Debian's QEMU driver is missing (apt-get install libvirt-daemon-driver-qemu)"
	VIRSH=/usr/bin/virsh

	local conf=$T/broker.conf r pid sockets
	printf '[broker]\nsearch_path = /usr/sbin\nlog_dir = %s\n' "$T" >"$conf"
	"$BROKER" -n -f "$conf" >"$T/units.txt" 2>&1 || { cat "$T/units.txt" >&2; die "virt-broker -n failed"; }

	start_broker "$conf"
	r=$(runtime_dir)
	assert_dir_mode "$r" 700
	assert_socket "$r/libvirt-sock" 600
	assert_socket "$r/libvirt-admin-sock" 600
	mapfile -t sockets < <(list_sockets)
	log "bound: ${sockets[*]##*/}"

	vsh list >/dev/null || die "virsh list through the broker failed"
	pid=$(the_daemon_pid libvirtd)
	assert_parent "$pid" libvirtd
	log "libvirtd $pid serves qemu:///session, started by the broker"

	# A logout's rm -rf of the XDG place: the broker still answers, a
	# client without XDG_RUNTIME_DIR still reaches libvirtd in R, and once
	# the links are back so does one with it; never a second libvirtd.
	rm -rf "$(xdg_dir)"
	"$(brokerctl)" --session status >"$T/ctl.txt" ||
		die "virt-brokerctl status after the wipe: $(cat "$T/ctl.txt")"
	env -u XDG_RUNTIME_DIR timeout "$VIRSH_TIMEOUT" "$VIRSH" -q \
		-c qemu:///session list >/dev/null ||
		die "a client without XDG_RUNTIME_DIR failed after the wipe"
	wait_for test -L "$(xdg_dir)/libvirt-sock"
	vsh list >/dev/null || die "a client with XDG_RUNTIME_DIR failed after the wipe"
	[[ $(the_daemon_pid libvirtd) == "$pid" ]] || die "libvirtd changed after the wipe"
	log "$(xdg_dir) wiped: virt-brokerctl answered, clients with and without" \
		"XDG_RUNTIME_DIR reached libvirtd $pid, no second libvirtd"

	stop_broker
	wait_for no_daemon libvirtd
	assert_sockets_removed "${sockets[@]}"
	report_leftover_links
}

# ---------------------------------------------------------------- modular

# Daemons log into the work dir (log_dir), so a failure's dump shows them.
write_modular_conf() {	# FILE TIMEOUT
	cat >"$1" <<EOF
[broker]
search_path = $VB_PREFIX/sbin
log_dir = $T

[virtqemud]
args = --timeout $2
EOF
}

body_modular() {
	need_modular_qemu

	local conf=$T/broker.conf r qemud qemud2 qemu pid sockets d ctl t0 state
	write_modular_conf "$conf" 5
	"$BROKER" -n -f "$conf" >"$T/units.txt" 2>&1 || { cat "$T/units.txt" >&2; die "virt-broker -n failed"; }
	forget_stale_guest

	start_qemud_monitor
	start_broker "$conf"
	r=$(runtime_dir)
	assert_dir_mode "$r" 700
	assert_socket "$r/virtqemud-sock" 600
	assert_socket "$r/virtqemud-admin-sock" 600
	mapfile -t sockets < <(list_sockets)
	log "bound: ${sockets[*]##*/}"

	# (a) a client reaches virtqemud through the broker
	vsh list >/dev/null || die "virsh list through the broker failed"
	qemud=$(the_daemon_pid virtqemud)
	assert_parent "$qemud" virtqemud
	log "(a) virtqemud $qemud serves qemu:///session, started by the broker"
	# virt-brokerctl sees it running, ready (READY=1 on NOTIFY_SOCKET)
	ctl=$(brokerctl)
	wait_for ctl_ready "$ctl" virtqemud
	"$ctl" --session status virtqemud >"$T/ctl-status.txt" ||
		die "virt-brokerctl status virtqemud: $(cat "$T/ctl-status.txt")"
	grep -Eq "^virtqemud +running +$qemud " "$T/ctl-status.txt" ||
		die "virt-brokerctl does not show virtqemud $qemud running: $(cat "$T/ctl-status.txt")"
	log "(a) virt-brokerctl: $(grep '^virtqemud' "$T/ctl-status.txt" | tr -s ' ')"

	# (b) a TCG guest runs (the first define probes QEMU, ~7 s)
	check_tcg_available
	define_and_start_guest vsh
	guest_state_is running || die "guest is $(vsh domstate "$GUEST"), not running"
	qemu=$(guest_pid)
	pid_alive "$qemu" || die "guest's QEMU $qemu is not alive"
	log "(b) guest runs, QEMU pid $qemu"

	# (c) virtqemud stops while the guest runs; the next client gets a new
	#     virtqemud that re-attaches to the guest.
	qemud=$(the_daemon_pid virtqemud)
	kill -TERM "$qemud"
	wait_for pid_dead "$qemud"
	pid_alive "$qemu" || die "guest's QEMU $qemu died with virtqemud"
	guest_state_is running || die "guest is not running after virtqemud restarted"
	qemud2=$(the_daemon_pid virtqemud)
	[[ $qemud2 != "$qemud" ]] || die "virtqemud pid did not change"
	assert_parent "$qemud2" virtqemud
	vsh list | grep -qw "$GUEST" || die "guest not listed by the new virtqemud"
	log "(c) virtqemud $qemud2 took over the running guest"

	# (c2) crash of virtqemud with a guest running: SIGKILL the broker's
	#      virtqemud (at-launch, restart = on-failure: the defaults).  The
	#      broker survives, reaps it, logs the signal and, with no client
	#      asking, starts a new virtqemud after its back-off (100 ms); QEMU
	#      runs on with the same pid and the new virtqemud sees it running.
	qemud=$(the_daemon_pid virtqemud)
	assert_parent "$qemud" virtqemud
	t0=$(now_ms)
	kill -KILL "$qemud"
	wait_for reaped_by_broker "$qemud"
	wait_for -t 10 daemon_back virtqemud
	qemud2=$(the_daemon_pid virtqemud)
	log "(c2) virtqemud $qemud killed; $qemud2 runs $(($(now_ms) - t0)) ms later"
	[[ $qemud2 != "$qemud" ]] || die "virtqemud pid $qemud did not change after SIGKILL"
	assert_parent "$qemud2" virtqemud
	assert_broker_alive "after virtqemud was killed"
	! pid_gone "$qemu" || die "guest's QEMU $qemu died with virtqemud"
	[[ $(guest_pid) == "$qemu" ]] || die "the guest's QEMU pid changed from $qemu to $(guest_pid)"
	state=$(vsh domstate "$GUEST") || die "virsh domstate failed after the crash"
	[[ $state == running ]] || die "guest is $state after virtqemud's crash, not running"
	vsh list | grep -qw "$GUEST" || die "guest not listed by the new virtqemud"
	grep -qF "unit virtqemud: pid $qemud killed by signal 9" "$T/broker.log" ||
		die "the broker did not log 'unit virtqemud: pid $qemud killed by signal 9'"
	wait_for ctl_ready "$ctl" virtqemud
	"$ctl" --session status virtqemud >"$T/ctl-status.txt" ||
		die "virt-brokerctl status virtqemud: $(cat "$T/ctl-status.txt")"
	grep -Eq "^virtqemud +running +$qemud2 .*killed by signal 9" "$T/ctl-status.txt" ||
		die "virt-brokerctl does not show virtqemud $qemud2 running after a SIGKILL: $(cat "$T/ctl-status.txt")"
	assert_qemud_max_so_far
	log "(c2) the broker restarted virtqemud as $qemud2; QEMU $qemu and the guest run on"

	# (c3) what differs between libvirt versions, as the broker sees it:
	#      readiness, SIGHUP (11.x: RELOADING=1 then READY=1, counted as a
	#      reload; 9.0 says nothing), and the open-file limits (the
	#      catalog's 8192:524288; 11.x raises its soft limit to the hard).
	local soft hard ready reloaded
	ready=$(grep -oE "unit virtqemud: pid $qemud2 ready after [0-9]+ ms" "$T/broker.log" | tail -n 1)
	[[ -n $ready ]] || die "no READY=1 from virtqemud $qemud2"
	read -r soft hard < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$qemud2/limits")
	kill -HUP "$qemud2"
	if [[ ${VB_LIBVIRT:-} == 11.* ]]; then
		wait_for grep -qF "unit virtqemud: pid $qemud2 reloaded (reload 1)" "$T/broker.log"
		[[ $soft == "$hard" ]] || die "virtqemud 11.x did not raise its soft limit $soft to $hard"
	else
		[[ $soft == 8192 ]] || die "virtqemud 9.0's soft open-file limit is $soft, not 8192"
	fi
	vsh list >/dev/null || die "virsh list failed after SIGHUP"
	[[ $(the_daemon_pid virtqemud) == "$qemud2" ]] || die "virtqemud changed pid at SIGHUP"
	reloaded=$(grep -F "unit virtqemud: pid $qemud2 reloaded" "$T/broker.log" | tail -n 1 | sed 's/.*: //') || true
	log "(c3) libvirt ${VB_LIBVIRT:-of Debian}: $ready; open files soft $soft hard $hard;" \
		"SIGHUP: ${reloaded:-no notification}"

	# (c4) virt-brokerctl reexec with the guest running and virsh
	#      clients coming all the while: same broker pid, same virtqemud,
	#      the guest runs on, every client served.
	local loader fails=0 served=0 acts_before acts_after
	acts_before=$("$ctl" --session status --json | grep -o '"name":"virtqemud"[^}]*' |
		sed -n 's/.*"activations":\([0-9]*\).*/\1/p')
	(
		n=0 f=0
		while [[ ! -e $T/stop-load ]]; do
			if vsh list >/dev/null 2>>"$T/load.err"; then n=$((n + 1)); else f=$((f + 1)); fi
		done
		echo "$n $f" >"$T/load.out"
	) &
	loader=$!
	wait_for loader_running "$loader"
	"$ctl" --session reexec >"$T/reexec.out" 2>&1 || die "virt-brokerctl reexec: $(cat "$T/reexec.out")"
	vsh list >/dev/null || die "virsh list failed after the reexec"
	touch "$T/stop-load"
	wait "$loader"
	read -r served fails <"$T/load.out"
	((fails == 0)) || die "$fails virsh clients failed across the reexec: $(head -n 3 "$T/load.err")"
	((served > 0)) || die "no virsh client ran across the reexec"
	grep -qF "unit virtqemud: pid $qemud2 runs on from before the reexec" "$T/broker.log" ||
		die "the new broker did not take virtqemud $qemud2 back"
	assert_broker_alive "after the reexec"
	[[ $(the_daemon_pid virtqemud) == "$qemud2" ]] || die "virtqemud changed across the reexec"
	[[ $(guest_pid) == "$qemu" ]] || die "the guest's QEMU changed across the reexec"
	acts_after=$("$ctl" --session status --json | grep -o '"name":"virtqemud"[^}]*' |
		sed -n 's/.*"activations":\([0-9]*\).*/\1/p')
	[[ $acts_after == "$acts_before" ]] || die "virtqemud's activations went from $acts_before to $acts_after"
	assert_qemud_max_so_far
	log "(c4) reexec: broker $BROKER_PID, virtqemud $qemud2 and QEMU $qemu kept; $served virsh clients served, none failed"

	# (d) secondary drivers are activated by the broker, not autospawned
	vsh net-list --all >/dev/null || die "virsh net-list failed"
	vsh pool-list --all >/dev/null || die "virsh pool-list failed"
	for d in virtnetworkd virtstoraged; do
		pid=$(the_daemon_pid "$d")
		assert_parent "$pid" "$d"
		log "(d) $d $pid started by the broker"
	done

	# (d2) other hypervisors where the build has them (11.3: virtchd,
	#      virtvboxd): a client of ch:///session or vbox:///session gets
	#      the broker's daemon, which claims the catalog's sockets (a wrong
	#      fd name would make it exit with "unclaimed"). Without /dev/kvm or
	#      VirtualBox the driver may refuse to start; that is libvirt's
	#      answer, through the broker's daemon.
	local hv uri out
	for hv in virtchd:ch virtvboxd:vbox; do
		uri=${hv#*:}:///session
		hv=${hv%%:*}
		[[ -x $VB_PREFIX/sbin/$hv ]] || continue
		[[ -S $HOME/.cache/libvirt/$hv-sock ]] || die "the broker did not bind $hv-sock"
		out=$(timeout "$VIRSH_TIMEOUT" "$VIRSH" -q -c "$uri" version 2>&1) || true
		grep -qF "unit $hv: started" "$T/broker.log" ||
			die "$uri did not make the broker start $hv: $out"
		! grep -F "$hv" "$T/broker.log" | grep -qi unclaimed ||
			die "$hv rejected the catalog's sockets: $(grep -F "$hv" "$T/broker.log" | tail -5)"
		log "(d2) $uri reached the broker's $hv: ${out//$'\n'/ | }"
	done

	# (e) tear down
	vsh destroy "$GUEST" >/dev/null || die "virsh destroy failed"
	wait_for pid_dead "$qemu"
	vsh undefine "$GUEST" >/dev/null || die "virsh undefine failed"
	mapfile -t sockets < <({ printf '%s\n' "${sockets[@]}"; list_sockets; } | sort -u)
	stop_broker
	for d in virtqemud virtnetworkd virtstoraged; do
		wait_for no_daemon "$d"
	done
	if [[ ${VB_LIBVIRT:-} == 11.* ]]; then
		grep -qE "unit virtqemud: pid [0-9]+ is stopping" "$T/broker.log" ||
			die "virtqemud 11.x did not say STOPPING=1 at the broker's stop"
	fi
	assert_sockets_removed "${sockets[@]}"
	report_leftover_links
	assert_qemud_max
	log "(e) broker stopped cleanly"
}

main() {
	(($# == 2)) || usage
	case $2 in
	libvirtd) e2e_main run.sh body_libvirtd "$1" "$2" ;;
	modular) NEED_PREFIX=yes e2e_main run.sh body_modular "$1" "$2" ;;
	*) usage ;;
	esac
}

main "$@"
