#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages as the build generates them (man/CMakeLists.txt) lint
# clean, none is left with an @VAR@, the FILES of virt-broker(8) and
# virt-broker.conf(5) name the system configuration under the configured
# sysconfdir, virt-broker.conf(5) documents exactly the keys the parser
# accepts, and its example is conf/virt-broker.conf verbatim.
#
#   man-check.sh SOURCE_DIR MAN_DIR SYSCONFDIR
set -eu
top=${1:-$(dirname "$0")/..}
mandir=$2
sysconfdir=$3
cd "$top"
fail=0
for page in "$mandir"/*.[0-9]; do
	if ! mandoc -Tlint -Wwarning "$page"; then
		echo "man-check: $page: mandoc lint warnings" >&2
		fail=1
	fi
	if grep -n '@[A-Za-z_]*@' "$page" >&2; then
		echo "man-check: $page: an @VAR@ left (above)" >&2
		fail=1
	fi
done
for page in virt-broker.8 virt-broker.conf.5; do
	if ! sed -n '/^\.Sh FILES/,/^\.Sh /p' "$mandir/$page" |
		grep -qx "\\.It Pa $sysconfdir/virt-broker/virt-broker.conf"; then
		echo "man-check: $page: FILES does not name" \
		    "$sysconfdir/virt-broker/virt-broker.conf" >&2
		fail=1
	fi
done
parsed=$(grep -ho 'strcmp(key, "[a-z_]*")' broker/core/config*.c |
	sed 's/.*"\(.*\)".*/\1/' | sort -u)
documented=$(grep -o '^\.It Ic [a-z_]*' "$mandir/virt-broker.conf.5" |
	sed 's/^\.It Ic //' | sort -u)
if [ "$parsed" != "$documented" ]; then
	echo "man-check: keys parsed vs documented in virt-broker.conf.5:" >&2
	printf '%s\n' "$parsed" > /tmp/man-check.parsed.$$
	printf '%s\n' "$documented" > /tmp/man-check.documented.$$
	diff /tmp/man-check.parsed.$$ /tmp/man-check.documented.$$ >&2 || true
	rm -f /tmp/man-check.parsed.$$ /tmp/man-check.documented.$$
	fail=1
fi
example=$(sed -n '/^\.Bd -literal/,/^\.Ed$/p' "$mandir/virt-broker.conf.5" |
	sed '1d;$d' | sed 's/^\\&//; s/\\e/\\/g')
if [ "$example" != "$(cat conf/virt-broker.conf)" ]; then
	echo "man-check: the EXAMPLES of virt-broker.conf.5 differ from" \
	    "conf/virt-broker.conf" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "man-check: ok"
exit "$fail"
