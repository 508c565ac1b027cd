#!/bin/bash
# SPDX-License-Identifier: MIT
# Configure and build without check (libcheck), as a packager's "no check"
# switch leaves it (xbps-src without -Q, makepkg --nocheck, Debian's
# nocheck profile, USE=-test): pkg-config is given a wrapper that finds
# every module but check. Configure must pass and say once that the tests
# are off; the broker and virt-brokerctl must build; ctest must list no
# test. With BROKER_TESTS_REQUIRED=ON (tests/run) the same configure must
# fail and name check. With -DBUILD_TESTING=OFF, nothing is said.
# libvirt-admin hidden the same way (the recipes decide it, not the build
# machine): -DBROKER_LIBVIRT_ADMIN=ON fails and names it, AUTO (the
# default) configures and says virt-brokerctl goes without it, OFF says
# nothing of it.
#
#   nocheck.sh SOURCE_DIR
set -euo pipefail

src=$(realpath "$1")
work=$(mktemp -d /tmp/vb-nocheck.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

real=$(command -v pkg-config || command -v pkgconf) ||
	{ echo "skip: no pkg-config"; exit 77; }
# Hides check, and the modules in $VB_HIDE.
cat >"$work/pkg-config" <<WRAP
#!/bin/sh
for a in "\$@"; do
	for m in check \$VB_HIDE; do
		case \$a in "\$m"|"\$m "*) exit 1 ;; esac
	done
done
exec $real "\$@"
WRAP
chmod 755 "$work/pkg-config"
"$work/pkg-config" --exists check && fail "the wrapper still finds check"

conf() {	# BUILD_DIR ARGS...: configure's output
	local dir=$1
	shift
	cmake -S "$src" -B "$dir" -DPKG_CONFIG_EXECUTABLE="$work/pkg-config" "$@" 2>&1
}

out=$(conf "$work/b1") || fail "configure without check failed: $out"
n=$(grep -c 'check (libcheck) not found: the tests are not built' <<<"$out" || true)
[[ $n == 1 ]] || fail "said $n times that the tests are off: $out"
cmake --build "$work/b1" -j 2 >"$work/build.log" 2>&1 ||
	fail "build without check failed: $(tail -20 "$work/build.log")"
[[ -x $work/b1/virt-broker && -x $work/b1/virt-brokerctl ]] ||
	fail "virt-broker or virt-brokerctl not built"
tests=$(cd "$work/b1" && ctest -N | sed -n 's/^Total Tests: //p')
[[ $tests == 0 ]] || fail "ctest lists $tests tests without check"
echo "ok: without check, configure says once that the tests are off; both programs build; no test"

if out=$(conf "$work/b2" -DBROKER_TESTS_REQUIRED=ON); then
	fail "BROKER_TESTS_REQUIRED=ON configured without check"
fi
grep -q 'check (libcheck) not found, and BROKER_TESTS_REQUIRED is on' <<<"$out" ||
	fail "BROKER_TESTS_REQUIRED=ON failed without naming check: $out"
echo "ok: BROKER_TESTS_REQUIRED=ON fails and names check"

out=$(conf "$work/b3" -DBUILD_TESTING=OFF) || fail "BUILD_TESTING=OFF: $out"
! grep -q 'libcheck' <<<"$out" || fail "BUILD_TESTING=OFF still talks of check: $out"
echo "ok: BUILD_TESTING=OFF says nothing of check"

export VB_HIDE=libvirt-admin
"$work/pkg-config" --exists libvirt-admin && fail "the wrapper still finds libvirt-admin"
if out=$(conf "$work/b4" -DBUILD_TESTING=OFF -DBROKER_LIBVIRT_ADMIN=ON); then
	fail "BROKER_LIBVIRT_ADMIN=ON configured without libvirt-admin"
fi
grep -q 'libvirt-admin' <<<"$out" ||
	fail "BROKER_LIBVIRT_ADMIN=ON failed without naming libvirt-admin: $out"
out=$(conf "$work/b5" -DBUILD_TESTING=OFF) || fail "AUTO without libvirt-admin: $out"
grep -q 'libvirt-admin not found: virt-brokerctl is built without it' <<<"$out" ||
	fail "AUTO without libvirt-admin did not say so: $out"
out=$(conf "$work/b6" -DBUILD_TESTING=OFF -DBROKER_LIBVIRT_ADMIN=OFF) ||
	fail "BROKER_LIBVIRT_ADMIN=OFF: $out"
! grep -q 'libvirt-admin' <<<"$out" || fail "OFF still talks of libvirt-admin: $out"
echo "ok: without libvirt-admin, ON fails naming it, AUTO says it goes without, OFF says nothing"
