#!/bin/bash
# SPDX-License-Identifier: MIT
# The init-system files as generated into BUILD_DIR/init (conf/init/*.in
# with the configured install paths): every shell script parses (sh -n) and
# is clean under shellcheck, none is left with an @VAR@ or runs a program
# from another prefix than the configured one, the Shepherd files read as
# Guile, the system runit service waits for dbus where there is one, and
# `cmake --install` into a DESTDIR puts the binary, man pages,
# example config and init files where the README says.
#
#   check-files.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

src=$1
build=$2
init=$build/init
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

check_sh() {	# FILE [SHELLCHECK ARGS...]
	local f=$1
	shift
	sh -n "$f" || bad "$f: sh -n"
	shellcheck -s sh "$@" "$f" || bad "$f: shellcheck"
}

# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
need shellcheck shellcheck
need guile-3.0 guile-3.0

# An OpenRC service script is POSIX sh run by openrc-run, which reads the
# variables it sets (description, command, command_args, pidfile,
# extra_started_commands) and provides functions (ebegin, eend) and
# variables (RC_SVCNAME). shellcheck sees those variables as unused:
# SC2034 is excluded for that file, and only it.
check_sh "$init/openrc/virt-broker" -e SC2034
check_sh "$init/openrc/virt-broker.confd"
check_sh "$init/sysvinit/virt-broker"
check_sh "$init/default/virt-broker"
for svc in virt-broker virt-broker-user; do
	for f in run check log/run control/1 control/a control/q control/t; do
		check_sh "$init/runit/$svc/$f"
		[[ -x $init/runit/$svc/$f ]] || bad "not executable: runit/$svc/$f"
	done
done
check_sh "$init/s6/virt-broker/run"
check_sh "$init/s6/virt-broker/log/run"
check_sh "$init/s6/virt-broker-log/run"
check_sh "$init/profile/virt-broker.sh"
check_sh "$init/profile/virt-broker-autostart"
[[ -x $init/profile/virt-broker-autostart ]] || bad "not executable: profile/virt-broker-autostart"
# The system runit service waits for dbus (its daemons' polkit needs the
# bus) where a dbus service exists, and only there: its run script, with a
# stand-in sv on PATH answering as runit's does and the broker replaced by
# a stand-in daemon that says it started.
sv_t=$(mktemp -d)
printf '#!/bin/sh\necho started\n' >"$sv_t/broker"
# shellcheck disable=SC2016 # expanded by the stand-in, from its environment
printf '#!/bin/sh\necho "$SV_SAYS"\nexit "$SV_EXIT"\n' >"$sv_t/sv"
chmod 0755 "$sv_t/broker" "$sv_t/sv"
sed "s|/[^ ]*sbin/virt-broker|$sv_t/broker|" "$init/runit/virt-broker/run" >"$sv_t/run"
run_with_sv() {	# EXIT SAYS: the run script's output and status
	(cd "$sv_t" && PATH=$sv_t:$PATH SV_EXIT=$1 SV_SAYS=$2 sh ./run; echo "status $?")
}
[[ $(run_with_sv 0 "ok: run: dbus: (pid 10) 5s") == $'started\nstatus 0' ]] ||
	bad "runit/virt-broker/run does not start once dbus is up"
[[ $(run_with_sv 1 "fail: dbus: unable to change to service directory: file does not exist") == $'started\nstatus 0' ]] ||
	bad "runit/virt-broker/run waits for a dbus service the host does not have"
out=$(run_with_sv 1 "warning: dbus: unable to open supervise/ok: file does not exist")
[[ $out == *"waiting for dbus"*$'\nstatus 1' && $out != *started* ]] ||
	bad "runit/virt-broker/run starts before dbus is up: $out"
rm -rf "$sv_t"

# The XDG autostart entry: a desktop entry whose Exec is the helper, by its
# installed path.
if ! grep -qx '\[Desktop Entry\]' "$init/profile/virt-broker.desktop" ||
	! grep -qx 'Type=Application' "$init/profile/virt-broker.desktop" ||
	! grep -qx 'Exec=/.*/virt-broker/init/profile/virt-broker-autostart' \
		"$init/profile/virt-broker.desktop"; then
	bad "profile/virt-broker.desktop is no autostart entry of the helper"
fi
if command -v desktop-file-validate >/dev/null; then
	desktop-file-validate "$init/profile/virt-broker.desktop" >&2 ||
		bad "desktop-file-validate profile/virt-broker.desktop"
fi
# The configured prefix, read from the cache, not guessed.
sbindir=$(sed -n 's/^CMAKE_INSTALL_SBINDIR:PATH=//p' "$build/CMakeCache.txt")
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[[ $sbindir == /* ]] || sbindir=$prefix/$sbindir
if grep -rn '@[A-Za-z_]*@' "$init" >&2; then
	bad "an @VAR@ left in the generated files"
fi
# Guix runs the broker from its package (file-append), whatever the prefix.
while IFS= read -r hit; do
	bad "a virt-broker outside $sbindir: $hit"
done < <(grep -rnoE --exclude-dir=shepherd '/[^ "]*sbin/virt-broker' "$init" | grep -v ":$sbindir/virt-broker\$")
grep -q '^### BEGIN INIT INFO' "$init/sysvinit/virt-broker" ||
	bad "sysvinit script without LSB header"
[[ $(<"$init/s6/virt-broker/notification-fd") == 3 ]] ||
	bad "s6 notification-fd is not 3"
grep -q -- '--ready-fd 3' "$init/s6/virt-broker/run" ||
	bad "the s6 run script does not pass --ready-fd 3"

# Debian's Guile 3.0 reads every form until EOF, as installed. The files
# use Guix's modules ((gnu services), (guix gexp)), which Debian does not
# ship: init-guix (guix.sh) evaluates them against stand-ins; here they are
# parsed only. Guix's reader adds #~ (gexp), #$ (ungexp) and #+: registered
# here the way (guix gexp) does.
read_all='
(for-each (lambda (c)
            (read-hash-extend c (lambda (chr port) (list (quote gexp) (read port)))))
          (list #\~ #\$ #\+))
(call-with-input-file (cadr (command-line))
  (lambda (port)
    (let loop ((form (read port)) (n 0))
      (if (eof-object? form)
          (when (< n 2) (error "too few forms" n))
          (loop (read port) (+ n 1))))))'
for f in "$init"/shepherd/*.scm; do
	guile-3.0 --no-auto-compile -c "$read_all" "$f" || bad "$f: guile cannot read it"
done

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" --prefix /usr >/dev/null ||
	bad "cmake --install into DESTDIR failed"
for f in usr/sbin/virt-broker usr/bin/virt-brokerctl \
	usr/share/man/man1/virt-brokerctl.1 usr/share/man/man8/virt-broker.8 \
	usr/share/man/man5/virt-broker.conf.5 \
	usr/share/doc/virt-broker/examples/virt-broker.conf \
	usr/share/virt-broker/init/openrc/virt-broker \
	usr/share/virt-broker/init/openrc/virt-broker.confd \
	usr/share/virt-broker/init/sysvinit/virt-broker \
	usr/share/virt-broker/init/runit/virt-broker/run \
	usr/share/virt-broker/init/runit/virt-broker-user/run \
	usr/share/virt-broker/init/s6/virt-broker/run \
	usr/share/virt-broker/init/s6/virt-broker/notification-fd \
	usr/share/virt-broker/init/s6/virt-broker/type \
	usr/share/virt-broker/init/s6/virt-broker/log/run \
	usr/share/virt-broker/init/s6/virt-broker-log/run \
	usr/share/virt-broker/init/runit/virt-broker/check \
	usr/share/virt-broker/init/runit/virt-broker/log/run \
	usr/share/virt-broker/init/runit/virt-broker/control/1 \
	usr/share/virt-broker/init/runit/virt-broker/control/t \
	usr/share/virt-broker/init/runit/virt-broker-user/conf \
	usr/share/virt-broker/init/shepherd/virt-broker-system.scm \
	usr/share/virt-broker/init/shepherd/virt-broker-home.scm \
	usr/share/virt-broker/init/profile/virt-broker.sh \
	usr/share/virt-broker/init/profile/virt-broker.desktop \
	usr/share/virt-broker/init/default/virt-broker; do
	[[ -f $dest/$f ]] || bad "not installed: /$f"
done
for f in usr/sbin/virt-broker usr/bin/virt-brokerctl \
	usr/share/virt-broker/init/runit/virt-broker/run \
	usr/share/virt-broker/init/runit/virt-broker-user/run \
	usr/share/virt-broker/init/s6/virt-broker/run \
	usr/share/virt-broker/init/sysvinit/virt-broker \
	usr/share/virt-broker/init/openrc/virt-broker \
	usr/share/virt-broker/init/profile/virt-broker-autostart; do
	[[ -x $dest/$f ]] || bad "not executable: /$f"
done
cmp -s "$dest/usr/share/doc/virt-broker/examples/virt-broker.conf" \
	"$src/conf/virt-broker.conf" || bad "installed example config differs"
diff -r "$init" "$dest/usr/share/virt-broker/init" >&2 ||
	bad "the installed init files differ from the generated ones"

((fail == 0)) && echo "init files: ok"
exit "$fail"
