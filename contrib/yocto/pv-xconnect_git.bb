# pvd and pv-xconnect, Pantavisor's ingress slice, built with the project's
# own Makefile. Copy this file into a layer of your build (for instance
# recipes-pv/pv-xconnect/) and add "pv-xconnect" to the image; see
# docs/embedded.md.

SUMMARY = "Pantavisor ingress: pvd (containers, IPAM, pv-ctrl) and the pv-xconnect proxy"
DESCRIPTION = "pvd loads a Pantavisor service state, leases IPAM addresses, \
starts the containers with liblxc and serves pv-ctrl; pv-xconnect is the \
service-mesh TCP proxy that forwards ingress ports and service links."
SECTION = "net"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://LICENSE;md5=84ec96a93a87785b83bf0f763532bb38"

# Where the sources come from: override in your layer or local.conf to use a
# mirror or a fixed revision.
PV_XCONNECT_URI ??= "git://github.com/pantavisor/pv-xconnect.git;protocol=https;branch=main"
PV_XCONNECT_SRCREV ??= "${AUTOREV}"
SRC_URI = "${PV_XCONNECT_URI}"
SRCREV = "${PV_XCONNECT_SRCREV}"
PV = "0.1+git${SRCPV}"
S = "${WORKDIR}/git"

# The liblxc provider: meta-virtualization's "lxc" by default; a Pantavisor
# build can set PV_XCONNECT_LXC = "lxc-pv". pvd also needs its init.lxc at
# run time, hence the RDEPENDS. jsmn is header-only.
PV_XCONNECT_LXC ??= "lxc"
DEPENDS = "libevent ${PV_XCONNECT_LXC} jsmn"
RDEPENDS:${PN} = "${PV_XCONNECT_LXC}"

inherit pkgconfig

# The toolchain comes from the environment (CC with its --sysroot, the
# pkg-config wrapper); ARCH and CROSS_COMPILE are cleared so that the
# Makefile's own cross-build mode (Debian sysroots) stays off.
EXTRA_OEMAKE = " \
    'CC=${CC}' 'CFLAGS=${CFLAGS}' 'LDFLAGS=${LDFLAGS}' PKG_CONFIG=pkg-config \
    ARCH= CROSS_COMPILE= V=1 \
    PREFIX=${prefix} BINDIR=${bindir} MANDIR=${mandir} \
    DOCDIR=${docdir}/pv-xconnect \
"

do_compile() {
    oe_runmake all
}

# Binaries unstripped: the build strips them into ${PN}-dbg itself. Man
# pages and the example state land in ${PN}-doc.
do_install() {
    oe_runmake install DESTDIR=${D}
}
