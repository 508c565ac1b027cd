# shellcheck shell=bash
# Shared helpers of the end-to-end tests (run.sh, bench-cold.sh).  Sourced,
# never run.  The scripts call e2e_main, which either prepares a private
# environment and re-executes the script in it (the "outer" part, as root:
# as the unprivileged user vbtest), or runs the test body (the "inner" part).
#
# Inner environment: XDG_RUNTIME_DIR, HOME, PATH, VB_E2E_ROOT (temp root of
# this run), VB_E2E_WORK (a work dir owned by the test user), VB_PREFIX
# (libvirt build prefix, modular mode), VB_E2E_INNER=1.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_USER=${VB_TEST_USER:-vbtest}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-30}	# seconds, default deadline of wait_for
VIRSH_TIMEOUT=${VIRSH_TIMEOUT:-120}	# seconds, any single virsh call

BROKER=		# broker binary
BROKER_PID=	# pid of the running broker, empty when none
T=		# the inner work dir (VB_E2E_WORK)
OUTER_ROOT=	# temp root created by the outer part (removed by it)
PREFIX=		# modular libvirt build, see find_libvirt_prefix
CLEANUP_HOOKS=()

# ---------------------------------------------------------------- messages

log() { printf 'e2e: %s\n' "$*" >&2; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }

# ---------------------------------------------------------------- polling

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%d\n' $((10#$t / 1000))
}

# wait_for [-t SECONDS] CMD...: run CMD every 50 ms until it succeeds; fail
# the test when the deadline passes.
wait_for() {
	local timeout=$WAIT_TIMEOUT deadline
	if [[ $1 == -t ]]; then
		timeout=$2
		shift 2
	fi
	deadline=$(($(now_ms) + timeout * 1000))
	until "$@"; do
		if (($(now_ms) >= deadline)); then
			die "timed out after ${timeout}s waiting for: $*"
		fi
		sleep 0.05
	done
}

# ---------------------------------------------------------------- processes

my_uid() { id -u; }

# Pids of the daemon NAME run by this user.  A daemon's forked helpers (which
# carry its name until they exec) are not counted: only processes whose parent
# is not a NAME themselves.  Zombies are not counted either (a container's
# pid 1 may never reap orphans).
daemon_pids() {
	ps -u "$(my_uid)" -o pid=,ppid=,stat=,comm= |
		awk -v n="$1" '$4 == n && $3 !~ /^Z/ { parent[$1] = $2 }
			END { for (p in parent) if (!(parent[p] in parent)) print p }'
}

daemon_count() { daemon_pids "$1" | wc -l; }
no_daemon() { [[ $(daemon_count "$1") -eq 0 ]]; }
one_daemon() { [[ $(daemon_count "$1") -eq 1 ]]; }

ppid_of() { ps -o ppid= -p "$1" | tr -d ' '; }
pid_alive() { kill -0 "$1" 2>/dev/null; }

# A pid is gone once it no longer exists or is a zombie (our own child that
# has not been reaped yet).
pid_gone() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
	[[ $state == Z* ]]
}
pid_dead() { ! pid_alive "$1"; }

# "PID (parent PPID, XDG_RUNTIME_DIR=...)" for each pid: who made a duplicate.
describe_pids() {
	local pid xdg
	(($# > 0)) || { echo none; return; }
	for pid in "$@"; do
		xdg=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
			sed -n 's/^XDG_RUNTIME_DIR=//p')
		printf '%s (parent %s %s, XDG_RUNTIME_DIR=%s) ' "$pid" \
			"$(ppid_of "$pid")" "$(ps -o comm= -p "$(ppid_of "$pid")" 2>/dev/null)" \
			"${xdg:-unset}"
	done
	echo
}

# The single pid of daemon NAME; fails the test unless exactly one runs.
the_daemon_pid() {
	local pids
	pids=$(daemon_pids "$1")
	[[ $(wc -w <<<"$pids") -eq 1 ]] ||
		die "expected exactly one $1 of uid $(my_uid), found: $(describe_pids $pids)"
	printf '%s\n' "$pids"
}

# Processes of this user that belong to this test run: libvirt daemons,
# brokers, virsh and QEMU whose environment or command line mentions the
# temp root of the run (XDG_RUNTIME_DIR, HOME, disk image path).
run_pids() {
	local root=$1 pid comm
	[[ -n $root ]] || return 0
	ps -u "$(my_uid)" -o pid=,comm= | while read -r pid comm; do
		case $comm in
		virt*d | libvirtd | virt-broker | virsh | qemu-*) ;;
		*) continue ;;
		esac
		if grep -qsF "$root" "/proc/$pid/environ" ||
			grep -qsF "$root" "/proc/$pid/cmdline"; then
			printf '%s\n' "$pid"
		fi
	done
}

# kill_pids PID...: SIGTERM, wait up to 5 s, then SIGKILL what is left.
kill_pids() {
	local pid deadline live=()
	for pid in "$@"; do
		pid_gone "$pid" || live+=("$pid")
	done
	((${#live[@]} > 0)) || return 0
	log "killing leftover processes: $(ps -o pid=,comm= -p "$(IFS=,; echo "${live[*]}")" | xargs)"
	kill -TERM "${live[@]}" 2>/dev/null || true
	deadline=$(($(now_ms) + 5000))
	for pid in "${live[@]}"; do
		while ! pid_gone "$pid" && (($(now_ms) < deadline)); do
			sleep 0.05
		done
		pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	done
}

# ---------------------------------------------------------------- files

file_mode() { stat -c %a "$1"; }

assert_socket() {	# PATH MODE
	[[ -S $1 ]] || die "$1 is not a socket"
	[[ $(file_mode "$1") == "$2" ]] ||
		die "$1 has mode $(file_mode "$1"), expected $2"
}

assert_dir_mode() {	# PATH MODE
	[[ -d $1 && ! -L $1 ]] || die "$1 is not a directory"
	[[ $(file_mode "$1") == "$2" ]] ||
		die "$1 has mode $(file_mode "$1"), expected $2"
}

# ---------------------------------------------------------------- libvirt

# R: the broker's session default, libvirt's own fallback whatever
# XDG_RUNTIME_DIR says; the XDG place is one the broker publishes into.
runtime_dir() { printf '%s/libvirt\n' "${XDG_CACHE_HOME:-$HOME/.cache}"; }
xdg_dir() { printf '%s/libvirt\n' "$XDG_RUNTIME_DIR"; }

# vsh ARGS...: the test's virsh on qemu:///session, with a deadline so that
# a hanging activation fails the test instead of hanging it.
VIRSH=virsh
vsh() {
	timeout "$VIRSH_TIMEOUT" "$VIRSH" -q -c qemu:///session "$@"
}

# ---------------------------------------------------------------- broker

# start_broker CONF [ARGS...]: run the broker in the background and wait
# until it reports (--ready-fd) that every socket is bound.
start_broker() {
	local conf=$1 line=''
	shift
	[[ -z $BROKER_PID ]] || die "start_broker: broker $BROKER_PID still running"
	rm -f "$T/ready"
	mkfifo "$T/ready"
	: >>"$T/broker.log"
	"$BROKER" -f "$conf" --ready-fd 3 "$@" 3>"$T/ready" >>"$T/broker.log" 2>&1 &
	BROKER_PID=$!
	if ! read -r -t 30 line <"$T/ready"; then
		if pid_gone "$BROKER_PID"; then
			wait "$BROKER_PID" || true
			BROKER_PID=
			die "broker exited before it was ready"
		fi
		die "broker $BROKER_PID not ready within 30 s"
	fi
	log "broker $BROKER_PID ready${line:+ (said: $line)}"
}

# brokerctl: the virt-brokerctl that goes with BROKER: beside it in a build
# tree, else in the installed layout's bin/ (/usr/bin for /usr/sbin).
brokerctl() {
	local d
	d=$(dirname "$BROKER")
	if [[ -x $d/virt-brokerctl ]]; then
		printf '%s\n' "$d/virt-brokerctl"
	else
		printf '%s\n' "$(dirname "$d")/bin/virt-brokerctl"
	fi
}

# assert_parent PID: PID was started by the broker itself.
assert_parent() {
	local pid=$1 name=$2 ppid
	ppid=$(ppid_of "$pid")
	[[ $ppid == "$BROKER_PID" ]] ||
		die "$name $pid has parent $ppid ($(ps -o comm= -p "$ppid" 2>/dev/null || echo gone)), not the broker $BROKER_PID"
}

# stop_broker: SIGTERM, wait for the exit, check that the status is 0.
stop_broker() {
	local pid=$BROKER_PID rc=0
	[[ -n $pid ]] || die "stop_broker: no broker running"
	kill -TERM "$pid"
	wait_for -t 60 pid_gone "$pid"
	wait "$pid" || rc=$?
	BROKER_PID=
	[[ $rc -eq 0 ]] || die "broker exited with status $rc after SIGTERM"
	log "broker $pid stopped, status 0"
}

# ---------------------------------------------------------------- cleanup

add_cleanup() { CLEANUP_HOOKS+=("$1"); }
# Run by the outer (root) cleanup: for what outer_prep started.
OUTER_HOOKS=()
add_outer_cleanup() { OUTER_HOOKS+=("$1"); }

dump_logs() {
	local f
	for f in "$T"/*.log; do
		[[ -s $f ]] || continue
		printf -- '----- %s (last 150 lines) -----\n' "$f" >&2
		tail -n 150 "$f" >&2
	done
	printf -- '----- end of logs -----\n' >&2
}

inner_cleanup() {
	local rc=$? hook
	trap - EXIT
	set +e
	for hook in "${CLEANUP_HOOKS[@]}"; do
		"$hook"
	done
	if ((rc != 0 && rc != 77)); then
		dump_logs
	fi
	if [[ -n $BROKER_PID ]]; then
		kill_pids "$BROKER_PID"
		wait "$BROKER_PID" 2>/dev/null
	fi
	# shellcheck disable=SC2046 # one pid per word
	kill_pids $(run_pids "$VB_E2E_ROOT")
	exit "$rc"
}

outer_cleanup() {
	local rc=$? hook
	trap - EXIT
	set +e
	for hook in "${OUTER_HOOKS[@]}"; do
		"$hook"
	done
	if [[ $(id -u) -eq 0 ]] && id -u "$TEST_USER" >/dev/null 2>&1; then
		# A dedicated user: whatever it still runs was started by the test;
		# again while something is left (a dying script may spawn).
		local pass
		for pass in 1 2 3; do
			pgrep -u "$TEST_USER" >/dev/null || break
			# shellcheck disable=SC2046
			kill_pids $(pgrep -u "$TEST_USER")
		done
	else
		# shellcheck disable=SC2046
		kill_pids $(run_pids "$OUTER_ROOT")
	fi
	if [[ ${VB_E2E_KEEP:-} == 1 ]]; then
		log "kept $OUTER_ROOT (VB_E2E_KEEP=1)"
	elif [[ -n $OUTER_ROOT ]]; then
		rm -rf "$OUTER_ROOT"
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- setup

ensure_test_user() {
	if ! id -u "$TEST_USER" >/dev/null 2>&1; then
		log "creating user $TEST_USER"
		useradd -m -s /bin/bash "$TEST_USER"
	fi
	if getent group kvm >/dev/null && ! id -nG "$TEST_USER" | grep -qw kvm; then
		usermod -a -G kvm "$TEST_USER"
	fi
	local home
	home=$(getent passwd "$TEST_USER" | cut -d: -f6)
	[[ -d $home ]] || install -d -o "$TEST_USER" -g "$TEST_USER" -m 0755 "$home"
}

# Copy FILE... into DIR (root-owned, world-readable) unless the test user
# can already use them in place; prints the directory to use.
reachable_dir() {
	local dir=$1 dest=$2 f ok=yes
	shift 2
	for f in "$@"; do
		runuser -u "$TEST_USER" -- test -r "$dir/$f" -a -x "$dir/$f" || ok=no
	done
	if [[ $ok == yes ]]; then
		printf '%s\n' "$dir"
		return
	fi
	install -d -m 0755 "$dest"
	for f in "$@"; do
		install -m 0755 "$dir/$f" "$dest/$f"
	done
	printf '%s\n' "$dest"
}

# build-libvirt.sh's version arguments: VB_LIBVIRT=11.3.0 picks that
# upstream build, unset Debian's own (9.0.0 on Debian 12).
libvirt_version_args() {
	[[ -z ${VB_LIBVIRT:-} ]] || printf -- '--libvirt\n%s\n' "$VB_LIBVIRT"
}

# PREFIX = the modular libvirt build (built once, as root, by
# build-libvirt.sh).  Not meant for $(...): it may skip or die.
find_libvirt_prefix() {
	local rc=0
	local -a v
	mapfile -t v < <(libvirt_version_args)
	PREFIX=$("$E2E_DIR/build-libvirt.sh" "${v[@]}") || rc=$?
	case $rc in
	0) ;;
	77) skip "no modular libvirt build; run build-libvirt.sh as root once" ;;
	*) die "build-libvirt.sh failed (status $rc)" ;;
	esac
}

# e2e_main SCRIPT BODY BROKER [ARGS...]: in the outer call, prepare the
# environment and re-execute SCRIPT BROKER ARGS in it; in the inner call,
# run BODY ARGS... with BROKER set.
e2e_main() {
	local script=$1 body=$2 broker=$3
	shift 3
	[[ -x $broker ]] || die "broker binary $broker is not executable"
	broker=$(realpath "$broker")
	if [[ ${VB_E2E_INNER:-} == 1 ]]; then
		BROKER=$broker
		T=$VB_E2E_WORK
		[[ -d $T && -d $XDG_RUNTIME_DIR ]] || die "inner run without its directories"
		trap inner_cleanup EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		fit_max_core "$HOME/.config/libvirt"
		"$body" "$@"
		return
	fi

	local prefix='' home user path=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
	if [[ ${NEED_PREFIX:-no} == yes ]]; then
		find_libvirt_prefix
		prefix=$PREFIX
	fi
	OUTER_ROOT=$(mktemp -d /tmp/vb-e2e.XXXXXX)
	chmod 0755 "$OUTER_ROOT"
	trap outer_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local -a run_as=() scripts=(lib.sh ssh.sh logind.sh flatpak-sandbox.sh "$script")
	local sdir bdir rc=0
	if [[ $(id -u) -eq 0 ]]; then
		ensure_test_user
		user=$TEST_USER
		home=$(getent passwd "$user" | cut -d: -f6)
		install -d -o "$user" -g "$user" -m 0700 "$OUTER_ROOT/run" "$OUTER_ROOT/work"
		sdir=$(reachable_dir "$E2E_DIR" "$OUTER_ROOT/e2e" "${scripts[@]}")
		# virt-brokerctl too when it is beside the broker (a build tree;
		# an install has it in bin/, see brokerctl).
		local -a bins=("$(basename "$broker")")
		[[ -x $(dirname "$broker")/virt-brokerctl ]] && bins+=(virt-brokerctl)
		bdir=$(reachable_dir "$(dirname "$broker")" "$OUTER_ROOT/bin" "${bins[@]}")
		broker=$bdir/$(basename "$broker")
		run_as=(runuser -u "$user" --)
		# R (~/.cache/libvirt) outlives runs: start from a fresh one.
		rm -rf "$home/.cache/libvirt"
		# A script's own preparation that needs root (OUTER_ROOT exists).
		if declare -F outer_prep >/dev/null; then
			outer_prep "$user"
		fi
	else
		user=$(id -un)
		home=$OUTER_ROOT/home	# keeps ~/.config/libvirt etc. private
		install -d -m 0700 "$OUTER_ROOT/run" "$OUTER_ROOT/work" "$home"
		sdir=$E2E_DIR
	fi
	"${run_as[@]}" env -i HOME="$home" USER="$user" LOGNAME="$user" \
		PATH="$path" XDG_RUNTIME_DIR="$OUTER_ROOT/run" LANG=C.UTF-8 \
		VB_E2E_INNER=1 VB_E2E_ROOT="$OUTER_ROOT" VB_E2E_WORK="$OUTER_ROOT/work" \
		VB_PREFIX="$prefix" WAIT_TIMEOUT="$WAIT_TIMEOUT" VB_LIBVIRT="${VB_LIBVIRT:-}" \
		VB_RACE_SECONDS="${VB_RACE_SECONDS:-}" VB_RACE_SEED="${VB_RACE_SEED:-}" \
		VB_RACE_EVENTS="${VB_RACE_EVENTS:-}" \
		VB_SOAK_SECONDS="${VB_SOAK_SECONDS:-}" \
		bash "$sdir/$script" "$broker" "$@" || rc=$?
	return "$rc"
}

# fit_max_core DIR: libvirt 10 and later set each QEMU's core size limit to
# unlimited (qemu.conf max_core), which fails ("cannot limit core file
# size") under a hard limit that cannot be raised: sudo's 0, in a container
# without CAP_SYS_RESOURCE (tests/run from a user's clone). There, DIR's
# qemu.conf says max_core = 0 (a limit of 0 can always be set), as README
# tells users; a login's unlimited hard limit needs nothing.
fit_max_core() {
	local dir=$1
	[[ $(ulimit -H -c) != unlimited ]] || return 0
	install -d -m 0700 "$dir"
	grep -qs '^max_core' "$dir/qemu.conf" && return 0
	echo 'max_core = 0' >>"$dir/qemu.conf"
	log "hard core limit $(ulimit -H -c): max_core = 0 in $dir/qemu.conf"
}

# ---------------------------------------------------------------- guests

GUEST=vb-e2e-guest
MONITOR_PID=

# A background watch that records the most virtqemud daemons of this user
# seen at once; assert_qemud_max checks it never exceeded one.
start_qemud_monitor() {
	echo 0 >"$T/qemud-max"
	(
		max=0
		while :; do
			n=$(daemon_count virtqemud) || n=0
			if ((n > max)); then
				max=$n
				echo "$max" >"$T/qemud-max"
				ps -u "$(my_uid)" -o pid=,ppid=,comm=,args= >"$T/qemud-max.ps"
			fi
			sleep 0.05
		done
	) &
	MONITOR_PID=$!
	add_cleanup stop_qemud_monitor
}

stop_qemud_monitor() {
	[[ -n $MONITOR_PID ]] || return 0
	kill "$MONITOR_PID" 2>/dev/null || true
	wait "$MONITOR_PID" 2>/dev/null || true
	MONITOR_PID=
}

# Fail if the monitor ever saw two virtqemud at once; prints the maximum.
qemud_max_seen() {
	local max
	max=$(<"$T/qemud-max")
	if ((max > 1)); then
		cat "$T/qemud-max.ps" >&2
		die "$max virtqemud daemons ran at the same time"
	fi
	printf '%s\n' "$max"
}

# Mid-run: the monitor runs on and has never seen two virtqemud so far.
assert_qemud_max_so_far() {
	pid_alive "$MONITOR_PID" || die "the virtqemud monitor died"
	qemud_max_seen >/dev/null
}

assert_qemud_max() {
	local max
	pid_alive "$MONITOR_PID" || die "the virtqemud monitor died"
	stop_qemud_monitor
	max=$(qemud_max_seen)
	((max == 1)) || die "the virtqemud monitor never saw virtqemud running"
	log "at most $max virtqemud ran at any time"
}

# guest_xml [DISK [UUID]]: the test's guest, its disk $T/disk.img unless
# DISK; a UUID of its own if given (a definition written by hand).
guest_xml() {
	local disk=${1:-$T/disk.img} uuid=${2:+<uuid>$2</uuid>}
	cat <<EOF
<domain type='qemu'>
  <name>$GUEST</name>${uuid:+
  $uuid}
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# need_modular_qemu: the modular build (VB_PREFIX) and QEMU, or the test
# fails (no build) or skips (no QEMU); VIRSH is the build's virsh.
need_modular_qemu() {
	[[ -n ${VB_PREFIX:-} && -x $VB_PREFIX/sbin/virtqemud ]] ||
		die "no modular libvirt build (VB_PREFIX=${VB_PREFIX:-})"
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	VIRSH=$VB_PREFIX/bin/virsh
}

# define_and_start_guest CLIENT: the test's TCG guest (guest_xml, a 1 MiB
# disk) defined and started through CLIENT (vsh, vsh_xdg, vsys, ...).
define_and_start_guest() {
	truncate -s 1M "$T/disk.img"
	guest_xml "$T/disk.img" >"$T/guest.xml"
	"$1" define "$T/guest.xml" >/dev/null || die "virsh define failed"
	"$1" start "$GUEST" >/dev/null || die "virsh start failed"
}

guest_pid() {
	local f
	f="$(runtime_dir)/qemu/run/$GUEST.pid"
	[[ -s $f ]] || die "no pidfile $f"
	cat "$f"
}

guest_state_is() {
	[[ $(vsh domstate "$GUEST" 2>/dev/null) == "$1" ]]
}

# Remove a guest left defined by an earlier, interrupted run (its daemon is
# gone by now: only the persistent definition may remain).
forget_stale_guest() {
	rm -f "$HOME/.config/libvirt/qemu/$GUEST.xml"
}

check_tcg_available() {
	vsh capabilities >"$T/caps.xml" || die "virsh capabilities failed"
	grep -q "<domain type='qemu'" "$T/caps.xml" ||
		skip "libvirt reports no QEMU (TCG) domain type; is qemu-system-x86 installed?"
	grep -q "<arch name='x86_64'>" "$T/caps.xml" ||
		skip "no x86_64 QEMU emulator in libvirt's capabilities"
	grep -Eq "<machine[^>]*>pc</machine>" "$T/caps.xml" ||
		skip "QEMU offers no 'pc' machine type"
}

