#!/usr/bin/env bash
# Builds the systemd test-host image (default localhost/nomadops-debian:bookworm)
# with sshd for the benches that reach the hosts the way users do (bench/cluster.py),
# from debootstrap, because there is no registry to pull from. The cleaned
# root filesystem is cached as a tarball under .cache/, so after `podman rmi`
# or a storage wipe the image comes back in seconds.
#
#   tests/hosts/build-image.sh          build unless the image exists
#   tests/hosts/build-image.sh --force  rebuild the image from the cached rootfs
#   NOMADOPS_DEBIAN_MIRROR=URL          use this mirror instead of apt's
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-requests,sudo,iproute2,curl,unzip,ca-certificates,procps,gpgv,openssh-server
# Units that fail or hang inside a container: no ttys, no udev, no logind seat,
# read-only sysfs/remount and no hugepages mount permission.
MASK_UNITS=(
  getty.target getty@.service console-getty.service serial-getty@.service
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service
  systemd-logind.service systemd-remount-fs.service
  dev-hugepages.mount sys-fs-fuse-connections.mount
)
CACHE="$NOMADOPS_ROOT/.cache/image"
# The cache key covers everything that shapes the rootfs.
KEY="$(printf '%s\n' "$SUITE" "$PACKAGES" "${MASK_UNITS[*]}" | sha256sum | cut -c1-12)"
TARBALL="$CACHE/rootfs-$SUITE-$KEY.tar"

force=0
[ "${1:-}" = "--force" ] && force=1

mkdir -p "$CACHE"
exec 8>"$CACHE/build.lock"
flock 8

if [ "$force" = 0 ] && podman image exists "$NOMADOPS_IMAGE"; then
  echo "image $NOMADOPS_IMAGE present"
  exit 0
fi

apt_mirror() {
  # First plain Debian archive URI in apt's sources (one-line or deb822 style),
  # skipping security and third-party repositories.
  local uri
  uri="$( { grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
              | sed -E 's/^\s*deb\s+(\[[^]]*\]\s+)?(\S+).*/\2/';
            grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
              | sed -E 's/^\s*URIs:\s*//' | tr ' ' '\n'; } \
          | grep -E '/debian/?$' | grep -v security | head -n1 )"
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -s "$TARBALL" ]; then
  mirror="${NOMADOPS_DEBIAN_MIRROR:-$(apt_mirror)}"
  rootfs="$CACHE/rootfs.build"
  rm -rf "$rootfs"
  echo "debootstrap $SUITE from $mirror (takes a minute or two)"
  start=$SECONDS
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" \
    >"$CACHE/debootstrap.log" 2>&1 || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  chroot "$rootfs" /bin/sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log'
  # An empty machine-id makes systemd generate a fresh one per container.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"
  for unit in "${MASK_UNITS[@]}"; do
    ln -sfn /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  tar -C "$rootfs" --numeric-owner -cf "$TARBALL.part" .
  mv -f "$TARBALL.part" "$TARBALL"
  rm -rf "$rootfs"
  echo "rootfs cached in $TARBALL after $((SECONDS - start)) s"
fi

start=$SECONDS
podman import --quiet \
  --change 'CMD ["/sbin/init"]' \
  --change 'ENV container=podman' \
  --change 'STOPSIGNAL SIGRTMIN+3' \
  "$TARBALL" "$NOMADOPS_IMAGE" >/dev/null
echo "image $NOMADOPS_IMAGE imported in $((SECONDS - start)) s"
