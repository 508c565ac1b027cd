#!/bin/sh
# SPDX-License-Identifier: MIT
# The man pages lint clean, virt-broker.conf(5) documents exactly the keys
# the parser accepts, and its example is conf/virt-broker.conf verbatim.
set -eu
top=${1:-$(dirname "$0")/..}
cd "$top"
fail=0
for page in man/*.[0-9]; do
	if ! mandoc -Tlint -Wwarning "$page"; then
		echo "man-check: $page: mandoc lint warnings" >&2
		fail=1
	fi
done
parsed=$(grep -ho 'strcmp(key, "[a-z_]*")' broker/core/config*.c |
	sed 's/.*"\(.*\)".*/\1/' | sort -u)
documented=$(grep -o '^\.It Ic [a-z_]*' man/virt-broker.conf.5 |
	sed 's/^\.It Ic //' | sort -u)
if [ "$parsed" != "$documented" ]; then
	echo "man-check: keys parsed vs documented in virt-broker.conf.5:" >&2
	printf '%s\n' "$parsed" > /tmp/man-check.parsed.$$
	printf '%s\n' "$documented" > /tmp/man-check.documented.$$
	diff /tmp/man-check.parsed.$$ /tmp/man-check.documented.$$ >&2 || true
	rm -f /tmp/man-check.parsed.$$ /tmp/man-check.documented.$$
	fail=1
fi
example=$(sed -n '/^\.Bd -literal/,/^\.Ed$/p' man/virt-broker.conf.5 |
	sed '1d;$d' | sed 's/^\\&//; s/\\e/\\/g')
if [ "$example" != "$(cat conf/virt-broker.conf)" ]; then
	echo "man-check: the EXAMPLES of virt-broker.conf.5 differ from" \
	    "conf/virt-broker.conf" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "man-check: ok"
exit "$fail"
