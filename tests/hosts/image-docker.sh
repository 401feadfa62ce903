#!/usr/bin/env bash
# The Docker part of the test-host image, run by build-image.sh on a freshly
# debootstrapped root filesystem:
#
#   tests/hosts/image-docker.sh ROOTFS
#
# The hosts reach no network, yet the collection's roles must install Docker
# themselves and Nomad's docker driver must pull its image. So the image gets
# (docs/hosts.md, "Docker on the test hosts"):
#   - /opt/nomadops/debs: docker.io and the dependencies the image lacks,
#     downloaded but NOT installed, as the image's only apt source;
#   - docker-registry on 127.0.0.1:5000, no auth, its storage pre-seeded with
#     hashicorp/http-echo:latest = the stand-in built from tests/hosts/http-echo;
#   - /etc/docker/daemon.json with the quirks these hosts need, which the
#     docker.io package does not ship and so leaves alone when installed later.
# It needs the mirror in ROOTFS's apt sources to be reachable (debootstrap's),
# and go and dpkg-scanpackages on this machine (`make apt`).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${NOMADOPS_ROOT:-$(cd "$HERE/../.." && pwd)}"
rootfs="$1"

# What the roles will install from the offline repository.
OFFLINE_DEBS=(docker.io)
REPO_DIR=/opt/nomadops/debs
IMAGE_NAME=hashicorp/http-echo
# Nomad 0.9.1 pulls an untagged image as :latest, always.
IMAGE_TAG=latest

for tool in go dpkg-scanpackages; do
  command -v "$tool" >/dev/null || { echo "image-docker.sh needs $tool on this machine: make apt" >&2; exit 1; }
done

in_root() {
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}

cleanup() {
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  if mountpoint -q "$rootfs/proc"; then umount "$rootfs/proc"; fi
  rm -rf "$work"
}
work="$(mktemp -d "$ROOT/.cache/image/docker.XXXXXX")"
trap cleanup EXIT
mount -t proc proc "$rootfs/proc"
# Nothing may start inside the chroot; the units are enabled for boot only.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

echo "== the http-echo stand-in"
# Static and reproducible, with Go's caches under .cache rather than $HOME.
(
  cd "$HERE/http-echo"
  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOPROXY=off GOTOOLCHAIN=local \
    GOCACHE="$ROOT/.cache/go/cache" GOPATH="$ROOT/.cache/go/path" XDG_CONFIG_HOME="$ROOT/.cache/go/config" \
    go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o "$work/http-echo" .
)

echo "== docker-registry, installed"
in_root apt-get update -q
in_root apt-get install -y -q --no-install-recommends docker-registry
in_root apt-get clean

echo "== ${OFFLINE_DEBS[*]}, downloaded only"
# Resolved against exactly what the image holds by now, so the repository has
# every missing dependency and nothing more. Recommends (apparmor, git,
# needrestart, ...) are left out: apt skips a recommended package it cannot
# find, so an install with or without recommends succeeds offline.
in_root apt-get install -y -q --no-install-recommends --download-only "${OFFLINE_DEBS[@]}"
mkdir -p "$rootfs$REPO_DIR"
mv "$rootfs"/var/cache/apt/archives/*.deb "$rootfs$REPO_DIR/"
(
  cd "$rootfs$REPO_DIR"
  dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null
  # A Release file spares apt's "no Release file" warning; [trusted=yes]
  # stands in for a signature.
  {
    echo "Origin: nomadops"
    echo "Label: nomadops test hosts, offline Docker"
    echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')"
    echo "SHA256:"
    printf ' %s %s Packages\n' "$(sha256sum <Packages | cut -d' ' -f1)" "$(stat -c %s Packages)"
  } >Release
)
chmod -R u=rwX,go=rX "$rootfs$REPO_DIR"
echo "$(grep -c '^Package:' "$rootfs$REPO_DIR/Packages") packages, $(du -sh "$rootfs$REPO_DIR" | cut -f1) in $REPO_DIR"

# From here on the image knows only the offline repository: an install that
# needs anything else fails in the tests as it would on an offline host.
in_root apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/*
rm -f "$rootfs/etc/apt/sources.list" "$rootfs"/etc/apt/sources.list.d/*
cat >"$rootfs/etc/apt/sources.list.d/nomadops-offline.sources" <<EOF
# Test hosts only (tests/hosts/image-docker.sh): they reach no mirror.
Types: deb
URIs: file:$REPO_DIR
Suites: ./
Trusted: yes
EOF
# The image carries the lists of that repository: Ansible's apt module with
# cache_valid_time judges the cache by the age of /var/lib/apt/lists, which a
# fresh container inherits from the image build, and then skips the update;
# empty lists would leave it "No package matching 'docker.io'".
in_root apt-get update -q

echo "== registry mirror seeded with $IMAGE_NAME:$IMAGE_TAG"
# Debian's config without its htpasswd block (it names no password file, and
# Docker would have to log in to its mirror), bound to loopback: each host
# serves only itself.
cat >"$rootfs/etc/docker/registry/config.yml" <<'EOF'
# Test hosts only (tests/hosts/image-docker.sh): Docker's registry mirror,
# pre-seeded at image build time. No auth, loopback only.
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
mkdir -p "$rootfs/opt/nomadops/images"
python3 "$HERE/registry_seed.py" --binary "$work/http-echo" --root "$rootfs/var/lib/docker-registry" \
  --name "$IMAGE_NAME" --tag "$IMAGE_TAG" --archive "$rootfs/opt/nomadops/images/http-echo.tar"
in_root chown -R docker-registry:docker-registry /var/lib/docker-registry
[ -L "$rootfs/etc/systemd/system/multi-user.target.wants/docker-registry.service" ] \
  || { echo "docker-registry.service is not enabled" >&2; exit 1; }

echo "== /etc/docker/daemon.json"
# Test hosts only: without a private cgroup namespace runc fails to mount
# "cgroup" inside these nested containers, and the mirror is the only
# place an image can come from.
cat >"$rootfs/etc/docker/daemon.json" <<'EOF'
{
  "default-cgroupns-mode": "private",
  "registry-mirrors": ["http://127.0.0.1:5000"]
}
EOF
