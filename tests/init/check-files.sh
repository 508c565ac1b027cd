#!/bin/bash
# SPDX-License-Identifier: MIT
# The init-system files: every shell script parses (sh -n) and is
# clean under shellcheck, the Shepherd files read as Guile, and `cmake --install`
# into a DESTDIR puts the binary, man pages, example config and init files
# where the README says.
#
#   check-files.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

src=$1
build=$2
init=$src/conf/init
fail=0

bad() {
	echo "FAIL: $*" >&2
	fail=1
}

# OpenRC service scripts are sh with variables openrc-run reads
# (description, command, command_args, pidfile, extra_started_commands)
# and functions it provides (ebegin, eend): SC2034 and SC2154 would flag
# exactly those.
check_sh() {	# FILE [SHELLCHECK ARGS...]
	local f=$1
	shift
	sh -n "$f" || bad "$f: sh -n"
	shellcheck -s sh "$@" "$f" || bad "$f: shellcheck"
}

for tool in shellcheck guile; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is not installed (tests/run installs it)"
		exit 77
	}
done

check_sh "$init/openrc/virt-broker" -e SC2034,SC2154
check_sh "$init/sysvinit/virt-broker"
check_sh "$init/runit/virt-broker/run"
check_sh "$init/runit/virt-broker-user/run"
check_sh "$init/s6/virt-broker/run"
check_sh "$init/profile/virt-broker.sh"
grep -q '^### BEGIN INIT INFO' "$init/sysvinit/virt-broker" ||
	bad "sysvinit script without LSB header"
[[ $(<"$init/s6/virt-broker/notification-fd") == 3 ]] ||
	bad "s6 notification-fd is not 3"
grep -q -- '--ready-fd 3' "$init/s6/virt-broker/run" ||
	bad "the s6 run script does not pass --ready-fd 3"

# Guile reads every form (the Guix modules they use are not on Debian, so
# the files are parsed, not evaluated). Guix's reader adds #~ (gexp), #$
# (ungexp) and #+: registered here the way (guix gexp) does.
for f in "$init"/shepherd/*.scm; do
	guile --no-auto-compile -c "
(for-each (lambda (c)
            (read-hash-extend c (lambda (chr port) (list 'gexp (read port)))))
          (list #\\~ #\\$ #\\+))
(call-with-input-file \"$f\"
  (lambda (port)
    (let loop ((form (read port)) (n 0))
      (if (eof-object? form)
          (when (< n 2) (error \"too few forms\" n))
          (loop (read port) (+ n 1))))))" || bad "$f: guile cannot read it"
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
	usr/share/virt-broker/init/sysvinit/virt-broker \
	usr/share/virt-broker/init/runit/virt-broker/run \
	usr/share/virt-broker/init/s6/virt-broker/run \
	usr/share/virt-broker/init/s6/virt-broker/notification-fd \
	usr/share/virt-broker/init/shepherd/virt-broker-system.scm \
	usr/share/virt-broker/init/shepherd/virt-broker-home.scm \
	usr/share/virt-broker/init/profile/virt-broker.sh; do
	[[ -f $dest/$f ]] || bad "not installed: /$f"
done
for f in usr/sbin/virt-broker usr/share/virt-broker/init/runit/virt-broker/run \
	usr/share/virt-broker/init/s6/virt-broker/run \
	usr/share/virt-broker/init/openrc/virt-broker; do
	[[ -x $dest/$f ]] || bad "not executable: /$f"
done
cmp -s "$dest/usr/share/doc/virt-broker/examples/virt-broker.conf" \
	"$src/conf/virt-broker.conf" || bad "installed example config differs"

((fail == 0)) && echo "init files: ok"
exit "$fail"
