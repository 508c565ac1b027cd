# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# A private sshd on loopback for the end-to-end tests' qemu+ssh:// clients
# (paths.sh, logout.sh). Sourced after lib.sh, never run. start_sshd runs
# as root in outer_prep; vsh_ssh runs as the test user.

SSHD_PID=

# What qemu+ssh needs: sshd and ssh, and Debian's virt-ssh-helper (what a
# Debian host runs on the remote side of qemu+ssh).
ensure_packages() {
	local -a need=()
	[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
	[[ -x /usr/bin/ssh ]] || need+=(openssh-client)
	[[ -x /usr/bin/virt-ssh-helper ]] || need+=(libvirt-clients)
	command -v ss >/dev/null || need+=(iproute2)
	((${#need[@]} > 0)) || return 0
	log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${need[@]}" >"$OUTER_ROOT/apt.log" 2>&1 || {
		tail -n 20 "$OUTER_ROOT/apt.log" >&2
		die "apt-get install ${need[*]} failed: qemu+ssh cannot be tested"
	}
}

# A loopback TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$((30000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

listening() { ss -Htln "sport = :$1" | grep -q .; }
sshd_up_or_gone() { listening "$1" || pid_gone "$SSHD_PID"; }

# For a /session URI libvirt's client always asks for the native proxy (a
# remote socket path cannot be computed from the client's environment): the
# remote command is sh -c 'virt-ssh-helper 'qemu:///session'', found on the
# ssh session's PATH, sshd's default (/usr/local/bin:/usr/bin:/bin:
# /usr/games), and run without XDG_RUNTIME_DIR (no PAM, so no pam_systemd),
# so libvirt's runtime dir there is ~/.cache/libvirt.
# Two keys, two helpers:
#   user_key    sshd's PATH: the first virt-ssh-helper on it, Debian's
#               /usr/bin/virt-ssh-helper unless one sits in /usr/local/bin
#               (libvirt's own default prefix installs it there). Debian's is
#               built with remote_default_mode=legacy, which goes "direct"
#               because ~/.cache/libvirt/virtqemud-sock exists (the broker's
#               R); without it it would spawn Debian's libvirtd there.
#   prefix_key  PATH=PREFIX/bin first (authorized_keys environment=, allowed
#               by PermitUserEnvironment PATH): the modular build's helper.
# Both run through a forced command that records the session's
# environment, then runs exactly what the client asked for, so the test
# can assert which helper ran and that XDG_RUNTIME_DIR was unset.
start_sshd() {
	local user=$1 ssh=$OUTER_ROOT/ssh port k attempt
	install -d -m 0755 "$ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_key"
	for k in user_key prefix_key; do
		ssh-keygen -q -t ed25519 -N '' -C "vb-e2e-$k" -f "$ssh/$k"
		chown "$user" "$ssh/$k" "$ssh/$k.pub"
	done
	cat >"$ssh/remote-cmd" <<EOF
#!/bin/sh
# sshd's forced command for the test's keys (see paths.sh, start_sshd).
printf 'key=%s xdg=%s helper=%s path=%s cmd=%s\\n' "\$1" "\${XDG_RUNTIME_DIR-unset}" \\
	"\$(command -v virt-ssh-helper || echo none)" "\$PATH" "\$SSH_ORIGINAL_COMMAND" \\
	>>'$OUTER_ROOT/work/ssh-remote.log'
exec /bin/sh -c "\$SSH_ORIGINAL_COMMAND"
EOF
	chmod 0755 "$ssh/remote-cmd"
	{
		printf 'command="%s user_key" %s\n' "$ssh/remote-cmd" "$(cat "$ssh/user_key.pub")"
		printf 'command="%s prefix_key",environment="PATH=%s/bin:/usr/local/bin:/usr/bin:/bin" %s\n' \
			"$ssh/remote-cmd" "$PREFIX" "$(cat "$ssh/prefix_key.pub")"
	} >"$ssh/authorized_keys"
	chmod 0644 "$ssh/authorized_keys"
	install -d -m 0755 /run/sshd	# sshd's privilege separation dir
	# useradd leaves the account locked ("!"), which sshd refuses without
	# PAM even for keys; "*" is no password, but not locked.
	if [[ $(getent shadow "$user" | cut -d: -f2) == '!'* ]]; then
		usermod -p '*' "$user"
	fi
	add_outer_cleanup stop_sshd
	# A free port may be taken before sshd binds it: then another one.
	for attempt in 1 2 3; do
		port=$(free_port)
		printf '%s\n' "ListenAddress 127.0.0.1" "Port $port" \
			"HostKey $ssh/host_key" "PidFile $ssh/sshd.pid" \
			"AuthorizedKeysFile $ssh/authorized_keys" \
			"PasswordAuthentication no" "KbdInteractiveAuthentication no" \
			"UsePAM no" "StrictModes no" "AllowUsers $user" \
			"PermitUserEnvironment PATH" "LogLevel VERBOSE" \
			>"$ssh/sshd_config"
		/usr/sbin/sshd -D -f "$ssh/sshd_config" -E "$ssh/sshd.log" &
		SSHD_PID=$!
		wait_for sshd_up_or_gone "$port"
		pid_gone "$SSHD_PID" || break
		wait "$SSHD_PID" || true
		SSHD_PID=
		log "sshd did not start on port $port (attempt $attempt):" \
			"$(tail -n 3 "$ssh/sshd.log")"
	done
	[[ -n $SSHD_PID ]] || die "sshd does not start: $(tail -n 5 "$ssh/sshd.log")"
	echo "$port" >"$ssh/port"
	log "sshd $SSHD_PID on 127.0.0.1:$port for $user"
}

stop_sshd() {
	[[ -n $SSHD_PID ]] || return 0
	kill "$SSHD_PID" 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=
}


# virsh over qemu+ssh with KEY (user_key or prefix_key).
vsh_ssh() {
	local key=$VB_E2E_ROOT/ssh/$1 port
	shift
	port=$(<"$VB_E2E_ROOT/ssh/port")
	timeout "$VIRSH_TIMEOUT" "$VIRSH" -q \
		-c "qemu+ssh://$(id -un)@127.0.0.1:$port/session?keyfile=$key&no_verify=1" "$@"
}
