# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The post's cluster on Nomad 1.1.0: the roles build it as they build 0.9.1's,
a namespace is made with nomad_namespace, and the post's job in its 1.x form
(examples/httpecho-1x.nomad, HCL2) runs in it with variables:
``ansible ubuntu -m nomad_job -a "src=examples/httpecho-1x.nomad namespace=web vars=..."``."""

import json
import os
import subprocess

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
JOB = os.path.join(ROOT, "examples", "httpecho-1x.nomad")
VARS = '{"count": 3, "text": "hello from 1.x"}'


def _api(path):
    out = subprocess.check_output(["podman", "exec", "nomad1", "curl", "-sf", "http://127.0.0.1:4646" + path],
                                  text=True)
    return json.loads(out)


def test_the_agents_run_nomad_1_1_0(host):
    assert host.check_output("nomad version").startswith("Nomad v1.1.0")


def test_server_hcl_holds_a_key_only_1_x_knows(host):
    assert "raft_multiplier = 1" in host.file("/etc/nomad.d/server.hcl").content_string


def test_three_servers_a_leader_and_three_docker_nodes():
    members = _api("/v1/agent/members")["Members"]
    assert sorted(m["Status"] for m in members) == ["alive"] * 3
    assert {m["Tags"]["build"].split("+")[0] for m in members} == {"1.1.0"}
    assert _api("/v1/status/leader")
    nodes = _api("/v1/nodes")
    assert sorted(n["Name"] for n in nodes) == HOSTS and {n["Status"] for n in nodes} == {"ready"}
    assert all(n["Drivers"]["docker"]["Healthy"] for n in nodes)


def test_nomad_namespace_creates_the_namespace_once(scenario):
    proc, first = scenario.adhoc("nomad1", "nomad_namespace", "name=web description='the post\\'s web jobs'")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert first["nomad1"]["changed"] is True
    proc, again = scenario.adhoc("nomad1", "nomad_namespace", "name=web description='the post\\'s web jobs'")
    assert again["nomad1"]["changed"] is False
    assert "web" in [n["Name"] for n in _api("/v1/namespaces")]


def _addresses(allocation):
    shared = (allocation.get("AllocatedResources") or {}).get("Shared") or {}
    return ["%s:%d" % (p["HostIP"], p["Value"]) for p in shared.get("Ports") or [] if p["Label"] == "http"]


def test_the_1x_job_runs_in_the_namespace_with_its_variables(scenario):
    proc, first = scenario.adhoc("ubuntu", "nomad_job", "src=%s namespace=web vars='%s'" % (JOB, VARS))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert len([h for h, r in first.items() if r.get("changed")]) == 1, first
    assert [j["ID"] for j in _api("/v1/jobs?namespace=web")] == ["httpecho"]
    assert _api("/v1/jobs") == []  # not in default

    running = [a for a in _api("/v1/job/httpecho/allocations?namespace=web") if a["ClientStatus"] == "running"]
    assert len(running) == 3
    for stub in running:
        for address in _addresses(_api("/v1/allocation/%s?namespace=web" % stub["ID"])):
            answer = subprocess.run(["podman", "exec", "nomad1", "curl", "-sS", "--max-time", "10",
                                     "http://" + address], capture_output=True, text=True, check=False)
            assert answer.stdout == "hello from 1.x\n", (address, answer.stderr)


def test_the_same_job_and_variables_again_change_nothing(scenario):
    proc, again = scenario.adhoc("ubuntu", "nomad_job", "src=%s namespace=web vars='%s'" % (JOB, VARS))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert not any(r.get("changed") for r in again.values()), again
    proc, info = scenario.adhoc("nomad1", "nomad_job_info", "name=httpecho namespace=web")
    assert proc.returncode == 0
    assert len([a for a in info["nomad1"]["allocations"] if a["client_status"] == "running"]) == 3
