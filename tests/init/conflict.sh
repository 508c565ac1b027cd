#!/bin/bash
# SPDX-License-Identifier: MIT
# The system broker next to the distribution's own libvirt services: it
# names the service to disable, with that init system's command.
#
# In a private mount namespace (unshare -m), a tmpfs over /etc/rc2.d holds
# sysvinit start links for libvirtd and virtlogd (as Devuan's
# libvirt-daemon-system-sysv enables them); the machine's /etc is left
# alone. The broker runs in system mode on a temporary runtime dir, with a
# modular "virtqemud" (the fake daemon) in its search path.
#
# Checked: with a monolithic "libvirtd" (the fake daemon under that name)
# serving RUNTIME_DIR/libvirt-sock, the broker refuses (exit 1), naming the
# libvirtd, the link that starts it and `update-rc.d libvirtd disable &&
# service libvirtd stop`, and warns about virtlogd's link with its own
# command; it binds nothing. Without libvirtd's link it says that no init
# system starts a libvirtd, and to kill that pid. With libvirtd gone it
# starts, serves, and has warned about virtlogd once, not about libvirtd.
#
#   conflict.sh BROKER FAKE_DAEMON
set -euo pipefail

broker=$(realpath "$1")
fake=$(realpath "$2")
NAME="init-conflict"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ---- Inside the namespace (VB_CONFLICT_T set): the test proper. ----
inside() {
	local t=$VB_CONFLICT_T rc=0 lpid bpid
	local run=$t/run err=$t/broker.err
	LOGFILE=$err

	mount --make-rprivate /
	mkdir -p /etc/rc2.d
	mount -t tmpfs -o mode=0755 tmpfs /etc/rc2.d
	ln -s ../init.d/libvirtd /etc/rc2.d/S01libvirtd
	ln -s ../init.d/virtlogd /etc/rc2.d/S01virtlogd

	"$t/bin/libvirtd" --listen "$run/libvirt-sock" &
	lpid=$!
	wait_for test -S "$run/libvirt-sock"

	"$broker" --system -f "$t/broker.conf" 2>"$err" || rc=$?
	((rc == 1)) || die "the broker started next to libvirtd $lpid (status $rc)"
	grep -qF "a monolithic libvirtd (pid $lpid) serves $run/libvirt-sock: it conflicts with the modular daemons, as libvirt's own units declare; disable the service that starts it and stop it: sysvinit starts it (/etc/rc2.d/S01libvirtd): update-rc.d libvirtd disable && service libvirtd stop; then start virt-broker" "$err" ||
		die "the refusal does not name libvirtd's service and its command"
	grep -qF "warning: sysvinit starts virtlogd at boot (/etc/rc2.d/S01virtlogd): it races this broker for $run; disable it: update-rc.d virtlogd disable && service virtlogd stop" "$err" ||
		die "no warning naming virtlogd's service and its command"
	[[ ! -e $run/virtqemud-sock ]] || die "the refused broker bound $run/virtqemud-sock"
	log "refused next to libvirtd $lpid, naming /etc/rc2.d/S01libvirtd and update-rc.d; warned about virtlogd"

	rm /etc/rc2.d/S01libvirtd
	rc=0
	"$broker" --system -f "$t/broker.conf" 2>"$err" || rc=$?
	((rc == 1)) || die "the broker started next to libvirtd $lpid (status $rc)"
	grep -qF "stop it (kill $lpid): no init system here starts a libvirtd at boot" "$err" ||
		die "without a service, the refusal does not say to kill $lpid"
	log "no libvirtd service: the refusal says to kill $lpid"

	kill -TERM "$lpid"
	wait "$lpid" || true
	"$broker" --system -f "$t/broker.conf" 2>"$err" &
	bpid=$!
	wait_for test -S "$run/virtqemud-sock"
	[[ $(grep -c 'warning: sysvinit starts virtlogd at boot' "$err") == 1 ]] ||
		die "not one warning about virtlogd"
	grep -q 'starts libvirtd' "$err" && die "a warning about libvirtd, whose link is gone"
	kill -TERM "$bpid"
	wait "$bpid" || die "the broker exited with status $?"
	log "without libvirtd: serves, warned once about virtlogd; ok"
}

if [[ -n ${VB_CONFLICT_T:-} ]]; then
	inside
	exit 0
fi

# ---- Outside: the binaries and the config, then the namespace. ----
# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
[[ $(id -u) == 0 ]] || { echo "SKIP: system mode and mounts need root"; exit 77; }
need unshare util-linux

T=$(mktemp -d /tmp/vb-conflict.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT
	set +e
	pkill -KILL -f -- "$T/" 2>/dev/null
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
# A modular daemon in the search path, and libvirtd by its name (comm).
install -d "$T/sbin" "$T/bin" "$T/run"
install -m 0755 "$fake" "$T/sbin/virtqemud"
install -m 0755 "$fake" "$T/bin/libvirtd"
cat >"$T/broker.conf" <<CONF
[broker]
runtime_dir = $T/run
search_path = $T/sbin
publish = none
log_dir = $T/log
holder_timeout = 0
[virtqemud]
start = on-demand
args = --pidfile $T/virtqemud.pid
CONF

r=0
VB_CONFLICT_T=$T unshare -m -- "$0" "$@" || r=$?
exit "$r"
