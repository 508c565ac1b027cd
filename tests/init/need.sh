# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the init tests. need CMD PACKAGE: make CMD available, from
# Debian's PACKAGE (installed without recommends when we are root), or skip
# the test (exit 77) saying why.
need() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null && return 0
	if [[ $(id -u) != 0 ]]; then
		echo "SKIP: $cmd is missing; install Debian's $pkg (tests/run does)"
		exit 77
	fi
	echo "installing Debian's $pkg for $cmd" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$pkg" >/dev/null 2>&1 || {
		echo "SKIP: $cmd is missing and apt-get install $pkg failed"
		exit 77
	}
	command -v "$cmd" >/dev/null || {
		echo "FAIL: $pkg is installed but provides no $cmd" >&2
		exit 1
	}
}
