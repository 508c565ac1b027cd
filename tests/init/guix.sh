#!/bin/bash
# SPDX-License-Identifier: MIT
# The Guix files, evaluated by Debian's Guile 3.0 against stand-in modules
# (tests/init/guix-standins): guix.scm must evaluate to the virt-broker
# package (name, CMakeLists.txt's version, inputs, configure flags, the
# unit-test check phase, the checkout as source), and the Shepherd
# services of conf/init/shepherd/ to the records and code Shepherd would
# get. Their start, stop and reload code then runs against a stand-in
# (shepherd service) and a stand-in passwd/group database: the command line,
# environment, user and groups each service starts the broker with, the
# stop's grace period, reload as SIGHUP under Shepherd 0.10 (pid) and 1.0
# (process record), the home service leaving alone a broker that already
# answers; the generated configuration files are read by the built broker
# (virt-broker -n); the system service's profile (libvirt, qemu,
# dmidecode) and its /etc/qemu/firmware, whose builder runs against a stand-in
# union-build. guix-eval.scm has the list of checks.
#
# What could not be run here: Guix itself and the Shepherd are not on
# Debian, so nothing is built (`guix build -f guix.scm`), no operating
# system is instantiated (`guix system reconfigure`: the service graph,
# that dbus-system and user-homes exist, the /etc files in place), no
# Shepherd runs a service (fork/exec as the user with the groups, SIGKILL
# after the grace period, respawn, `herd reload`), no Guix Home runs.
# The stand-ins stand for Guix's and Shepherd's interfaces as read from their
# sources (record fields, keyword arguments, the gexp reader syntax): the
# names and behaviour they assume, not Guix's, are what is checked; in
# particular that Guix's packages are named libev, libinih, check and
# pkg-config, that qemu, dmidecode and ovmf-x86-64 come from (gnu packages
# virtualization), (gnu packages admin) and (gnu packages firmware) and
# that OVMF's firmware descriptions are in its share/qemu/firmware (as
# Guix's own libvirt-service-type assumes), and that Shepherd 1.0's
# process-id is reached as modelled.
#
#   guix.sh SOURCE_DIR BUILD_DIR VIRT_BROKER
set -euo pipefail

src=$1
build=$2
broker=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
need guile-3.0 guile-3.0

T=$(mktemp -d /tmp/vb-guix.XXXXXX)
trap 'rm -rf "$T"' EXIT

fail=0
# The check phase in guix.scm runs `ctest -L unit`: there must be such tests.
n=$(cd "$build" && ctest -N -L unit | sed -n 's/^Total Tests: //p')
if [[ ${n:-0} -gt 0 ]]; then
	echo "ok: ctest -L unit selects $n tests (guix.scm's check phase)"
else
	echo "FAIL: ctest -L unit selects no test (guix.scm's check phase)"
	fail=1
fi

GUILE_AUTO_COMPILE=0 guile-3.0 --no-auto-compile -L "$here/guix-standins" \
	"$here/guix-eval.scm" "$src" "$broker" "$T" || fail=1
exit "$fail"
