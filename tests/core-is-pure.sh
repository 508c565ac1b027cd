#!/bin/sh
# SPDX-License-Identifier: MIT
# The pure core (libbrokercore.a) calls no system: every symbol its objects
# need from outside itself and libcommon.a is memory, strings, formatting,
# stdio on a stream its caller made (a FILE * handed in, fmemopen), errno,
# abort, inih's parser, or the sanitizers' and the compiler's own.
#
#   core-is-pure.sh LIBBROKERCORE LIBCOMMON
set -eu

core=$1
common=$2
allowed='^(malloc|calloc|realloc|free|mem(chr|cmp|cpy|move|set)|str[a-z_]*|(v?as|v?sn|v?f|v?s)?printf|__isoc99_sscanf|sscanf|f?putc|fputs|getc|fgets|fmemopen|fclose|ferror|qsort|bsearch|abort|__errno_location|__assert_fail|__stack_chk_fail|__ctype_(b|tolower|toupper)_loc|to(lower|upper)|ini_parse_stream|_GLOBAL_OFFSET_TABLE_|__(asan|ubsan|sanitizer|lsan)_[A-Za-z0-9_]*)$'

defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
nm --defined-only --format=just-symbols "$core" "$common" 2>/dev/null |
	sort -u >"$defined"
bad=$(nm -u --format=just-symbols "$core" | sort -u |
	comm -23 - "$defined" | grep -vE "$allowed" || true)
if [ -n "$bad" ]; then
	echo "core-is-pure: $core calls outside memory and strings:" >&2
	printf '%s\n' "$bad" | sed 's/^/  /' >&2
	exit 1
fi
echo "core-is-pure: $(nm -u --format=just-symbols "$core" | sort -u |
	comm -23 - "$defined" | wc -l) outside symbols, all memory, strings or formatting"
