#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs CMD in the mount view flatpak gives APP, made with bubblewrap:
#   flatpak-sandbox.sh APP CMD [ARG...]
# The host's /usr (for the command), a fresh /tmp and an empty
# XDG_RUNTIME_DIR, and of the host's files only what APP's --filesystem
# entries grant: from its metadata in the user installation
# ($HOME/.local/share/flatpak) and the overrides `flatpak override` writes
# (system: $FLATPAK_SYSTEM_DIR, then user; "!tok" takes one back), tokens
# mapped as flatpak maps them (xdg-run/X, ~/X, home, xdg-cache/X, /path).
# Flatpak's runtime, portals and D-Bus are not simulated: the question is
# only which of the broker's paths a sandboxed client can reach.
set -euo pipefail
app=$1
shift
user=$HOME/.local/share/flatpak
sys=${FLATPAK_SYSTEM_DIR:-/var/lib/flatpak}

tokens=$(for f in "$user/app/$app/current/active/metadata" \
	"$sys/overrides/global" "$sys/overrides/$app" \
	"$user/overrides/global" "$user/overrides/$app"; do
	[ -f "$f" ] || continue
	sed -n '/^\[Context\]/,/^\[/s/^filesystems=//p' "$f" | tr ';' '\n'
done)

granted=()
while read -r t; do
	case $t in
	'!'*)	keep=()
		for g in "${granted[@]}"; do
			[ "$g" = "${t#!}" ] || keep+=("$g")
		done
		granted=("${keep[@]}") ;;
	?*)	granted+=("$t") ;;
	esac
done <<<"$tokens"

opts=(--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib
	--symlink usr/lib64 /lib64 --symlink usr/sbin /sbin
	--ro-bind /etc /etc --proc /proc --dev /dev --tmpfs /tmp
	--perms 0700 --dir "$XDG_RUNTIME_DIR")
for t in "${granted[@]}"; do
	t=${t%%:*}
	case $t in
	xdg-run/*)	p=$XDG_RUNTIME_DIR/${t#xdg-run/} ;;
	xdg-cache)	p=$HOME/.cache ;;
	xdg-cache/*)	p=$HOME/.cache/${t#xdg-cache/} ;;
	home|\~)	p=$HOME ;;
	\~/*)		p=$HOME/${t#\~/} ;;
	/*)		p=$t ;;
	*)		continue ;;	# xdg-documents and the like
	esac
	if [ -e "$p" ]; then
		opts+=(--bind "$p" "$p")
	fi
done
exec bwrap "${opts[@]}" "$@"
