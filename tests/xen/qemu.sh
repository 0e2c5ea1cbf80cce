#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# qemu.sh - build (or find cached) the Xen tier's QEMU: Debian 12's own QEMU source package
# with the patches in tests/xen/qemu/ applied (int3-bp-intercept.patch: a nested guest's INT3
# reaches its hypervisor's #BP intercept, so Xen's software-breakpoint vm_events, domtrace's
# default `--trap int3`, work under TCG; docs/XEN-TIER.md "The patched QEMU").
#
# Usage: qemu.sh       prints the path of the built qemu-system-x86_64 (fd 3, stdout)
# Cache: ${XT_CACHE:-/var/cache/domtrace-xen}/qemu/<hash>/ (x86_64-softmmu only, TCG only,
# 9p for the share). The hash covers this script, the patches and the source version. The
# firmware comes from the host's qemu-system-data and seabios (same QEMU version): run it
# with `-L /usr/share/qemu`. It writes a deb-src entry for the host's Debian mirror if apt
# has no source for qemu, and installs the build dependencies it needs (Debian packages).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${XT_CACHE:-/var/cache/domtrace-xen}/qemu
log() { echo "xen-tier: qemu: $*" >&2; }
exec 3>&1 1>&2

BUILD_DEPS="dpkg-dev meson ninja-build pkg-config python3-venv flex bison libglib2.0-dev
	libpixman-1-dev libcap-ng-dev libattr1-dev libfdt-dev zlib1g-dev"
SRC_LIST=/etc/apt/sources.list.d/domtrace-xt-src.sources

# The version to build: the host's own QEMU package (its firmware is used with it).
VER=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
VER=${VER%+b[0-9]*} # a binNMU (+b3) has the source version without it
[ -n "$VER" ] || { log "qemu-system-x86 is not installed"; exit 1; }
HASH=$( (cat "$HERE/qemu.sh" "$HERE"/qemu/*.patch; echo "$VER") | sha256sum | cut -c1-16)
OUT=$CACHE_ROOT/$HASH
if [ -x "$OUT/bin/qemu-system-x86_64" ] && [ -e "$OUT/.complete" ]; then
	echo "$OUT/bin/qemu-system-x86_64" >&3
	exit 0
fi

missing=""
for p in $BUILD_DEPS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
	log "installing build dependencies:$missing"
	apt-get install -y -qq $missing > /dev/null || { log "apt-get install failed"; exit 1; }
fi
if ! apt-cache showsrc qemu 2>/dev/null | grep -qx "Version: $VER"; then
	mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	log "adding a deb-src entry for $mirror bookworm ($SRC_LIST)"
	printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" > "$SRC_LIST"
	apt-get update -qq > /dev/null || true
fi

mkdir -p "$CACHE_ROOT"
TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
t0=$SECONDS
log "building QEMU $VER with $(cd "$HERE/qemu" && echo *.patch) into $OUT (first run or recipe changed)"
(cd "$TMP" && apt-get source --download-only "qemu=$VER" > fetch.log 2>&1 &&
	dpkg-source -x qemu_*.dsc src > unpack.log 2>&1) ||
	{ log "cannot fetch the source of qemu $VER:"; tail -5 "$TMP"/*.log >&2; exit 1; }
cd "$TMP/src"
for p in "$HERE"/qemu/*.patch; do
	patch -p1 --forward --quiet < "$p" || { log "$(basename "$p") does not apply to qemu $VER"; exit 1; }
done
./configure --prefix="$TMP/out" --target-list=x86_64-softmmu --without-default-features \
	--enable-tcg --enable-virtfs --enable-attr --enable-cap-ng --enable-fdt=system \
	--disable-docs --disable-werror --disable-debug-info > "$TMP/configure.log" 2>&1 ||
	{ tail -20 "$TMP/configure.log" >&2; exit 1; }
ninja -C build -j"$(nproc)" qemu-system-x86_64 > "$TMP/build.log" 2>&1 ||
	{ tail -30 "$TMP/build.log" >&2; exit 1; }
mkdir -p "$TMP/out/bin"
install -m 755 build/qemu-system-x86_64 "$TMP/out/bin/"
cp "$HERE"/qemu/*.patch "$TMP/out/"
echo "$VER" > "$TMP/out/version"
touch "$TMP/out/.complete"
rm -rf "$OUT"
mv "$TMP/out" "$OUT"
for old in "$CACHE_ROOT"/*/; do
	[ "${old%/}" = "$OUT" ] || [ ! -e "$old/.complete" ] || rm -rf "$old"
done
log "QEMU ready in $OUT after $((SECONDS - t0)) s"
echo "$OUT/bin/qemu-system-x86_64" >&3
