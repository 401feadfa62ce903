# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turning gossip encryption on for the running cluster is refused before
anything changes: a server with a key drops the gossip of those without one,
so a rolling restart would split them. (TLS and ACLs can come on while it
runs: molecule/secure_running.)"""

import subprocess

HOSTS = ["nomad1", "nomad2", "nomad3"]


def _state(host):
    files = subprocess.check_output(["podman", "exec", host, "ls", "/etc/nomad.d"], text=True).split()
    active = subprocess.run(["podman", "exec", host, "systemctl", "is-active", "nomad"], capture_output=True,
                            text=True, check=False).stdout.strip()
    started = subprocess.check_output(["podman", "exec", host, "systemctl", "show", "nomad", "-p",
                                       "ExecMainStartTimestamp", "--value"], text=True).strip()
    return files, active, started


def test_gossip_encryption_on_a_running_cluster_is_refused_before_anything_changes(scenario):
    before = {h: _state(h) for h in HOSTS}
    proc = scenario.playbook("converge.yml", "-e", "nomad_gossip_encryption=true", "-e", "nomad_acl_enabled=true")
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Gossip encryption on nomad1, nomad2, nomad3: Nomad cannot turn it on for servers that already run" \
        in said, said[-3000:]
    after = {h: _state(h) for h in HOSTS}
    assert after == before
    assert all("gossip.hcl" not in files and "security.hcl" not in files for files, dummy, dummy2 in after.values())
