#!/bin/bash
# SPDX-License-Identifier: MIT
# The generated OpenRC script, run for real by Debian's openrc-run, which
# needs no OpenRC init (pid 1) but has its paths compiled in: /lib/rc (its
# shell library), /run/openrc (the service states; no RC_SVCDIR or option
# moves it), /etc/init.d, /etc/conf.d, /etc/runlevels, /etc/rc.conf. So
# the package (openrc, librc1, libeinfo1) is fetched with apt-get download
# and unpacked into a temporary directory, never installed (that would
# replace the machine's init), and the test runs in a private mount
# namespace (unshare -m) where the machine is left alone:
#   /run          a tmpfs (/run/openrc, the pidfile, /run/libvirt);
#   /usr/lib, /usr/sbin, /etc   read-only overlays: the package's /lib/rc,
#                 libraries and /sbin/openrc-run over the machine's, and
#                 the test's init.d, conf.d, runlevels and rc.conf over /etc;
#   /sys/fs/cgroup  a tmpfs whose unified/ (where OpenRC's default hybrid
#                 mode looks) is a cgroup2 directory the test makes and
#                 removes (vb-openrc.PID): the service's cgroup is a real
#                 one, below the test's. Without a writable cgroup2, an
#                 empty tmpfs: no cgroups, and the cgroup checks are off.
# The script runs as installed, only its virt-broker path replaced by the
# build's, in system mode: /etc/init.d/virt-broker ACTION, as rc-service
# would run it, with Debian's start-stop-daemon (dpkg's: Debian's openrc
# ships none). The broker's config comes through VIRT_BROKER_OPTS in
# /etc/conf.d/virt-broker (-f), and serves fake daemons.
#
# Checked: depend() (dbus, a logger and iscsid in the runlevel are started
# first; iptables and nfs are ordered before it; no localmount, which
# Debian has not, is needed; libvirt-guests comes after it); start returns once the sockets are bound and the pidfile
# names the broker; a second start is exit 0 with the same broker;
# status 0/3; reload before start refuses, after start a new unit's socket
# appears (SIGHUP) under the same broker; stop, with a daemon that ignores
# SIGTERM (the broker kills it after its stop_timeout, 6 s: stop waits
# for that only because of retry) and a helper with stop_on_exit = no (as
# virtlogd): the broker and the daemon are gone when it returns, the
# helper still runs in the service's cgroup although rc.conf says
# rc_cgroup_cleanup="YES"; a second stop is exit 0; restart.
#
# A user's broker from boot, virt-broker.USER (a link to virt-broker, its
# options in conf.d/virt-broker.USER): start returns once its socket is
# bound in ~USER/.cache/libvirt; the broker runs as USER with USER's
# supplementary group, HOME set and no XDG_RUNTIME_DIR; reload; stop.
#
# supervisor="supervise-daemon" (conf.d): start returns once the broker
# answers (start_post); the broker is supervise-daemon's child; killed
# (SIGKILL), it is started again and serves (a new pid in its pidfile, the
# socket answering); reload; stop leaves no broker and no supervisor.
#
#   openrc.sh INIT_DIR SBINDIR BINDIR BROKER CTL FAKE_DAEMON
set -euo pipefail

init=$1
sbindir=$2
bindir=$3
broker=$(realpath "$4")
ctl=$(realpath "$5")
fake=$(realpath "$6")
NAME="init-openrc"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- Inside the namespace (VB_ORC_T set): the test proper. ----
inside() {
	local t=$VB_ORC_T cg=${VB_ORC_CG:-} root=$VB_ORC_T/root
	LOGFILE=$t/openrc.log
	broker=$t/sbin/virt-broker	# the copy the script runs

	mount --make-rprivate /
	mount -t tmpfs -o mode=0755 tmpfs /run
	# The state directory as `openrc` makes it at boot, in runlevel
	# default (softlevel: without it openrc-run refuses to start).
	local d
	for d in daemons exclusive failed hotplugged inactive init.d options \
		scheduled started starting stopping tmp wasinactive; do
		mkdir -p "/run/openrc/$d"
	done
	echo default >/run/openrc/softlevel
	# lowerdir only: read-only, nothing written below them.
	mount -t overlay overlay -o "lowerdir=$root/lib:/usr/lib" /usr/lib || {
		echo "SKIP: cannot mount an overlay (overlayfs) on /usr/lib"
		exit 77
	}
	mount -t overlay overlay -o "lowerdir=$root/sbin:/usr/sbin" /usr/sbin
	mount -t overlay overlay -o "lowerdir=$t/etc:/etc" /etc
	if [[ -n $cg ]]; then
		mkdir "$t/cg"
		mount --bind "$cg" "$t/cg"
		mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup
		mkdir /sys/fs/cgroup/unified
		mount --move "$t/cg" /sys/fs/cgroup/unified
	elif [[ -d /sys/fs/cgroup ]]; then
		mount -t tmpfs -o mode=0755 tmpfs /sys/fs/cgroup
	fi

	local rl=/run/libvirt
	rc() {	# ACTION [SERVICE]: the script's exit status; its output in LOGFILE
		local r=0 svc=${2:-virt-broker}
		echo "### $svc $1" >>"$LOGFILE"
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			"/etc/init.d/$svc" "$1" >>"$LOGFILE" 2>&1 || r=$?
		echo "$r"
	}
	hello_at() {	# PATH: the pid of the daemon that answers
		socat -t 5 - "UNIX-CONNECT:$1" </dev/null 2>/dev/null |
			sed -n 's/^hello //p'
	}
	hello() { hello_at "$rl/$1"; }	# SOCKET in /run/libvirt
	in_cgroup() {	# PID: in the service's cgroup (if cgroups are used)
		[[ -z $cg ]] ||
			grep -qx "$1" /sys/fs/cgroup/unified/virt-broker/cgroup.procs
	}

	[[ $(rc status) == 3 ]] || die "status before start is not 3"
	[[ $(rc reload) == 1 ]] || die "reload before start is not refused (1)"
	[[ $(rc start) == 0 ]] || die "start failed"
	# -d: start returns once every socket is bound.
	[[ -S $rl/sock-a ]] || die "start returned before $rl/sock-a was bound"
	local pid
	pid=$(cat /run/virt-broker.pid 2>/dev/null) || die "no /run/virt-broker.pid"
	[[ $(readlink "/proc/$pid/exe") == "$broker" ]] ||
		die "/run/virt-broker.pid ($pid) is not the broker"
	[[ -e /run/openrc/started/virt-broker ]] || die "not marked started"
	for d in dbus vb-logger iscsid; do
		[[ -e /run/openrc/started/$d && -f $t/started.$d ]] ||
			die "$d (used, in the runlevel) was not started first"
	done
	[[ $(/lib/rc/bin/rc-depend -t iafter libvirt-guests) == *virt-broker* ]] ||
		die "libvirt-guests does not come after virt-broker"
	# the firewall's restore and NFS come first when both start
	for d in iptables nfs; do
		[[ $(/lib/rc/bin/rc-depend -t ibefore "$d") == *virt-broker* ]] ||
			die "virt-broker does not come after $d"
	done
	in_cgroup "$pid" || die "broker $pid is not in the service's cgroup"
	log "started: broker $pid (dbus, the logger and iscsid first; after iptables and nfs; libvirt-guests after)"

	[[ $(rc start) == 0 ]] || die "a second start is not exit 0"
	[[ $(<"/run/virt-broker.pid") == "$pid" ]] ||
		die "a second start replaced the broker"
	[[ $(pgrep -c -f -- "-f $t/broker.conf") == 1 ]] || die "two brokers run"
	[[ $(rc status) == 0 ]] || die "status while started is not 0"
	log "second start: exit 0, broker $pid still the only one; status 0"

	[[ ! -e $rl/sock-b ]] || die "$rl/sock-b exists before the reload"
	cat >>"$t/broker.conf" <<-CONF
	[fake2]
	exec = $fake
	socket = b.socket sock-b
	CONF
	[[ $(rc reload) == 0 ]] || die "reload failed"
	wait_for test -S "$rl/sock-b"
	[[ $(<"/run/virt-broker.pid") == "$pid" ]] || die "reload replaced the broker"
	kill -0 "$pid" || die "reload killed the broker"
	log "reload: the new unit's socket is bound by broker $pid"

	# upgrade: the binary replaced (a new inode), the broker execs it in
	# place (SIGUSR2): same pid, sockets kept, /proc/PID/exe the new file.
	install -m 0755 "$broker" "$broker.new" && mv "$broker.new" "$broker"
	[[ $(readlink "/proc/$pid/exe") == *"(deleted)" ]] || die "the binary was not replaced"
	[[ $(rc upgrade) == 0 ]] || die "upgrade failed"
	wait_for exe_is "$pid" "$broker"
	[[ $(<"/run/virt-broker.pid") == "$pid" ]] || die "upgrade replaced the broker"
	[[ -S $rl/sock-a && -S $rl/sock-b ]] || die "a socket is gone after the upgrade"
	[[ $(rc status) == 0 ]] || die "status after the upgrade is not 0"
	log "upgrade: broker $pid re-executed the new binary, sockets kept"

	local a h t0 t1 where
	a=$(hello sock-a)
	h=$(hello sock-h)
	[[ -n $a && -n $h ]] || die "no answer on sock-a ($a) or sock-h ($h)"
	in_cgroup "$h" || die "helper $h is not in the service's cgroup"
	t0=$(now_ms)
	[[ $(rc stop) == 0 ]] || die "stop failed"
	t1=$(now_ms)
	pid_gone "$pid" || die "stop returned while broker $pid runs"
	pid_gone "$a" || die "stop returned while daemon $a runs"
	[[ ! -e /run/virt-broker.pid ]] || die "the pidfile outlived the broker"
	pid_gone "$h" && die "the helper $h (stop_on_exit = no) was killed"
	in_cgroup "$h" || die "helper $h left the service's cgroup"
	where=${cg:+" in the service cgroup"}
	log "stop: $((t1 - t0)) ms; broker $pid and daemon $a gone, helper $h runs on$where"

	[[ $(rc stop) == 0 ]] || die "a second stop is not exit 0"
	[[ $(rc status) == 3 ]] || die "status after stop is not 3"
	log "second stop: exit 0; status 3"

	[[ $(rc start) == 0 ]] || die "start after stop failed"
	pid=$(<"/run/virt-broker.pid")
	[[ $(rc restart) == 0 ]] || die "restart failed"
	pid_gone "$pid" || die "restart left broker $pid running"
	[[ $(readlink "/proc/$(<"/run/virt-broker.pid")/exe") == "$broker" ]] ||
		die "no broker after restart"
	[[ -S $rl/sock-a && $(rc status) == 0 ]] || die "restart: not serving"
	[[ $(rc stop) == 0 ]] || die "stop after restart failed"
	log "restart: a new broker; stopped"
	kill -TERM "$h"
	wait_for pid_gone "$h"

	# ---- A user's broker: virt-broker.USER.
	local u=$VB_ORC_USER us=virt-broker.$VB_ORC_USER upid gid
	local ur=$t/home/.cache/libvirt
	[[ $(rc start "$us") == 0 ]] || die "start of $us failed"
	[[ -S $ur/sock-u ]] || die "$us: start returned before $ur/sock-u was bound"
	upid=$(cat "/run/$us/virt-broker.pid" 2>/dev/null) || die "no /run/$us/virt-broker.pid"
	[[ $(readlink "/proc/$upid/exe") == "$broker" ]] || die "/run/$us/virt-broker.pid ($upid) is not a broker"
	[[ $(awk '/^Uid:/ { print $2 }' "/proc/$upid/status") == "$(id -u "$u")" ]] ||
		die "$us: broker $upid does not run as $u"
	gid=$(getent group "$VB_ORC_GROUP" | cut -d: -f3)
	grep -qE "^Groups:.*\b$gid\b" "/proc/$upid/status" ||
		die "$us: broker $upid lost the supplementary group $VB_ORC_GROUP"
	tr '\0' '\n' <"/proc/$upid/environ" | grep -qx "HOME=$t/home" ||
		die "$us: broker $upid's HOME is not $t/home"
	tr '\0' '\n' <"/proc/$upid/environ" | grep -q '^XDG_RUNTIME_DIR=' &&
		die "$us: broker $upid has an XDG_RUNTIME_DIR"
	[[ -n $(hello_at "$ur/sock-u") ]] || die "$us: no answer on $ur/sock-u"
	[[ $(rc status "$us") == 0 ]] || die "$us: status while started is not 0"
	[[ $(rc reload "$us") == 0 ]] || die "$us: reload failed"
	[[ $(rc stop "$us") == 0 ]] || die "$us: stop failed"
	pid_gone "$upid" || die "$us: stop returned while broker $upid runs"
	[[ $(rc status "$us") == 3 ]] || die "$us: status after stop is not 3"
	log "$us: broker $upid ran as $u (group $VB_ORC_GROUP, HOME, no XDG_RUNTIME_DIR), served $ur/sock-u; stopped"

	# ---- supervise-daemon: the broker started again when it dies.
	echo 'supervisor="supervise-daemon"' >"$t/supervisor"
	[[ $(rc start) == 0 ]] || die "start under supervise-daemon failed"
	# start_post: it returned once the broker answered.
	[[ -S $rl/sock-a ]] || die "supervise-daemon: start returned before $rl/sock-a was bound"
	pid=$(<"/run/virt-broker.pid")
	[[ $(ps -o args= -p "$(ps -o ppid= -p "$pid" | tr -d ' ')") == "supervise-daemon virt-broker "* ]] ||
		die "broker $pid is not supervise-daemon's child"
	a=$(hello sock-a)
	[[ -n $a ]] || die "supervise-daemon: no answer on sock-a"
	kill -KILL "$pid"
	# shellcheck disable=SC2317 # called by wait_for
	respawned() {
		local p
		p=$(cat /run/virt-broker.pid 2>/dev/null) &&
			[[ $p != "$pid" ]] && exe_is "$p" "$broker"
	}
	wait_for respawned
	[[ $(hello sock-a) == "$a" ]] || die "after the respawn another daemon answers sock-a"
	[[ $(rc status) == 0 ]] || die "supervise-daemon: status after the respawn is not 0"
	local p2
	p2=$(<"/run/virt-broker.pid")
	[[ $(rc reload) == 0 ]] || die "supervise-daemon: reload failed"
	[[ $(rc stop) == 0 ]] || die "stop under supervise-daemon failed"
	pid_gone "$p2" || die "supervise-daemon: stop returned while broker $p2 runs"
	pgrep -f '^supervise-daemon virt-broker ' >/dev/null &&
		die "supervise-daemon runs after the stop"
	[[ $(rc status) == 3 ]] || die "supervise-daemon: status after stop is not 3"
	log "supervise-daemon: broker $pid killed, $p2 started again, adopted daemon $a; stopped"
	kill -TERM "$a" 2>/dev/null || true
	log "ok"
}

if [[ -n ${VB_ORC_T:-} ]]; then
	inside
	exit 0
fi

# ---- Outside: fetch OpenRC, prepare /etc, enter the namespace. ----
# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP: mounts and openrc-run need root"; exit 77; }
need start-stop-daemon dpkg
need unshare util-linux
need socat socat
need useradd passwd
command -v apt-get >/dev/null || { echo "SKIP: no apt-get to fetch openrc"; exit 77; }

T=$(mktemp -d /tmp/vb-openrc.XXXXXX)
chmod 0755 "$T"		# the test user reaches its home and its config
CG=
U='' G=''		# the test user and its supplementary group
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$? d
	trap - EXIT
	set +e
	# Whatever still runs from this test names $T on its command line.
	pkill -KILL -f -- "$T/" 2>/dev/null
	if [[ -n $CG ]]; then
		for d in "$CG"/*/ "$CG/"; do
			[[ -f $d/cgroup.kill ]] && echo 1 >"$d/cgroup.kill"
		done
		local end=$(($(now_ms) + 5000))
		while grep -q '^populated 1' "$CG/cgroup.events" &&
			(($(now_ms) < end)); do
			sleep 0.05
		done
		rmdir "$CG"/*/ "$CG" 2>/dev/null
	fi
	[[ -n $U ]] && userdel "$U" 2>/dev/null
	[[ -n $G ]] && groupdel "$G" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

# openrc and its own libraries (librc1, libeinfo1 in Debian 12); the
# other libraries it links (PAM, audit, SELinux) are in every Debian.
mkdir "$T/deb"
mapfile -t pkgs < <(apt-cache depends openrc 2>/dev/null |
	sed -n 's/^ *Depends: \(lib\(rc\|einfo\)[^ ]*\).*/\1/p')
pkgs=(openrc "${pkgs[@]}")
(cd "$T/deb" && apt-get download "${pkgs[@]}") >/dev/null 2>&1 || {
	echo "SKIP: apt-get download ${pkgs[*]} failed"
	exit 77
}
for deb in "$T"/deb/*.deb; do
	dpkg-deb -x "$deb" "$T/root"
done
[[ -x $T/root/sbin/openrc-run && -d $T/root/lib/rc/sh ]] || {
	echo "SKIP: not Debian 12's openrc layout (/sbin/openrc-run, /lib/rc/sh)"
	exit 77
}
log "$(dpkg-deb -f "$T"/deb/openrc_*.deb Package Version | tr '\n' ' ')unpacked"

# /etc as the namespace sees it, over the machine's.
e=$T/etc
mkdir -p "$e/init.d" "$e/conf.d" "$e/runlevels/default" "$T/sbin" "$T/bin"
# A copy, which the upgrade step replaces as a package manager would; the
# others where the test user reaches them.
install -m 0755 "$broker" "$T/sbin/virt-broker"
install -m 0755 "$ctl" "$T/bin/virt-brokerctl"
install -m 0755 "$fake" "$T/bin/fake-daemon"
localize "$init/openrc/virt-broker" "$e/init.d/virt-broker" \
	"$sbindir/virt-broker" "$T/sbin/virt-broker" \
	"$bindir/virt-brokerctl" "$T/bin/virt-brokerctl"
# rc.conf: what a distribution may set globally, and the script must
# override (cgroup cleanup would kill the helper).
echo 'rc_cgroup_cleanup="YES"' >"$e/rc.conf"
# conf.d as the packages install it (all commented out), plus the options.
# supervisor="supervise-daemon" comes from $T/supervisor once the test
# writes it (/etc is read-only in the namespace).
{
	cat "$init/openrc/virt-broker.confd"
	echo "VIRT_BROKER_OPTS=\"-f $T/broker.conf\""
	echo "if [ -r $T/supervisor ]; then . $T/supervisor; fi"
} >"$e/conf.d/virt-broker"

# A user's broker: a test user in a supplementary group of its own, the
# multiplexed link virt-broker.USER and its conf.d.
G=vborcg$$
groupadd "$G"
useradd -M -d "$T/home" -s /usr/sbin/nologin -G "$G" "vborc$$"
U=vborc$$
install -d -o "$U" "$T/home"
ln -s virt-broker "$e/init.d/virt-broker.$U"
echo "VIRT_BROKER_OPTS=\"-f $T/user.conf\"" >"$e/conf.d/virt-broker.$U"
cat >"$T/user.conf" <<CONF
[broker]
search_path = /nonexistent
publish = none
[fake]
exec = $T/bin/fake-daemon
socket = u.socket sock-u
CONF
chmod 0644 "$T/user.conf"
# Stand-ins for the services depend() names: dbus and a logger in the
# runlevel (used: started first), libvirt-guests (after us).
standin() {	# NAME [DEPEND]
	cat >"$e/init.d/$1" <<-EOF
	#!/sbin/openrc-run
	depend() { ${2:-:}; }
	start() { ebegin "Starting \$RC_SVCNAME"; : >"$T/started.\$RC_SVCNAME"; eend 0; }
	stop() { ebegin "Stopping \$RC_SVCNAME"; eend 0; }
	EOF
	chmod 0755 "$e/init.d/$1"
}
standin dbus
standin vb-logger "provide logger"
standin iscsid
standin iptables
standin nfs
standin libvirt-guests
ln -s /etc/init.d/dbus /etc/init.d/vb-logger /etc/init.d/iscsid \
	"$e/runlevels/default/"
ln -s /etc/init.d/virt-broker "$e/runlevels/default/"
cat >"$T/broker.conf" <<CONF
[broker]
search_path = /nonexistent
publish = none
log_dir = $T/log
[fake]
exec = $fake
args = --ignore-term --pidfile $T/fake.pid
socket = a.socket sock-a
stop_timeout = 6
[helper]
exec = $fake
args = --pidfile $T/helper.pid
socket = h.socket sock-h
stop_on_exit = no
CONF

# A cgroup2 subtree of the test's own for the service's cgroup, if the
# machine has cgroup2 and lets root write it; otherwise no cgroups.
cg2=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1)
if [[ -n $cg2 && -w $cg2/cgroup.procs ]] && mkdir "$cg2/vb-openrc.$$" 2>/dev/null; then
	CG=$cg2/vb-openrc.$$
else
	log "no writable cgroup2: the cgroup checks are left out"
fi

r=0
VB_ORC_T=$T VB_ORC_CG=$CG VB_ORC_USER=$U VB_ORC_GROUP=$G \
	unshare -m -- "$0" "$@" || r=$?
exit "$r"
