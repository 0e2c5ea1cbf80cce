#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# build-4.20.sh - build domtrace, dt-a3-receiver, xt-peek and xt-minmon against Xen 4.20's
# libraries (libxenctrl's soname is per release: a binary linked on this Debian 12 host finds no
# libxenctrl.so.4.17 in a 4.20 dom0), in a Debian 13 (trixie) build chroot, for XT_XEN=4.20.
#
# Usage: build-4.20.sh BUILD_DIR [ctest]
#   BUILD_DIR   a host directory for the build (mounted in the chroot as /build; kept between
#               runs, so a run rebuilds only what changed); on success it holds domtrace,
#               dt-a3-receiver and xt/xt-peek, xt/xt-minmon, and the path is printed on stdout
#   ctest       also run the plain ctest (DT_WERROR=ON) in the chroot
# The chroot: debootstrap trixie + the build dependencies (.ci/packages' build part, trixie's
# names), cached in ${XT_CACHE:-/var/cache/domtrace-xen}/build-4.20/<hash>/root, published only
# when complete. The hash covers the recipe only (BUILD_PKGS and make_chroot), so that editing
# the build step below does not rebuild the chroot. The checkout is mounted read-only as /src.
# One instance at a time (a lock in the cache): the chroot's mounts are shared. Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${1:?usage: build-4.20.sh BUILD_DIR [ctest]}
CTEST=${2:-}
CACHE_ROOT=${XT_CACHE:-/var/cache/domtrace-xen}/build-4.20
log() { echo "xen-tier: build-4.20: $*" >&2; }
exec 3>&1 1>&2 # stdout is the answer channel only

# The build dependencies (.ci/packages, cmake/DtDeps.cmake, tools/CMakeLists.txt) in trixie
BUILD_PKGS="build-essential cmake pkg-config libxen-dev liburcu-dev libcurl4-openssl-dev
	libpcre2-dev libbpf-dev libzydis-dev check libsubunit-dev libssl-dev libmicrohttpd-dev
	openssl ca-certificates curl jq"

mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
secmirror=${mirror%/debian}/debian-security

# make_chroot: debootstrap trixie into a temporary directory, install BUILD_PKGS, publish as $OUT
make_chroot() {
	command -v debootstrap >/dev/null || { log "debootstrap missing"; exit 1; }
	mkdir -p "$CACHE_ROOT"
	TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
	R=$TMP/root
	trap 'umount "$R/proc" "$R/dev" 2>/dev/null; rm -rf "$TMP"' EXIT
	t0=$SECONDS
	log "building the trixie build chroot into $OUT (first run or recipe changed; a few minutes)"
	debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		trixie "$R" "$mirror" > "$TMP/debootstrap.log" 2>&1 ||
		{ tail -20 "$TMP/debootstrap.log" >&2; exit 1; }
	log "debootstrap done after $((SECONDS - t0)) s"
	rm -f "$R/etc/apt/sources.list"
	printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: trixie-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$mirror" "$secmirror" > "$R/etc/apt/sources.list.d/debian.sources"
	printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
	chmod +x "$R/usr/sbin/policy-rc.d"
	mount -t proc proc "$R/proc"
	mount --bind /dev "$R/dev"
	{
		DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get update &&
		DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get -y dist-upgrade &&
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get -y --no-install-recommends install $BUILD_PKGS &&
		DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get clean
	} > "$TMP/apt.log" 2>&1 || { tail -30 "$TMP/apt.log" >&2; exit 1; }
	umount "$R/proc" "$R/dev"
	mkdir -p "$R/src" "$R/build"
	chroot "$R" dpkg-query -W -f '${Package} ${Version}\n' gcc libxen-dev cmake > "$R/versions"
	touch "$TMP/.complete"
	rm -rf "$OUT"
	mv "$TMP" "$OUT"
	trap - EXIT
	for old in "$CACHE_ROOT"/*/; do
		[ "${old%/}" = "$OUT" ] || [ ! -e "$old/.complete" ] || rm -rf "$old"
	done
	log "chroot ready after $((SECONDS - t0)) s: $(tr '\n' ' ' < "$OUT/root/versions")"
}
HASH=$( (echo $BUILD_PKGS; declare -f make_chroot) | sha256sum | cut -c1-16)
OUT=$CACHE_ROOT/$HASH
mkdir -p "$CACHE_ROOT"
exec 9> "$CACHE_ROOT/.lock"
flock 9
[ -e "$OUT/.complete" ] || make_chroot

# The build of the current checkout, each run: the source read-only at /src, BUILD at /build.
R=$OUT/root
mkdir -p "$BUILD"
umnt() { local m; for m in build src dev/shm dev proc; do umount -l "$R/$m" 2>/dev/null || true; done; }
umnt # a build killed by a signal its shell could not trap (SIGKILL) left its mounts
trap umnt EXIT
trap 'exit 1' INT TERM HUP # the EXIT trap runs on these too
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/dev/shm"
mount --bind "$REPO" "$R/src"
mount -o remount,bind,ro "$R/src"
mount --bind "$BUILD" "$R/build"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
t0=$SECONDS
in_root sh -c 'cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDT_WERROR=ON >/build/configure.log &&
	cmake --build /build -j2 >/build/build.log 2>&1' ||
	{ tail -40 "$BUILD/configure.log" "$BUILD/build.log" >&2; log "the build failed (logs in $BUILD)"; exit 1; }
in_root sh -c 'mkdir -p /build/xt &&
	gcc -O2 -Wall -Werror -o /build/xt/xt-peek /src/tests/xen/tools/xt-peek.c -lxenctrl -lxenforeignmemory &&
	gcc -O2 -Wall -Werror -o /build/xt/xt-minmon /src/tests/xen/tools/xt-minmon.c -lxenctrl \
		-lxenforeignmemory -lxenevtchn' || { log "the xt tools do not build against Xen 4.20"; exit 1; }
log "built against $(in_root dpkg-query -W -f '${Package} ${Version}' libxen-dev) with $(in_root gcc -dumpfullversion) in $((SECONDS - t0)) s"
if [ "$CTEST" = ctest ]; then
	t0=$SECONDS
	in_root sh -c 'cd /build && ctest --output-on-failure -j2' > "$BUILD/ctest.log" 2>&1 ||
		{ tail -60 "$BUILD/ctest.log" >&2; log "ctest failed in the trixie chroot ($BUILD/ctest.log)"; exit 1; }
	log "ctest in the chroot after $((SECONDS - t0)) s: $(grep 'tests passed' "$BUILD/ctest.log")"
fi
echo "$BUILD" >&3
