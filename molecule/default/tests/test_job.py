# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's last step as one ad-hoc command on all three hosts:
``ansible ubuntu -m nomad_job -a src=httpecho.nomad``. Every host submits the
same job to its own agent at the same moment; exactly one registers it, the
other two report no change, and Nomad holds one job version.
"""

import json
import os
import subprocess
import tempfile

import pytest

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS

JOB = """
job "verify-adhoc" {
  datacenters = ["home"]
  type        = "service"
  group "web" {
    count = 2
    task "sleeper" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["3600"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
"""


def _adhoc(args):
    """`ansible ubuntu -m nomad_job -a ARGS` on the scenario's inventory; per host results."""
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        pytest.skip("MOLECULE_INVENTORY_FILE is not set: run through molecule verify")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = subprocess.run(["ansible", "ubuntu", "-i", inventory, "-m", "nomad_job", "-a", args],
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    try:
        data = json.loads(proc.stdout[proc.stdout.index("{"):])
        return proc, data["plays"][0]["tasks"][0]["hosts"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("unreadable ansible output (rc %d):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))


def _versions():
    out = subprocess.check_output(["podman", "exec", "nomad1", "curl", "-sf",
                                   "http://127.0.0.1:4646/v1/job/verify-adhoc/versions"], text=True)
    return [v["Version"] for v in json.loads(out)["Versions"]]


def test_adhoc_on_three_hosts_registers_once():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "verify-adhoc.nomad")
        with open(src, "w") as handle:
            handle.write(JOB)
        try:
            proc, first = _adhoc("src=%s" % src)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            assert sorted(first) == HOSTS
            changed = sorted(h for h, r in first.items() if r.get("changed"))
            assert len(changed) == 1, {h: r.get("changed") for h, r in first.items()}
            assert _versions() == [0]
            winner = first[changed[0]]
            assert len(winner["allocations"]) == 2
            assert {a["client_status"] for a in winner["allocations"]} == {"running"}

            proc, again = _adhoc("src=%s" % src)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            assert [h for h, r in again.items() if r.get("changed")] == []
            assert _versions() == [0]
        finally:
            _adhoc("name=verify-adhoc state=absent purge=true")
