#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, real libvirt (modular daemons), unprivileged user: one daemon
# whatever path a client takes (README: "Why duplicates happen and how
# virt-broker prevents them").
#   1. clients with and without XDG_RUNTIME_DIR reach the same virtqemud
#      (R is ~/.cache/libvirt; the broker publishes R's sockets into
#      $XDG_RUNTIME_DIR/libvirt);
#   2. qemu+ssh through a private sshd: virt-ssh-helper runs without
#      XDG_RUNTIME_DIR and finds the published sockets;
#   3. logout/login: a /run/user/UID stand-in wiped and made again;
#   4. the broker killed with SIGKILL; the next one adopts virtqemud, and
#      binds its sockets when it exits;
#   5. a virtqemud spawned by libvirt itself is adopted;
# and after 1, a flatpak client in bubblewrap's mount view of its
# --filesystem entries reaches the daemon once doctor's override is applied.
# Throughout, never two virtqemud of the test user at once, and never a
# monolithic libvirtd.
#
#   paths.sh BROKER_BINARY
#
# Needs root (the private sshd, the sticky /run/user stand-in; skips without
# it); as root it installs openssh-server, openssh-client, libvirt-clients
# and iproute2 if missing.
# Exit: 0 pass, 1 fail, 77 skip (reason printed).
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ssh.sh
. "$(dirname "${BASH_SOURCE[0]}")/ssh.sh"

usage() {
	echo "usage: $0 BROKER_BINARY" >&2
	exit 2
}

# ---------------------------------------------------------------- as root

# Before the body runs as the test user: a sticky dir standing for
# /run/user (root's, so the broker, running as the user, never creates UID
# in it), and a private sshd on a loopback port with throwaway keys.
outer_prep() {
	local user=$1
	install -d -m 1777 "$OUTER_ROOT/runuser"
	ensure_packages
	start_sshd "$user"
}

# ---------------------------------------------------------------- helpers

# virsh as a client without XDG_RUNTIME_DIR: libvirt then uses
# ~/.cache/libvirt, the broker's R.
vsh_noxdg() {
	env -u XDG_RUNTIME_DIR timeout "$VIRSH_TIMEOUT" "$VIRSH" -q \
		-c qemu:///session "$@"
}

# virsh with XDG_RUNTIME_DIR=DIR.
vsh_xdg() {
	local dir=$1
	shift
	XDG_RUNTIME_DIR=$dir timeout "$VIRSH_TIMEOUT" "$VIRSH" -q \
		-c qemu:///session "$@"
}


link_to() {	# PATH TARGET
	[[ -L $1 && $(readlink "$1") == "$2" ]]
}

no_entry() { [[ ! -e $1 && ! -L $1 ]]; }

guest_running_for() {	# CLIENT-FUNCTION [ARGS]
	[[ $("$@" domstate "$GUEST" 2>/dev/null) == running ]]
}

broker_log_has() { grep -qF -- "$1" "$T/broker.log"; }

# The only virtqemud of the user is PID.
assert_qemud() {	# PID WHAT
	local pids
	pids=$(daemon_pids virtqemud | xargs)
	[[ $pids == "$1" ]] ||
		die "$2: expected virtqemud $1 alone, found: ${pids:-none}"
}

# Debian's client library spawns the monolithic libvirtd where it finds no
# socket at all: a duplicate too.
assert_no_libvirtd() {
	no_daemon libvirtd ||
		die "a libvirtd runs: $(daemon_pids libvirtd | xargs) ($1)"
}

# The links this run's brokers made (they point into VB_E2E_ROOT).
remove_test_links() {
	local f
	for f in "$(xdg_dir)"/*-sock "$VB_E2E_ROOT"/runuser/*/libvirt/*-sock; do
		if [[ -L $f && $(readlink "$f") == "$VB_E2E_ROOT"/* ]]; then
			rm -f "$f"
		fi
	done
}

# On any exit: the broker first (it would link again what is removed), the
# daemons and QEMU of this run, the links, what is left of the guest and
# the throwaway sshd's host key in known_hosts.
paths_cleanup() {
	if [[ -n $BROKER_PID ]]; then
		kill_pids "$BROKER_PID"
		wait "$BROKER_PID" 2>/dev/null
		BROKER_PID=
	fi
	# shellcheck disable=SC2046 # one pid per word
	kill_pids $(run_pids "$VB_E2E_ROOT")
	remove_test_links
	forget_stale_guest
	# A guest killed above (not destroyed) leaves its monitor directory.
	rm -rf "$HOME/.config/libvirt/qemu/lib/domain-"*"-$GUEST"
	if [[ -r $VB_E2E_ROOT/ssh/port && -f $HOME/.ssh/known_hosts ]]; then
		ssh-keygen -q -R "[127.0.0.1]:$(<"$VB_E2E_ROOT/ssh/port")" \
			-f "$HOME/.ssh/known_hosts" >/dev/null 2>&1
		rm -f "$HOME/.ssh/known_hosts.old"
	fi
}

# 1b. flathub's virt-manager (its --filesystem entries: xdg-run/libvirt,
# not ~/.cache/libvirt) in the mount view bubblewrap makes of them: the
# links dangle, so a client inside finds no daemon (LIBVIRT_AUTOSTART=0: it
# would run its own); doctor gives the override; applied by flatpak, the
# client reaches the one virtqemud and sees the guest.
FLATPAK_APP=org.virt_manager.virt-manager

flatpak_cleanup() {
	rm -rf "$HOME/.local/share/flatpak/app/$FLATPAK_APP" \
		"$HOME/.local/share/flatpak/overrides/$FLATPAK_APP"
}

in_flatpak_view() {
	env LIBVIRT_AUTOSTART=0 "$E2E_DIR/flatpak-sandbox.sh" "$FLATPAK_APP" \
		/usr/bin/virsh -q -c qemu:///session domstate "$GUEST"
}

flatpak_view() {	# QEMUD
	local meta out fix ctl
	ctl=$(brokerctl)
	command -v bwrap >/dev/null || die "bwrap missing (apt-get install bubblewrap)"
	command -v flatpak >/dev/null || die "flatpak missing (apt-get install flatpak)"
	meta=$HOME/.local/share/flatpak/app/$FLATPAK_APP/current/active/metadata
	add_cleanup flatpak_cleanup
	mkdir -p "$(dirname "$meta")"
	printf '%s\n' "[Application]" "name=$FLATPAK_APP" "" "[Context]" \
		"filesystems=xdg-documents;/run/libvirt;xdg-run/libvirt;~/.ssh;" >"$meta"
	if out=$(in_flatpak_view 2>&1); then
		die "without an override the sandboxed client reached a daemon: $out"
	fi
	grep -q "No such file or directory" <<<"$out" ||
		die "the sandboxed client failed otherwise than for a missing socket: $out"
	"$ctl" doctor >"$T/doctor.txt" 2>&1 || true
	fix=$(sed -n "s/^ *fix: \(flatpak override .* $FLATPAK_APP\)$/\1/p" "$T/doctor.txt")
	[[ -n $fix ]] || die "doctor gave no flatpak override: $(cat "$T/doctor.txt")"
	sh -c "$fix" || die "the fix failed: $fix"
	out=$(in_flatpak_view 2>&1) ||
		die "with the override ($fix) the sandboxed client failed: $out"
	[[ $out == running ]] || die "the sandboxed client sees the guest $out"
	assert_qemud "$1" "after the sandboxed client"
	"$ctl" doctor >"$T/doctor.txt" 2>&1 || true
	grep -q "^ok   flatpak      $FLATPAK_APP (user) sees " "$T/doctor.txt" ||
		die "after the fix doctor does not say ok: $(cat "$T/doctor.txt")"
	log "1b. in flatpak's mount view (bubblewrap) the client found no socket;" \
		"after doctor's '$fix' it sees the guest running through virtqemud $1"
}

# Daemons log into the work dir (log_dir), so a failure's dump shows them.
write_conf() {	# FILE PUBLISH...
	local f=$1
	shift
	printf '%s\n' "[broker]" "search_path = $VB_PREFIX/sbin" \
		"publish = $*" "log_dir = $T" "[virtqemud]" "args = --timeout 5" >"$f"
}

# ---------------------------------------------------------------- body

body() {
	[[ -n ${VB_PREFIX:-} && -x $VB_PREFIX/sbin/virtqemud ]] ||
		die "no modular libvirt build (VB_PREFIX=${VB_PREFIX:-})"
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	[[ -r $VB_E2E_ROOT/ssh/port ]] || die "no sshd was prepared"
	VIRSH=$VB_PREFIX/bin/virsh
	local conf=$T/broker.conf uid r xdg runuser qemu qemud qemud2 ppid k n f sshd_path helper
	uid=$(my_uid)
	r=$(runtime_dir)
	xdg=$(xdg_dir)
	runuser=$VB_E2E_ROOT/runuser/$uid
	add_cleanup paths_cleanup
	forget_stale_guest
	write_conf "$conf" "$xdg" "$runuser/libvirt"
	start_qemud_monitor
	start_broker "$conf" -v

	# 1. with and without XDG_RUNTIME_DIR
	wait_for link_to "$xdg/virtqemud-sock" "$r/virtqemud-sock"
	wait_for link_to "$xdg/virtqemud-admin-sock" "$r/virtqemud-admin-sock"
	[[ -S $r/virtqemud-sock ]] || die "$r/virtqemud-sock is not a socket"
	check_tcg_available
	define_and_start_guest vsh
	qemu=$(guest_pid)
	guest_running_for vsh_noxdg ||
		die "a client without XDG_RUNTIME_DIR does not see the guest running"
	qemud=$(the_daemon_pid virtqemud)
	assert_parent "$qemud" virtqemud
	log "1. guest started (QEMU $qemu) by a client with XDG_RUNTIME_DIR, through" \
		"$xdg/virtqemud-sock -> $(readlink "$xdg/virtqemud-sock"); one without it" \
		"sees it running in R; one virtqemud, $qemud, the broker's child"
	flatpak_view "$qemud"

	# 2. qemu+ssh, with Debian's helper and with the build's (see start_sshd)
	for k in user_key prefix_key; do
		vsh_ssh "$k" list --all >"$T/ssh-list.txt" 2>"$T/ssh.log" ||
			die "virsh over qemu+ssh ($k) failed: $(cat "$T/ssh.log")"
		grep -Eq "^ *[0-9]+ +$GUEST +running" "$T/ssh-list.txt" ||
			die "qemu+ssh ($k) does not show the guest running: $(cat "$T/ssh-list.txt")"
		assert_qemud "$qemud" "after qemu+ssh ($k)"
	done
	assert_no_libvirtd "after qemu+ssh"
	n=$(grep -c . "$T/ssh-remote.log" 2>/dev/null) || n=0
	((n == 2)) || die "expected 2 ssh sessions, the forced command saw $n"
	# The helper sshd's PATH finds (as the session logged that PATH): Debian's
	# /usr/bin one unless another comes first, e.g. in /usr/local/bin.
	sshd_path=$(sed -n 's/^key=user_key .* path=\([^ ]*\) cmd=.*/\1/p' "$T/ssh-remote.log")
	[[ -n $sshd_path ]] || die "the plain ssh session logged no PATH: $(cat "$T/ssh-remote.log")"
	helper=$(PATH=$sshd_path command -v virt-ssh-helper) ||
		die "no virt-ssh-helper on sshd's PATH $sshd_path"
	grep -qxF "key=user_key xdg=unset helper=$helper" \
		<(cut -d' ' -f1-3 "$T/ssh-remote.log") ||
		die "the plain ssh session did not run $helper (sshd's PATH: $sshd_path) without XDG_RUNTIME_DIR: $(cat "$T/ssh-remote.log")"
	grep -qxF "key=prefix_key xdg=unset helper=$VB_PREFIX/bin/virt-ssh-helper" \
		<(cut -d' ' -f1-3 "$T/ssh-remote.log") ||
		die "the PATH=PREFIX/bin session did not run the build's helper: $(cat "$T/ssh-remote.log")"
	log "2. qemu+ssh with $helper (sshd's PATH) and with $VB_PREFIX/bin/virt-ssh-helper," \
		"no XDG_RUNTIME_DIR on the remote side: guest running, same virtqemud $qemud"

	# 3. logout/login: logind makes /run/user/UID at login and unmounts it
	#    at logout, all at once; the broker never makes it, and links again.
	no_entry "$runuser" || die "$runuser exists before the login"
	mkdir -m 0700 "$runuser"
	wait_for link_to "$runuser/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	guest_running_for vsh_xdg "$runuser" ||
		die "a client with XDG_RUNTIME_DIR=$runuser does not see the guest running"
	mv "$runuser" "$runuser.gone"
	rm -rf "$runuser.gone"
	# A barrier: a link removed after the logout is made again by a check
	# that comes after the one the logout caused (one inotify queue).
	rm "$xdg/virtqemud-admin-sock"
	wait_for link_to "$xdg/virtqemud-admin-sock" "$r/virtqemud-admin-sock"
	no_entry "$runuser" || die "the broker made $runuser itself after the logout"
	mkdir -m 0700 "$runuser"
	wait_for link_to "$runuser/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	guest_running_for vsh_xdg "$runuser" ||
		die "after a new login the client does not see the guest running"
	assert_qemud "$qemud" "after the logout and login"
	log "3. $runuser made, wiped (not made again by the broker) and made again:" \
		"linked each time, guest running, same virtqemud $qemud"

	# 4. the broker killed: its holder keeps the sockets open (a client in
	#    the gap waits, never refused), the next one takes them back and
	#    adopts virtqemud, then serves the sockets when it exits.
	kill -KILL "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	log "4. broker $BROKER_PID killed (SIGKILL)"
	BROKER_PID=
	pid_alive "$qemud" || die "virtqemud $qemud died with the broker"
	(
		rc=0
		timeout 60 "$VIRSH" -q -c qemu:///session net-list --all >"$T/gap.out" 2>&1 || rc=$?
		echo "$rc" >"$T/gap.rc"
	) &
	# The new broker must publish for the daemon it adopts.
	remove_test_links
	start_broker "$conf" -v
	wait_for broker_log_has "holder: took"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud, which serves $r/virtqemud-sock"
	wait_for test -s "$T/gap.rc"
	[[ $(<"$T/gap.rc") == 0 ]] || die "a client during the gap failed: $(cat "$T/gap.out")"
	wait_for link_to "$xdg/virtqemud-sock" "$r/virtqemud-sock"
	wait_for link_to "$runuser/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	assert_qemud "$qemud" "after the broker restart"
	guest_running_for vsh || die "after the adoption the guest is not running"
	guest_running_for vsh_noxdg ||
		die "after the adoption a client without XDG_RUNTIME_DIR does not see the guest"
	guest_running_for vsh_xdg "$runuser" ||
		die "after the adoption a client with XDG_RUNTIME_DIR=$runuser does not see the guest"
	assert_qemud "$qemud" "after clients of the adopted virtqemud"
	kill -TERM "$qemud"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud exited; binding its sockets"
	wait_for pid_gone "$qemud"
	pid_alive "$qemu" || die "the guest's QEMU $qemu died with virtqemud"
	vsh list >/dev/null || die "virsh list after the adopted virtqemud exited"
	qemud2=$(the_daemon_pid virtqemud)
	[[ $qemud2 != "$qemud" ]] || die "virtqemud did not change"
	assert_parent "$qemud2" virtqemud
	guest_running_for vsh || die "the broker's new virtqemud does not see the guest running"
	[[ $(guest_pid) == "$qemu" ]] || die "the guest's QEMU pid changed"
	log "4. broker $BROKER_PID adopted virtqemud $qemud; after its SIGTERM the broker's" \
		"own virtqemud $qemud2 serves the guest (QEMU $qemu)"

	# 5. a virtqemud that libvirt spawned itself, before the broker (a
	#    client without XDG_RUNTIME_DIR: libvirt's R is the broker's)
	stop_broker
	wait_for no_daemon virtqemud
	no_entry "$r/virtqemud-sock" || die "the broker left $r/virtqemud-sock"
	no_entry "$xdg/virtqemud-sock" || die "the broker left its link $xdg/virtqemud-sock"
	vsh_noxdg list >/dev/null || die "libvirt's own autospawn failed"
	qemud=$(the_daemon_pid virtqemud)
	ppid=$(ppid_of "$qemud")
	[[ -S $r/virtqemud-sock ]] || die "the autospawned virtqemud did not bind $r/virtqemud-sock"
	log "5. libvirt's client spawned virtqemud $qemud (parent $ppid, $(ps -o comm= -p "$ppid"))"
	start_broker "$conf" -v
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud, which serves $r/virtqemud-sock"
	[[ $(ppid_of "$qemud") != "$BROKER_PID" ]] || die "virtqemud $qemud is the broker's child"
	wait_for link_to "$xdg/virtqemud-sock" "$r/virtqemud-sock"
	vsh list >/dev/null || die "virsh list with the adopted virtqemud failed"
	guest_running_for vsh || die "the guest is not running with the adopted virtqemud"
	guest_running_for vsh_noxdg ||
		die "with the adopted virtqemud, a client without XDG_RUNTIME_DIR does not see the guest"
	assert_qemud "$qemud" "after the adoption of libvirt's virtqemud"
	kill -TERM "$qemud"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud exited; binding its sockets"
	wait_for pid_gone "$qemud"
	guest_running_for vsh || die "the broker's virtqemud does not see the guest running"
	qemud2=$(the_daemon_pid virtqemud)
	assert_parent "$qemud2" virtqemud
	log "5. broker $BROKER_PID adopted libvirt's virtqemud $qemud; after its SIGTERM the" \
		"broker's own virtqemud $qemud2 serves the guest"

	vsh destroy "$GUEST" >/dev/null || die "virsh destroy failed"
	wait_for pid_gone "$qemu"
	vsh undefine "$GUEST" >/dev/null || die "virsh undefine failed"
	stop_broker
	wait_for no_daemon virtqemud
	for f in "$xdg/virtqemud-sock" "$runuser/libvirt/virtqemud-sock"; do
		no_entry "$f" || die "the broker left its link $f"
	done
	assert_no_libvirtd "at the end"
	assert_qemud_max
}

main() {
	(($# == 1)) || usage
	# As root, a qemu+ssh that does not work fails the test; without root
	# there is no private sshd nor /run/user stand-in to make.
	if [[ ${VB_E2E_INNER:-} != 1 && $(id -u) -ne 0 ]]; then
		skip "paths.sh needs root (a private sshd, a root-owned /run/user stand-in)"
	fi
	NEED_PREFIX=yes e2e_main paths.sh body "$1"
}

main "$@"
