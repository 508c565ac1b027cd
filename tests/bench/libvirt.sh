# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by tests/bench/run as the unprivileged user: benchmarks 1 and 2
# with libvirt's modular daemons of $PREFIX. Writes "METHOD MICROSECONDS"
# lines to $W/out/cold$TAG.txt and $W/out/warm$TAG.txt (TAG: "" for
# Debian's libvirt, -11.3 for the upstream build).

VIRSH=$PREFIX/bin/virsh
QEMUD=$PREFIX/sbin/virtqemud

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }	# bash's clock: no process

no_qemud() { ! pgrep -u "$(id -u)" -x virtqemud >/dev/null; }

# virsh list's wall time with XDG_RUNTIME_DIR=DIR, in microseconds.
timed_list() {	# DIR
	local t0 t1
	t0=$(now_us)
	XDG_RUNTIME_DIR=$1 "$VIRSH" -q -c qemu:///session list >/dev/null ||
		die "virsh list with XDG_RUNTIME_DIR=$1 failed"
	t1=$(now_us)
	echo $((t1 - t0))
}

bench_broker() {	# DIR TIMEOUT -> BPID
	local dir=$1
	install -d -m 0700 "$dir"
	printf '%s\n' "[broker]" "search_path = $PREFIX/sbin" "runtime_dir = xdg" "publish = none" \
		"[virtqemud]" "start = on-demand" "args = --timeout $2" \
		>"$dir/broker.conf"
	mkfifo "$dir/ready"
	XDG_RUNTIME_DIR=$dir "$BENCH_BROKER" -f "$dir/broker.conf" --ready-fd 3 \
		3>"$dir/ready" 2>"$dir/broker.log" &
	BPID=$!
	read -r -t 60 _ <"$dir/ready" || { cat "$dir/broker.log" >&2; die "broker not ready in $dir"; }
}

# --- 1. cold start
rb=$W/cold-broker$TAG rs=$W/cold-ssa$TAG ra=$W/cold-autospawn$TAG
install -d -m 0700 "$rs" "$ra"
bench_broker "$rb" 1
cold_broker=$BPID
wait_for -t 60 no_qemud
cold_broker_run() {
	wait_for -t 60 no_qemud
	echo "broker $(timed_list "$rb")" >>"$W/out/cold$TAG.txt"
}
cold_ssa_run() {
	local sp
	wait_for -t 60 no_qemud
	rm -rf "$rs/libvirt"
	install -d -m 0700 "$rs/libvirt"
	systemd-socket-activate -l "$rs/libvirt/virtqemud-sock" \
		-l "$rs/libvirt/virtqemud-admin-sock" \
		--fdname=virtqemud.socket:virtqemud-admin.socket \
		-E XDG_RUNTIME_DIR="$rs" -E HOME="$HOME" -E PATH="$PATH" \
		"$QEMUD" --timeout 1 2>/dev/null &
	sp=$!
	wait_for test -S "$rs/libvirt/virtqemud-admin-sock"
	echo "ssa $(timed_list "$rs")" >>"$W/out/cold$TAG.txt"
	wait "$sp" || true
}
cold_autospawn_run() {
	wait_for -t 60 no_qemud
	echo "autospawn $(timed_list "$ra")" >>"$W/out/cold$TAG.txt"
	pkill -u "$(id -u)" -x virtqemud || true
}
# Three times the runs of the others (the cold ratio is within the machine's
# spread), each round in another order so that none always goes first.
orders=("broker ssa autospawn" "ssa autospawn broker" "autospawn broker ssa")
for ((i = 0; i < 3 * RUNS; i++)); do
	for m in ${orders[i % 3]}; do
		"cold_${m}_run"
	done
done
wait_for -t 60 no_qemud
kill "$cold_broker"
wait "$cold_broker" || true

# --- 2. warm path: one virtqemud from a broker, one started by hand
rw=$W/warm-broker$TAG rd=$W/warm-direct$TAG
bench_broker "$rw" 0
warm_broker=$BPID
install -d -m 0700 "$rd"
XDG_RUNTIME_DIR=$rd "$QEMUD" --timeout 0 2>/dev/null &
direct=$!
wait_for test -S "$rd/libvirt/virtqemud-sock"
timed_list "$rw" >/dev/null
timed_list "$rd" >/dev/null
for ((i = 0; i < RUNS; i++)); do
	echo "broker $(timed_list "$rw")" >>"$W/out/warm$TAG.txt"
	echo "direct $(timed_list "$rd")" >>"$W/out/warm$TAG.txt"
done
kill "$direct" "$warm_broker"
wait "$direct" "$warm_broker" || true
