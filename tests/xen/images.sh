#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# images.sh - build (or find cached) the Xen tier's boot images from Debian 12 packages.
#
# Usage: images.sh            prints the cache directory holding the images on stdout
# Cache: ${XT_CACHE:-/var/cache/domtrace-xen}/<recipe hash>/ with
#   xen          the hypervisor ELF (QEMU's -kernel loads it as multiboot)
#   vmlinuz      Debian's kernel: dom0 (PV) and every guest (PVH) run it
#   initrd.img   dom0's initramfs (virtio-blk + ext4 to reach the root image)
#   dom0.img     dom0's root: ext4, Debian minbase + Xen tools + domtrace's runtime libraries
#   versions     package versions inside (for reports)
# The hash covers this script and dom0/init: editing either rebuilds. A missing or partial
# cache rebuilds too (the directory is published only when complete). Needs root and a Debian
# mirror (the host's apt sources are copied into the image, security updates included, so the
# image's libraries match the host that builds domtrace).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_ROOT=${XT_CACHE:-/var/cache/domtrace-xen}
HASH=$(cat "$HERE/images.sh" "$HERE/dom0/init" | sha256sum | cut -c1-16)
OUT=$CACHE_ROOT/$HASH
log() { echo "xen-tier: images: $*" >&2; }

if [ -s "$OUT/dom0.img" ] && [ -e "$OUT/.complete" ]; then
	echo "$OUT"
	exit 0
fi

# From here on stdout is the caller's answer channel only (fd 3): every tool's chatter goes to
# stderr. mkfs.ext4 -q -d still prints "Creating regular file ..." on stdout (e2fsprogs 1.47),
# which the caller once took for the cache path on a fresh machine.
exec 3>&1 1>&2

# Packages dom0 needs: the toolstack and hypervisor, the kernel (its initramfs is generated
# inside the image), every library domtrace links (keep in sync with cmake/DtDeps.cmake), and
# the device model of the matrix's HVM guest (qemu-system-xen, SeaBIOS), and perf (linux-perf: the
# tier profiles domtrace's trap path in dom0, issue 15).
DOM0_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-amd64 initramfs-tools kmod
	procps busybox iproute2 libxenmisc4.17 libxenevtchn1 libxenforeignmemory1 libxenstore4
	libxentoollog1 liburcu8 libpcre2-8-0 libcurl4 libbpf1 libzydis4.0 libzycore1.4 libelf1
	libmicrohttpd12 qemu-system-xen seabios linux-perf"

for tool in debootstrap mkfs.ext4; do
	command -v $tool >/dev/null || { log "$tool missing (install debootstrap e2fsprogs)"; exit 1; }
done
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
	/etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

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
log "debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$ROOT" "$mirror" > "$TMP/debootstrap.log" 2>&1 ||
	{ tail -20 "$TMP/debootstrap.log" >&2; exit 1; }
log "debootstrap done after $((SECONDS - t0)) s"

# Same sources as the host (security updates: the image's libxen must equal the host's).
rm -f "$ROOT/etc/apt/sources.list"
if [ -e /etc/apt/sources.list.d/debian.sources ]; then
	cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/"
else
	grep -h '^deb .*debian' /etc/apt/sources.list > "$ROOT/etc/apt/sources.list"
fi
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
zcat "$ROOT"/boot/xen-4.17-amd64.gz > "$TMP/out/xen"
cp "$ROOT/boot/vmlinuz-$kver" "$TMP/out/vmlinuz"
cp "$ROOT/boot/initrd.img-$kver" "$TMP/out/initrd.img"
in_root dpkg-query -W -f '${Package} ${Version}\n' \
	xen-hypervisor-4.17-amd64 xen-utils-4.17 linux-image-$kver libxenmisc4.17 liburcu8 \
	libpcre2-8-0 libcurl4 libbpf1 libzydis4.0 > "$TMP/out/versions"
echo "kernel $kver" >> "$TMP/out/versions"

install -m 755 "$HERE/dom0/init" "$ROOT/sbin/xt-init"
echo dom0 > "$ROOT/etc/hostname"
rm -rf "$ROOT"/usr/share/{doc,man,locale} "$ROOT"/var/cache/apt/*.bin "$ROOT/boot"/*
mkdir -p "$ROOT/xt"
mkfs.ext4 -q -F -L xt-dom0 -d "$ROOT" "$TMP/out/dom0.img" 1536M
touch "$TMP/out/.complete"

# Publish atomically, and drop images of older recipes (about 1.5 GiB each).
rm -rf "$OUT"
mv "$TMP/out" "$OUT"
for old in "$CACHE_ROOT"/*/; do
	[ "${old%/}" = "$OUT" ] || [ ! -e "$old/.complete" ] || rm -rf "$old"
done
log "images ready in $OUT after $((SECONDS - t0)) s"
echo "$OUT" >&3
