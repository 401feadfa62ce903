# shellcheck shell=bash
# Sourced by the other scripts in tests/hosts/ (and usable by hand:
# `. tests/hosts/env.sh`). It points podman and ansible at project-local state
# so the host's /etc and /var/lib/containers stay untouched, and writes the
# config files that this kind of VM needs (see docs/hosts.md).

NOMADOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NOMADOPS_STATE="${NOMADOPS_STATE:-$NOMADOPS_ROOT/.cache/podman}"
NOMADOPS_IMAGE="${NOMADOPS_IMAGE:-localhost/nomadops-debian:bookworm}"
NOMADOPS_NETWORK="nomadops"
NOMADOPS_LOCK="$NOMADOPS_STATE/hosts.lock"
NOMADOPS_VENV="${NOMADOPS_VENV:-$NOMADOPS_ROOT/.venv}"
export NOMADOPS_ROOT NOMADOPS_STATE NOMADOPS_IMAGE NOMADOPS_NETWORK NOMADOPS_LOCK

mkdir -p "$NOMADOPS_STATE/networks" "$NOMADOPS_STATE/storage" \
  "$NOMADOPS_STATE/run" "$NOMADOPS_STATE/tmp" "$NOMADOPS_STATE/collections/ansible_collections"

_nomadops_write_if_changed() {
  # Rewrite only on change so a running podman never sees a half-written file.
  local dest="$1" tmp
  tmp="$(mktemp "$dest.XXXXXX")"
  cat >"$tmp"
  if cmp -s "$tmp" "$dest"; then rm -f "$tmp"; else mv -f "$tmp" "$dest"; fi
}

# runc: crun fails on this kind of host ("cgroups in hybrid mode not supported").
# default_ulimits: root lacks CAP_SYS_RESOURCE, podman's default nofile fails.
# cgroupfs/file: PID 1 is not systemd, so neither systemd cgroups nor journald exist.
_nomadops_write_if_changed "$NOMADOPS_STATE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[network]
# netavark reads the JSON network file below; CNI would not.
network_backend = "netavark"
network_config_dir = "$NOMADOPS_STATE/networks"
default_network = "$NOMADOPS_NETWORK"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$NOMADOPS_STATE/tmp"
CONF

_nomadops_write_if_changed "$NOMADOPS_STATE/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$NOMADOPS_STATE/storage"
runroot = "$NOMADOPS_STATE/run"
CONF

# Declared as a file rather than created by molecule: molecule-plugins deletes
# a network it was told about on destroy and re-creates it without "internal".
_nomadops_write_if_changed "$NOMADOPS_STATE/networks/$NOMADOPS_NETWORK.json" <<CONF
{
     "name": "$NOMADOPS_NETWORK",
     "id": "6e6f6d61646f70736e6f6d61646f70736e6f6d61646f70736e6f6d61646f7073",
     "driver": "bridge",
     "network_interface": "nomadops0",
     "created": "2024-01-01T00:00:00Z",
     "subnets": [
          {
               "subnet": "10.89.64.0/24",
               "gateway": "10.89.64.1"
          }
     ],
     "ipv6_enabled": false,
     "internal": true,
     "dns_enabled": true,
     "ipam_options": {
          "driver": "host-local"
     }
}
CONF

export CONTAINERS_CONF="$NOMADOPS_STATE/containers.conf"
export CONTAINERS_STORAGE_CONF="$NOMADOPS_STATE/storage.conf"

# Only the collections we need: ours (through the committed symlink) and
# containers.podman, taken from the venv's `ansible` package (galaxy is not
# reachable from the test hosts' world).
_nomadops_podman_coll=""
for _nomadops_candidate in "$NOMADOPS_VENV"/lib/python3*/site-packages/ansible_collections/containers/podman; do
  [ -d "$_nomadops_candidate" ] && { _nomadops_podman_coll="$_nomadops_candidate"; break; }
done
unset _nomadops_candidate
if [ -n "$_nomadops_podman_coll" ]; then
  mkdir -p "$NOMADOPS_STATE/collections/ansible_collections/containers"
  ln -sfn "$_nomadops_podman_coll" "$NOMADOPS_STATE/collections/ansible_collections/containers/podman"
fi
unset _nomadops_podman_coll
export ANSIBLE_COLLECTIONS_PATH="$NOMADOPS_ROOT/collections:$NOMADOPS_STATE/collections"

case ":$PATH:" in
  *":$NOMADOPS_VENV/bin:"*) ;;
  *) export PATH="$NOMADOPS_VENV/bin:$PATH" ;;
esac
