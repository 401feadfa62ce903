# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's end, reproduced: Docker on every client, and its own
httpecho.nomad, unchanged, submitted with
``ansible ubuntu -m nomad_job -a src=examples/httpecho.nomad``: two
containers of the image run, and each allocation's port answers
"hello world"."""

import json
import os
import subprocess

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
JOB = os.path.join(ROOT, "examples", "httpecho.nomad")


def _api(path):
    out = subprocess.check_output(["podman", "exec", "nomad1", "curl", "-sf", "http://127.0.0.1:4646" + path],
                                  text=True)
    return json.loads(out)


def test_docker_runs_and_starts_at_boot(host):
    docker = host.service("docker")
    assert docker.is_running and docker.is_enabled
    assert host.package("docker.io").is_installed


def test_client_hcl_holds_the_docker_plugin_block(host):
    text = host.file("/etc/nomad.d/client.hcl").content_string
    assert 'plugin "docker" {' in text
    assert "allow_privileged = false" in text and 'image_delay = "3m"' in text


def test_every_node_reports_the_docker_driver_healthy():
    nodes = _api("/v1/nodes")
    assert sorted(n["Name"] for n in nodes) == HOSTS
    for node in nodes:
        docker = node["Drivers"]["docker"]
        assert docker["Detected"] and docker["Healthy"], (node["Name"], docker)


def _docker(host_name, *args):
    return subprocess.check_output(["podman", "exec", host_name, "docker", *args], text=True).strip()


def _containers(host_name):
    out = subprocess.check_output(["podman", "exec", host_name, "docker", "ps", "--format", "{{json .}}"], text=True)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_the_seeds_job_runs_two_containers_that_answer_hello_world(scenario):
    proc, first = scenario.adhoc("ubuntu", "nomad_job", "src=%s" % JOB)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert len([h for h, r in first.items() if r.get("changed")]) == 1, first
    running = [a for a in _api("/v1/job/httpecho/allocations") if a["ClientStatus"] == "running"]
    assert len(running) == 2, [(a["ID"], a["ClientStatus"]) for a in _api("/v1/job/httpecho/allocations")]

    # Nomad names each container <task>-<allocation ID>.
    containers = [(h, c["Names"]) for h in HOSTS for c in _containers(h)]
    assert sorted(name for dummy, name in containers) == sorted("server-" + a["ID"] for a in running)
    for host_name, name in containers:
        assert _docker(host_name, "inspect", "--format", "{{.Image}}", name) == \
            _docker(host_name, "image", "inspect", "--format", "{{.Id}}", "hashicorp/http-echo:latest")

    for stub in running:
        alloc = _api("/v1/allocation/" + stub["ID"])
        net = alloc["TaskResources"]["server"]["Networks"][0]
        port = [p["Value"] for p in net["DynamicPorts"] if p["Label"] == "http"][0]
        answer = subprocess.run(["podman", "exec", "nomad1", "curl", "-sS", "--max-time", "10",
                                 "http://%s:%d" % (net["IP"], port)], capture_output=True, text=True, check=False)
        assert answer.stdout == "hello world\n", (net["IP"], port, answer.stderr)


def test_submitting_the_job_again_changes_nothing(scenario):
    proc, again = scenario.adhoc("ubuntu", "nomad_job", "src=%s" % JOB)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert [j["ID"] for j in _api("/v1/jobs")] == ["httpecho"]
    assert not any(r.get("changed") for r in again.values()), again
