#!/usr/bin/env bash
# Build the lab's systemd base image (Debian 12 "bookworm", minbase) with debootstrap.
#
# The image is cached: its tag carries a label with the sha256 of this file, and the
# rootfs tarball is kept under the state dir, so the image is rebuilt only when this
# recipe changes (and re-imported, not re-bootstrapped, when only docker's data is gone).
#
# Usage: image.sh IMAGE_REF STATE_DIR      (needs root, debootstrap and a docker daemon)
set -euo pipefail

image=${1:?image reference}
state=${2:?state dir}
here=$(cd "$(dirname "$0")" && pwd)
recipe=$(sha256sum "$here/image.sh" | cut -c1-16)

# Packages baked into every lab host. Everything else is the collection's job to install.
include=systemd,systemd-sysv,dbus,python3,iproute2,iputils-ping,procps,ca-certificates

have=$(docker image inspect -f '{{ index .Config.Labels "kubebin.lab.recipe" }}' "$image" 2>/dev/null || true)
if [ "$have" = "$recipe" ]; then
  echo "lab image $image is current (recipe $recipe)"
  exit 0
fi

mkdir -p "$state/image"
tarball="$state/image/rootfs-$recipe.tar"
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  rootfs=$(mktemp -d "$state/image/rootfs.XXXXXX")
  trap 'umount -R "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true; rm -rf "$rootfs"' EXIT
  # Use the Debian mirror this machine's apt already uses (no host is named here).
  mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -v -- '-security' | grep -m1 -oE 'https?://[^ ]+/debian/?' || true)
  echo "debootstrap bookworm into $rootfs (mirror: ${mirror:-debootstrap default})"
  start=$(date +%s)
  debootstrap --variant=minbase --include="$include" bookworm "$rootfs" ${mirror:+"$mirror"} \
    > "$state/image/debootstrap.log" 2>&1 || { tail -30 "$state/image/debootstrap.log" >&2; exit 1; }
  # apt inside the hosts uses the same sources as this machine's Debian entries.
  rm -f "$rootfs/etc/apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q 'debian' "$f" && cp "$f" "$rootfs/etc/apt/sources.list.d/"
  done
  [ -n "$(ls "$rootfs/etc/apt/sources.list.d/" 2>/dev/null)" ] || cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list"
  # Each container gets its own machine-id at first boot.
  : > "$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"
  # Timers that would run apt or touch disks behind the tests' backs.
  for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
              getty@tty1.service systemd-remount-fs.service; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
    -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  echo "debootstrap took $(( $(date +%s) - start ))s"
fi

docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  --change "LABEL kubebin.lab.recipe=$recipe" \
  "$tarball" "$image" >/dev/null
# Old rootfs tarballs of earlier recipes are dead weight.
find "$state/image" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$recipe.tar" -delete
echo "lab image $image built (recipe $recipe)"
