#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# kernels.sh - fetch (or find cached) the kernels of the Xen tier's guest matrix: Debian's own
# linux-image-amd64 of bullseye (Debian 11, 5.10) and trixie (Debian 13, 6.12), beside the
# bookworm (12, 6.1) kernel that dom0 and guest u1 run (images.sh). Only the packages'
# vmlinuz is kept: the guests boot it with the tier's initramfs, and domtrace gets no file of
# any of them (their System.map in the package is an 83-byte stub anyway).
#
# Usage: kernels.sh        prints the cache directory on stdout, holding
#   vmlinuz-5.10 vmlinuz-6.12   the kernels
#   releases                    "<series> <package> <version>" per kernel
# Cache: ${XT_CACHE:-/var/cache/domtrace-xen}/kernels/<hash of this script>/, published only
# when complete. Needs root and the Debian mirror the host's apt uses (signatures checked with
# the host's debian-archive-keyring: bookworm's holds the keys of both suites).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${XT_CACHE:-/var/cache/domtrace-xen}/kernels
HASH=$(sha256sum < "$HERE/kernels.sh" | cut -c1-16)
OUT=$CACHE_ROOT/$HASH
log() { echo "xen-tier: kernels: $*" >&2; }

if [ -e "$OUT/.complete" ]; then
	echo "$OUT"
	exit 0
fi
exec 3>&1 1>&2 # stdout is the answer channel only

mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

mkdir -p "$CACHE_ROOT"
TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # apt's _apt user downloads into it
mkdir -p "$TMP/out"
t0=$SECONDS
# series suite: one private apt state per suite (the host's own apt is not touched)
for pair in 5.10:bullseye 6.12:trixie; do
	series=${pair%%:*} suite=${pair#*:}
	A=$TMP/apt-$suite
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/deb"
	chmod -R 755 "$A"
	chown -R _apt "$A/deb" "$A/lists" "$A/cache" 2>/dev/null || true
	echo "deb $mirror $suite main" > "$A/sources.list"
	O=(-o "Dir::State::Lists=$A/lists" -o "Dir::Etc::SourceList=$A/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o "Dir::Cache=$A/cache" -o Debug::NoLocking=1)
	apt-get "${O[@]}" -q update > "$A/update.log" 2>&1 ||
		{ tail -5 "$A/update.log" >&2; log "apt-get update of $suite failed"; exit 1; }
	pkg=$(apt-cache "${O[@]}" depends linux-image-amd64 |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || { log "no linux-image in $suite"; exit 1; }
	(cd "$A/deb" && apt-get "${O[@]}" -q download "$pkg") > "$A/download.log" 2>&1 ||
		{ tail -5 "$A/download.log" >&2; log "download of $pkg failed"; exit 1; }
	deb=$(ls "$A"/deb/*.deb)
	dpkg-deb -x "$deb" "$A/x"
	cp "$A"/x/boot/vmlinuz-* "$TMP/out/vmlinuz-$series"
	echo "$series $pkg $(dpkg-deb -f "$deb" Version)" >> "$TMP/out/releases"
	log "$suite: $pkg ($(stat -c %s "$TMP/out/vmlinuz-$series") bytes)"
done
touch "$TMP/out/.complete"
rm -rf "$OUT"
mv "$TMP/out" "$OUT"
for old in "$CACHE_ROOT"/*/; do
	[ "${old%/}" = "$OUT" ] || [ ! -e "$old/.complete" ] || rm -rf "$old"
done
log "ready in $OUT after $((SECONDS - t0)) s"
echo "$OUT" >&3
