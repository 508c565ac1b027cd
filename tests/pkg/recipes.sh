#!/bin/bash
# SPDX-License-Identifier: MIT
# The distributions' recipes (packaging/, debian/, guix.scm), checked with
# what Debian has; none of abuild, makepkg, xbps-src, portage or Guix runs
# here.
#
# Versions: guix.scm, debian/changelog, the APKBUILD, the PKGBUILD, the
# Void template and the ebuild's file name all name CMakeLists.txt's
# project() version. Lint: the APKBUILD parses as POSIX sh (dash -n, as
# abuild's ash reads it), the PKGBUILD, the template and the ebuild as
# bash (bash -n), all four clean under shellcheck but for SC2034 and
# SC2154 (variables the tool reads, and variables it sets: pkgdir, ...);
# the Gentoo repository's metadata.xml is well-formed XML. (Guile reads
# guix.scm in init-guix.) Every recipe installs with cmake (the whole
# install manifest), runs the unit tests (-L unit) in its check step, and
# every file it takes from the build (build/init/..., usr/share/...) is
# in CMake's install manifest of this build: the init file it is about is
# named, and none that the build no longer makes.
#
# Run for real, on the release tarball (cpack): the APKBUILD's build,
# check and package under dash, and the PKGBUILD's build, check and each
# package_ function under bash, with the variables abuild and makepkg set
# (srcdir, pkgdir, builddir) and want_check; each package tree must be
# that build's install manifest plus the files the recipe adds (/etc/init.d
# and /etc/conf.d, the LICENSE, Artix's /etc/runit/sv and /etc/s6/sv
# copies), identical to the generated ones. The Void template's and the
# ebuild's functions need xbps-src's and portage's helpers and are only
# linted and checked as above.
#
# The libvirt group: every recipe installs conf/system/virt-broker.conf as
# /etc/virt-broker/virt-broker.conf, a configuration file of its tool
# (apk's /etc, backup=, conf_files, CONFIG_PROTECT, a conffile), and makes
# the group the distribution's way (an Alpine pre-install, a sysusers.d
# entry, system_groups, acct-group/libvirt, the postinst's addgroup). That
# file, read by this build's virt-broker -n (system mode as root, else
# session mode), gives the main read-write sockets root:libvirt 0770 and
# leaves the -ro (0666), -admin and virtlogd's (0600, no group) alone.
#
#   recipes.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail

src=$(realpath "$1")
build=$(realpath "$2")
version=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck source-path=SCRIPTDIR source=../init/need.sh
. "$here/../init/need.sh"
need shellcheck shellcheck
need dash dash
need xmllint libxml2-utils

fail=0
bad() {
	echo "FAIL: $*" >&2
	fail=1
}
ok() { echo "ok: $*"; }

pk=$src/packaging
apkbuild=$pk/alpine/virt-broker/APKBUILD
pkgbuild=$pk/arch/PKGBUILD
template=$pk/void/srcpkgs/virt-broker/template
gentoo=$pk/gentoo
edir=$gentoo/app-emulation/virt-broker
mapfile -t ebuilds < <(find "$edir" -name '*.ebuild' | sort)
[[ ${#ebuilds[@]} == 1 ]] || { bad "one ebuild expected in $edir: ${ebuilds[*]}"; exit 1; }
ebuild=${ebuilds[0]}

T=$(mktemp -d /tmp/vb-recipes.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- The version, everywhere.
var_of() {	# FILE NAME: the value of NAME=... at the start of a line
	sed -n "s/^$2=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$1"
}
check_version() {	# WHAT VALUE
	if [[ $2 == "$version" ]]; then
		ok "$1: $2"
	else
		bad "$1 names version '${2}', not CMakeLists.txt's $version"
	fi
}
check_version guix.scm "$(sed -n 's/^ *(version "\([^"]*\)")$/\1/p' "$src/guix.scm")"
check_version debian/changelog \
	"$(sed -n '1s/^virt-broker (\([^)]*\)).*/\1/p' "$src/debian/changelog")"
check_version APKBUILD "$(var_of "$apkbuild" pkgver)"
check_version PKGBUILD "$(var_of "$pkgbuild" pkgver)"
check_version "Void template" "$(var_of "$template" version)"
check_version "ebuild file name" "$(basename "$ebuild" .ebuild | sed 's/^virt-broker-//')"

# ---- Lint.
# SC2034, SC2154: the recipe's variables are read by the tool (pkgver,
# depends...), and the tool sets some the recipe uses (pkgdir, srcdir).
sc=(-e "SC2034,SC2154")
dash -n "$apkbuild" || bad "APKBUILD: dash -n"
shellcheck -s sh "${sc[@]}" "$apkbuild" || bad "APKBUILD: shellcheck"
for f in "$pkgbuild" "$template" "$ebuild"; do
	bash -n "$f" || bad "${f#"$src"/}: bash -n"
	shellcheck -s bash "${sc[@]}" "$f" || bad "${f#"$src"/}: shellcheck"
done
xmllint --noout --nonet "$edir/metadata.xml" || bad "metadata.xml is not well-formed"
[[ -s $gentoo/profiles/repo_name && -s $gentoo/metadata/layout.conf ]] ||
	bad "packaging/gentoo is not an ebuild repository (profiles/repo_name, metadata/layout.conf)"
ok "lint: APKBUILD (dash -n), PKGBUILD, template, ebuild (bash -n), shellcheck, metadata.xml"

# ---- Against CMake's install manifest.
DESTDIR=$T/dest cmake --install "$build" --prefix /usr >/dev/null
{ cat "$build/install_manifest.txt"; echo; } |
	sed -e '/^$/d' -e "s|^$T/dest||" -e 's|^/||' | sort >"$T/manifest"
[[ -s $T/manifest ]] || { bad "empty install manifest"; exit 1; }

in_manifest() {	# PATH: a file of the manifest, or a directory of one
	grep -qxF "$1" "$T/manifest" || grep -qF "$1/" "$T/manifest"
}
# The paths a recipe takes from the build tree (build/init, the ebuild's
# ${BUILD_DIR}/init: the generated init files) or the install tree.
refs() {
	grep -oE '(build/init|BUILD_DIR\}"?/init|usr/share/virt-broker/init)/[A-Za-z0-9._/-]*[A-Za-z0-9._-]' "$1" |
		sed -E 's#^(build/init|BUILD_DIR\}"?/init|usr/share/virt-broker/init)/#usr/share/virt-broker/init/#' |
		sort -u
}
check_refs() {	# RECIPE REQUIRED-PATH...
	local f=$1 r name=${1#"$src"/}
	shift
	while read -r r; do
		in_manifest "$r" || bad "$name uses $r, which the build does not install"
	done < <(refs "$f")
	for r in "$@"; do
		refs "$f" | grep -qxF "usr/share/virt-broker/init/$r" ||
			bad "$name does not install init/$r"
	done
}
check_refs "$apkbuild" openrc/virt-broker openrc/virt-broker.confd
check_refs "$ebuild" openrc/virt-broker openrc/virt-broker.confd
check_refs "$template" runit/virt-broker
check_refs "$pkgbuild" openrc/virt-broker openrc/virt-broker.confd \
	runit/virt-broker runit/virt-broker-user s6/virt-broker s6/virt-broker-log
while read -r from _; do
	[[ -n $from ]] || continue
	# a path of the install tree, or of the source tree (conf/system/)
	in_manifest "$from" || [[ -f $src/$from ]] ||
		bad "debian/virt-broker.install: $from is neither installed nor in the source"
done <"$src/debian/virt-broker.install"

has() {	# FILE WHAT ERE
	grep -qE -- "$3" "$1" || bad "${1#"$src"/}: no $2"
}
# shellcheck disable=SC2016 # the recipe's $pkgdir, literally
has "$apkbuild" "cmake --install" '^[[:space:]]*DESTDIR="\$pkgdir" cmake --install build$'
# shellcheck disable=SC2016
has "$pkgbuild" "cmake --install" '^[[:space:]]*DESTDIR="\$pkgdir" cmake --install build$'
has "$template" "build_style=cmake" '^build_style=cmake$'
has "$ebuild" "cmake_src_install" '^[[:space:]]*cmake_src_install$'
for f in "$apkbuild" "$pkgbuild" "$template" "$ebuild" "$src/guix.scm" \
	"$src/debian/rules"; do
	has "$f" "unit tests (-L unit)" '(-L unit|"-L" "unit")'
done
for f in "$apkbuild" "$pkgbuild" "$template" "$ebuild" "$src/debian/rules"; do
	has "$f" "-DBROKER_LIBVIRT_ADMIN=ON or OFF (not the build machine's AUTO)" \
		'-DBROKER_LIBVIRT_ADMIN=(ON|OFF)'
done
# ---- The libvirt group's access (issue 23, point 4).
sysconf=conf/system/virt-broker.conf
# shellcheck disable=SC2016 # the recipes' own variables, literally
{
	has "$apkbuild" "/etc/virt-broker/virt-broker.conf" \
		'install -Dm644 "\$builddir"/conf/system/virt-broker.conf \\$'
	has "$apkbuild" "install=\$pkgname.pre-install" '^install="\$pkgname\.pre-install"$'
	has "$pk/alpine/virt-broker/virt-broker.pre-install" "addgroup -S libvirt" \
		'^addgroup -S libvirt 2>/dev/null$'
	has "$pkgbuild" "backup=(etc/virt-broker/virt-broker.conf)" \
		'^[[:space:]]*backup=\(etc/virt-broker/virt-broker\.conf\)$'
	has "$template" "conf_files" '^conf_files="/etc/virt-broker/virt-broker\.conf"$'
	has "$template" "system_groups=libvirt" '^system_groups="libvirt"$'
	has "$template" "vinstall of $sysconf" "^[[:space:]]*vinstall $sysconf 644 etc/virt-broker\$"
	has "$ebuild" "acct-group/libvirt" '^[[:space:]]*acct-group/libvirt$'
	has "$ebuild" "doins of $sysconf" '^[[:space:]]*doins "\$\{S\}"/conf/system/virt-broker\.conf$'
	has "$src/debian/virt-broker.install" "$sysconf" "^$sysconf etc/virt-broker\$"
	has "$src/debian/virt-broker.postinst" "addgroup --system libvirt" \
		'^[[:space:]]*addgroup --quiet --system libvirt$'
	has "$src/debian/control" "Depends: adduser" '^Depends: adduser, '
}
grep -qx 'g libvirt - -' "$src/conf/system/virt-broker.sysusers" ||
	bad "conf/system/virt-broker.sysusers does not make the group libvirt"
sbin=$T/sysconf-sbin
mkdir -p "$sbin"
for d in virtqemud virtlogd; do
	install -m 0755 "$build/tests/helpers/fake-daemon" "$sbin/$d"
done
{ cat "$src/$sysconf"; echo "search_path = $sbin"; } >"$T/sysconf.conf"
chmod 0644 "$T/sysconf.conf"
if [[ $(id -u) == 0 ]]; then
	mode=--system
	ro='virtqemud-sock-ro 0666$'
else
	mode=--session
	ro=''
fi
if "$build/virt-broker" -n "$mode" -f "$T/sysconf.conf" >"$T/sysconf.plan" 2>&1; then
	for want in 'socket virtqemud\.socket .*/virtqemud-sock 0770 libvirt$' \
		'socket virtqemud-admin\.socket .*/virtqemud-admin-sock 0600$' \
		'socket virtlogd\.socket .*/virtlogd-sock 0600$' \
		'socket virtlogd-admin\.socket .*/virtlogd-admin-sock 0600$' ${ro:+"$ro"}; do
		grep -qE "$want" "$T/sysconf.plan" ||
			bad "$sysconf ($mode): no line /$want/ in virt-broker -n: $(cat "$T/sysconf.plan")"
	done
else
	bad "virt-broker -n $mode -f $sysconf failed: $(cat "$T/sysconf.plan")"
fi
ok "$sysconf: /etc/virt-broker/virt-broker.conf in every recipe, the group made; main sockets root:libvirt 0770, -ro, -admin and virtlogd's untouched ($mode)"

ok "recipes install CMake's manifest ($(wc -l <"$T/manifest") files), take only files it has, run -L unit"

# ---- The APKBUILD and the PKGBUILD, run on the release tarball.
cpack --config "$build/CPackSourceConfig.cmake" -B "$T/dist" >"$T/cpack.log" 2>&1 ||
	{ cat "$T/cpack.log" >&2; bad "cpack"; exit 1; }
tarball=$T/dist/virt-broker-$version.tar.gz
jobs=$(nproc)

tree() {	# DIR: its files and links, relative, sorted
	(cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}
manifest_of() {	# BUILD_DIR: its install manifest, relative
	{ cat "$1/install_manifest.txt"; echo; } | sed -e '/^$/d' -e 's|^/||' | sort
}
same_file() {	# A B
	cmp -s "$1" "$2" || bad "${1#"$T"/} differs from ${2#"$T"/}"
}

# Alpine: abuild runs the functions in $builddir, with set -e, under ash.
a=$T/alpine
mkdir -p "$a/src" "$a/pkg/virt-broker"
cp "$apkbuild" "$a/APKBUILD"
tar -xzf "$tarball" -C "$a/src"
# shellcheck disable=SC2016 # expanded by dash, from its environment
if (cd "$a/src/virt-broker-$version" &&
	env -i PATH="$PATH" HOME="$T" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" \
		startdir="$a" srcdir="$a/src" builddir="$a/src/virt-broker-$version" \
		pkgdir="$a/pkg/virt-broker" \
		dash -ec '. "$startdir/APKBUILD"
			want_check() { return 0; }
			build; check; package') >"$T/alpine.log" 2>&1; then
	p=$a/pkg/virt-broker
	{
		manifest_of "$a/src/virt-broker-$version/build"
		printf '%s\n' etc/init.d/virt-broker etc/conf.d/virt-broker \
			etc/virt-broker/virt-broker.conf
	} | sort >"$T/alpine.expect"
	diff -u "$T/alpine.expect" <(tree "$p") >&2 ||
		bad "APKBUILD: the package is not the install manifest plus /etc/init.d, /etc/conf.d and /etc/virt-broker"
	same_file "$p/etc/virt-broker/virt-broker.conf" "$src/$sysconf"
	same_file "$p/etc/init.d/virt-broker" "$p/usr/share/virt-broker/init/openrc/virt-broker"
	same_file "$p/etc/conf.d/virt-broker" "$p/usr/share/virt-broker/init/openrc/virt-broker.confd"
	[[ -x $p/etc/init.d/virt-broker ]] || bad "APKBUILD: /etc/init.d/virt-broker is not executable"
	grep -q '^100% tests passed' "$T/alpine.log" || bad "APKBUILD: check ran no passing tests"
	ok "APKBUILD: build, check, package (dash): the manifest plus /etc/init.d and /etc/conf.d"
else
	tail -n 40 "$T/alpine.log" >&2
	bad "APKBUILD: build, check or package failed (above)"
fi

# Arch/Artix: makepkg runs build and check in $srcdir, then each
# package_NAME with its own $pkgdir.
r=$T/arch
mkdir -p "$r/src"
cp "$pkgbuild" "$r/PKGBUILD"
tar -xzf "$tarball" -C "$r/src"
# shellcheck disable=SC2016 # expanded by that bash
if (cd "$r/src" &&
	env -i PATH="$PATH" HOME="$T" CMAKE_BUILD_PARALLEL_LEVEL="$jobs" \
		startdir="$r" srcdir="$r/src" \
		bash -ec '. "$startdir/PKGBUILD"
			build; check
			for p in "${pkgname[@]}"; do
				mkdir -p "$startdir/pkg/$p"
				(pkgdir=$startdir/pkg/$p; pkgname=$p; "package_$p")
			done') >"$T/arch.log" 2>&1; then
	m=$r/pkg
	manifest_of "$r/src/build" >"$T/arch.manifest"
	if ! grep -qx usr/bin/virt-broker "$T/arch.manifest" ||
		grep -q '^usr/sbin/' "$T/arch.manifest"; then
		bad "PKGBUILD: the binaries are not all in /usr/bin"
	fi
	{
		cat "$T/arch.manifest"
		printf '%s\n' usr/share/licenses/virt-broker/LICENSE \
			etc/virt-broker/virt-broker.conf usr/lib/sysusers.d/virt-broker.conf
	} | sort | diff -u - <(tree "$m/virt-broker") >&2 ||
		bad "PKGBUILD: virt-broker is not the install manifest plus the LICENSE, /etc/virt-broker and sysusers.d"
	same_file "$m/virt-broker/etc/virt-broker/virt-broker.conf" "$src/$sysconf"
	same_file "$m/virt-broker/usr/lib/sysusers.d/virt-broker.conf" \
		"$src/conf/system/virt-broker.sysusers"
	printf '%s\n' etc/conf.d/virt-broker etc/init.d/virt-broker |
		diff -u - <(tree "$m/virt-broker-openrc") >&2 ||
		bad "PKGBUILD: virt-broker-openrc is not /etc/init.d and /etc/conf.d"
	sed -n 's|^usr/share/virt-broker/init/runit/|etc/runit/sv/|p' "$T/arch.manifest" |
		diff -u - <(tree "$m/virt-broker-runit") >&2 ||
		bad "PKGBUILD: virt-broker-runit is not the generated runit services"
	sed -n 's|^usr/share/virt-broker/init/s6/|etc/s6/sv/|p' "$T/arch.manifest" |
		diff -u - <(tree "$m/virt-broker-s6") >&2 ||
		bad "PKGBUILD: virt-broker-s6 is not the generated s6 services"
	i=$m/virt-broker/usr/share/virt-broker/init
	same_file "$m/virt-broker-openrc/etc/init.d/virt-broker" "$i/openrc/virt-broker"
	diff -r "$m/virt-broker-runit/etc/runit/sv" "$i/runit" >&2 ||
		bad "PKGBUILD: the runit services differ from the generated ones"
	diff -r "$m/virt-broker-s6/etc/s6/sv" "$i/s6" >&2 ||
		bad "PKGBUILD: the s6 services differ from the generated ones"
	grep -q '^command="/usr/bin/virt-broker"$' "$m/virt-broker-openrc/etc/init.d/virt-broker" ||
		bad "PKGBUILD: the OpenRC script does not run /usr/bin/virt-broker"
	grep -q '^100% tests passed' "$T/arch.log" || bad "PKGBUILD: check ran no passing tests"
	ok "PKGBUILD: build, check, the four package_ functions (bash): manifest (bin, not sbin) plus LICENSE, OpenRC, runit, s6"
else
	tail -n 40 "$T/arch.log" >&2
	bad "PKGBUILD: build, check or package failed (above)"
fi

((fail == 0)) && echo "recipes: ok"
exit "$fail"
