#!/bin/bash
# Build libvirt's modular daemons (virtqemud, virtnetworkd, ...) from Debian's
# own source package and install them into a cache directory named by the
# Debian version:  /var/cache/virt-broker/libvirt-<debian-version>/
#
# Debian ships only the monolithic libvirtd (see design/LIBVIRT.md), so the
# end-to-end tests of the modular mode need this build.
#
# With --system, a second build whose daemons use the system paths
# (/run/libvirt, /run/<daemon>.pid, /var/lib/libvirt) for the system-mode
# test, cached in .../libvirt-<debian-version>-system/; its configuration
# files stay in the prefix (sysconfdir), never in /etc.
#
# With --libvirt VERSION (one of UPSTREAM below: 11.3.0), the upstream
# tarball that Debian's source package of that version uses, fetched with a
# private apt state (the machine's sources stay as they are) and checked
# against its sha256; one build serves both modes (system paths, which
# session daemons ignore), cached in .../libvirt-<VERSION>/ with or without
# --system.
#
# stdout: only the install prefix.  Messages go to stderr.
# Exit:   0 ok, 1 failure (log tail printed), 77 cache missing and not root.
#
# Environment:
#   VB_CACHE_ROOT   cache root (default /var/cache/virt-broker)
#   VB_BUILD_JOBS   ninja -j value (default: number of CPUs)
set -euo pipefail

CACHE_ROOT=${VB_CACHE_ROOT:-/var/cache/virt-broker}
SRC_LIST=/etc/apt/sources.list.d/virt-broker-src.sources
DEB_SOURCES=/etc/apt/sources.list.d/debian.sources

BUILD_DEPS=(
	meson ninja-build gcc pkg-config dpkg-dev
	libglib2.0-dev libxml2-dev libxml2-utils xsltproc libgnutls28-dev
	libtirpc-dev libyajl-dev libnl-3-dev libnl-route-3-dev libreadline-dev
	libudev-dev libpciaccess-dev libcap-ng-dev python3-docutils
	libacl1-dev libattr1-dev libdevmapper-dev libparted-dev rpcsvc-proto
)

# Upstream versions: VERSION -> "SUITE SHA256 of libvirt_VERSION.orig.tar.xz".
declare -A UPSTREAM=(
	[11.3.0]="trixie 6bcb0c42c4580436fea262ced56f68a6afe20f7390b1bea2116718cc034a0283"
)
# 11.x parses JSON with json-c (9.0: yajl); its ch driver needs curl.
UPSTREAM_DEPS=(libjson-c-dev libcurl4-gnutls-dev)

# Daemons of the catalog that upstream builds add (session-capable ones:
# virtchd, virtvboxd; both start without their hypervisor installed).
UPSTREAM_EXTRA_OPTS=(driver_ch driver_vbox)

# Drivers we want; every other driver_* / storage_* option is disabled.
WANTED_OPTS=(driver_qemu driver_network driver_libvirtd driver_remote
	driver_secrets driver_interface driver_test storage_dir)

msg() { printf 'build-libvirt: %s\n' "$*" >&2; }
die() { msg "ERROR: $*"; exit 1; }

LOG=
fail_with_log() {
	msg "ERROR: $*"
	if [[ -n $LOG && -f $LOG ]]; then
		msg "last 60 lines of $LOG:"
		tail -n 60 "$LOG" >&2
	fi
	exit 1
}

have_deb_src() {
	grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}

# Highest source version apt knows (empty when no deb-src is configured).
# "apt-get source --print-uris" resolves exactly like "apt-get source".
source_version() {
	local dsc
	# Lines are: 'URL' FILENAME SIZE HASH; the URL is %-encoded, the name not.
	dsc=$(apt-get source --print-uris "libvirt/$(debian_suite)" 2>/dev/null |
		awk '$2 ~ /^libvirt_.*\.dsc$/ {print $2; exit}') || true
	dsc=${dsc#libvirt_}
	dsc=${dsc%.dsc}
	printf '%s' "$dsc"
}

# Version without deb-src: the candidate of the binary package libvirt0,
# which comes from the same source and the same mirror (binNMU suffix cut).
binary_version() {
	local v
	v=$(apt-cache policy libvirt0 2>/dev/null | awk '/Candidate:/ {print $2}')
	[[ $v == "(none)" ]] && v=
	printf '%s' "${v%+b[0-9]*}"
}

# The version without the epoch (a ':' has no place in a path).
strip_epoch() { printf '%s' "${1#*:}"; }

detect_version() {
	local v
	v=$(source_version)
	[[ -n $v ]] || v=$(binary_version)
	strip_epoch "$v"
}

add_deb_src() {
	have_deb_src && return 0
	[[ -f $DEB_SOURCES ]] || die "no deb-src configured and no $DEB_SOURCES to mirror"
	msg "adding $SRC_LIST (deb-src mirror of $DEB_SOURCES)"
	sed -E 's/^Types:.*/Types: deb-src/' "$DEB_SOURCES" >"$SRC_LIST.tmp"
	mv "$SRC_LIST.tmp" "$SRC_LIST"
}

# meson -D arguments: wanted options enabled, every other driver_*/storage_*
# option of this source disabled (booleans get true/false).
meson_driver_args() {
	local opts_file=$1 line name type want value
	while IFS= read -r line; do
		name=$(sed -nE "s/.*option\('([a-z0-9_]+)'.*/\1/p" <<<"$line")
		type=$(sed -nE "s/.*type:[[:space:]]*'([a-z]+)'.*/\1/p" <<<"$line")
		[[ $name == driver_* || $name == storage_* ]] || continue
		want=no
		for w in "${WANTED_OPTS[@]}"; do
			[[ $w == "$name" ]] && want=yes
		done
		case $type in
		feature) [[ $want == yes ]] && value=enabled || value=disabled ;;
		boolean) [[ $want == yes ]] && value=true || value=false ;;
		*) continue ;;
		esac
		printf -- '-D%s=%s\n' "$name" "$value"
	done < <(grep -E "^option\('(driver|storage)_" "$opts_file")
}

check_install() {
	local prefix=$1 f
	for f in sbin/virtqemud sbin/virtnetworkd sbin/virtstoraged sbin/virtlogd bin/virsh; do
		[[ -x $prefix/$f ]] || fail_with_log "install lacks $prefix/$f"
	done
}

# The suite named explicitly: with other suites configured, a bare
# "libvirt" would pick the newest source package.
debian_suite() {
	local VERSION_CODENAME=
	# shellcheck disable=SC1091
	. /etc/os-release
	printf '%s' "${VERSION_CODENAME:-bookworm}"
}

# fetch_debian VERSION WORK: Debian's source package, unpacked; prints its dir.
fetch_debian() {
	local version=$1 work=$2 srcdir dsc_version
	(cd "$work" && apt-get source "libvirt/$(debian_suite)") >>"$LOG" 2>&1 ||
		fail_with_log "apt-get source libvirt/$(debian_suite) failed"
	srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'libvirt-*' | head -n 1)
	[[ -n $srcdir && -f $srcdir/meson_options.txt ]] || fail_with_log "no unpacked source in $work"
	dsc_version=$(sed -nE 's/^Version:[[:space:]]*//p' "$work"/libvirt_*.dsc | head -n 1)
	dsc_version=$(strip_epoch "$dsc_version")
	[[ $dsc_version == "$version" ]] ||
		fail_with_log "fetched source is $dsc_version, expected $version"
	printf '%s' "$srcdir"
}

# fetch_upstream VERSION WORK: libvirt_VERSION.orig.tar.xz through a private
# apt state listing only SUITE's deb-src (the .dsc itself may be gone from
# the mirror: apt then fails, but the tarball is there), checked against
# its sha256 and unpacked; prints its dir.
fetch_upstream() {
	local version=$1 work=$2 suite sum apt tarball
	read -r suite sum <<<"${UPSTREAM[$version]}"
	apt=$work/apt
	mkdir -p "$apt/lists/partial" "$apt/cache"
	printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		http://deb.debian.org/debian "$suite" >"$apt/sources.list"
	local -a o=(-o "Dir::Etc::SourceList=$apt/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$apt/lists"
		-o "Dir::Cache=$apt/cache")
	apt-get "${o[@]}" update >>"$LOG" 2>&1 || fail_with_log "apt-get update ($suite sources) failed"
	(cd "$work" && apt-get "${o[@]}" source --download-only "libvirt/$suite") >>"$LOG" 2>&1 ||
		msg "apt-get source libvirt/$suite reported errors (see $LOG); checking the tarball"
	tarball=$work/libvirt_$version.orig.tar.xz
	[[ -f $tarball ]] || fail_with_log "apt-get did not fetch $(basename "$tarball")"
	sha256sum -c - <<<"$sum  $tarball" >>"$LOG" 2>&1 ||
		fail_with_log "$(basename "$tarball"): sha256 is not $sum"
	tar -xJf "$tarball" -C "$work" >>"$LOG" 2>&1 || fail_with_log "cannot unpack $tarball"
	[[ -f $work/libvirt-$version/meson_options.txt ]] ||
		fail_with_log "no libvirt-$version/meson_options.txt in $tarball"
	printf '%s' "$work/libvirt-$version"
}

build() {
	local version=$1 prefix=$2 work srcdir
	work=$(mktemp -d /var/tmp/vb-libvirt-build.XXXXXX)
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT
	msg "building libvirt $version into $prefix (log: $LOG)"

	msg "installing build dependencies"
	local -a deps=("${BUILD_DEPS[@]}")
	[[ -z $UPSTREAM_VERSION ]] || deps+=("${UPSTREAM_DEPS[@]}")
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${deps[@]}" >>"$LOG" 2>&1 || fail_with_log "apt-get install failed"

	msg "fetching source"
	if [[ -n $UPSTREAM_VERSION ]]; then
		srcdir=$(fetch_upstream "$version" "$work") || exit 1
	else
		srcdir=$(fetch_debian "$version" "$work") || exit 1
	fi

	local -a driver_args
	mapfile -t driver_args < <(meson_driver_args "$srcdir/meson_options.txt")
	msg "meson setup (${#driver_args[@]} driver/storage options)"
	printf 'meson driver options: %s\n' "${driver_args[*]}" >>"$LOG"
	rm -rf "$prefix"
	meson setup "$work/build" "$srcdir" --prefix="$prefix" \
		-Dremote_default_mode=direct -Dinit_script=none \
		"${driver_args[@]}" "${VARIANT_ARGS[@]}" \
		-Ddocs=disabled -Dtests=disabled -Dnls=disabled -Dpolkit=disabled \
		-Dsasl=disabled -Dselinux=disabled -Dapparmor=disabled \
		>>"$LOG" 2>&1 || fail_with_log "meson setup failed"

	msg "ninja build (several minutes)"
	ninja -C "$work/build" ${VB_BUILD_JOBS:+-j "$VB_BUILD_JOBS"} >>"$LOG" 2>&1 ||
		fail_with_log "ninja build failed"
	ninja -C "$work/build" install >>"$LOG" 2>&1 || fail_with_log "ninja install failed"

	check_install "$prefix"
	chmod -R a+rX "$prefix"
	touch "$prefix/.complete"
	msg "done: $prefix"
}

SUFFIX=
VARIANT_ARGS=()
UPSTREAM_VERSION=
SYSTEM_PATHS=(-Dlocalstatedir=/var -Drunstatedir=/run)

usage() {
	msg "usage: build-libvirt.sh [--system] [--libvirt VERSION]" \
		"(VERSION: Debian's own, or one of: ${!UPSTREAM[*]})"
	exit 1
}

# The build's cache directory, from the version and variant.
prefix_of() { printf '%s/libvirt-%s%s' "$CACHE_ROOT" "$1" "$SUFFIX"; }

main() {
	local version prefix system=
	while (($#)); do
		case $1 in
		--system) system=1 ;;
		--libvirt) (($# >= 2)) || usage; UPSTREAM_VERSION=$2; shift ;;
		*) usage ;;
		esac
		shift
	done
	if [[ -n $UPSTREAM_VERSION ]]; then
		[[ -n ${UPSTREAM[$UPSTREAM_VERSION]:-} ]] ||
			die "unknown libvirt version $UPSTREAM_VERSION (known: ${!UPSTREAM[*]})"
		# One build for both modes.
		VARIANT_ARGS=("${SYSTEM_PATHS[@]}")
		WANTED_OPTS+=("${UPSTREAM_EXTRA_OPTS[@]}")
		version=$UPSTREAM_VERSION
	else
		if [[ -n $system ]]; then
			SUFFIX=-system
			VARIANT_ARGS=("${SYSTEM_PATHS[@]}")
		fi
		version=$(detect_version)
	fi
	if [[ -n $version && -f $(prefix_of "$version")/.complete ]]; then
		prefix_of "$version"
		printf '\n'
		exit 0
	fi
	if [[ $(id -u) -ne 0 ]]; then
		msg "libvirt build cache missing (${version:-unknown version}" \
			"under $CACHE_ROOT); run this script as root once to build it"
		exit 77
	fi

	mkdir -p "$CACHE_ROOT"
	chmod 0755 "$CACHE_ROOT"
	# One build at a time; a second caller waits and then finds .complete.
	exec 9>"$CACHE_ROOT/.build.lock"
	flock 9

	# System tools only (a user's pyenv or ~/.local must not leak into
	# meson's install scripts).
	export PATH=/usr/sbin:/usr/bin:/sbin:/bin
	LOG=$CACHE_ROOT/build-libvirt${UPSTREAM_VERSION:+-$UPSTREAM_VERSION}$SUFFIX.log
	: >"$LOG"
	if [[ -z $UPSTREAM_VERSION ]]; then
		add_deb_src
		msg "apt-get update (log: $LOG)"
		apt-get update >>"$LOG" 2>&1 || fail_with_log "apt-get update failed"
		version=$(strip_epoch "$(source_version)")
		[[ -n $version ]] || die "apt knows no source package libvirt"
	fi
	prefix=$(prefix_of "$version")
	if [[ ! -f $prefix/.complete ]]; then
		build "$version" "$prefix"
	fi
	printf '%s\n' "$prefix"
}

main "$@"
