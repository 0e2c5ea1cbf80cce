#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# images-4.20.sh - build (or find cached) the Xen tier's boot images for XT_XEN=4.20: Debian 13
# (trixie) with its Xen 4.20, its kernel (6.12) and domtrace's runtime libraries under trixie's
# names. The 4.17 images (images.sh) are left alone: this is a separate script so that their
# cache key (a hash of images.sh and dom0/init) does not move.
#
# Usage: images-4.20.sh        prints the cache directory holding the images on stdout
# Cache: ${XT_CACHE:-/var/cache/domtrace-xen}/xen-4.20/<recipe hash>/, the same files as
#   images.sh's (xen, vmlinuz, initrd.img, dom0.img, versions). A subdirectory: images.sh
#   drops every complete cache directory beside its own, and would drop this one.
# The hash covers this script and dom0/init. Needs root and the Debian mirror the host's apt
# uses; trixie's Release is checked with the host's (bookworm's) debian-archive-keyring, which
# holds trixie's key, as kernels.sh does.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${XT_CACHE:-/var/cache/domtrace-xen}/xen-4.20
HASH=$(cat "$HERE/images-4.20.sh" "$HERE/dom0/init" | sha256sum | cut -c1-16)
OUT=$CACHE_ROOT/$HASH
log() { echo "xen-tier: images-4.20: $*" >&2; }

if [ -s "$OUT/dom0.img" ] && [ -e "$OUT/.complete" ]; then
	echo "$OUT"
	exit 0
fi
exec 3>&1 1>&2 # stdout is the answer channel only (mkfs.ext4 -d talks on stdout)

# dom0's packages: images.sh's list under trixie's names (the 64-bit time_t renames: liburcu8t64,
# libcurl4t64, libelf1t64, libmicrohttpd12t64; Zydis 4.1, Zycore 1.5; libxenmisc per release).
# Keep in sync with cmake/DtDeps.cmake. The device model of the matrix's HVM guest (h61) too:
# qemu-system-xen, SeaBIOS.
DOM0_PKGS="xen-hypervisor-4.20-amd64 xen-utils-4.20 linux-image-amd64 initramfs-tools kmod
	procps busybox iproute2 libxenmisc4.20 libxenevtchn1 libxenforeignmemory1 libxenstore4
	libxentoollog1 liburcu8t64 libpcre2-8-0 libcurl4t64 libbpf1 libzydis4.1 libzycore1.5
	libelf1t64 libmicrohttpd12t64 qemu-system-xen seabios linux-perf"

for tool in debootstrap mkfs.ext4; do
	command -v $tool >/dev/null || { log "$tool missing (install debootstrap e2fsprogs)"; exit 1; }
done
mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
secmirror=${mirror%/debian}/debian-security

mkdir -p "$CACHE_ROOT"
TMP=$(mktemp -d "$CACHE_ROOT/build.XXXXXX")
ROOT=$TMP/root
cleanup() {
	umount "$ROOT/proc" 2>/dev/null || true
	umount "$ROOT/dev" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
t0=$SECONDS
log "building into $OUT (first run or recipe changed; a few minutes)"
log "debootstrap trixie from $mirror"
debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
	trixie "$ROOT" "$mirror" > "$TMP/debootstrap.log" 2>&1 ||
	{ tail -20 "$TMP/debootstrap.log" >&2; exit 1; }
log "debootstrap done after $((SECONDS - t0)) s"

# trixie with its updates and security updates (the build chroot, build-4.20.sh, uses the same)
rm -f "$ROOT/etc/apt/sources.list"
printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: trixie-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	"$mirror" "$secmirror" > "$ROOT/etc/apt/sources.list.d/debian.sources"
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
in_root() { DEBIAN_FRONTEND=noninteractive chroot "$ROOT" "$@"; }
log "apt in the image: $(echo $DOM0_PKGS)"
{
	in_root apt-get update &&
	in_root apt-get -y dist-upgrade &&
	# shellcheck disable=SC2086
	in_root apt-get -y --no-install-recommends install $DOM0_PKGS &&
	in_root apt-get clean
} > "$TMP/apt.log" 2>&1 || { tail -30 "$TMP/apt.log" >&2; exit 1; }
umount "$ROOT/dev" "$ROOT/proc"
log "packages installed after $((SECONDS - t0)) s"

mkdir -p "$TMP/out"
kver=$(ls "$ROOT/lib/modules" | sort -V | tail -1)
zcat "$ROOT"/boot/xen-4.20-amd64.gz > "$TMP/out/xen"
cp "$ROOT/boot/vmlinuz-$kver" "$TMP/out/vmlinuz"
cp "$ROOT/boot/initrd.img-$kver" "$TMP/out/initrd.img"
in_root dpkg-query -W -f '${Package} ${Version}\n' \
	xen-hypervisor-4.20-amd64 xen-utils-4.20 linux-image-$kver libxenmisc4.20 liburcu8t64 \
	libpcre2-8-0 libcurl4t64 libbpf1 libzydis4.1 > "$TMP/out/versions"
echo "kernel $kver" >> "$TMP/out/versions"

# dom0's init is the 4.17 image's, with this release's tool directory on its PATH
sed 's,/usr/lib/xen-4\.17/,/usr/lib/xen-4.20/,g' "$HERE/dom0/init" > "$ROOT/sbin/xt-init"
chmod 755 "$ROOT/sbin/xt-init"
grep -q /usr/lib/xen-4.20/bin "$ROOT/sbin/xt-init" || { log "dom0/init has no xen-4.17 PATH to adapt"; exit 1; }
echo dom0 > "$ROOT/etc/hostname"
rm -rf "$ROOT"/usr/share/{doc,man,locale} "$ROOT"/var/cache/apt/*.bin "$ROOT/boot"/*
mkdir -p "$ROOT/xt"
mkfs.ext4 -q -F -L xt-dom0 -d "$ROOT" "$TMP/out/dom0.img" 1536M
touch "$TMP/out/.complete"

# Publish atomically, and drop images of older 4.20 recipes (about 1.5 GiB each).
rm -rf "$OUT"
mv "$TMP/out" "$OUT"
for old in "$CACHE_ROOT"/*/; do
	[ "${old%/}" = "$OUT" ] || [ ! -e "$old/.complete" ] || rm -rf "$old"
done
log "images ready in $OUT after $((SECONDS - t0)) s"
echo "$OUT" >&3
