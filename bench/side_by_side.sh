#!/usr/bin/env bash
# This collection's playbooks/cluster.yml against the community role
# (ansible-community/ansible-nomad), at two sizes, in one run, rounds alternating
# community role / this collection:
#   3  hosts: each server and client (the post's cluster)
#   13 hosts: 3 server+client hosts and 10 client-only hosts
# Both sides: the same podman hosts (image, network), the same real Nomad 0.9.1
# zip, forks=20, profile_tasks. It holds the hosts lock for the whole run, as
# tests/hosts/molecule.sh does, so nothing else shares the hosts meanwhile.
#
# Usage: ANCHOR_BENCH=DIR REAL_NOMAD=BIN bench/side_by_side.sh CHECKOUT ANCHOR_GIT_DIR WORK_DIR ["SIZES"] [ROUNDS]
#   ANCHOR_BENCH    the community role's harness: prepare-role.sh (applies the edits
#                   0.9 needs), anchor-vars.yml (its overrides), serve-mirror.sh
#   REAL_NOMAD      a Nomad 0.9.1 binary built from its tag (tests/real/build-nomad.sh)
#   ANCHOR_GIT_DIR  a git directory of ansible-community/ansible-nomad
#   STOP_AT         optional epoch: no round starts that could not end by then
# Prints results.tsv: cold run, time from its end to ready (3 servers alive with a
# leader and every node ready, polled every 0.5 s inside the first host), their
# sum, the idempotent re-run and its changed count.
set -uo pipefail
A=$(cd "${ANCHOR_BENCH:?set ANCHOR_BENCH to the community role harness}" && pwd)
CHECKOUT=$(cd "${1:?}" && pwd); AGIT=${2:?}; WORK=$(mkdir -p "${3:?}" && cd "$3" && pwd)
SIZES=${4:-"3 13"}; ROUNDS=${5:-2}
REAL_NOMAD=${REAL_NOMAD:?}
. "$CHECKOUT/tests/hosts/env.sh"
exec 9>"$NOMADOPS_LOCK"
flock -n 9 || { echo "waiting for the hosts lock" >&2; flock 9; }
export ANSIBLE_FORKS=20 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0

REL=$WORK/release
if [[ ! -f $REL/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig ]]; then
  python3 "$CHECKOUT/tests/support/release_mirror.py" --binary "$REAL_NOMAD" --version 0.9.1 --out "$REL" \
    --gnupghome "$(mktemp -d)" > "$WORK/mirror.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("public_key_path") or d["key_path"])' \
    "$WORK/mirror.json" | xargs -I{} cp {} "$WORK/release.asc"
fi
"$A/serve-mirror.sh" start "$REL" 18091 "$WORK/mirror.pid" "$WORK/mirror.log" >/dev/null
trap '"$A/serve-mirror.sh" stop "$WORK/mirror.pid"' EXIT
[[ -d $WORK/role/ansible-nomad ]] || "$A/prepare-role.sh" "$AGIT" "$WORK/role/ansible-nomad" a0f567e --compat-0.9 >/dev/null
[[ -d $WORK/pylib/netaddr ]] || pip install -q --target "$WORK/pylib" netaddr >/dev/null 2>&1
SITE=("$NOMADOPS_VENV"/lib/python3*/site-packages); ANS=${SITE[0]}

TSV=$WORK/results.tsv
[[ -f $TSV ]] || printf 'size\tround\twho\tcold_s\tready_after_s\tcold_to_ready_s\tidem_s\tidem_changed\tcold_rc\tidem_rc\n' > "$TSV"
now() { date +%s.%N; }
sub() { python3 -c "import sys; print(f'{float(sys.argv[1])-float(sys.argv[2]):.1f}')" "$1" "$2"; }
changed() { awk '/PLAY RECAP/{r=1;next} r && /changed=/{for(i=1;i<=NF;i++) if($i ~ /^changed=/){split($i,a,"=");s+=a[2]}} END{print s+0}' "$1"; }
names() { local p=$1 n=$2; for i in $(seq 1 "$n"); do echo "$p$i"; done; }
up() { # prefix n
  for h in $(names "$1" "$2"); do
    podman run -d --name "$h" --hostname "$h" --privileged --systemd=always --network "$NOMADOPS_NETWORK" \
      --label owner=sbs13 "$NOMADOPS_IMAGE" /sbin/init >/dev/null
  done
  for h in $(names "$1" "$2"); do
    for _ in $(seq 1 240); do
      st=$(podman exec "$h" systemctl is-system-running 2>/dev/null || true)
      case "$st" in running|degraded) break ;; esac; sleep 0.25
    done
  done
}
down() { for h in $(names "$1" "$2"); do podman rm -f -t 0 "$h" >/dev/null 2>&1 || true; done; }
ip_of() { podman inspect "$1" --format "{{(index .NetworkSettings.Networks \"$NOMADOPS_NETWORK\").IPAddress}}"; }
wait_ready() { # container addr servers nodes timeout -> epoch or fail
  podman exec -e NOMAD_ADDR="$2" -e S="$3" -e N="$4" -e TMO="$5" -e PATH=/usr/local/bin:/usr/bin:/bin "$1" /bin/sh -c '
end=$(( $(date +%s) + TMO ))
while :; do
  s=$(nomad server members 2>/dev/null || true); n=$(nomad node status 2>/dev/null || true)
  alive=$(printf "%s\n" "$s" | awk "NR>1 && \$4==\"alive\"" | wc -l)
  leader=$(printf "%s\n" "$s" | awk "NR>1 && \$4==\"alive\" && \$5==\"true\"" | wc -l)
  ready=$(printf "%s\n" "$n" | awk "NR>1 && \$NF==\"ready\"" | wc -l)
  if [ "$alive" -eq "$S" ] && [ "$leader" -eq 1 ] && [ "$ready" -eq "$N" ]; then date +%s.%N; exit 0; fi
  [ "$(date +%s)" -ge "$end" ] && { echo TIMEOUT; printf "%s\n%s\n" "$s" "$n" >&2; exit 1; }
  sleep 0.5
done'
}
record() { # size round who d t0 t1 tr t2 t3 rc irc
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(sub "$6" "$5")" \
    "$([[ -n $7 ]] && sub "$7" "$6" || echo NA)" "$([[ -n $7 ]] && sub "$7" "$5" || echo NA)" \
    "$(sub "$9" "$8")" "$(changed "$4/idem.log")" "${10}" "${11}" >> "$TSV"
  tail -1 "$TSV"
}

ours_round() { # size round
  local n=$1 d=$WORK/ours-$1-$2 t0 t1 t2 t3 tr rc irc i
  mkdir -p "$d"; down sbsn "$n"
  (cd "$CHECKOUT" && NOMAD_RELEASES_DIR=$REL NOMAD_RELEASES_GPG_KEY=$WORK/release.asc tests/hosts/mirror.sh >/dev/null)
  set -a; . "$CHECKOUT/.cache/mirror/env"; set +a
  up sbsn "$n"
  {
    echo "[nomad_servers]"; names sbsn 3
    echo "[nomad_clients]"; names sbsn "$n"
    echo "[all:vars]"
    echo "ansible_connection=containers.podman.podman"
    echo "nomad_datacenter=home"
    echo "nomad_raw_exec_enabled=true"
    echo "nomad_releases_url=file:///srv/nomad-releases"
    echo "nomad_gpg_key=\"{{ lookup('ansible.builtin.file', '$NOMADOPS_MIRROR_KEY') }}\""
  } > "$d/hosts"
  (cd "$CHECKOUT" && ansible-playbook molecule/shared/prepare.yml -i "$d/hosts" > "$d/prepare.log" 2>&1)
  t0=$(now); (cd "$CHECKOUT" && ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ansible-playbook playbooks/cluster.yml -i "$d/hosts" > "$d/cold.log" 2>&1); rc=$?; t1=$(now)
  tr=$(wait_ready sbsn1 http://127.0.0.1:4646 3 "$n" 240 2>"$d/ready.err") || tr=""
  for i in 1 2 3; do podman exec "sbsn$i" systemctl show nomad -p ExecMainStartTimestampMonotonic --value; done > "$d/server-starts.txt"
  t2=$(now); (cd "$CHECKOUT" && ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ansible-playbook playbooks/cluster.yml -i "$d/hosts" > "$d/idem.log" 2>&1); irc=$?; t3=$(now)
  record "$n" "$2" ours "$d" "$t0" "$t1" "$tr" "$t2" "$t3" "$rc" "$irc"
  down sbsn "$n"
}

anchor_round() { # size round
  local n=$1 d=$WORK/anchor-$1-$2 t0 t1 t2 t3 tr rc irc ip1
  mkdir -p "$d"; down anc "$n"
  rm -f "$WORK"/role/ansible-nomad/files/nomad_0.9.1_*
  up anc "$n"; ip1=$(ip_of anc1)
  {
    echo "[nomad_instances]"
    for h in $(names anc 3); do echo "$h nomad_node_role=both"; done
    for i in $(seq 4 "$n"); do echo "anc$i nomad_node_role=client"; done
    echo "[nomad_instances:vars]"
    echo "ansible_connection=containers.podman.podman"
    echo "ansible_python_interpreter=/usr/bin/python3"
  } > "$d/inventory.ini"
  sed -e "s/@ROLE_NAME@/ansible-nomad/" "$A/anchor-play.yml.tmpl" > "$d/play.yml"
  play() { ANSIBLE_ROLES_PATH=$WORK/role ANSIBLE_COLLECTIONS_PATH="$ANS:$ANSIBLE_COLLECTIONS_PATH" \
           PYTHONPATH="$WORK/pylib${PYTHONPATH:+:$PYTHONPATH}" ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks \
           ansible-playbook -i "$d/inventory.ini" "$d/play.yml" -e @"$A/anchor-vars.yml" \
           -e mirror_url=http://127.0.0.1:18091 > "$1" 2>&1; }
  t0=$(now); play "$d/cold.log"; rc=$?; t1=$(now)
  tr=$(wait_ready anc1 "http://$ip1:4646" 3 "$n" 240 2>"$d/ready.err") || tr=""
  t2=$(now); play "$d/idem.log"; irc=$?; t3=$(now)
  record "$n" "$2" anchor "$d" "$t0" "$t1" "$tr" "$t2" "$t3" "$rc" "$irc"
  down anc "$n"
}

# Rounds outermost: with little time left, every size has its first round.
# STOP_AT (epoch): no round starts that could not end by then (13 hosts: 14 min, 3: 6 min).
for r in $(seq 1 "$ROUNDS"); do
  for size in $SIZES; do
    need=$(( size > 3 ? 840 : 360 ))
    if [[ -n ${STOP_AT:-} ]] && (( $(date +%s) + need > STOP_AT )); then echo "no time for size $size round $r" >&2; continue; fi
    anchor_round "$size" "$r"
    ours_round "$size" "$r"
  done
done
column -t "$TSV"
