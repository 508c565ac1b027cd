# SPDX-License-Identifier: MIT
# Gentoo: this directory's parent is an ebuild repository (README,
# "Install"). Its source is the release tarball, which is not downloaded:
# pkg_nofetch says where it comes from. The OpenRC script and its conf.d
# are the ones the build generates with its paths. The system broker's
# /etc/virt-broker/virt-broker.conf gives the libvirt group (acct-group)
# its read-write sockets, as libvirt[policykit] gives that group
# qemu:///system.

EAPI=8

inherit cmake

DESCRIPTION="Socket activation for libvirt's daemons, without systemd"
# No public home yet: the url of the published releases goes here.
HOMEPAGE="https://example.invalid/virt-broker"
SRC_URI="${P}.tar.gz"

LICENSE="MIT"
SLOT="0"
KEYWORDS="~amd64"
IUSE="test"
RESTRICT="fetch !test? ( test )"

RDEPEND="
	acct-group/libvirt
	app-emulation/libvirt
	dev-libs/inih
	dev-libs/libev
"
# app-emulation/libvirt: virt-brokerctl links libvirt-admin.
DEPEND="
	app-emulation/libvirt
	dev-libs/inih
	dev-libs/libev
	elibc_musl? ( sys-libs/queue-standalone )
	test? ( dev-libs/check )
"
BDEPEND="virtual/pkgconfig"

pkg_nofetch() {
	einfo "Make ${P}.tar.gz from a virt-broker source tree:"
	einfo "  cmake -S . -B build && cmake --build build --target package_source"
	einfo "and copy build/${P}.tar.gz into ${DISTDIR}."
}

src_configure() {
	local mycmakeargs=(
		-DCMAKE_INSTALL_SYSCONFDIR="${EPREFIX}/etc"
		-DBUILD_TESTING="$(usex test)"
		-DBROKER_LIBVIRT_ADMIN=ON
	)
	cmake_src_configure
}

# The unit tests: the integration and end to end tests need root, other
# users and libvirt, which the sandbox does not have.
src_test() {
	cmake_src_test -L unit
}

src_install() {
	cmake_src_install
	insinto /etc/virt-broker
	doins "${S}"/conf/system/virt-broker.conf
	newinitd "${BUILD_DIR}"/init/openrc/virt-broker virt-broker
	newconfd "${BUILD_DIR}"/init/openrc/virt-broker.confd virt-broker
}

pkg_postinst() {
	elog "The broker starts libvirt's daemons itself: take libvirtd (and"
	elog "virtqemud...) out of the runlevels first, then"
	elog "  rc-update add virt-broker default"
}
