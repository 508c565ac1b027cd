#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, real libvirt (modular daemons), unprivileged user: guests
# survive logout in the default set-up, the broker started as the quick
# start starts it (XDG_RUNTIME_DIR=/run/user/UID, no linger).
#   A. upgrade: a broker of the old layout (R in XDG_RUNTIME_DIR) killed
#      with its virtqemud running; the new broker adopts it, not doubled;
#   B. a TCG guest running; logout by umount (logind) and by rm -rf
#      (pam_rundir) while a client keeps connecting, then login: clients
#      with XDG_RUNTIME_DIR, without it and through qemu+ssh see the guest
#      running through one virtqemud, virt-brokerctl answers; virtqemud
#      then killed with SIGKILL: the next one still knows the guest and
#      reaches its QEMU (QMP query-status);
#   C. a soak: clients with and without XDG_RUNTIME_DIR poll every 200 ms
#      while logouts of both kinds come every 2-5 s (VB_SOAK_SECONDS, 120);
#   D. reboot: a guest marked autostart, every daemon gone, a new boot
#      (the recorded boot id changed): the guest runs without any client;
#      a broker restarted in the same boot autostarts nothing.
# Throughout, never two virtqemud of the test user at once (sampled every
# 50 ms).
#
# /run/user and logind are stood for as logind.sh says. A client that uses
# XDG_RUNTIME_DIR belongs to a session: it runs from the end of a login to
# the start of the next logout, as in life; a client without it (cron, a
# plain ssh) runs throughout.
#
#   logout.sh BROKER_BINARY
#
# Needs root (mounts, the sshd); skips without it.
# Exit: 0 pass, 1 fail, 77 skip (reason printed).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ssh.sh
. "$(dirname "${BASH_SOURCE[0]}")/ssh.sh"
# shellcheck source=logind.sh
. "$(dirname "${BASH_SOURCE[0]}")/logind.sh"

SOAK_SECONDS=${VB_SOAK_SECONDS:-120}

usage() {
	echo "usage: $0 BROKER_BINARY" >&2
	exit 2
}

# ---------------------------------------------------------------- as root

outer_prep() {
	local user=$1 uid gid
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	logind_start "$uid" "$gid"
	ensure_packages
	start_sshd "$user"
}

# ---------------------------------------------------------------- helpers

RU=		# the /run/user/UID stand-in, this session's XDG_RUNTIME_DIR
POLLERS=()	# background clients, stopped first at cleanup

vsh_xdg() { XDG_RUNTIME_DIR=$RU vsh "$@"; }
vsh_noxdg() { env -u XDG_RUNTIME_DIR timeout "$VIRSH_TIMEOUT" "$VIRSH" -q -c qemu:///session "$@"; }
state_for() { "$@" domstate "$GUEST" 2>&1 | head -n 1; }

link_to() { [[ -L $1 && $(readlink "$1") == "$2" ]]; }
more_lines_than() { (($(wc -l <"$1") > $2)); }
broker_log_has() { grep -qF -- "$1" "$T/broker.log"; }

assert_qemud() {	# PID WHAT
	local pids
	pids=$(daemon_pids virtqemud | xargs)
	[[ $pids == "$1" ]] || die "$2: expected virtqemud $1 alone, found: ${pids:-none}"
}

assert_running_for() {	# WHAT CLIENT...
	local what=$1 state
	shift
	state=$(state_for "$@")
	[[ $state == running ]] || die "$what: the guest is '$state', not running"
}

ctl() { "$(brokerctl)" --session "$@"; }

write_conf() {	# FILE [BROKER-LINE...]
	local f=$1
	shift
	printf '%s\n' "[broker]" "search_path = $VB_PREFIX/sbin" "log_dir = $T" \
		"$@" "[virtqemud]" "args = --timeout 5" >"$f"
}

start_session_broker() {	# CONF
	XDG_RUNTIME_DIR=$RU start_broker "$1" -v
}

kill_broker() {
	kill -KILL "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=
}

logout_cleanup() {
	local d
	: >"$T/stop"
	((${#POLLERS[@]} == 0)) || kill_pids "${POLLERS[@]}"
	if [[ -n $BROKER_PID ]]; then
		kill_pids "$BROKER_PID"
		wait "$BROKER_PID" 2>/dev/null
		BROKER_PID=
	fi
	# shellcheck disable=SC2046 # one pid per word
	kill_pids $(run_pids "$VB_E2E_ROOT")
	for d in virtqemud virtlogd virtlockd virtnetworkd virtstoraged; do
		# shellcheck disable=SC2046
		kill_pids $(daemon_pids "$d")
	done
	forget_stale_guest
	rm -f "$HOME/.config/libvirt/qemu/autostart/$GUEST.xml"
	rm -rf "$HOME/.config/libvirt/qemu/lib/domain-"*"-$GUEST"
	if [[ -r $VB_E2E_ROOT/ssh/port && -f $HOME/.ssh/known_hosts ]]; then
		ssh-keygen -q -R "[127.0.0.1]:$(<"$VB_E2E_ROOT/ssh/port")" \
			-f "$HOME/.ssh/known_hosts" >/dev/null 2>&1
		rm -f "$HOME/.ssh/known_hosts.old"
	fi
}

# ---------------------------------------------------------------- A

scenario_upgrade() {
	local r=$1 old=$T/old.conf conf=$T/broker.conf oldq q2
	write_conf "$old" "runtime_dir = xdg"
	start_session_broker "$old"
	vsh_xdg list >/dev/null || die "A. virsh list through the old-layout broker failed"
	oldq=$(the_daemon_pid virtqemud)
	[[ -S $RU/libvirt/virtqemud-sock ]] || die "A. the old layout did not bind $RU/libvirt"
	kill_broker
	pid_alive "$oldq" || die "A. virtqemud $oldq died with the old broker"
	start_session_broker "$conf"
	wait_for broker_log_has "unit virtqemud: adopted pid $oldq"
	link_to "$r/virtqemud-sock" "$RU/libvirt/virtqemud-sock" ||
		die "A. $r/virtqemud-sock is not a link to the adopted daemon's socket"
	vsh_noxdg list >/dev/null || die "A. a client without XDG_RUNTIME_DIR failed"
	vsh_xdg list >/dev/null || die "A. a client with XDG_RUNTIME_DIR failed"
	assert_qemud "$oldq" "A. after clients with and without XDG_RUNTIME_DIR"
	! broker_log_has "reach a duplicate daemon" ||
		die "A. the adopted daemon was reported as a duplicate"
	kill -TERM "$oldq"
	wait_for broker_log_has "unit virtqemud: adopted pid $oldq exited; binding its sockets"
	wait_for pid_gone "$oldq"
	wait_for link_to "$RU/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	vsh_xdg list >/dev/null || die "A. virsh list after the adopted daemon exited"
	q2=$(the_daemon_pid virtqemud)
	assert_parent "$q2" virtqemud
	log "A. upgrade: the old layout's virtqemud $oldq adopted (R linked to it), not" \
		"doubled; after it exited the broker's own virtqemud $q2 serves R"
}

# ---------------------------------------------------------------- B

qmp_status() {	# -> "running" or what QMP said
	vsh qemu-monitor-command "$GUEST" '{"execute":"query-status"}' 2>&1 |
		sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p'
}

# Polls CLIENT's view of the guest every 200 ms into FILE until STOPFILE
# exists; with GATE, only while GATE exists (a session client), writing
# FILE.idle whenever it is between two calls.
poll_client() {	# FILE STOPFILE GATE CLIENT...
	local out=$1 stop=$2 gate=$3
	shift 3
	while [[ ! -e $stop ]]; do
		if [[ -n $gate && ! -e $gate ]]; then
			: >"$out.idle"
			sleep 0.02
			continue
		fi
		rm -f "$out.idle"
		printf '%s %s\n' "$(now_ms)" "$(state_for "$@")" >>"$out"
		: >"$out.idle"
		sleep 0.2
	done
}

# A session ends: its clients stop before logind acts (the gate), as in
# life; a call under way finishes first.
session_end() {
	rm -f "$T/session"
	[[ -z ${1:-} ]] || wait_for test -e "$1.idle"
}

scenario_logout() {
	local r=$1 qemu qemud qemud2 t0 st bad
	check_tcg_available
	define_and_start_guest vsh_xdg
	qemu=$(guest_pid)
	qemud=$(the_daemon_pid virtqemud)
	assert_parent "$qemud" virtqemud
	log "B. guest started (QEMU $qemu) in R = $r, virtqemud $qemud"

	# B1. logind's logout: the tmpfs unmounted.
	logind logout-umount
	ctl status >"$T/ctl.txt" || die "B1. virt-brokerctl status after the logout: $(cat "$T/ctl.txt")"
	assert_running_for "B1. no XDG_RUNTIME_DIR, after the umount" vsh_noxdg
	assert_running_for "B1. qemu+ssh, after the umount" vsh_ssh user_key
	assert_qemud "$qemud" "B1. after the umount"
	logind login-tmpfs
	wait_for link_to "$RU/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	assert_running_for "B1. XDG_RUNTIME_DIR, after the new login" vsh_xdg
	assert_qemud "$qemud" "B1. after the login"
	log "B1. logout (umount) and login (mkdir + tmpfs): virt-brokerctl answered; without" \
		"XDG_RUNTIME_DIR, through qemu+ssh and with it: running; same virtqemud $qemud"

	# B2. pam_rundir's logout: rm -rf while a client keeps connecting.
	rm -f "$T/stop" "$T/b2.txt"
	poll_client "$T/b2.txt" "$T/stop" "" vsh_noxdg &
	local poller=$!
	POLLERS+=("$poller")
	wait_for test -s "$T/b2.txt"
	logind logout-umount	# back to a plain directory for pam_rundir
	logind login-plain
	wait_for link_to "$RU/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	logind logout-rmrf
	logind login-plain
	wait_for link_to "$RU/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	assert_running_for "B2. XDG_RUNTIME_DIR, after rm -rf and login" vsh_xdg
	t0=$(wc -l <"$T/b2.txt")
	wait_for more_lines_than "$T/b2.txt" "$((t0 + 1))"	# polled after it
	: >"$T/stop"
	wait "$poller"
	bad=$(awk '$2 != "running"' "$T/b2.txt" | head -n 3)
	[[ -z $bad ]] || die "B2. the polling client saw: $bad"
	ctl status >/dev/null || die "B2. virt-brokerctl status after rm -rf"
	assert_qemud "$qemud" "B2. after rm -rf"
	log "B2. rm -rf of the runtime dir (no failure) while a client polled" \
		"$(wc -l <"$T/b2.txt") times, all 'running'; same virtqemud $qemud"

	# B3. the guest's state survived: kill -9 virtqemud.
	kill -KILL "$qemud"
	wait_for -t 10 daemon_back_not "$qemud"
	qemud2=$(the_daemon_pid virtqemud)
	assert_parent "$qemud2" virtqemud
	pid_alive "$qemu" || die "B3. QEMU $qemu died"
	assert_running_for "B3. after virtqemud's SIGKILL" vsh_xdg
	st=$(qmp_status)
	[[ $st == running ]] || die "B3. QMP query-status through virtqemud $qemud2 said '$st'"
	log "B3. virtqemud $qemud killed; $qemud2 knows the guest (running) and QMP" \
		"query-status reaches QEMU $qemu: $st"
}

daemon_back_not() {	# OLD-PID: a virtqemud other than OLD runs
	local p
	p=$(daemon_pids virtqemud | xargs)
	[[ -n $p && $p != "$1" ]]
}

# ---------------------------------------------------------------- C

scenario_soak() {
	local r=$1 end n=0 bad pa pb
	link_to "$RU/libvirt/virtqemud-sock" "$r/virtqemud-sock" ||
		die "C. no link in $RU/libvirt before the soak"
	rm -f "$T/stop" "$T/c-xdg.txt" "$T/c-noxdg.txt"
	: >"$T/session"
	poll_client "$T/c-noxdg.txt" "$T/stop" "" vsh_noxdg &
	pa=$!
	poll_client "$T/c-xdg.txt" "$T/stop" "$T/session" vsh_xdg &
	pb=$!
	POLLERS+=("$pa" "$pb")
	end=$(($(now_ms) + SOAK_SECONDS * 1000))
	while (($(now_ms) < end)); do
		# The user's rhythm, not a wait for anything: 2-5 s per session.
		sleep "$((2 + RANDOM % 4)).$((RANDOM % 10))"
		session_end "$T/c-xdg.txt"
		# Logout as the login was made; the next login of either kind.
		logind_logout
		logind_login_any
		: >"$T/session"
		n=$((n + 1))
		assert_qemud_max_so_far
	done
	: >"$T/stop"
	wait "$pa" "$pb"
	bad=$(cat "$T/c-noxdg.txt" "$T/c-xdg.txt" | awk '$2 != "running"' | head -n 3)
	[[ -z $bad ]] || die "C. a client saw: $bad"
	assert_qemud_max_so_far
	log "C. soak ${SOAK_SECONDS} s: $n logouts ($UMOUNTS umount, $RMRFS rm -rf, none failed);" \
		"$(wc -l <"$T/c-noxdg.txt") answers without XDG_RUNTIME_DIR and" \
		"$(wc -l <"$T/c-xdg.txt") with it, all 'running'; never two virtqemud"
}

# ---------------------------------------------------------------- D

guest_runs_by_itself() {	# R: its pidfile names a live QEMU
	local f=$1/qemu/run/$GUEST.pid
	[[ -s $f ]] && pid_alive "$(cat "$f")"
}

all_daemons_gone() {
	local d
	for d in virtqemud virtlogd virtlockd virtnetworkd virtstoraged virtnodedevd virtsecretd; do
		no_daemon "$d" || return 1
	done
}

scenario_reboot() {
	local r=$1 conf=$T/broker.conf qemu d
	vsh autostart "$GUEST" >/dev/null || die "D. virsh autostart failed"
	vsh destroy "$GUEST" >/dev/null || die "D. virsh destroy failed"
	[[ -e $r/qemu/run/autostarted ]] || die "D. libvirt left no $r/qemu/run/autostarted"
	stop_broker
	for d in virtlogd virtlockd; do		# left running (stop_on_exit = no)
		# shellcheck disable=SC2046
		kill_pids $(daemon_pids "$d")
	done
	wait_for all_daemons_gone
	# A reboot: every process gone, the kernel's boot id new.
	echo 00000000-0000-0000-0000-000000000000 >"$r/virt-broker.boot-id"
	start_session_broker "$conf"
	wait_for -t 60 guest_runs_by_itself "$r"
	qemu=$(guest_pid)
	grep -qF "new boot: removed $r/qemu/run/autostarted" "$T/broker.log" ||
		die "D. the broker did not say it removed the marker"
	assert_running_for "D. after the new boot" vsh
	log "D. new boot: the broker removed $r/qemu/run/autostarted, virtqemud at launch" \
		"autostarted the guest (QEMU $qemu) before any client"
	vsh destroy "$GUEST" >/dev/null || die "D. virsh destroy failed"
	wait_for pid_gone "$qemu"
	stop_broker
	start_session_broker "$conf"
	wait_for ctl_ready virtqemud
	[[ $(state_for vsh) == "shut off" ]] ||
		die "D. a broker restarted in the same boot autostarted the guest: $(state_for vsh)"
	! grep -c "new boot: removed" "$T/broker.log" | grep -qv '^1$' ||
		die "D. markers removed again in the same boot"
	vsh autostart --disable "$GUEST" >/dev/null || true
	vsh undefine "$GUEST" >/dev/null || die "D. virsh undefine failed"
	log "D. restarted in the same boot: nothing autostarted again"
}

ctl_ready() { ctl status "$1" 2>/dev/null | grep -q "yes ("; }

# ---------------------------------------------------------------- body

body() {
	need_modular_qemu
	local r
	r=$(runtime_dir)
	RU=$VB_E2E_ROOT/runuser/$(my_uid)
	export XDG_RUNTIME_DIR=$RU	# this session's, for every client here
	add_cleanup logout_cleanup
	forget_stale_guest
	write_conf "$T/broker.conf"
	start_qemud_monitor
	logind login-tmpfs

	scenario_upgrade "$r"
	scenario_logout "$r"
	scenario_soak "$r"
	scenario_reboot "$r"
	stop_broker
	assert_qemud_max
}

main() {
	(($# == 1)) || usage
	if [[ ${VB_E2E_INNER:-} != 1 && $(id -u) -ne 0 ]]; then
		skip "logout.sh needs root (mounts, a private sshd)"
	fi
	NEED_PREFIX=yes e2e_main logout.sh body "$1"
}

main "$@"
