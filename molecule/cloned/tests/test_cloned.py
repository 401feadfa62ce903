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


def test_three_ready_nodes_one_per_host():
    ids = _client_ids()
    ready = [n for n in _nodes() if n["Status"] == "ready"]
    print("ready nodes:", [(n["Name"], n["ID"]) for n in ready])
    assert sorted(n["Name"] for n in ready) == HOSTS, ready
    for node in ready:
        assert node["ID"] == ids[node["Name"]], (node, ids)


def test_node_status_cli_shows_three_ready():
    out = _exec("nomad1", "nomad", "node", "status")
    print(out)
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert sum(1 for r in rows if r[-1] == "ready") == 3, out


def test_servers_kept_their_raft_state():
    # Repair removes client state only: every server still has its raft data.
    for h in HOSTS:
        assert _exec(h, "sh", "-c", "test -s /opt/nomad/server/raft/raft.db && echo yes").strip() == "yes", h
    out = _exec("nomad1", "nomad", "server", "members")
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 and all(r[3] == "alive" for r in rows), out
    assert sum(1 for r in rows if r[4] == "true") == 1, out
