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


def _versions():
    out = subprocess.check_output(["podman", "exec", "nomad1", "curl", "-sf",
                                   "http://127.0.0.1:4646/v1/job/verify-adhoc/versions"], text=True)
    return [v["Version"] for v in json.loads(out)["Versions"]]


def test_adhoc_on_three_hosts_registers_once(scenario):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "verify-adhoc.nomad")
        with open(src, "w") as handle:
            handle.write(JOB)
        try:
            proc, first = scenario.adhoc("ubuntu", "nomad_job", "src=%s" % src)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            assert sorted(first) == HOSTS
            changed = sorted(h for h, r in first.items() if r.get("changed"))
            assert len(changed) == 1, {h: r.get("changed") for h, r in first.items()}
            assert _versions() == [0]
            winner = first[changed[0]]
            assert len(winner["allocations"]) == 2
            assert {a["client_status"] for a in winner["allocations"]} == {"running"}

            proc, again = scenario.adhoc("ubuntu", "nomad_job", "src=%s" % src)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            assert [h for h, r in again.items() if r.get("changed")] == []
            assert _versions() == [0]
        finally:
            scenario.adhoc("ubuntu", "nomad_job", "name=verify-adhoc state=absent purge=true")
