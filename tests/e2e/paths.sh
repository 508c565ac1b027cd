#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, real libvirt (modular daemons), unprivileged user: one daemon
# whatever path a client takes (README: "Why duplicates happen").
#   1. clients with and without XDG_RUNTIME_DIR reach the same virtqemud
#      (the broker publishes R's sockets into ~/.cache/libvirt);
#   2. qemu+ssh through a private sshd: virt-ssh-helper runs without
#      XDG_RUNTIME_DIR and finds the published sockets;
#   3. logout/login: a /run/user/UID-like dir wiped and made again;
#   4. the broker killed with SIGKILL; the next one adopts virtqemud;
#   5. a virtqemud spawned by libvirt itself is adopted.
# Throughout, never two virtqemud of the test user at once.
#
#   paths.sh BROKER_BINARY
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: $0 BROKER_BINARY" >&2
	exit 2
}

# ---------------------------------------------------------------- as root

# Before the body runs as the test user: a sticky dir standing for
# /run/user (not the user's: the broker must never create UID in it), and
# a private sshd on a loopback port with throwaway keys.
outer_prep() {
	local user=$1 home ssh=$OUTER_ROOT/ssh port
	install -d -m 1777 "$OUTER_ROOT/runuser"
	[[ -x /usr/sbin/sshd ]] ||
		die "openssh-server is not installed (tests/run installs it)"
	home=$(getent passwd "$user" | cut -d: -f6)
	install -d -m 0755 "$ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$ssh/user_key"
	chown "$user" "$ssh/user_key" "$ssh/user_key.pub"
	cp "$ssh/user_key.pub" "$ssh/authorized_keys"
	chmod 0644 "$ssh/authorized_keys"
	install -d -m 0755 /run/sshd	# sshd's privilege separation dir
	# useradd leaves the account locked ("!"), which sshd refuses without
	# PAM even for keys; "*" is no password, but not locked.
	if [[ $(getent shadow "$user" | cut -d: -f2) == '!'* ]]; then
		usermod -p '*' "$user"
	fi
	port=$(free_port)
	printf '%s\n' "ListenAddress 127.0.0.1" "Port $port" \
		"HostKey $ssh/host_key" "PidFile $ssh/sshd.pid" \
		"AuthorizedKeysFile $ssh/authorized_keys" \
		"PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "AllowUsers $user" \
		>"$ssh/sshd_config"
	/usr/sbin/sshd -f "$ssh/sshd_config" -E "$ssh/sshd.log"
	add_outer_cleanup stop_sshd
	echo "$port" >"$ssh/port"
	install -d -o "$user" -m 0700 "$home/.ssh"
	log "sshd on 127.0.0.1:$port for $user"
}

# A loopback TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$((30000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

stop_sshd() {
	local pid
	pid=$(cat "$OUTER_ROOT/ssh/sshd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- helpers

# virsh as a client without XDG_RUNTIME_DIR: libvirt then uses
# ~/.cache/libvirt, where the broker publishes its sockets.
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

# Stale sockets or links in ~/.cache/libvirt from earlier runs would be
# replaced anyway; start from a clean state so the checks mean something.
clean_cache_dir() {
	local f
	for f in "$HOME"/.cache/libvirt/*-sock; do
		if [[ -L $f || -S $f ]]; then
			rm -f "$f"
		fi
	done
}

write_conf() {	# FILE PUBLISH...
	local f=$1
	shift
	printf '%s\n' "[broker]" "search_path = $VB_PREFIX/sbin" \
		"publish = $*" "[virtqemud]" "args = --timeout 5" >"$f"
}

guest_running_for() {	# CLIENT-FUNCTION [ARGS]
	[[ $("$@" domstate "$GUEST" 2>/dev/null) == running ]]
}

broker_log_has() { grep -qF -- "$1" "$T/broker.log"; }

# ---------------------------------------------------------------- body

body() {
	[[ -n ${VB_PREFIX:-} && -x $VB_PREFIX/sbin/virtqemud ]] ||
		die "no modular libvirt build (VB_PREFIX=${VB_PREFIX:-})"
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	VIRSH=$VB_PREFIX/bin/virsh
	local conf=$T/broker.conf uid r cache runuser qemu qemud qemud2 port key
	uid=$(my_uid)
	r=$(runtime_dir)
	cache=$HOME/.cache/libvirt
	runuser=$VB_E2E_ROOT/runuser/$uid
	clean_cache_dir
	forget_stale_guest
	write_conf "$conf" "$cache" "$runuser/libvirt"
	start_qemud_monitor
	start_broker "$conf"

	# 1. with and without XDG_RUNTIME_DIR
	wait_for link_to "$cache/virtqemud-sock" "$r/virtqemud-sock"
	check_tcg_available
	truncate -s 1M "$T/disk.img"
	guest_xml >"$T/guest.xml"
	vsh define "$T/guest.xml" >/dev/null || die "virsh define failed"
	vsh start "$GUEST" >/dev/null || die "virsh start failed"
	qemu=$(guest_pid)
	guest_running_for vsh_noxdg ||
		die "a client without XDG_RUNTIME_DIR does not see the guest running"
	qemud=$(the_daemon_pid virtqemud)
	assert_parent "$qemud" virtqemud
	log "1. guest started with XDG_RUNTIME_DIR; without it, ~/.cache/libvirt -> R: running, virtqemud $qemud"

	# 2. qemu+ssh: virt-ssh-helper runs in the ssh session's environment
	#    (no XDG_RUNTIME_DIR there), so it uses ~/.cache/libvirt.
	[[ -r $VB_E2E_ROOT/ssh/port ]] ||
		die "no sshd was prepared (the test must run as root)"
	port=$(<"$VB_E2E_ROOT/ssh/port")
	key=$VB_E2E_ROOT/ssh/user_key
	timeout 60 "$VIRSH" -q -c "qemu+ssh://$(id -un)@127.0.0.1:$port/session?keyfile=$key&no_verify=1" \
		list --all >"$T/ssh-list.txt" 2>"$T/ssh.log" ||
		die "virsh over qemu+ssh failed: $(cat "$T/ssh.log")"
	grep -Eq "$GUEST +running" "$T/ssh-list.txt" ||
		die "qemu+ssh does not show the guest running: $(cat "$T/ssh-list.txt")"
	[[ $(the_daemon_pid virtqemud) == "$qemud" ]] ||
		die "qemu+ssh reached another virtqemud"
	log "2. qemu+ssh://127.0.0.1:$port/session lists the guest running, same virtqemud $qemud"

	# 3. logout/login: logind makes /run/user/UID at login and unmounts it
	#    at logout (all at once); the broker never makes it, links again.
	[[ ! -e $runuser ]] || die "$runuser exists before the login"
	mkdir -m 0700 "$runuser"
	wait_for link_to "$runuser/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	guest_running_for vsh_xdg "$runuser" ||
		die "a client with XDG_RUNTIME_DIR=$runuser does not see the guest"
	mv "$runuser" "$runuser.gone"
	rm -rf "$runuser.gone"
	[[ ! -e $runuser ]] || die "the broker made $runuser itself"
	mkdir -m 0700 "$runuser"
	wait_for link_to "$runuser/libvirt/virtqemud-sock" "$r/virtqemud-sock"
	guest_running_for vsh_xdg "$runuser" ||
		die "after a new login the client does not see the guest running"
	[[ $(the_daemon_pid virtqemud) == "$qemud" ]] ||
		die "the logout/login changed virtqemud"
	log "3. $runuser wiped and made again: linked again, guest running, same virtqemud"

	# 4. the broker killed: the next one adopts virtqemud
	kill -KILL "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=
	start_broker "$conf"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud,"
	[[ $(the_daemon_pid virtqemud) == "$qemud" ]] || die "a second virtqemud appeared"
	guest_running_for vsh || die "after the adoption the guest is not running"
	guest_running_for vsh_noxdg || die "after the adoption, no guest without XDG"
	kill -TERM "$qemud"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud exited; binding its sockets"
	vsh list >/dev/null || die "virsh list after the adopted virtqemud exited"
	qemud2=$(the_daemon_pid virtqemud)
	[[ $qemud2 != "$qemud" ]] || die "virtqemud did not change"
	assert_parent "$qemud2" virtqemud
	guest_running_for vsh || die "the broker's new virtqemud does not see the guest"
	pid_alive "$qemu" || die "the guest's QEMU died"
	log "4. broker killed; the next adopted virtqemud $qemud; after it exited, the broker's own $qemud2 serves"

	# 5. a virtqemud that libvirt spawned itself, before the broker
	stop_broker
	wait_for no_daemon virtqemud
	[[ ! -e $r/virtqemud-sock ]] || die "the broker left $r/virtqemud-sock"
	vsh list >/dev/null || die "libvirt's own autospawn failed"
	qemud=$(the_daemon_pid virtqemud)
	start_broker "$conf"
	wait_for broker_log_has "unit virtqemud: adopted pid $qemud,"
	guest_running_for vsh || die "the guest is not running with the adopted virtqemud"
	[[ $(the_daemon_pid virtqemud) == "$qemud" ]] || die "a second virtqemud appeared"
	log "5. virtqemud $qemud spawned by libvirt itself was adopted, not doubled"

	vsh destroy "$GUEST" >/dev/null || die "virsh destroy failed"
	wait_for pid_dead "$qemu"
	vsh undefine "$GUEST" >/dev/null || die "virsh undefine failed"
	stop_broker
	assert_qemud_max
	clean_cache_dir
}

main() {
	(($# == 1)) || usage
	NEED_PREFIX=yes e2e_main paths.sh body "$1"
}

main "$@"
