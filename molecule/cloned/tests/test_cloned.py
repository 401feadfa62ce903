# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After clone repair every host is its own ready node.

The scenario gave all three hosts one client identity twice: in the image
before the first start, and again on running agents (side_effect). The
servers' node list, asked over the API, must now hold three ready nodes whose
IDs are exactly the hosts' client-id files.
"""

import json
import subprocess

HOSTS = ["nomad1", "nomad2", "nomad3"]
# The identity prepare.yml wrote everywhere; nomad1, the first host of the
# play, keeps it (it shares the secret too, so its registration is valid).
CLONED_ID = "36492a80-8800-926a-6578-939ad5aa1188"


def _exec(host, *cmd):
    return subprocess.check_output(["podman", "exec", host] + list(cmd), text=True)


def _client_ids():
    return {h: _exec(h, "cat", "/opt/nomad/client/client-id").strip() for h in HOSTS}


def _nodes():
    return json.loads(_exec("nomad1", "curl", "-sf", "http://127.0.0.1:4646/v1/nodes"))


def test_every_host_has_its_own_client_id():
    ids = _client_ids()
    assert len(set(ids.values())) == 3, ids


def test_first_host_kept_the_cloned_identity():
    assert _client_ids()["nomad1"] == CLONED_ID


def _stale(nodes, ids):
    """Registrations no host holds any more. side_effect overwrote the
    identities nomad2 and nomad3 had; Nomad keeps those nodes, and 0.9.1 marks
    them down only when their heartbeat TTL runs out, which a new leader
    stretches to five minutes. Repair must not add any: each one must be an
    older registration of a host's name than the node that host runs now."""
    by_id = {n["ID"]: n for n in nodes}
    stale = [n for n in nodes if n["ID"] not in ids.values()]
    for node in stale:
        current = by_id[ids[node["Name"]]]
        assert node["CreateIndex"] < current["CreateIndex"], (node, current)
    return stale


def test_three_ready_nodes_one_per_host():
    ids = _client_ids()
    nodes = _nodes()
    print("nodes:", [(n["Name"], n["ID"], n["Status"]) for n in nodes])
    by_id = {n["ID"]: n for n in nodes}
    for host, node_id in ids.items():
        assert node_id in by_id, (host, node_id)
        assert (by_id[node_id]["Name"], by_id[node_id]["Status"]) == (host, "ready"), by_id[node_id]
    assert len(nodes) - len(_stale(nodes, ids)) == 3


def test_node_status_cli_shows_three_ready():
    out = _exec("nomad1", "nomad", "node", "status")
    print(out)
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    ids = _client_ids()
    ours = [r for r in rows if any(node_id.startswith(r[0]) for node_id in ids.values())]
    assert sorted((r[2], r[-1]) for r in ours) == [(h, "ready") for h in HOSTS], out
    assert len(rows) - len(_stale(_nodes(), ids)) == 3, out


def test_servers_kept_their_raft_state():
    # Repair removes client state only: every server still has its raft data.
    for h in HOSTS:
        assert _exec(h, "sh", "-c", "test -s /opt/nomad/server/raft/raft.db && echo yes").strip() == "yes", h
    out = _exec("nomad1", "nomad", "server", "members")
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 and all(r[3] == "alive" for r in rows), out
    assert sum(1 for r in rows if r[4] == "true") == 1, out
