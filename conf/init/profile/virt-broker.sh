# SPDX-License-Identifier: MIT
# Login-profile snippet: starts this user's session broker if none runs.
# Install as /etc/profile.d/virt-broker.sh (or source it from ~/.profile).
# Prefer a boot-started broker for guests that must outlive logins.
if [ "$(id -u)" != 0 ] && command -v virt-broker >/dev/null 2>&1; then
	if ! pgrep -u "$(id -u)" -x virt-broker >/dev/null 2>&1; then
		(virt-broker -s </dev/null >/dev/null 2>&1 &)
	fi
fi
