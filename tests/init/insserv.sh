#!/bin/bash
# SPDX-License-Identifier: MIT
# The generated sysvinit script's LSB header, read by Debian's insserv (the
# program update-rc.d uses on Devuan and Debian with sysvinit), in a dry
# run over a temporary init.d that also holds libvirt's scripts, reduced to
# the headers Debian 12's libvirt-daemon-system-sysv ships: the broker
# starts before libvirt-guests and stops after it, and insserv has no
# complaint about the header.
#
#   insserv.sh INIT_DIR
set -euo pipefail

init=$1
NAME="init-insserv"

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
export PATH=$PATH:/usr/sbin:/sbin
need insserv insserv

T=$(mktemp -d /tmp/vb-insserv.XXXXXX)
trap 'rm -rf "$T"' EXIT
d=$T/etc/init.d
mkdir -p "$d" "$T"/etc/rc{0,1,2,3,4,5,6,S}.d
cp "$init/sysvinit/virt-broker" "$d/"

lsb_script() {	# NAME PROVIDES REQUIRED-START REQUIRED-STOP
	cat >"$d/$1" <<LSB
#!/bin/sh
### BEGIN INIT INFO
# Provides:          $2
# Required-Start:    $3
# Required-Stop:     $4
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: $1 (header of Debian 12's libvirt-daemon-system-sysv)
### END INIT INFO
LSB
	chmod +x "$d/$1"
}
# $remote_fs and friends are LSB facility names, not expansions.
# shellcheck disable=SC2016
lsb_script libvirt-guests libvirt-guests '$remote_fs libvirtd' '$remote_fs libvirtd'
# shellcheck disable=SC2016
lsb_script libvirtd libvirtd '$network $local_fs $remote_fs $syslog virtlogd' \
	'$local_fs $remote_fs $syslog virtlogd'
# shellcheck disable=SC2016
lsb_script virtlogd virtlogd '$local_fs $remote_fs $syslog' '$local_fs $remote_fs $syslog'

# -n: dry run; -s: print "S|K:SEQUENCE:RUNLEVELS:SCRIPT" for every script.
out=$(insserv -n -s -p "$d" -o "$T/overrides" -c /etc/insserv.conf 2>"$T/err") ||
	die "insserv failed: $(cat "$T/err")"
if grep -i 'virt-broker' "$T/err" >&2; then
	die "insserv complains about virt-broker's header"
fi
seq_of() {	# S|K SCRIPT
	awk -F: -v k="$1" -v s="$2" '$1 == k && $4 == s { print $2 + 0; exit }' <<<"$out"
}
sb=$(seq_of S virt-broker) sg=$(seq_of S libvirt-guests)
kb=$(seq_of K virt-broker) kg=$(seq_of K libvirt-guests)
[[ -n $sb && -n $sg && -n $kb && -n $kg ]] || die "insserv did not order both: $out"
((sb < sg)) || die "virt-broker starts at S$sb, not before libvirt-guests (S$sg)"
((kg < kb)) || die "virt-broker stops at K$kb, not after libvirt-guests (K$kg)"
log "start S$sb before libvirt-guests S$sg; stop K$kb after libvirt-guests K$kg"
log "ok"
