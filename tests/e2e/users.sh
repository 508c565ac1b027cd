#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end, as root: users' session guests across boot and shutdown, run
# by a system broker ([broker] users = @GROUP), with libvirt's modular
# daemons (the session build) and TCG guests. Two users of the group, A and
# B, each with a persistent autostart guest; C, not in the group.
#   1. a simulated boot (no /run/user dirs, nobody logged in): the system
#      broker starts A's and B's brokers, as them; each starts virtqemud at
#      launch (there is an autostart guest: --boot) and libvirt starts the
#      guest; each is running within the bound measured here, seen through
#      `su - USER -c 'virsh -c qemu:///session ...'` and through qemu+ssh
#      (a private sshd, virt-ssh-helper without XDG_RUNTIME_DIR); C has no
#      broker and reaches no daemon; root's virt-brokerctl lists both;
#   2. the host's shutdown (virt-brokerctl stop --shutdown): each guest
#      saved (managed-save image there, QEMU gone) within shutdown_timeout,
#      by libvirt's own auto-shutdown from 11.2 on (virt-admin
#      daemon-shutdown --preserve) or the libvirt API before; nothing
#      SIGKILLed; the system broker exits after the users' brokers;
#   3. the next simulated boot (a new boot id in each R): each guest is
#      running again, restored from its saved state ("running (restored)"),
#      and its image is gone.
#
#   users.sh BROKER_BINARY
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GROUP=vb-e2e-users
USERS=(vb-e2e-a vb-e2e-b)
OTHER=vb-e2e-c
BOOT_BOUND=240		# s: a guest running after the system broker's start
SHUTDOWN_TIMEOUT=120	# s: the users' on_shutdown bound

[[ $# == 1 ]] || { echo "usage: $0 BROKER_BINARY" >&2; exit 2; }
[[ $(id -u) == 0 ]] || skip "users' brokers need root"
BROKER=$(realpath "$1")
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
find_libvirt_prefix
VIRSH=$PREFIX/bin/virsh

OUTER_ROOT=$(mktemp -d /tmp/vb-e2e.XXXXXX)
chmod 0755 "$OUTER_ROOT"
SYS=$OUTER_ROOT/sys
SYS_PID=

cleanup() {
	local u
	if [[ -n $SYS_PID ]]; then
		kill -KILL "$SYS_PID" 2>/dev/null || true
		wait "$SYS_PID" 2>/dev/null || true
	fi
	stop_sshd
	for u in "${USERS[@]}" "$OTHER"; do
		pkill -KILL -u "$u" 2>/dev/null || true
	done
	for u in "${USERS[@]}" "$OTHER"; do
		wait_for_gone_user "$u"
		userdel -r "$u" 2>/dev/null || true
	done
	groupdel "$GROUP" 2>/dev/null || true
	rm -rf "$OUTER_ROOT"
}

wait_for_gone_user() {

	for _ in $(seq 100); do
		pgrep -u "$1" >/dev/null 2>&1 || return 0
		sleep 0.05
	done
}

# shellcheck source=ssh.sh
. "$E2E_DIR/ssh.sh"

add_outer_cleanup() { :; }	# cleanup() stops sshd itself
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for u in "${USERS[@]}" "$OTHER"; do
	pkill -KILL -u "$u" 2>/dev/null || true
	userdel -r "$u" 2>/dev/null || true
done
groupdel "$GROUP" 2>/dev/null || true
groupadd "$GROUP"
for u in "${USERS[@]}"; do
	useradd -m -s /bin/sh -G "$GROUP" "$u"
done
useradd -m -s /bin/sh "$OTHER"
# The binaries where the users reach them (a clone's home may be 0700):
# the users' brokers run the system broker's binary, and virt-brokerctl
# beside it saves their guests.
install -d -m 0755 "$OUTER_ROOT/bin"
install -m 0755 "$BROKER" "$(dirname "$BROKER")/virt-brokerctl" "$OUTER_ROOT/bin/"
BROKER=$OUTER_ROOT/bin/virt-broker
CTL=$OUTER_ROOT/bin/virt-brokerctl

as() {	# USER CMD...: as that user, in a login's environment (su -)
	local u=$1
	shift
	su - "$u" -c "$*"
}

# Each allowed user: the broker's config (the modular build), QEMU's core
# limit, and a persistent autostart guest written as libvirt keeps one, so
# that no daemon runs before the "boot".
for u in "${USERS[@]}"; do
	home=$(getent passwd "$u" | cut -d: -f6)
	uuid=$(cat /proc/sys/kernel/random/uuid)
	as "$u" "mkdir -p ~/.config/virt-broker ~/.config/libvirt/qemu/autostart ~/img &&
		printf '[broker]\nsearch_path = $PREFIX/sbin\n' > ~/.config/virt-broker/virt-broker.conf &&
		echo 'max_core = 0' > ~/.config/libvirt/qemu.conf &&
		truncate -s 1M ~/img/disk.img"
	guest_xml "$home/img/disk.img" "$uuid" >"$OUTER_ROOT/$u.xml"
	chmod 0644 "$OUTER_ROOT/$u.xml"
	as "$u" "cp $OUTER_ROOT/$u.xml ~/.config/libvirt/qemu/$GUEST.xml &&
		ln -s ../$GUEST.xml ~/.config/libvirt/qemu/autostart/$GUEST.xml"
done

printf '%s\n' "[broker]" "runtime_dir = $SYS" "log_dir = $OUTER_ROOT/log" \
	"publish = none" "search_path = /nonexistent" "users = @$GROUP" \
	>"$OUTER_ROOT/sys.conf"
for u in "${USERS[@]}"; do
	printf '%s\n' "[user@$u]" "env = PATH=$PREFIX/bin:/usr/local/bin:/usr/bin:/bin" \
		>>"$OUTER_ROOT/sys.conf"
done
# shutdown_timeout is the users' own (their broker's config).
for u in "${USERS[@]}"; do
	as "$u" "printf 'shutdown_timeout = $SHUTDOWN_TIMEOUT\n' >> ~/.config/virt-broker/virt-broker.conf"
done

start_system() {
	"$BROKER" --system -v -f "$OUTER_ROOT/sys.conf" >>"$OUTER_ROOT/sys.log" 2>&1 &
	SYS_PID=$!
}

vsh_as() {	# USER VIRSH-ARGS...: a client of a login (su -), no spawning
	local u=$1
	shift
	as "$u" "LIBVIRT_AUTOSTART=0 timeout $VIRSH_TIMEOUT $VIRSH -q -c qemu:///session $*"
}

running_for() { [[ $(vsh_as "$1" domstate "$GUEST" 2>/dev/null) == running ]]; }
user_log() { cat "$OUTER_ROOT/log/user@$1.log" 2>/dev/null; }
qemu_of() {	# USER: the guest's QEMU pid, or nothing
	local f
	f=$(getent passwd "$1" | cut -d: -f6)/.cache/libvirt/qemu/run/$GUEST.pid
	[[ -s $f ]] && cat "$f"
}

dump() {
	local u
	echo "---- system broker" >&2
	tail -n 40 "$OUTER_ROOT/sys.log" >&2 || true
	for u in "${USERS[@]}"; do
		echo "---- user@$u" >&2
		user_log "$u" | tail -n 40 >&2 || true
	done
}
die() { dump; printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# A private sshd on loopback for the allowed users, a key each (ssh.sh's
# start_sshd is for one test user with two keys).
start_sshd_for_users() {
	local ssh=$OUTER_ROOT/ssh u port
	install -d -m 0755 "$ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_key"
	for u in "${USERS[@]}"; do
		ssh-keygen -q -t ed25519 -N '' -C "vb-e2e-$u" -f "$ssh/$u"
		chown "$u" "$ssh/$u" "$ssh/$u.pub"
		cp "$ssh/$u.pub" "$ssh/authorized_keys.$u"
		chmod 0644 "$ssh/authorized_keys.$u"
		usermod -p '*' "$u"	# not locked: sshd without PAM refuses "!"
	done
	install -d -m 0755 /run/sshd
	port=$(free_port)
	printf '%s\n' "ListenAddress 127.0.0.1" "Port $port" \
		"HostKey $ssh/host_key" "PidFile $ssh/sshd.pid" \
		"AuthorizedKeysFile $ssh/authorized_keys.%u" \
		"PasswordAuthentication no" "KbdInteractiveAuthentication no" \
		"UsePAM no" "StrictModes no" "AllowUsers ${USERS[*]}" \
		>"$ssh/sshd_config"
	/usr/sbin/sshd -D -f "$ssh/sshd_config" -E "$ssh/sshd.log" &
	SSHD_PID=$!
	wait_for sshd_up_or_gone "$port"
	pid_gone "$SSHD_PID" && die "sshd does not start: $(tail -n 5 "$ssh/sshd.log")"
	echo "$port" >"$ssh/port"
}

vsh_ssh_as() {	# USER VIRSH-ARGS...: qemu+ssh to the user's own session
	local u=$1 port
	shift
	port=$(<"$OUTER_ROOT/ssh/port")
	as "$u" "LIBVIRT_AUTOSTART=0 timeout $VIRSH_TIMEOUT $VIRSH -q -c \
		'qemu+ssh://$u@127.0.0.1:$port/session?keyfile=$OUTER_ROOT/ssh/$u&no_verify=1' $*"
}

# ---- 1. boot
ensure_packages
start_sshd_for_users
t0=$(now_ms)
start_system
for u in "${USERS[@]}"; do
	wait_for -t "$BOOT_BOUND" running_for "$u"
	log "1. $u's autostart guest is running $(($(now_ms) - t0)) ms after the system broker's start"
done
for u in "${USERS[@]}"; do
	user_log "$u" | grep -q "unit virtqemud: at launch (--boot: there is work" ||
		die "$u's broker did not start virtqemud at launch for its autostart guest"
	pgrep -u "$u" -x virtqemud >/dev/null || die "no virtqemud of $u"
	[[ $(pgrep -u "$u" -x virtqemud | wc -l) == 1 ]] || die "two virtqemud of $u"
	ub=$(pgrep -u "$u" -x virt-broker | head -n 1)
	[[ $(ps -o ppid= -p "$(pgrep -u "$u" -x virtqemud)" | tr -d ' ') == "$ub" ]] ||
		die "$u's virtqemud is not its broker's child"
	vsh_ssh_as "$u" domstate "$GUEST" >"$OUTER_ROOT/ssh.out" 2>&1 ||
		die "qemu+ssh as $u: $(cat "$OUTER_ROOT/ssh.out")"
	grep -qx running "$OUTER_ROOT/ssh.out" ||
		die "qemu+ssh as $u says: $(cat "$OUTER_ROOT/ssh.out")"
done
log "1. through qemu+ssh (virt-ssh-helper, no XDG_RUNTIME_DIR) each sees its guest running"
if out=$(vsh_as "$OTHER" list 2>&1); then
	die "$OTHER, not in $GROUP, reached a daemon: $out"
fi
pgrep -u "$OTHER" >/dev/null && die "$OTHER has processes: $(pgrep -u "$OTHER" -l)"
"$CTL" -s "$SYS/virt-broker-ctl-sock" status >"$OUTER_ROOT/status.txt" ||
	die "virt-brokerctl status: $(cat "$OUTER_ROOT/status.txt")"
for u in "${USERS[@]}"; do
	grep -Eq "^user@$u +running" "$OUTER_ROOT/status.txt" ||
		die "status does not list user@$u running: $(cat "$OUTER_ROOT/status.txt")"
done
log "1. $OTHER has no broker and reaches no daemon; root's status lists both users' brokers"

# ---- 2. the host's shutdown
declare -A qemu
for u in "${USERS[@]}"; do
	qemu[$u]=$(qemu_of "$u")
	[[ -n ${qemu[$u]} ]] || die "no QEMU pid for $u's guest"
done
t0=$(now_ms)
"$CTL" -s "$SYS/virt-broker-ctl-sock" stop --shutdown ||
	die "virt-brokerctl stop --shutdown failed"
wait_for -t $((SHUTDOWN_TIMEOUT + 60)) pid_gone "$SYS_PID"
wait "$SYS_PID" 2>/dev/null || true
SYS_PID=
log "2. the system broker stopped $(($(now_ms) - t0)) ms after stop --shutdown"
for u in "${USERS[@]}"; do
	home=$(getent passwd "$u" | cut -d: -f6)
	[[ -s $home/.config/libvirt/qemu/save/$GUEST.save ]] ||
		die "$u's guest has no managed-save image"
	pid_gone "${qemu[$u]}" || die "$u's QEMU ${qemu[$u]} still runs"
	user_log "$u" | grep -q "SIGKILL" && die "something of $u was SIGKILLed"
	if user_log "$u" | grep -q "the daemon saved its guests and exited"; then
		how="libvirt's own auto-shutdown (daemon-shutdown --preserve)"
	else
		user_log "$u" | grep -q "guests: $GUEST: saved" ||
			die "$u's log does not say the guest was saved"
		how="managed save through the libvirt API"
	fi
	log "2. $u's guest saved by $how; QEMU ${qemu[$u]} gone, image there"
done
grep -q "SIGPWR: the host shuts down" <(cat "$OUTER_ROOT"/log/user@*.log) ||
	die "the users' brokers were not told of the shutdown"
pgrep -u "${USERS[0]}" -x virt-broker >/dev/null && die "${USERS[0]}'s broker runs on"
# The rest of the host's shutdown: init kills what is left (virtlogd, which
# the broker leaves running for guests' logs, and the users' fd holders).
for u in "${USERS[@]}"; do
	left=$(pgrep -u "$u" -l | tr '\n' ' ')
	for p in $(pgrep -u "$u"); do
		case $(ps -o comm= -p "$p") in
		virtlogd | virtlockd | vb-holder) ;;
		*) die "$u's $(ps -o pid=,args= -p "$p") outlived its broker" ;;
		esac
	done
	pkill -KILL -u "$u" || true
	wait_for_gone_user "$u"
	log "2. what the host's shutdown kills of $u: ${left:-nothing}"
done

# ---- 3. the next boot
for u in "${USERS[@]}"; do
	as "$u" "echo 00000000-0000-0000-0000-000000000000 > ~/.cache/libvirt/virt-broker.boot-id"
done
t0=$(now_ms)
start_system
for u in "${USERS[@]}"; do
	wait_for -t "$BOOT_BOUND" running_for "$u"
	reason=$(vsh_as "$u" domstate --reason "$GUEST")
	[[ $reason == "running (restored)" ]] ||
		die "$u's guest is '$reason', not restored from its saved state"
	home=$(getent passwd "$u" | cut -d: -f6)
	[[ ! -e $home/.config/libvirt/qemu/save/$GUEST.save ]] ||
		die "$u's managed-save image is still there"
	log "3. $u's guest is running again, $reason, $(($(now_ms) - t0)) ms after the start"
done
kill -TERM "$SYS_PID"
wait_for pid_gone "$SYS_PID"
SYS_PID=
log "users: pass"
