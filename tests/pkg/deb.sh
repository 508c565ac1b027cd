#!/bin/bash
# SPDX-License-Identifier: MIT
# The release tarball and the .deb, as a Debian or Devuan user gets them.
#
# The tarball (CPack's package_source, written by cpack into a temporary
# directory): named virt-broker-VERSION.tar.gz, one top directory, every
# file git tracks but .ci/ and .gitignore, no build tree. From it,
# unpacked, dpkg-buildpackage -b builds the .deb, and its check step runs
# the unit tests (ctest -L unit) on that build. lintian finds nothing
# but the overrides (debian/virt-broker.lintian-overrides), at every
# level down to pedantic. The .deb holds exactly CMake's install manifest
# of that build (man pages compressed), plus the sysvinit script and the
# login profile snippet in /etc (conffiles, the same files as their
# copies in /usr/share/virt-broker/init), the system broker's
# /etc/virt-broker/virt-broker.conf (conf/system/virt-broker.conf, a
# conffile), changelog and copyright; it depends on libev4, libinih1 and
# adduser and recommends libvirt-daemon; its postinst registers the init
# script disabled (defaults-disabled) and makes the group libvirt, which
# that file gives the read-write sockets, if it is missing (then removed at
# the end, as the machine had none).
#
# Then on this machine: dpkg -i; nothing started, no start link; from the
# installed paths virt-broker -V and -n (root: system mode; nobody:
# session mode), virt-brokerctl --help, man virt-broker, man
# virt-broker.conf, man virt-brokerctl, the init script's status (3);
# a session broker from /usr/sbin/virt-broker serves `virsh -c
# qemu:///session list` from Debian's libvirtd as an unprivileged user,
# vbpkg (tests/e2e/run.sh's libvirtd scenario, which also checks
# /usr/bin/virt-brokerctl status). An upgrade to a newer .deb while the
# system broker serves re-executes it in place: no client call fails, the
# same broker and virtqemud pids (see "Upgraded while it serves"). dpkg -r
# leaves only the conffiles;
# dpkg -P leaves nothing: the lists of files under /etc, /usr, /opt and
# /var/lib/dpkg/info are what they were before dpkg -i, and no rc.d link
# is left. insserv, when installed, renumbers other scripts' links and
# writes /etc/init.d/.depend.* at each update-rc.d: rc?.d and those files
# are put back as they were, so the machine ends as it began.
#
# Root only (exit 77 otherwise); skips when virt-broker is installed
# already, or its files are there outside dpkg. Whatever happens, the
# package is purged before the test exits.
#
#   deb.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail

src=$(realpath "$1")
build=$(realpath "$2")
version=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg=virt-broker

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

[[ $(id -u) == 0 ]] || { echo "SKIP: dpkg -i needs root"; exit 77; }
# shellcheck source-path=SCRIPTDIR source=../init/need.sh
. "$here/../init/need.sh"
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need man man-db

status_of() {	# the package's dpkg status word, or "absent"
	dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null || echo absent
}
case $(status_of) in
absent | not-installed) ;;
*)
	echo "SKIP: $pkg is known to dpkg ($(status_of)); the test would replace it"
	exit 77
	;;
esac
for f in /usr/sbin/virt-broker /usr/bin/virt-brokerctl /usr/share/virt-broker \
	/etc/init.d/virt-broker /etc/profile.d/virt-broker.sh \
	/etc/xdg/autostart/virt-broker.desktop /etc/default/virt-broker \
	/etc/virt-broker/virt-broker.conf; do
	if [[ -e $f ]]; then
		echo "SKIP: $f exists (installed outside dpkg?); the test would remove it"
		exit 77
	fi
done

T=$(mktemp -d /tmp/vb-pkg.XXXXXX)
chmod 0755 "$T"
made_user=
rc_dirs=()
for d in /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d \
	/etc/rc6.d /etc/rcS.d; do
	[[ -d $d ]] && rc_dirs+=("${d#/etc/}")
done
depend_files() {	# insserv's, relative to /etc
	local f
	for f in /etc/init.d/.depend.boot /etc/init.d/.depend.start \
		/etc/init.d/.depend.stop; do
		[[ -e $f ]] && printf '%s\n' "${f#/etc/}"
	done
	return 0
}
# Files, links and directories that dpkg -i, -r and -P may touch.
snapshot() {
	find /etc /usr /opt /var/lib/dpkg/info -xdev 2>/dev/null | sort
}

# rc?.d and insserv's files as they were before the test.
restore_rc() {
	local d f
	[[ -f $T/rc.tar ]] || return 0
	for d in "${rc_dirs[@]}"; do
		find "/etc/$d" -mindepth 1 -maxdepth 1 -delete
	done
	while read -r f; do
		rm -f "/etc/$f"
	done < <(depend_files)
	tar -C /etc -xpf "$T/rc.tar"
}

# The upgrade part's broker, config and policy-rc.d (see there).
# shellcheck disable=SC2317 # called by the EXIT trap too
upgrade_cleanup() {
	[[ -f $T/broker-started ]] && /etc/init.d/virt-broker stop >/dev/null 2>&1
	rm -f "$T/broker-started"
	# the packaged configuration back as it was
	[[ -f $T/packaged.conf ]] &&
		cp -p "$T/packaged.conf" /etc/virt-broker/virt-broker.conf
	rm -f "$T/packaged.conf"
	if [[ -f $T/policy-rc.d ]]; then
		mv "$T/policy-rc.d" /usr/sbin/policy-rc.d
	fi
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	trap - EXIT
	set +e
	upgrade_cleanup
	if [[ $(status_of) != absent && $(status_of) != not-installed ]]; then
		echo "cleanup: purging $pkg" >&2
		dpkg -P "$pkg" >&2
	fi
	restore_rc
	if [[ -z ${had_libvirt_group-yes} ]] && getent group libvirt >/dev/null; then
		groupdel libvirt
	fi
	if [[ -n ${made_qemu_user:-} ]]; then
		userdel libvirt-qemu 2>/dev/null
		groupdel libvirt-qemu 2>/dev/null
	fi
	# The e2e part's cleanup has ended the user's processes.
	if [[ -n $made_user ]] && ! userdel -r "$VB_TEST_USER" 2>/dev/null; then
		echo "cleanup: userdel $VB_TEST_USER failed; remove it by hand" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
had_libvirt_group=yes
getent group libvirt >/dev/null || had_libvirt_group=
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The e2e part's user: its own, not the e2e tests' vbtest, since their
# cleanup kills every process of the user (a concurrent e2e run would lose
# its daemons). Made before the snapshot (useradd's files are not the
# package's), and removed at the end if the test made it.
export VB_TEST_USER=vbpkg
id -u "$VB_TEST_USER" >/dev/null 2>&1 || made_user=yes
# shellcheck disable=SC2016 # expanded by that bash
bash -c '. "$1" && ensure_test_user' _ "$src/tests/e2e/lib.sh"

# The upgrade part's virtqemud (libvirt built on Debian) resolves the user
# libvirt-qemu at start, which Debian's libvirt-daemon-system would make:
# made here if missing, before the snapshot like the user above, and
# removed at the end.
made_qemu_user=
if ! getent passwd libvirt-qemu >/dev/null; then
	getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
	useradd --system --no-create-home --home-dir /var/lib/libvirt \
		--gid libvirt-qemu --shell /usr/sbin/nologin libvirt-qemu
	made_qemu_user=yes
fi

mapfile -t depends_before < <(depend_files)
tar -C /etc -cf "$T/rc.tar" "${rc_dirs[@]}" "${depends_before[@]}"
snapshot >"$T/before.list"

# ---- The release tarball.
name=$pkg-$version
cpack --config "$build/CPackSourceConfig.cmake" -B "$T/dist" >"$T/cpack.log" 2>&1 ||
	{ cat "$T/cpack.log" >&2; fail "cpack (package_source) failed"; }
tarball=$T/dist/$name.tar.gz
[[ -f $tarball ]] || fail "package_source wrote no $name.tar.gz: $(ls "$T/dist")"
tar -tzf "$tarball" | sort >"$T/tar.list"
grep -v "^$name/" "$T/tar.list" && fail "the tarball has files outside $name/"
sed -n "s|^$name/||p" "$T/tar.list" | grep -v '/$' | sed '/^$/d' >"$T/tar.files"
if grep -E '^(build[^/]*|obj-[^/]*)/|(^|/)(\.git|CMakeCache\.txt|CMakeFiles)(/|$)|\.o$' \
	"$T/tar.files"; then
	fail "the tarball has build or VCS files (above)"
fi
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files | grep -Ev '^(\.ci/|\.gitignore$)' | sort >"$T/git.files"
	missing=$(comm -23 "$T/git.files" <(sort "$T/tar.files"))
	[[ -z $missing ]] || fail "tracked files missing from the tarball: $missing"
	extra=$(comm -13 "$T/git.files" <(sort "$T/tar.files"))
	[[ -z $extra ]] || echo "note: untracked files in the tarball (a clean tree has none): $extra"
	ok "$name.tar.gz: every tracked file but .ci/ and .gitignore, no build tree"
else
	ok "$name.tar.gz: no build tree or VCS files (no git here to compare with)"
fi

# ---- The .deb, built from the unpacked tarball.
mkdir "$T/src"
tar -xzf "$tarball" -C "$T/src"
unset MAKEFLAGS MFLAGS MAKELEVEL DEB_BUILD_PROFILES
jobs=$(nproc)
export DEB_BUILD_OPTIONS="parallel=$jobs"
(cd "$T/src/$name" && dpkg-buildpackage -b -us -uc) >"$T/build.log" 2>&1 ||
	{ tail -n 60 "$T/build.log" >&2; fail "dpkg-buildpackage failed (log above)"; }
arch=$(dpkg --print-architecture)
deb=$T/src/${pkg}_${version}_$arch.deb
changes=$T/src/${pkg}_${version}_$arch.changes
[[ -f $deb ]] || fail "no ${deb##*/} built"
n=$(sed -n 's/^100% tests passed, 0 tests failed out of \([0-9]*\)$/\1/p' "$T/build.log")
[[ ${n:-0} -gt 0 ]] || fail "the build's check step ran no unit test"
ok "dpkg-buildpackage -b from the tarball; its check step passed $n unit tests"

lintian --fail-on error,warning,info,pedantic -I -E --pedantic "$changes" \
	>"$T/lintian.txt" 2>&1 || { cat "$T/lintian.txt" >&2; fail "lintian (above)"; }
grep -E '^[EWIPX]: ' "$T/lintian.txt" && fail "lintian tags not overridden (above)"
# The same with the overridden tags and their reasons, for the log.
{ lintian -I -E --pedantic --show-overrides "$changes" 2>&1 || true; } |
	grep -v '^running with root privileges' | sed 's/^/  lintian: /'
ok "lintian: only the overridden tags"

# Contents: the install manifest of the build, plus what debian/ adds.
manifest=$(ls "$T/src/$name"/obj-*/install_manifest.txt)
# One absolute path a line (with no DESTDIR in it), the last unterminated.
{ cat "$manifest"; echo; } | sed -E '/^$/d; s|^/||; s|^(usr/share/man/.*)$|\1.gz|' \
	>"$T/expect.files"
printf '%s\n' etc/init.d/virt-broker etc/profile.d/virt-broker.sh \
	etc/xdg/autostart/virt-broker.desktop etc/default/virt-broker \
	etc/virt-broker/virt-broker.conf \
	usr/share/doc/virt-broker/changelog.gz usr/share/doc/virt-broker/copyright \
	usr/share/lintian/overrides/virt-broker >>"$T/expect.files"
sort -o "$T/expect.files" "$T/expect.files"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' |
	sort >"$T/deb.files"
diff -u "$T/expect.files" "$T/deb.files" >&2 ||
	fail "the .deb's files are not CMake's install manifest plus debian/'s (diff above)"
ok "the .deb holds the install manifest ($(grep -c . "$manifest") files) plus /etc/init.d, /etc/profile.d, /etc/xdg/autostart, /etc/default, /etc/virt-broker, changelog, copyright, lintian overrides"
dpkg-deb -x "$deb" "$T/root"
cmp "$T/root/etc/init.d/virt-broker" "$T/root/usr/share/virt-broker/init/sysvinit/virt-broker" ||
	fail "/etc/init.d/virt-broker is not the generated sysvinit script"
cmp "$T/root/etc/profile.d/virt-broker.sh" "$T/root/usr/share/virt-broker/init/profile/virt-broker.sh" ||
	fail "/etc/profile.d/virt-broker.sh is not the generated snippet"
cmp "$T/root/etc/xdg/autostart/virt-broker.desktop" "$T/root/usr/share/virt-broker/init/profile/virt-broker.desktop" ||
	fail "/etc/xdg/autostart/virt-broker.desktop is not the generated entry"
cmp "$T/root/etc/virt-broker/virt-broker.conf" "$src/conf/system/virt-broker.conf" ||
	fail "/etc/virt-broker/virt-broker.conf is not conf/system/virt-broker.conf"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libev4 libinih1 adduser; do
	# "NAME (>= V)" or a bare "NAME," (adduser has no version)
	[[ ", $depends," == *", $d "* || ", $depends," == *", $d,"* ]] ||
		fail "Depends lacks $d: $depends"
done
[[ $(dpkg-deb -f "$deb" Recommends) == *libvirt-daemon* ]] ||
	fail "does not recommend libvirt-daemon"
dpkg-deb -e "$deb" "$T/control"
[[ $(sort "$T/control/conffiles") == $'/etc/default/virt-broker\n/etc/init.d/virt-broker\n/etc/profile.d/virt-broker.sh\n/etc/virt-broker/virt-broker.conf\n/etc/xdg/autostart/virt-broker.desktop' ]] ||
	fail "conffiles: $(cat "$T/control/conffiles")"
grep -q 'update-rc\.d virt-broker defaults-disabled' "$T/control/postinst" ||
	fail "postinst does not register the script disabled"
grep -Eq 'update-rc\.d virt-broker (defaults|enable)( |$)' "$T/control/postinst" &&
	fail "postinst enables the script"
grep -q 'addgroup --quiet --system libvirt' "$T/control/postinst" ||
	fail "postinst does not make the group libvirt"
ok "Depends: $depends; conffiles in /etc; postinst: update-rc.d defaults-disabled, the group libvirt"

# ---- Installed.
dpkg -i "$deb" >"$T/dpkg-i.log" 2>&1 || { cat "$T/dpkg-i.log" >&2; fail "dpkg -i"; }
[[ $(status_of) == installed ]] || fail "dpkg -i: status $(status_of)"
if compgen -G '/etc/rc[2-5S].d/S[0-9][0-9]virt-broker' >/dev/null; then
	fail "a start link: $(ls /etc/rc[2-5S].d/S[0-9][0-9]virt-broker)"
fi
for p in /proc/[0-9]*; do
	if [[ $(readlink "$p/exe" 2>/dev/null) == /usr/sbin/virt-broker ]]; then
		fail "the package started a broker: pid ${p#/proc/}"
	fi
done
rc=0
/etc/init.d/virt-broker status >"$T/status.txt" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "/etc/init.d/virt-broker status: exit $rc, not 3: $(cat "$T/status.txt")"
getent group libvirt >/dev/null || fail "dpkg -i: no group libvirt"
ok "dpkg -i: installed, not started, no start link, init script status 3, group libvirt"

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
[[ $(command -v virt-broker) == /usr/sbin/virt-broker ]] ||
	fail "virt-broker on PATH is $(command -v virt-broker)"
[[ $(command -v virt-brokerctl) == /usr/bin/virt-brokerctl ]] ||
	fail "virt-brokerctl on PATH is $(command -v virt-brokerctl)"
[[ $(virt-broker -V) == "virt-broker $version" ]] || fail "virt-broker -V: $(virt-broker -V)"
virt-broker -n >"$T/n-system.txt" 2>&1 || { cat "$T/n-system.txt" >&2; fail "virt-broker -n (root)"; }
grep -qx 'mode system' "$T/n-system.txt" || fail "virt-broker -n as root is not in system mode"
install -d -m 0755 "$T/home"
runuser -u nobody -- env -i HOME="$T/home" PATH="$PATH" /usr/sbin/virt-broker -n \
	>"$T/n-session.txt" 2>&1 || { cat "$T/n-session.txt" >&2; fail "virt-broker -n (nobody)"; }
grep -qx 'mode session' "$T/n-session.txt" || fail "virt-broker -n as nobody is not in session mode"
virt-brokerctl --help >"$T/ctl-help.txt" 2>&1 || fail "virt-brokerctl --help: exit status $?"
grep -q '^usage: virt-brokerctl' "$T/ctl-help.txt" || fail "virt-brokerctl --help: $(cat "$T/ctl-help.txt")"
ok "virt-broker -V ($version), -n as root (system) and nobody (session), virt-brokerctl --help"
for page in 8:virt-broker 5:virt-broker.conf 1:virt-brokerctl; do
	where=$(man -w "${page%%:*}" "${page#*:}") || fail "man -w ${page#*:}: no page"
	[[ $where == /usr/share/man/man${page%%:*}/${page#*:}.${page%%:*}.gz ]] ||
		fail "man ${page#*:} is $where"
	MANWIDTH=80 man -P cat "${page%%:*}" "${page#*:}" 2>"$T/man.err" | grep -q "^NAME" ||
		fail "man ${page#*:} shows no NAME section: $(cat "$T/man.err")"
done
ok "man virt-broker, virt-broker.conf, virt-brokerctl: installed pages, rendered"
sh -n /etc/profile.d/virt-broker.sh || fail "sh -n /etc/profile.d/virt-broker.sh"
# As root the snippet does nothing (no broker for root at login).
sh -c '. /etc/profile.d/virt-broker.sh' || fail "sourcing the profile snippet failed"
# A login shell of a member of the opt-in group virt-broker: a session
# broker, and clients told not to spawn daemons (LIBVIRT_AUTOSTART=0); of
# a member of libvirt alone (qemu:///system's admins): neither.
snippet_user() {	# USER GROUPS...: LIBVIRT_AUTOSTART in USER's login shell
	local u=$1
	shift
	userdel -r "$u" >/dev/null 2>&1 || true
	useradd -m -s /bin/bash ${1:+-G "$1"} "$u"
	# shellcheck disable=SC2016 # expanded by the user's login shell
	runuser -l "$u" -c 'printf "%s\n" "${LIBVIRT_AUTOSTART-unset}"'
}
snippet_cleanup() {	# USER
	pkill -KILL -u "$1" >/dev/null 2>&1 || true
	for _ in $(seq 50); do pgrep -u "$1" >/dev/null || break; sleep 0.1; done
	userdel -r "$1" >/dev/null 2>&1 || true
}
made_group=""
made_vbgroup=""
getent group libvirt >/dev/null || { groupadd -r libvirt && made_group=1; }
getent group virt-broker >/dev/null || { groupadd -r virt-broker && made_vbgroup=1; }
[[ $(snippet_user vbsnippet virt-broker) == 0 ]] ||
	fail "a virt-broker member's login shell has no LIBVIRT_AUTOSTART=0"
for _ in $(seq 100); do pgrep -u vbsnippet -x virt-broker >/dev/null && break; sleep 0.1; done
pgrep -u vbsnippet -x virt-broker >/dev/null ||
	fail "a virt-broker member's login shell started no broker"
snippet_cleanup vbsnippet
[[ $(snippet_user vbother libvirt) == unset ]] ||
	fail "the snippet set LIBVIRT_AUTOSTART for a user in libvirt alone"
pgrep -u vbother -x virt-broker >/dev/null &&
	fail "the snippet started a broker for a user in libvirt alone"
snippet_cleanup vbother
ok "profile snippet: a virt-broker member's login shell starts a broker and exports LIBVIRT_AUTOSTART=0; a libvirt member's, neither"
# The XDG autostart entry, as a session manager runs it (its Exec, as the
# user, no login shell): a broker for the member, ready when it returns
# (-d); a second run starts no second; nothing for the other user.
autostart_as() {	# USER: run the entry's Exec as USER
	local exec
	exec=$(sed -n 's/^Exec=//p' /etc/xdg/autostart/virt-broker.desktop)
	runuser -u "$1" -- env -i HOME="$(getent passwd "$1" | cut -d: -f6)" \
		PATH=/usr/local/bin:/usr/bin:/bin "$exec"
}
snippet_user vbsnippet virt-broker >/dev/null
autostart_as vbsnippet || fail "the autostart entry failed for a virt-broker member"
pgrep -u vbsnippet -x virt-broker >/dev/null ||
	fail "the autostart entry started no broker for a virt-broker member"
autostart_as vbsnippet || fail "a second run of the autostart entry failed"
[[ $(pgrep -c -u vbsnippet -x virt-broker) == 1 ]] ||
	fail "a second run of the autostart entry started a second broker"
snippet_cleanup vbsnippet
snippet_user vbother libvirt >/dev/null
autostart_as vbother || fail "the autostart entry failed for a libvirt member"
pgrep -u vbother -x virt-broker >/dev/null &&
	fail "the autostart entry started a broker for a user in libvirt alone"
snippet_cleanup vbother
[[ -z $made_group ]] || groupdel libvirt
[[ -z $made_vbgroup ]] || groupdel virt-broker
ok "XDG autostart: a virt-broker member gets one broker, ready when the entry returns; a libvirt member, none"

# A session broker from the installed binary, with Debian's libvirtd.
rc=0
"$src/tests/e2e/run.sh" /usr/sbin/virt-broker libvirtd || rc=$?
case $rc in
0) ok "the installed broker served virsh -c qemu:///session list as the test user" ;;
77) echo "SKIP: the session broker part (above); the rest is checked" ;;
*) fail "the session broker from /usr/sbin/virt-broker (tests/e2e/run.sh libvirtd, above)" ;;
esac
e2e=$rc

# ---- Upgraded while it serves: the system broker executes itself again.
# A newer .deb (the same tarball, version VERSION+up1 in its changelog,
# built with DEB_BUILD_OPTIONS=nocheck); the system broker started by its
# init script in front of the modular daemons built for the system paths
# (tests/e2e/build-libvirt.sh --system, cached by e2e-system); a client
# asking qemu:///system every 20 ms through dpkg -i of the newer .deb,
# with policy-rc.d out of the way (a container's denies every action):
# no call fails, the broker keeps its pid and runs the new binary, the
# same virtqemud serves, and dpkg says the new version.
upgrade_part() {
	local prefix new=$version+up1 deb2 virsh bpid qpid good bad line
	if ! prefix=$("$src/tests/e2e/build-libvirt.sh" --system 2>"$T/build-libvirt.log"); then
		echo "SKIP: the upgrade part: no system build of libvirt (build-libvirt.sh --system: $(tail -n 3 "$T/build-libvirt.log"))"
		return 0
	fi
	virsh=$prefix/bin/virsh
	if pgrep -x libvirtd >/dev/null || pgrep -x virtqemud >/dev/null; then
		fail "a libvirt daemon runs already: $(pgrep -a libvirtd; pgrep -a virtqemud)"
	fi
	mkdir "$T/src2"
	tar -xzf "$tarball" -C "$T/src2"
	line=$(grep -m 1 '^ -- ' "$T/src2/$name/debian/changelog")
	{
		printf '%s (%s) unstable; urgency=medium\n\n' "$pkg" "$new"
		printf '  * The upgrade test'"'"'s newer version.\n\n%s\n\n' "$line"
		cat "$T/src2/$name/debian/changelog"
	} >"$T/changelog" && mv "$T/changelog" "$T/src2/$name/debian/changelog"
	(cd "$T/src2/$name" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" \
		dpkg-buildpackage -b -us -uc) >"$T/build2.log" 2>&1 ||
		{ tail -n 40 "$T/build2.log" >&2; fail "dpkg-buildpackage of $new failed"; }
	deb2=$T/src2/${pkg}_${new}_$arch.deb
	[[ -f $deb2 ]] || fail "no ${deb2##*/} built"
	dpkg-deb -e "$deb2" "$T/control2"
	grep -q 'invoke-rc\.d virt-broker upgrade' "$T/control2/postinst" ||
		fail "postinst does not re-execute the broker on upgrade"
	grep -Eq '_dh_action=restart|virt-broker restart' "$T/control2/postinst" &&
		fail "postinst still restarts the broker: $(cat "$T/control2/postinst")"
	# prerm stops it on remove only (dh_installinit --no-stop-on-upgrade)
	# shellcheck disable=SC2016 # "$1" as the script has it
	if grep -q 'virt-broker stop' "$T/control2/prerm" &&
		! grep -B 2 'virt-broker stop' "$T/control2/prerm" | grep -q '"$1" = remove'; then
		fail "prerm stops the broker on upgrade: $(cat "$T/control2/prerm")"
	fi

	# The packaged file (its [broker] section last), plus the daemons'
	# place; the same file is put back at the end. The newer .deb ships
	# the same conffile, so dpkg keeps this one without asking.
	cp -p /etc/virt-broker/virt-broker.conf "$T/packaged.conf"
	printf 'search_path = %s/sbin\n' "$prefix" >>/etc/virt-broker/virt-broker.conf
	: >"$T/broker-started"
	/etc/init.d/virt-broker start >"$T/start.log" 2>&1 ||
		{ cat "$T/start.log" /var/log/virt-broker/* >&2 2>/dev/null; fail "the system broker did not start"; }
	bpid=$(cat /run/virt-broker.pid)
	"$virsh" -c qemu:///system list >"$T/virsh1.log" 2>&1 ||
		fail "virsh -c qemu:///system list through the broker: $(cat "$T/virsh1.log")"
	qpid=$(pgrep -x -P "$bpid" virtqemud) || fail "no virtqemud under broker $bpid"
	if [[ -e /usr/sbin/policy-rc.d ]]; then
		mv /usr/sbin/policy-rc.d "$T/policy-rc.d"
	fi
	rm -f "$T/stop-poll"
	(
		while [[ ! -e $T/stop-poll ]]; do
			if "$virsh" -c qemu:///system list >/dev/null 2>"$T/poll.err"; then
				echo ok
			else
				echo "failed: $(tr '\n' ' ' <"$T/poll.err")"
			fi
			sleep 0.02
		done
	) >"$T/poll.log" &
	local poller=$!
	# calls before the upgrade, so that the poll is seen to work
	for _ in $(seq 100); do [[ $(grep -c '^ok' "$T/poll.log") -ge 3 ]] && break; sleep 0.05; done
	DEBIAN_FRONTEND=noninteractive dpkg -i "$deb2" >"$T/dpkg-up.log" 2>&1 ||
		{ : >"$T/stop-poll"; wait "$poller"; cat "$T/dpkg-up.log" >&2; fail "dpkg -i $new"; }
	# calls after it, too
	n=$(grep -c . "$T/poll.log")
	for _ in $(seq 100); do [[ $(grep -c . "$T/poll.log") -ge $((n + 3)) ]] && break; sleep 0.05; done
	: >"$T/stop-poll"
	wait "$poller"
	grep -q 'Re-executing virt-broker' "$T/dpkg-up.log" ||
		fail "dpkg -i did not re-execute the broker: $(cat "$T/dpkg-up.log")"
	good=$(grep -c '^ok' "$T/poll.log" || true)
	bad=$(grep -c '^failed' "$T/poll.log" || true)
	((bad == 0)) || fail "$bad of $((good + bad)) calls failed during the upgrade: $(grep -m 3 '^failed' "$T/poll.log")"
	[[ $(dpkg-query -W -f '${Version}' "$pkg") == "$new" ]] ||
		fail "dpkg says $(dpkg-query -W -f '${Version}' "$pkg") after the upgrade"
	[[ $(cat /run/virt-broker.pid) == "$bpid" ]] || fail "the broker's pid changed: $(cat /run/virt-broker.pid), not $bpid"
	[[ $(readlink "/proc/$bpid/exe") == /usr/sbin/virt-broker ]] ||
		fail "broker $bpid runs $(readlink "/proc/$bpid/exe"), not the new /usr/sbin/virt-broker"
	[[ $(pgrep -x -P "$bpid" virtqemud) == "$qpid" ]] ||
		fail "virtqemud is $(pgrep -x -P "$bpid" virtqemud), not $qpid"
	upgrade_cleanup
	ok "dpkg -i $new while the system broker served: $good calls, 0 failed; broker $bpid re-executed the new binary; virtqemud $qpid served throughout"
}
upgrade_part

# ---- Removed, then purged.
dpkg -r "$pkg" >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log" >&2; fail "dpkg -r"; }
[[ $(status_of) == config-files ]] || fail "after dpkg -r: status $(status_of)"
for f in /usr/sbin/virt-broker /usr/bin/virt-brokerctl /usr/share/virt-broker \
	/usr/share/doc/virt-broker /usr/share/man/man8/virt-broker.8.gz; do
	[[ ! -e $f ]] || fail "left by dpkg -r: $f"
done
[[ -f /etc/init.d/virt-broker && -f /etc/profile.d/virt-broker.sh &&
	-f /etc/xdg/autostart/virt-broker.desktop && -f /etc/default/virt-broker &&
	-f /etc/virt-broker/virt-broker.conf ]] ||
	fail "dpkg -r removed a conffile"
ok "dpkg -r: the conffiles alone are left"
dpkg -P "$pkg" >"$T/dpkg-p.log" 2>&1 || { cat "$T/dpkg-p.log" >&2; fail "dpkg -P"; }
[[ $(status_of) == absent || $(status_of) == not-installed ]] ||
	fail "after dpkg -P: status $(status_of)"
if compgen -G '/etc/rc?.d/*virt-broker' >/dev/null; then
	fail "rc.d links left: $(ls /etc/rc?.d/*virt-broker)"
fi
# the system broker's logs (the upgrade part wrote some) go with a purge
[[ ! -e /var/log/virt-broker ]] || fail "dpkg -P left /var/log/virt-broker"
snapshot >"$T/after.list"
rc_re='^/etc/(rc[0-6S]\.d/|init\.d/\.depend\.)'
diff <(grep -Ev "$rc_re" "$T/before.list") <(grep -Ev "$rc_re" "$T/after.list") >&2 ||
	fail "dpkg -P left the file lists changed (diff above)"
restore_rc
snapshot >"$T/after.list"
diff "$T/before.list" "$T/after.list" >&2 ||
	fail "rc?.d or insserv's files not restored (diff above)"
ok "dpkg -P: no file left, no rc.d link; the file lists are as before"
exit "$e2e"
