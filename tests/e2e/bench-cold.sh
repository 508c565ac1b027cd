#!/bin/bash
# Cold-start latency of `virsh -c qemu:///session list` with the modular
# libvirt build: activation through virt-broker versus libvirt's own
# autospawn.  Prints one line
#   BENCH cold-list broker median=XXms autospawn median=YYms
# The numbers are only measured, never asserted.  Not run by run.sh.
#
#   bench-cold.sh BROKER_BINARY        (BENCH_ITERATIONS, default 10)
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ITERATIONS=${BENCH_ITERATIONS:-10}

usage() {
	echo "usage: $0 BROKER_BINARY" >&2
	exit 2
}

median() {
	sort -n | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]
		      else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# Milliseconds one `virsh list` takes.
time_list() {
	local t0 t1
	t0=$(now_ms)
	vsh list >/dev/null || die "virsh list failed"
	t1=$(now_ms)
	echo $((t1 - t0))
}

# No socket and no link left in either place libvirt's client looks.
remove_stale_sockets() {
	local f
	for f in "$(runtime_dir)"/*-sock "$(xdg_dir)"/*-sock; do
		if [[ -S $f || -L $f ]]; then
			rm -f "$f"
		fi
	done
}

bench_broker() {
	local conf=$T/bench.conf i
	cat >"$conf" <<EOF
[broker]
search_path = $VB_PREFIX/sbin

[virtqemud]
args = --timeout 1
EOF
	start_broker "$conf"
	# Warm-up, not measured: fills QEMU's capability cache (~7 s once).
	vsh capabilities >/dev/null || die "virsh capabilities failed"
	for ((i = 0; i < ITERATIONS; i++)); do
		wait_for no_daemon virtqemud
		time_list
	done >"$T/broker.ms"
	stop_broker
	wait_for no_daemon virtqemud
	remove_stale_sockets
}

bench_autospawn() {
	local i pid
	for ((i = 0; i < ITERATIONS; i++)); do
		wait_for no_daemon virtqemud
		remove_stale_sockets
		time_list
		pid=$(the_daemon_pid virtqemud)
		kill -TERM "$pid"
		wait_for pid_dead "$pid"
	done >"$T/autospawn.ms"
}

body_bench() {
	need_modular_qemu
	no_daemon virtqemud || die "a virtqemud of uid $(my_uid) already runs"

	bench_broker
	bench_autospawn
	log "broker samples (ms):    $(tr '\n' ' ' <"$T/broker.ms")"
	log "autospawn samples (ms): $(tr '\n' ' ' <"$T/autospawn.ms")"
	printf 'BENCH cold-list broker median=%sms autospawn median=%sms\n' \
		"$(median <"$T/broker.ms")" "$(median <"$T/autospawn.ms")"
}

main() {
	(($# == 1)) || usage
	NEED_PREFIX=yes e2e_main bench-cold.sh body_bench "$1"
}

main "$@"
