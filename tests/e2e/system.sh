#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, system mode, as root: libvirt's modular daemons built for
# the system paths (build-libvirt.sh --system) behind the broker in
# /run/libvirt. qemu:///system read-write, read-only and admin sockets;
# a TCG guest surviving a virtqemud stop; socket modes, owners, groups; an
# unprivileged user refused on the rw socket but served on the ro one;
# virtproxyd over TCP (off by default); the conflict with a monolithic
# libvirtd the broker did not start.
#
#   system.sh BROKER_BINARY
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN=/run/libvirt
TCP_PORT=16509
FOREIGN_PID=

[[ $# == 1 ]] || { echo "usage: $0 BROKER_BINARY" >&2; exit 2; }
[[ $(id -u) == 0 ]] || skip "system mode needs root"
BROKER=$(realpath "$1")
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
rc=0
PREFIX=$("$E2E_DIR/build-libvirt.sh" --system) || rc=$?
((rc == 0)) || die "build-libvirt.sh --system failed (status $rc)"
VIRSH=$PREFIX/bin/virsh

T=$(mktemp -d /tmp/vb-e2e-system.XXXXXX)
chmod 0755 "$T"

vsys() { timeout "$VIRSH_TIMEOUT" "$VIRSH" -q -c qemu:///system "$@"; }

# The pids of PREFIX/sbin/NAME processes (NAME empty: any of them); the
# prefix has regex characters ("+"), so compare strings, not patterns.
prefix_pids() {
	ps -eo pid=,args= | awk -v p="$PREFIX/sbin/$1" 'index($2, p) == 1 { print $1 }'
}

system_daemons() { prefix_pids ""; }

cleanup() {
	local rc=$? pid
	trap - EXIT
	set +e
	if ((rc != 0)); then
		dump_logs
		tail -n 40 /var/log/virt-broker/*.log >&2 2>/dev/null
	fi
	vsys destroy "$GUEST" >/dev/null 2>&1
	vsys undefine "$GUEST" >/dev/null 2>&1
	[[ -n $BROKER_PID ]] && kill -TERM "$BROKER_PID" && wait "$BROKER_PID"
	[[ -n $FOREIGN_PID ]] && kill -TERM "$FOREIGN_PID"
	for pid in $(system_daemons); do
		kill -TERM "$pid"
	done
	pkill -f "qemu-system-x86_64.*$GUEST" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

# QEMU as root, no dynamic ownership: the simplest set-up for a test
# machine. libvirt, built on Debian, compiles in the user libvirt-qemu
# and resolves it before it reads qemu.conf, so that user must exist (as
# Debian's libvirt-daemon-system creates it). TCP without authentication,
# for the loopback listener only.
configure_libvirt() {
	local etc=$PREFIX/etc/libvirt
	if ! getent passwd libvirt-qemu >/dev/null; then
		getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
		useradd --system --no-create-home --home-dir /var/lib/libvirt \
			--gid libvirt-qemu --shell /usr/sbin/nologin libvirt-qemu
	fi
	install -d "$etc"
	printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' \
		'security_driver = "none"' >"$etc/qemu.conf"
	printf '%s\n' 'auth_tcp = "none"' >"$etc/virtproxyd.conf"
}

write_conf() {	# EXTRA-BROKER-LINE... (then the units)
	{
		echo "[broker]"
		echo "search_path = $PREFIX/sbin"
		printf '%s\n' "$@"
		echo "[virtqemud]"
		echo "args = --timeout 60"
		echo "[virtproxyd]"
		echo "${PROXY_LINE:-listen_tcp = no}"
	} >"$T/broker.conf"
}

assert_sock() {	# PATH MODE OWNER GROUP
	local got
	got=$(stat -c '%a %U %G' "$1") || die "no $1"
	[[ $got == "$2 $3 $4" ]] || die "$1 is '$got', expected '$2 $3 $4'"
}

no_broker_sockets() {
	local s
	for s in virtqemud-sock virtqemud-sock-ro virtqemud-admin-sock libvirt-sock; do
		[[ ! -e $RUN/$s ]] || return 1
	done
}

guest_pid_system() {
	cat "$RUN/qemu/$GUEST.pid" || die "no pidfile for $GUEST"
}

as_user() {
	runuser -u "$TEST_USER" -- env -i HOME=/tmp PATH=/usr/bin:/bin "$@"
}

ensure_test_user
configure_libvirt
for pid in $(system_daemons); do
	die "daemons of the system build already run: $(ps -o pid,args -p "$pid")"
done

# 1. the three sockets of virtqemud
PROXY_LINE="listen_tcp = 127.0.0.1:$TCP_PORT"
write_conf
start_broker "$T/broker.conf" --system
assert_dir_mode "$RUN" 755
assert_sock "$RUN/virtqemud-sock" 600 root root
assert_sock "$RUN/virtqemud-sock-ro" 666 root root
assert_sock "$RUN/virtqemud-admin-sock" 600 root root
assert_sock "$RUN/libvirt-sock" 600 root root
vsys list >/dev/null || die "virsh -c qemu:///system list failed"
qemud=$(prefix_pids virtqemud)
assert_parent "$qemud" virtqemud
timeout 30 "$VIRSH" -r -q -c qemu:///system list >/dev/null ||
	die "read-only virsh failed"
timeout 30 "$PREFIX/bin/virt-admin" -c virtqemud:///system server-list |
	grep -q virtqemud || die "virt-admin server-list failed"
log "1. rw, ro and admin sockets served by virtqemud $qemud, the broker's child"

# 2. an unprivileged user: refused on the rw socket, served on the ro one
out=$(as_user "$VIRSH" -c qemu:///system list 2>&1) &&
	die "an unprivileged user got through the rw socket"
grep -qi "permission denied" <<<"$out" || die "unexpected error: $out"
as_user "$VIRSH" -r -c qemu:///system list >/dev/null ||
	die "an unprivileged user cannot use the ro socket"
log "2. $TEST_USER: EACCES on virtqemud-sock, served on virtqemud-sock-ro"

# 3. a TCG guest survives a virtqemud stop
truncate -s 1M "$T/disk.img"
guest_xml >"$T/guest.xml"
vsys define "$T/guest.xml" >/dev/null || die "virsh define failed"
vsys start "$GUEST" >/dev/null || die "virsh start failed"
wait_for test -s "$RUN/qemu/$GUEST.pid"
qemu=$(guest_pid_system)
kill -TERM "$qemud"
wait_for pid_dead "$qemud"
pid_alive "$qemu" || die "QEMU died with virtqemud"
[[ $(vsys domstate "$GUEST") == running ]] || die "the guest is not running"
qemud2=$(prefix_pids virtqemud)
[[ $qemud2 != "$qemud" ]] || die "virtqemud did not change"
assert_parent "$qemud2" virtqemud
vsys destroy "$GUEST" >/dev/null
vsys undefine "$GUEST" >/dev/null
log "3. guest (QEMU $qemu) survived virtqemud $qemud; virtqemud $qemud2 took over"

# 4. virtproxyd over TCP, by the broker
timeout 30 "$VIRSH" -q -c "qemu+tcp://127.0.0.1:$TCP_PORT/system" list >/dev/null ||
	die "virsh over qemu+tcp failed"
proxy=$(prefix_pids virtproxyd)
assert_parent "$proxy" virtproxyd
tr '\0' '\n' <"/proc/$proxy/environ" | grep -q '^LISTEN_FDNAMES=.*virtproxyd-tcp.socket' ||
	die "virtproxyd was not given virtproxyd-tcp.socket"
log "4. qemu+tcp://127.0.0.1:$TCP_PORT/system through virtproxyd $proxy"
stop_broker
wait_for no_broker_sockets

# 5. no TCP listener unless asked; socket_mode and socket_group
PROXY_LINE="listen_tcp = no"
write_conf "socket_mode = 0660" "socket_group = $TEST_USER"
start_broker "$T/broker.conf" --system
! ss -Htln "sport = :$TCP_PORT" | grep -q . ||
	die "something listens on $TCP_PORT without listen_tcp"
assert_sock "$RUN/virtqemud-sock" 660 root "$TEST_USER"
assert_sock "$RUN/virtqemud-sock-ro" 666 root "$TEST_USER"
assert_sock "$RUN/virtqemud-admin-sock" 600 root "$TEST_USER"
as_user "$VIRSH" -q -c qemu:///system list >/dev/null ||
	die "a member of socket_group cannot use the rw socket"
log "5. no TCP listener by default; socket_mode 0660 + socket_group: $TEST_USER is served"
stop_broker
wait_for no_broker_sockets

# 6. a monolithic libvirtd we did not start: the broker refuses
"$PREFIX/sbin/libvirtd" >"$T/libvirtd.log" 2>&1 &
FOREIGN_PID=$!
wait_for test -S "$RUN/libvirt-sock"
rc=0
"$BROKER" --system -f "$T/broker.conf" 2>"$T/conflict.log" || rc=$?
((rc == 1)) || die "the broker started next to libvirtd (status $rc)"
grep -q "a monolithic libvirtd (pid $FOREIGN_PID) serves $RUN/libvirt-sock" "$T/conflict.log" ||
	die "no clear conflict message: $(cat "$T/conflict.log")"
log "6. refused to start next to libvirtd $FOREIGN_PID: $(tail -n 1 "$T/conflict.log")"
kill -TERM "$FOREIGN_PID"
wait "$FOREIGN_PID" || true
FOREIGN_PID=
log "ok"
