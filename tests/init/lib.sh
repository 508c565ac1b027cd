# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the init tests: messages, and polling with a deadline (never
# a sleep as synchronisation). The caller sets NAME, and T once its
# temporary directory exists; LOGFILE, if set, is shown on failure.
DEADLINE_MS=${DEADLINE_MS:-15000}

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() {
	printf 'FAIL: %s\n' "$*" >&2
	[[ -n ${LOGFILE:-} && -f $LOGFILE ]] && sed 's/^/  | /' "$LOGFILE" >&2
	exit 1
}
now_ms() { date +%s%3N; }

# wait_for CMD...: poll every 50 ms until CMD succeeds, or die.
wait_for() {
	local end=$(($(now_ms) + DEADLINE_MS))
	until "$@"; do
		(($(now_ms) < end)) || die "timed out waiting for: $*"
		sleep 0.05
	done
}

# pid_gone PID: no such process, or a zombie (it has exited; whoever
# inherited it, here maybe a pid 1 that reaps late, has not reaped it yet).
pid_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# localize SRC DEST OLD NEW...: copy the generated file SRC to DEST with
# each installed path OLD replaced by NEW (the build's binary, a temporary
# directory), nothing else changed; the mode is kept.
localize() {
	local src=$1 dest=$2 expr=()
	shift 2
	while (($# >= 2)); do
		expr+=(-e "s|$1|$2|g")
		shift 2
	done
	sed "${expr[@]}" "$src" >"$dest"
	chmod --reference="$src" "$dest"
}

# exe_is PID PATH: the process runs PATH (an exec of a replaced binary has
# " (deleted)" after its old path).
exe_is() { [[ $(readlink "/proc/$1/exe") == "$2" ]]; }
