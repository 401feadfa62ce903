#!/usr/bin/env bash
# Builds the systemd test-host image (default localhost/nomadops-debian:bookworm)
# with sshd for the benches that reach the hosts the way users do (bench/cluster.py),
# from debootstrap, because there is no registry to pull from. image-docker.sh
# then adds what Nomad's docker driver needs offline (an apt repository holding
# docker.io, a registry mirror seeded with http-echo, daemon.json). The cleaned
# root filesystem is cached as a tarball under .cache/, so after `podman rmi`
# or a storage wipe the image comes back in seconds.
#
#   tests/hosts/build-image.sh          build unless the image exists
#   tests/hosts/build-image.sh --force  rebuild the image from the cached rootfs
#   NOMADOPS_DEBIAN_MIRROR=URL          use this mirror instead of apt's
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
HERE="$NOMADOPS_ROOT/tests/hosts"

SUITE=bookworm
# python3-apt: Ansible's apt module needs it and could not install it offline.
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,python3-requests,sudo,iproute2,curl,unzip,ca-certificates,procps,gpgv,openssh-server
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
# The cache key covers everything that shapes the rootfs: the settings above,
# the Docker step, the stand-in's source and the Go that compiles it.
KEY="$( { printf '%s\n' "$SUITE" "$PACKAGES" "${MASK_UNITS[*]}"
          cat "$HERE/image-docker.sh" "$HERE/registry_seed.py" "$HERE"/http-echo/*
          go version 2>/dev/null || true; } | sha256sum | cut -c1-12)"
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
  # An interrupted image-docker.sh may have left /proc mounted in there.
  if mountpoint -q "$rootfs/proc"; then umount "$rootfs/proc"; fi
  rm -rf "$rootfs"
  echo "debootstrap $SUITE from $mirror (takes a minute or two)"
  start=$SECONDS
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" \
    >"$CACHE/debootstrap.log" 2>&1 || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  echo "adding the offline Docker pieces (log: $CACHE/docker.log)"
  "$HERE/image-docker.sh" "$rootfs" >"$CACHE/docker.log" 2>&1 \
    || { tail -n 30 "$CACHE/docker.log" >&2; exit 1; }
  grep -E '^(== |[0-9]+ packages|hashicorp/)' "$CACHE/docker.log" || true
  # The apt lists stay: image-docker.sh left those of the offline repository.
  chroot "$rootfs" /bin/sh -c 'apt-get clean && rm -rf /var/cache/apt/*.bin /var/log/*.log'
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
