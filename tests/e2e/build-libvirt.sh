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
	dsc=$(apt-get source --print-uris libvirt 2>/dev/null |
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

build() {
	local version=$1 prefix=$2 work srcdir dsc_version
	work=$(mktemp -d /var/tmp/vb-libvirt-build.XXXXXX)
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '$work'" EXIT
	msg "building libvirt $version into $prefix (log: $LOG)"

	msg "installing build dependencies"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${BUILD_DEPS[@]}" >>"$LOG" 2>&1 || fail_with_log "apt-get install failed"

	msg "fetching source"
	(cd "$work" && apt-get source libvirt) >>"$LOG" 2>&1 ||
		fail_with_log "apt-get source libvirt failed"
	srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'libvirt-*' | head -n 1)
	[[ -n $srcdir && -f $srcdir/meson_options.txt ]] || fail_with_log "no unpacked source in $work"
	dsc_version=$(sed -nE 's/^Version:[[:space:]]*//p' "$work"/libvirt_*.dsc | head -n 1)
	dsc_version=$(strip_epoch "$dsc_version")
	[[ $dsc_version == "$version" ]] ||
		fail_with_log "fetched source is $dsc_version, expected $version"

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

main() {
	local version prefix
	if [[ ${1:-} == --system ]]; then
		SUFFIX=-system
		VARIANT_ARGS=(-Dlocalstatedir=/var -Drunstatedir=/run)
	fi
	version=$(detect_version)
	if [[ -n $version && -f $CACHE_ROOT/libvirt-$version$SUFFIX/.complete ]]; then
		printf '%s\n' "$CACHE_ROOT/libvirt-$version$SUFFIX"
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
	LOG=$CACHE_ROOT/build-libvirt$SUFFIX.log
	: >"$LOG"
	add_deb_src
	msg "apt-get update (log: $LOG)"
	apt-get update >>"$LOG" 2>&1 || fail_with_log "apt-get update failed"
	version=$(strip_epoch "$(source_version)")
	[[ -n $version ]] || die "apt knows no source package libvirt"
	prefix=$CACHE_ROOT/libvirt-$version$SUFFIX
	if [[ ! -f $prefix/.complete ]]; then
		build "$version" "$prefix"
	fi
	printf '%s\n' "$prefix"
}

main "$@"
