#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, system mode, as root: libvirt's modular daemons built for
# the system paths (build-libvirt.sh --system) behind the broker in
# /run/libvirt.
#   1. every socket the broker binds, with its mode, owner and group;
#      qemu:///system read-write, read-only (virsh -r) and admin
#      (virt-admin); virtqemud is the broker's child, with the system
#      pidfile /run/virtqemud.pid
#   2. an unprivileged user: EACCES on the rw socket, served on the ro one;
#      virt-brokerctl status virtqemud lists that user's read-only virsh
#      and root's read-write one (libvirt's admin API)
#   3. a TCG guest survives a virtqemud stop; the next virsh list shows it
#      running under a new virtqemud, the broker's child, and
#      virt-brokerctl counts it; after the guest,
#      virtqemud's idle exit (--timeout 5) and the next activation
#   4. virtproxyd over qemu+tcp on loopback (listen_tcp), started by the
#      broker with virtproxyd-tcp.socket; the broker stops its daemons but
#      leaves virtlogd running
#   5. no listen_tcp: nothing on 16509; socket_mode 0660 + socket_group on
#      every unit's sockets, a member served on the rw socket; the virtlogd
#      left running is adopted
#   6. a monolithic libvirtd (Debian's) serving /run/libvirt/libvirt-sock:
#      the broker refuses to start, naming its pid
# The test leaves /run/libvirt, /etc/libvirt, /var/log/virt-broker and the
# daemons' /run/*.pid as it found them: it removes what it created only.
#
#   system.sh BROKER_BINARY
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN=/run/libvirt
TCP_PORT=16509
SOCK_GROUP=$TEST_USER		# socket_group of step 5; TEST_USER is a member
DRIVERS=(virtqemud virtnetworkd virtstoraged virtnodedevd virtsecretd
	virtinterfaced virtnwfilterd virtchd virtvboxd virtlxcd virtxend virtvzd)
HELPERS=(virtlogd virtlockd)
DAEMONS=("${DRIVERS[@]}" "${HELPERS[@]}" virtproxyd libvirtd)
# What the test may create and must remove again (see snapshot_state).
STATE_ROOTS=("$RUN" /etc/libvirt /var/log/virt-broker)

[[ $# == 1 ]] || { echo "usage: $0 BROKER_BINARY" >&2; exit 2; }
[[ $(id -u) == 0 ]] || skip "system mode needs root"
BROKER=$(realpath "$1")
CTL=$(dirname "$BROKER")/virt-brokerctl
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v ss >/dev/null || skip "ss missing (apt-get install iproute2)"

# One run at a time on this machine: /run/libvirt is shared.
exec 8>/run/lock/virt-broker-e2e-system.lock
flock -w 1800 8 || die "another e2e-system run holds /run/lock/virt-broker-e2e-system.lock"

# A system libvirt daemon already serving /run/libvirt: Debian's libvirtd
# service is stopped through its init script (and started again at the
# end); anything else is not ours to stop.
RESTART_SERVICE=
root_libvirt_daemons() {
	local names pid
	names=$(IFS=,; echo "${DAEMONS[*]}")
	ps -o pid=,user=,stat=,args= -C "$names" |
		awk '$2 == "root" && $3 !~ /^Z/ { $2 = $3 = ""; print }'
	pid=$(cat "$RUN/virt-broker.pid" 2>/dev/null) &&
		[[ $(ps -o comm= -p "$pid") == virt-broker ]] && echo "$pid virt-broker --system"
	return 0
}
if [[ -n $(root_libvirt_daemons) && -x /etc/init.d/libvirtd ]] &&
	/etc/init.d/libvirtd status >/dev/null 2>&1; then
	log "stopping Debian's libvirtd service for the test"
	/etc/init.d/libvirtd stop >&2 || die "/etc/init.d/libvirtd stop failed"
	RESTART_SERVICE=libvirtd
fi
running=$(root_libvirt_daemons)
if [[ -n $running ]]; then
	[[ -n $RESTART_SERVICE ]] && "/etc/init.d/$RESTART_SERVICE" start >&2
	skip "system libvirt daemons or a system broker already run: $(xargs <<<"$running")"
fi

T=$(mktemp -d /tmp/vb-e2e-system.XXXXXX)
chmod 0755 "$T"		# QEMU opens $T/disk.img
FOREIGN_PID=		# the monolithic libvirtd of step 6
PUB_ROOT=		# a published place, as /var/run/libvirt
QEMU_PID=
CREATED_QEMU_USER=

vsys() { timeout "$VIRSH_TIMEOUT" "$VIRSH" -q -c qemu:///system "$@"; }

# The pids of PREFIX/sbin/NAME (NAME empty: of every daemon of the prefix),
# without a daemon's forked children (they carry its command line until
# they exec) and zombies. The prefix has regex characters ("+"): compare
# strings, not patterns.
prefix_pids() {
	ps -eo pid=,ppid=,stat=,args= |
		awk -v p="$PREFIX/sbin/$1" 'index($4, p) == 1 && $3 !~ /^Z/ { par[$1] = $2 }
			END { for (q in par) if (!(par[q] in par)) print q }'
}

# The one virtqemud (or NAME) of the prefix: fails unless exactly one runs.
the_prefix_pid() {
	local pids
	pids=$(prefix_pids "$1")
	[[ $(wc -w <<<"$pids") == 1 ]] || die "expected one $1, found: ${pids:-none}"
	echo "$pids"
}
no_prefix_daemon() { [[ -z $(prefix_pids "$1") ]]; }

# ------------------------------------------------------------ system state

# Record what exists under STATE_ROOTS and which daemon pidfiles are in
# /run, so that restore_state removes exactly what the test created.
snapshot_state() {
	current_state | sort >"$T/state.before"
}

current_state() {
	local r d
	for r in "${STATE_ROOTS[@]}"; do
		dirname "$r"
		if [[ -e $r ]]; then
			find "$r" -xdev
		fi
	done
	echo /run
	for d in "${DAEMONS[@]}"; do
		if [[ -e /run/$d.pid ]]; then
			echo "/run/$d.pid"
		fi
	done
}

# Remove every path created since snapshot_state whose parent existed then
# (the whole new subtree goes with it).
restore_state() {
	local p
	[[ -f $T/state.before ]] || return 0
	current_state | sort | comm -13 "$T/state.before" - |
		while IFS= read -r p; do
			grep -qxF -- "$(dirname "$p")" "$T/state.before" || continue
			rm -rf -- "$p"
		done
}

# What the test created and restore_state did not remove (daemons may
# remove stale files that were there: that is not checked).
state_left() {
	current_state | sort | comm -13 "$T/state.before" -
}

# ------------------------------------------------------------ cleanup

# SIGTERM PID..., wait up to 10 s for them to go, then SIGKILL.
stop_pids() {
	local pid deadline
	(($# > 0)) || return 0
	kill -TERM "$@" 2>/dev/null
	deadline=$(($(now_ms) + 10000))
	for pid in "$@"; do
		while pid_alive "$pid" && (($(now_ms) < deadline)); do
			sleep 0.05
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

cleanup() {
	local rc=$?
	trap - EXIT
	set +e
	((rc != 0 && rc != 77)) && dump_logs
	if [[ -n $BROKER_PID ]]; then
		[[ -n $QEMU_PID ]] && pid_alive "$QEMU_PID" && vsys destroy "$GUEST" >/dev/null 2>&1
		stop_pids "$BROKER_PID"
		wait "$BROKER_PID" 2>/dev/null
	fi
	[[ -n $FOREIGN_PID ]] && stop_pids "$FOREIGN_PID" && wait "$FOREIGN_PID" 2>/dev/null
	# shellcheck disable=SC2046 # one pid per word
	stop_pids $(prefix_pids "")
	[[ -n $QEMU_PID ]] && stop_pids "$QEMU_PID"
	if [[ -n $PREFIX ]]; then
		rm -f "$PREFIX/etc/libvirt/qemu/$GUEST.xml"
		rm -f /var/log/libvirt/qemu/"$GUEST".log*
	fi
	restore_state
	[[ -n $CREATED_QEMU_USER ]] && userdel libvirt-qemu && groupdel libvirt-qemu 2>/dev/null
	[[ -n $RESTART_SERVICE ]] && "/etc/init.d/$RESTART_SERVICE" start >&2
	rm -rf "$T"
	[[ -z $PUB_ROOT ]] || rm -rf "$PUB_ROOT"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ set-up

# QEMU runs as root without dynamic ownership or a security driver: the
# simplest set-up for a test machine (the disk image is in a root-owned
# temp dir). libvirt built on Debian compiles in the user libvirt-qemu and
# resolves it before it reads qemu.conf, so that user must exist (Debian's
# libvirt-daemon-system creates it; created here if missing, and removed
# again). TCP without authentication, for the loopback listener only. The
# default network's autostart link of the prefix is removed: no test needs
# a bridge and dnsmasq.
configure_libvirt() {
	local etc=$PREFIX/etc/libvirt
	if ! getent passwd libvirt-qemu >/dev/null; then
		getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
		useradd --system --no-create-home --home-dir /var/lib/libvirt \
			--gid libvirt-qemu --shell /usr/sbin/nologin libvirt-qemu
		CREATED_QEMU_USER=yes
	fi
	install -d "$etc"
	printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' \
		'security_driver = "none"' >"$etc/qemu.conf"
	fit_max_core "$etc"
	printf '%s\n' 'auth_tcp = "none"' >"$etc/virtproxyd.conf"
	rm -f "$etc/qemu/networks/autostart/default.xml"
	rm -f "$etc/qemu/$GUEST.xml"
}

# The daemons of the prefix the catalog serves.
installed() { [[ -x $PREFIX/sbin/$1 ]]; }

# write_conf [BROKER-LINE...]: the broker's config; PROXY_LINE goes to
# [virtproxyd]. Every daemon logs to the broker's stderr, so a failure
# shows its output in broker.log (and nothing goes to /var/log).
write_conf() {
	local d
	{
		echo "[broker]"
		echo "search_path = $PREFIX/sbin"
		printf '%s\n' "$@"
		for d in "${DRIVERS[@]}" "${HELPERS[@]}" virtproxyd; do
			installed "$d" || continue
			echo "[$d]"
			echo "log = stderr"
			if [[ $d == virtqemud ]]; then
				echo "args = --timeout 5"
			elif [[ $d == virtproxyd && -n ${PROXY_LINE:-} ]]; then
				echo "$PROXY_LINE"
			fi
		done
	} >"$T/broker.conf"
}

# The sockets the broker must bind in /run/libvirt, as "FILE KIND UNIT",
# KIND rw, ro or admin (libvirt's systemd units: see design/LIBVIRT.md), or
# broker (the broker's own sockets: 0600 root:root whatever the config).
expected_sockets() {
	local d
	for d in "${DRIVERS[@]}"; do
		installed "$d" || continue
		echo "$d-sock rw $d"
		echo "$d-sock-ro ro $d"
		echo "$d-admin-sock admin $d"
	done
	for d in "${HELPERS[@]}"; do
		installed "$d" || continue
		echo "$d-sock helper $d"
		echo "$d-admin-sock admin $d"
	done
	if installed virtproxyd; then
		echo "libvirt-sock rw virtproxyd"
		echo "libvirt-sock-ro ro virtproxyd"
		echo "libvirt-admin-sock admin virtproxyd"
	fi
	# The broker's own: virt-brokerctl's, the daemons' NOTIFY_SOCKET, and
	# its holder's (the next broker takes the sockets back there).
	echo "virt-broker-ctl-sock broker -"
	echo "virt-broker-notify-sock broker -"
	echo "virt-broker-holder-sock broker -"
}

# assert_sockets RW-MODE GROUP [KEPT-HELPER]: exactly the expected sockets
# exist in /run/libvirt, root's: the drivers' rw ones with RW-MODE and group
# GROUP (socket_mode and socket_group open only those), ro 0666, admin and
# the helpers' (virtlogd, virtlockd: no access control) 0600, root:root;
# those of KEPT-HELPER (adopted, so not bound again) as well.
assert_sockets() {
	local rwmode=$1 group=$2 kept=${3:-} file kind unit want got n=0
	while read -r file kind unit; do
		case $kind in
		rw) want="$rwmode root $group" ;;
		ro) want="666 root root" ;;
		admin | helper | broker) want="600 root root" ;;
		esac
		[[ $unit == "$kept" ]] && want="600 root root"
		[[ -S $RUN/$file ]] || die "$RUN/$file is not a socket"
		got=$(stat -c '%a %U %G' "$RUN/$file")
		[[ $got == "$want" ]] || die "$RUN/$file is '$got', expected '$want'"
		n=$((n + 1))
	done < <(expected_sockets)
	got=$(find "$RUN" -maxdepth 1 -type s -printf '%f\n' | sort)
	want=$(expected_sockets | cut -d' ' -f1 | sort)
	[[ $got == "$want" ]] ||
		die "sockets in $RUN differ from the expected ones: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | xargs)"
	log "all $n sockets in $RUN as expected (rw $rwmode root:$group, ro 666, admin and helpers 600 root:root${kept:+, $kept kept})"
}

assert_lock() {
	[[ $(<"$RUN/virt-broker.pid") == "$BROKER_PID" ]] ||
		die "$RUN/virt-broker.pid is not the broker's pid $BROKER_PID"
}

fdnames_of() {	# PID
	tr '\0' '\n' <"/proc/$1/environ" | sed -n 's/^LISTEN_FDNAMES=//p'
}

# An unprivileged user, with a private HOME for virsh's files.
as_user() {
	runuser -u "$TEST_USER" -- env -i HOME="$T/home" PATH=/usr/bin:/bin "$@"
}

guest_running() {
	vsys list | awk -v g="$GUEST" '$2 == g && $3 == "running" { ok = 1 } END { exit !ok }'
}

no_broker_sockets() {
	local s
	for s in virtqemud-sock virtqemud-sock-ro virtqemud-admin-sock \
		libvirt-sock libvirt-sock-ro libvirt-admin-sock virt-broker.pid \
		virt-broker-holder-sock; do
		[[ ! -e $RUN/$s ]] || return 1
	done
}

# Before the build: its install creates directories in /run/libvirt.
snapshot_state
rc=0
mapfile -t version_args < <(libvirt_version_args)
PREFIX=$("$E2E_DIR/build-libvirt.sh" --system "${version_args[@]}") || rc=$?
((rc == 0)) || die "build-libvirt.sh --system failed (status $rc)"
VIRSH=$PREFIX/bin/virsh
ensure_test_user
install -d -o "$TEST_USER" -m 0700 "$T/home"
configure_libvirt

# ------------------------------------------------------------ 1. sockets
# A published place as /var/run/libvirt is where /var/run is not /run
# (Guix System, some containers): the broker makes it 0755 like R, so
# others reach the read-only socket through its links.
PUB_ROOT=$(mktemp -d /tmp/vb-varrun.XXXXXX)
chmod 0755 "$PUB_ROOT"
install -d -m 0755 "$PUB_ROOT/run"
PUB=$PUB_ROOT/run/libvirt
PROXY_LINE="listen_tcp = 127.0.0.1:$TCP_PORT"
write_conf "publish = $PUB"
start_broker "$T/broker.conf" --system
assert_lock
assert_dir_mode "$RUN" 755
wait_for test -L "$PUB/virtqemud-sock-ro"
assert_dir_mode "$PUB" 755
assert_sockets 600 root
vsys list >/dev/null || die "virsh -c qemu:///system list failed"
qemud=$(the_prefix_pid virtqemud)
assert_parent "$qemud" virtqemud
[[ $(</run/virtqemud.pid) == "$qemud" ]] ||
	die "/run/virtqemud.pid is not virtqemud $qemud: not a system-path build?"
[[ $(fdnames_of "$qemud") == virtqemud.socket:virtqemud-ro.socket:virtqemud-admin.socket ]] ||
	die "virtqemud's LISTEN_FDNAMES: $(fdnames_of "$qemud")"
timeout 30 "$VIRSH" -r -q -c qemu:///system list >/dev/null ||
	die "virsh -r (read-only socket) failed"
timeout 30 "$PREFIX/bin/virt-admin" -c virtqemud:///system server-list >"$T/servers" ||
	die "virt-admin server-list failed"
grep -qw virtqemud "$T/servers" || die "virt-admin lists no server virtqemud: $(cat "$T/servers")"
log "1. rw, ro and admin sockets served by virtqemud $qemud, the broker's child (/run/virtqemud.pid)"

# ------------------------------------------------------------ 2. a user
out=$(as_user "$VIRSH" -c qemu:///system list 2>&1) &&
	die "an unprivileged user got through the rw socket: $out"
grep -q "virtqemud-sock': Permission denied" <<<"$out" ||
	die "not a permission error on virtqemud-sock: $out"
as_user "$VIRSH" -r -c qemu:///system list >/dev/null ||
	die "an unprivileged user cannot use the ro socket"
as_user "$VIRSH" -r -c "qemu+unix:///system?socket=$PUB/virtqemud-sock-ro" list >/dev/null ||
	die "an unprivileged user cannot use the ro socket through $PUB"
log "2. $TEST_USER: EACCES on virtqemud-sock, served on virtqemud-sock-ro, also through $PUB"

# libvirt's admin view (virt-brokerctl, libvirt-admin): a read-only client
# of the test user and a read-write one of root, both kept open (virsh
# reading commands from a FIFO), listed with their pids and users.
mkfifo "$T/ro.in" "$T/rw.in"
as_user "$VIRSH" -r -c qemu:///system <"$T/ro.in" >"$T/ro.out" 2>&1 &
ro_runuser=$!
exec 6>"$T/ro.in"
"$VIRSH" -c qemu:///system <"$T/rw.in" >"$T/rw.out" 2>&1 &
rw_pid=$!
exec 7>"$T/rw.in"
echo list >&6
echo list >&7
wait_for grep -q Name "$T/ro.out"
wait_for grep -q Name "$T/rw.out"
ro_pid=$(for p in $(pgrep -u "$TEST_USER" -x virsh); do	# as_user's HOME
	grep -qzx "HOME=$T/home" "/proc/$p/environ" && echo "$p"
done) || true
[[ $ro_pid =~ ^[0-9]+$ ]] || die "not one read-only virsh of $TEST_USER: '$ro_pid'"
"$CTL" --system status virtqemud >"$T/admin.txt" ||
	die "virt-brokerctl --system status virtqemud: $(cat "$T/admin.txt")"
! grep -q "built without libvirt-admin" "$T/admin.txt" ||
	die "virt-brokerctl was built without libvirt-admin (apt-get install libvirt-dev, then build again)"
grep -Eq "^    client [0-9]+: unix, uid $(id -u "$TEST_USER") \($TEST_USER\), pid $ro_pid \(virsh\), read-only, since " "$T/admin.txt" ||
	die "status virtqemud does not list $TEST_USER's read-only virsh $ro_pid: $(cat "$T/admin.txt")"
grep -Eq "^    client [0-9]+: unix, uid 0 \(root\), pid $rw_pid \(virsh\), read-write, since " "$T/admin.txt" ||
	die "status virtqemud does not list root's virsh $rw_pid: $(cat "$T/admin.txt")"
exec 6>&- 7>&-
wait "$ro_runuser" "$rw_pid" || die "a kept virsh failed: $(cat "$T/ro.out" "$T/rw.out")"
log "2. virt-brokerctl --system status virtqemud: $TEST_USER's read-only virsh $ro_pid and root's virsh $rw_pid"

# ------------------------------------------------------------ 3. a guest
define_and_start_guest vsys
wait_for test -s "$RUN/qemu/$GUEST.pid"
QEMU_PID=$(<"$RUN/qemu/$GUEST.pid")
qemud=$(the_prefix_pid virtqemud)
assert_parent "$qemud" virtqemud
vlogd=$(the_prefix_pid virtlogd)
assert_parent "$vlogd" virtlogd
kill -TERM "$qemud"
wait_for pid_dead "$qemud"
pid_alive "$QEMU_PID" || die "QEMU died with virtqemud"
guest_running || die "virsh list does not show $GUEST running after the stop"
qemud2=$(the_prefix_pid virtqemud)
[[ $qemud2 != "$qemud" ]] || die "virtqemud did not change"
assert_parent "$qemud2" virtqemud
log "3. guest (QEMU $QEMU_PID) survived virtqemud $qemud; virtqemud $qemud2 shows it running"
"$CTL" --system status virtqemud >"$T/admin.txt" ||
	die "virt-brokerctl --system status virtqemud: $(cat "$T/admin.txt")"
if ! grep -q "^  guests: 1 running ($RUN/qemu)" "$T/admin.txt" ||
	! grep -q "^    $GUEST: running, QEMU pid $QEMU_PID" "$T/admin.txt"; then
	die "virt-brokerctl does not count the guest: $(cat "$T/admin.txt")"
fi
vsys destroy "$GUEST" >/dev/null || die "virsh destroy failed"
vsys undefine "$GUEST" >/dev/null || die "virsh undefine failed"
wait_for pid_dead "$QEMU_PID"
QEMU_PID=
inode=$(stat -c %i "$RUN/virtqemud-sock")
wait_for pid_dead "$qemud2"
grep -q "unit virtqemud: pid $qemud2 exited with status 0" "$T/broker.log" ||
	die "the broker did not see virtqemud $qemud2 exit with status 0"
[[ -S $RUN/virtqemud-sock && $(stat -c %i "$RUN/virtqemud-sock") == "$inode" ]] ||
	die "virtqemud-sock was not kept across the idle exit"
vsys list >/dev/null || die "virsh list after the idle exit failed"
qemud3=$(the_prefix_pid virtqemud)
assert_parent "$qemud3" virtqemud
log "3. virtqemud $qemud2 exited idle (--timeout 5), socket kept; virtqemud $qemud3 started on the next connection"

# ------------------------------------------------------------ 4. TCP
ss -Hltnp "sport = :$TCP_PORT" | grep -q "127.0.0.1:$TCP_PORT .*pid=$BROKER_PID," ||
	die "the broker does not listen on 127.0.0.1:$TCP_PORT: $(ss -Hltnp "sport = :$TCP_PORT")"
timeout 30 "$VIRSH" -q -c "qemu+tcp://127.0.0.1:$TCP_PORT/system" list >/dev/null ||
	die "virsh -c qemu+tcp://127.0.0.1/system list failed"
proxy=$(the_prefix_pid virtproxyd)
assert_parent "$proxy" virtproxyd
[[ $(</run/virtproxyd.pid) == "$proxy" ]] || die "/run/virtproxyd.pid is not $proxy"
[[ :$(fdnames_of "$proxy"): == *:virtproxyd-tcp.socket:* ]] ||
	die "virtproxyd's LISTEN_FDNAMES lack virtproxyd-tcp.socket: $(fdnames_of "$proxy")"
log "4. qemu+tcp://127.0.0.1:$TCP_PORT/system through virtproxyd $proxy (LISTEN_FDNAMES=$(fdnames_of "$proxy"))"
stop_broker
wait_for no_prefix_daemon virtproxyd
wait_for no_prefix_daemon virtqemud
wait_for no_broker_sockets
pid_alive "$vlogd" || die "the broker stopped virtlogd (stop_on_exit = no)"
[[ -S $RUN/virtlogd-sock ]] || die "virtlogd's socket went with the broker"
log "4. broker stopped: virtqemud and virtproxyd stopped, virtlogd $vlogd left running on its sockets"

# ------------------------------------------------------------ 5. defaults off, group
PROXY_LINE=
write_conf "socket_mode = 0660" "socket_group = $SOCK_GROUP"
start_broker "$T/broker.conf" --system
assert_lock
[[ -z $(ss -Hltn "sport = :$TCP_PORT") ]] ||
	die "something listens on $TCP_PORT without listen_tcp: $(ss -Hltnp "sport = :$TCP_PORT")"
grep -q "unit virtlogd: adopted pid $vlogd," "$T/broker.log" ||
	die "the new broker did not adopt virtlogd $vlogd"
assert_sockets 660 "$SOCK_GROUP" virtlogd
as_user "$VIRSH" -q -c qemu:///system list >/dev/null ||
	die "$TEST_USER, in group $SOCK_GROUP, cannot use the 0660 rw socket"
# virtlogd and virtlockd act as root on paths a client names: the group
# that reaches the drivers never reaches them.
for f in virtlogd-sock virtlockd-sock virtqemud-admin-sock; do
	[[ -S $RUN/$f ]] || continue
	out=$(as_user socat -u OPEN:/dev/null "UNIX-CONNECT:$RUN/$f" 2>&1) &&
		die "$TEST_USER, in group $SOCK_GROUP, reached $RUN/$f"
	grep -q "Permission denied" <<<"$out" || die "not EACCES on $RUN/$f: $out"
done
log "5. nothing on $TCP_PORT; socket_mode 0660 + socket_group $SOCK_GROUP: $TEST_USER served; virtlogd $vlogd adopted"
stop_broker
wait_for no_broker_sockets
stop_pids "$vlogd"

# ------------------------------------------------------------ 6. libvirtd
# Debian's monolithic libvirtd, in system mode, binds libvirt-sock itself.
libvirtd=/usr/sbin/libvirtd
[[ -x $libvirtd ]] || libvirtd=$PREFIX/sbin/libvirtd
"$libvirtd" >"$T/libvirtd.log" 2>&1 8>&- &
FOREIGN_PID=$!
wait_for test -S "$RUN/libvirt-sock"
rc=0
"$BROKER" --system -f "$T/broker.conf" 2>"$T/conflict.log" || rc=$?
((rc == 1)) || die "the broker started next to libvirtd (status $rc)"
grep -q "a monolithic libvirtd (pid $FOREIGN_PID) serves $RUN/libvirt-sock" "$T/conflict.log" ||
	die "no clear conflict message: $(cat "$T/conflict.log")"
[[ ! -e $RUN/virt-broker.pid && ! -e $RUN/virtqemud-sock ]] ||
	die "the refused broker left files in $RUN"
timeout 60 "$VIRSH" -q -c "qemu:///system?socket=$RUN/libvirt-sock" list >/dev/null ||
	die "libvirtd $FOREIGN_PID no longer serves after the broker's refusal"
log "6. refused next to $libvirtd $FOREIGN_PID: $(tail -n 1 "$T/conflict.log")"
kill -TERM "$FOREIGN_PID"
wait "$FOREIGN_PID" || die "libvirtd exited with status $?"
FOREIGN_PID=

# ------------------------------------------------------------ the end
wait_for no_prefix_daemon ""
rm -f "$PREFIX/etc/libvirt/qemu/$GUEST.xml" /var/log/libvirt/qemu/"$GUEST".log*
restore_state
left=$(state_left)
[[ -z $left ]] || die "left behind: $(xargs <<<"$left")"
log "ok"
