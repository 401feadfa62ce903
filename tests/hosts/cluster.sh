#!/usr/bin/env bash
# The README's first command (`make cluster`): three local systemd hosts
# nomad1..nomad3 on the internal podman network, the cluster on them through
# playbooks/cluster.yml with Docker on the clients, and the seed's own job
# (examples/httpecho.nomad, byte for byte) until it answers "hello world".
#   tests/hosts/cluster.sh up     build or refresh the cluster (safe to re-run)
#   tests/hosts/cluster.sh down   remove the containers and the inventory
# NOMAD_RELEASES_DIR / NOMAD_RELEASES_GPG_KEY install a real release instead of
# the test double (see tests/hosts/mirror.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

HOSTS=(nomad1 nomad2 nomad3)
LABEL=nomadops=cluster
INVENTORY="$NOMADOPS_ROOT/hosts"
INVENTORY_MARK="# Written by tests/hosts/cluster.sh"
JOB="examples/httpecho.nomad"

lock() {
  exec 9>"$NOMADOPS_LOCK"
  if ! flock -n 9; then
    echo "waiting for a molecule run to finish (lock $NOMADOPS_LOCK)" >&2
    flock 9
  fi
}

step() {
  printf '\n== %s\n' "$*"
}

ours() {
  [ "$(podman container inspect --format '{{ index .Config.Labels "nomadops" }}' "$1" 2>/dev/null)" = cluster ]
}

down() {
  lock
  for h in "${HOSTS[@]}"; do
    if ours "$h"; then
      podman rm -f -t 10 "$h" >/dev/null 9>&-
      echo "removed $h"
    fi
  done
  if [ -f "$INVENTORY" ] && head -n1 "$INVENTORY" | grep -qF "$INVENTORY_MARK"; then
    rm -f "$INVENTORY"
    echo "removed $INVENTORY"
  fi
}

write_inventory() {
  local key_var=""
  if [ -n "$NOMADOPS_MIRROR_KEY" ]; then
    key_var="nomad_gpg_key=\"{{ lookup('ansible.builtin.file', '$NOMADOPS_MIRROR_KEY') }}\""
  fi
  cat >"$INVENTORY" <<INV
$INVENTORY_MARK (make cluster): the seed's three
# hosts as local podman containers. Removed by 'make cluster-down'.
[ubuntu]
nomad1
nomad2
nomad3

[nomad_servers:children]
ubuntu

[nomad_clients:children]
ubuntu

[ubuntu:vars]
ansible_connection=containers.podman.podman
nomad_datacenter=home
# The seed's job runs on Docker; examples/httpecho-raw_exec.nomad needs raw_exec.
nomad_docker_enabled=true
nomad_raw_exec_enabled=true
nomad_releases_url=file:///srv/nomad-releases
$key_var
INV
}

allocation_addresses() {
  # ip:port of each running httpecho allocation's "http" port, asked from nomad1.
  podman exec -i nomad1 python3 - 9>&- <<'PY'
import json, urllib.request
api = 'http://127.0.0.1:4646/v1'
for stub in json.load(urllib.request.urlopen(api + '/job/httpecho/allocations')):
    if stub['ClientStatus'] != 'running':
        continue
    alloc = json.load(urllib.request.urlopen(api + '/allocation/' + stub['ID']))
    for res in alloc['TaskResources'].values():
        for net in res.get('Networks') or []:
            for port in net.get('DynamicPorts') or []:
                if port['Label'] == 'http':
                    print('%s:%d' % (net['IP'], port['Value']))
PY
}

up() {
  local t0=$SECONDS t
  lock
  for h in "${HOSTS[@]}"; do
    if podman container exists "$h" && ! ours "$h"; then
      echo "a container named $h exists and is not part of the demo cluster (a molecule scenario left it?):" >&2
      echo "  tests/hosts/molecule.sh destroy --all" >&2
      exit 1
    fi
  done

  step "image and release mirror"
  "$NOMADOPS_ROOT/tests/hosts/build-image.sh" 9>&-
  "$NOMADOPS_ROOT/tests/hosts/mirror.sh" 9>&-
  set -a
  . "$NOMADOPS_ROOT/.cache/mirror/env"
  set +a
  podman network exists "$NOMADOPS_NETWORK"

  step "hosts ${HOSTS[*]}"
  t=$SECONDS
  for h in "${HOSTS[@]}"; do
    if ours "$h"; then
      podman start "$h" >/dev/null 9>&-
      echo "$h already there"
    else
      # The same flags molecule gives its platforms (molecule/default/molecule.yml).
      podman run -d --name "$h" --hostname "$h" --label "$LABEL" \
        --systemd=always --privileged "$NOMADOPS_IMAGE" /sbin/init >/dev/null 9>&-
      echo "$h created"
    fi
  done
  write_inventory
  cd "$NOMADOPS_ROOT"
  ansible-playbook molecule/shared/prepare.yml -i hosts 9>&-
  echo "hosts ready in $((SECONDS - t)) s"

  step "ansible-playbook playbooks/cluster.yml -i hosts"
  t=$SECONDS
  ansible-playbook playbooks/cluster.yml -i hosts 9>&-
  echo "cluster converged in $((SECONDS - t)) s"

  step "ansible ubuntu -m nomad_job -a src=$JOB"
  if [ -f plugins/modules/nomad_job.py ]; then
    ansible ubuntu -i hosts -m nomad_job -a "src=$JOB" 9>&-
  else
    echo "skipped: the nomad_job module has not landed yet (plugins/modules/nomad_job.py)"
  fi

  step "nomad server members (on nomad1)"
  podman exec nomad1 nomad server members 9>&-
  step "nomad node status (on nomad1)"
  podman exec nomad1 nomad node status 9>&-
  if [ -f plugins/modules/nomad_job.py ]; then
    step "nomad job status httpecho (on nomad1)"
    podman exec nomad1 nomad job status httpecho 9>&-
    for h in "${HOSTS[@]}"; do
      step "docker ps (on $h)"
      podman exec "$h" docker ps 9>&-
    done
    answers=0
    for addr in $(allocation_addresses); do
      step "curl http://$addr (from nomad1)"
      podman exec nomad1 curl -sS --max-time 10 "http://$addr" 9>&- && answers=$((answers + 1))
    done
    if [ "$answers" -lt 2 ]; then
      echo "expected 2 allocations answering, got $answers" >&2
      exit 1
    fi
  fi

  cat <<MSG

Cluster up in $((SECONDS - t0)) s. Try:
  . tests/hosts/env.sh && podman exec -it nomad1 bash
  ansible ubuntu -m nomad_job -a src=$JOB
Tear it down with: make cluster-down   (or tests/hosts/cluster.sh down)
MSG
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
