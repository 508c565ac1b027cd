# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# A logind stand-in for the end-to-end tests (logout.sh, race.sh). Sourced.
# /run/user is stood for by a root-owned directory OUTER_ROOT/runuser, and
# logind by a root helper that the test user asks, through a FIFO, to log
# in and out:
#   login-tmpfs    as systemd's user-runtime-dir: a root-owned directory,
#                  then the user's tmpfs (mode 0700) mounted on it;
#   login-plain    as pam_rundir: a plain directory, the user's;
#   logout-umount  as user-runtime-dir's stop: the contents removed, the
#                  tmpfs detached (umount2 MNT_DETACH, as logind does), the
#                  directory removed;
#   logout-rmrf    as pam_rundir: rm -rf.
# The helper answers "CMD STATUS" and logs "MS CMD STATUS" (ms since the
# epoch, when it was done) in OUTER_ROOT/logind/log. A removal is tried up
# to 5 times: a client polling with XDG_RUNTIME_DIR (race.sh) may make
# RU/libvirt and its spawn lock again while rm runs, as it would on a real
# logout.

LOGIND_PID=

rm_retry() {	# DIR
	local _
	for _ in 1 2 3 4 5; do
		rm -rf "$1" 2>/dev/null && return 0
	done
	rm -rf "$1"
}

# As root: reads commands from OUTER_ROOT/logind/cmd, answers on .../ack,
# for RU = OUTER_ROOT/runuser/UID.
logind_loop() {
	local uid=$1 gid=$2 ru=$OUTER_ROOT/runuser/$1 dir=$OUTER_ROOT/logind
	local cmd rc
	while :; do
		read -r cmd <"$dir/cmd" || continue
		rc=0
		case $cmd in
		login-tmpfs)
			install -d -m 0700 "$ru" &&
				mount -t tmpfs -o "mode=0700,uid=$uid,gid=$gid,size=4m" \
					tmpfs "$ru" || rc=$?
			;;
		login-plain) install -d -o "$uid" -g "$gid" -m 0700 "$ru" || rc=$? ;;
		logout-umount)
			{ find "$ru" -mindepth 1 -delete; umount -l "$ru" &&
				rm_retry "$ru"; } 2>>"$dir/errors" || rc=$?
			;;
		logout-rmrf) rm_retry "$ru" 2>>"$dir/errors" || rc=$? ;;
		quit) break ;;
		*) rc=99 ;;
		esac
		echo "$(date +%s%3N) $cmd $rc" >>"$dir/log"
		echo "$cmd $rc" >"$dir/ack"
	done
}

# logind_start UID GID, as root in outer_prep.
logind_start() {
	install -d -m 0755 "$OUTER_ROOT/runuser" "$OUTER_ROOT/logind"
	mkfifo -m 0622 "$OUTER_ROOT/logind/cmd"
	mkfifo -m 0644 "$OUTER_ROOT/logind/ack"
	logind_loop "$1" "$2" &
	LOGIND_PID=$!
	add_outer_cleanup stop_logind
}

stop_logind() {
	local ru
	[[ -n $LOGIND_PID ]] || return 0
	kill "$LOGIND_PID" 2>/dev/null || true
	wait "$LOGIND_PID" 2>/dev/null || true
	for ru in "$OUTER_ROOT"/runuser/*; do
		[[ -d $ru ]] || continue
		umount -l "$ru" 2>/dev/null || true
	done
}

LOGIN_MOUNTED=no	# the current login mounted a tmpfs
UMOUNTS=0		# logouts by umount, by rm -rf (logind_logout)
RMRFS=0

# logind CMD, as the test user: asks the stand-in; fails the test unless it
# succeeded.
logind() {
	local reply
	echo "$1" >"$VB_E2E_ROOT/logind/cmd"
	read -r reply <"$VB_E2E_ROOT/logind/ack"
	[[ $reply == "$1 0" ]] ||
		die "logind stand-in: '$1' answered '$reply': $(cat "$VB_E2E_ROOT/logind/errors" 2>/dev/null)"
	case $1 in
	login-tmpfs) LOGIN_MOUNTED=yes ;;
	login-plain) LOGIN_MOUNTED=no ;;
	esac
}

# A logout as the current login was made (umount after a tmpfs, rm -rf
# after a plain dir), counted in UMOUNTS and RMRFS.
logind_logout() {
	if [[ $LOGIN_MOUNTED == yes ]]; then
		logind logout-umount
		UMOUNTS=$((UMOUNTS + 1))
	else
		logind logout-rmrf
		RMRFS=$((RMRFS + 1))
	fi
}

# A login of either kind, at random (bash's RANDOM: a seed replays it).
logind_login_any() {
	if ((RANDOM % 2)); then
		logind login-tmpfs
	else
		logind login-plain
	fi
}
