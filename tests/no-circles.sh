#!/bin/sh
# SPDX-License-Identifier: MIT
# No circle between the broker's files: from the objects of the libraries
# given (nm), an arrow A -> B wherever A.o needs a symbol B.o defines; any
# cycle among them is printed and fails. Function pointers (sup_hooks) are
# data and make no arrow back.
#
#   no-circles.sh LIB.a...
set -eu
[ $# -gt 0 ] || { echo "usage: $0 LIB.a..." >&2; exit 2; }

defs=$(mktemp)
uses=$(mktemp)
trap 'rm -f "$defs" "$uses"' EXIT
for lib in "$@"; do
	# "lib.a:file.o: T name" / "lib.a:file.o:          U name"
	nm -A --defined-only "$lib" 2>/dev/null |
		awk '$2 ~ /^[TDBRC]$/ { split($1, p, ":"); print p[2], $3 }' >>"$defs"
	nm -A -u "$lib" 2>/dev/null |
		awk '{ split($1, p, ":"); print p[2], $NF }' >>"$uses"
done
awk '
	FNR == NR { owner[$2] = $1; next }
	($2 in owner) && owner[$2] != $1 {
		e = $1 " " owner[$2]
		if (!(e in seen)) { seen[e] = 1; adj[$1] = adj[$1] " " owner[$2] }
	}
	function visit(n, path,    k, m, list) {
		if (state[n] == 2) return 0
		if (state[n] == 1) { print "circle: " path " -> " n; return 1 }
		state[n] = 1
		m = split(adj[n], list, " ")
		for (k = 1; k <= m; k++)
			if (visit(list[k], path " -> " n)) bad = 1
		state[n] = 2
		return 0
	}
	END {
		for (n in adj) visit(n, "")
		if (bad) exit 1
		print "no-circles: " length(seen) " arrows between files, no circle"
	}' "$defs" "$uses"
