# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/cluster.yml leaves on three hosts that are each server and client.

Reads everything back independently: files through testinfra, HCL through
pyhcl (not the collection's own parser), the cluster through the nomad CLI.
"""

import json
import re
import subprocess
import time

import hcl as pyhcl
import pytest

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS

# The seed's unit, line for line; the role may only add its ansible_managed header.
SEED_UNIT = """\
[Unit]
Description=Nomad
Documentation=https://nomadproject.io/docs/
Wants=network-online.target
After=network-online.target

# When using Nomad with Consul it is not necessary to start Consul first. These
# lines start Consul before Nomad as an optimization to avoid Nomad logging
# that Consul is unavailable at startup.
#Wants=consul.service
#After=consul.service

[Service]
ExecReload=/bin/kill -HUP $MAINPID
ExecStart=/usr/local/bin/nomad agent -config /etc/nomad.d
KillMode=process
KillSignal=SIGINT
LimitNOFILE=infinity
LimitNPROC=infinity
Restart=on-failure
RestartSec=2
StartLimitBurst=3
StartLimitIntervalSec=10
TasksMax=infinity

[Install]
WantedBy=multi-user.target
"""


def _addresses():
    """Each host's eth0 address, asked of the host itself (no default route here)."""
    out = {}
    for name in HOSTS:
        text = subprocess.check_output(
            ["podman", "exec", name, "ip", "-4", "-o", "addr", "show", "eth0"], text=True)
        out[name] = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", text).group(1)
    return out


@pytest.fixture(scope="module")
def addresses():
    return _addresses()


def _hcl(host, path):
    f = host.file(path)
    assert f.exists, path
    return pyhcl.loads(f.content_string)


def test_binary_is_root_owned_and_executable(host):
    f = host.file("/usr/local/bin/nomad")
    assert f.is_file
    assert f.user == "root" and f.group == "root"
    assert f.mode == 0o755
    assert "Nomad v0.9.1" in host.check_output("/usr/local/bin/nomad version")


def test_unit_is_the_seeds(host):
    f = host.file("/etc/systemd/system/nomad.service")
    assert f.user == "root" and f.mode == 0o644
    text = f.content_string
    header, dummy, body = text.partition("[Unit]")
    assert header.strip() and all(line.startswith("#") for line in header.strip().splitlines())
    assert "[Unit]" + body == SEED_UNIT


def test_directories(host):
    data = host.file("/opt/nomad")
    assert data.is_directory and data.user == "root" and data.mode == 0o700
    assert host.file("/etc/nomad.d").is_directory


def test_nomad_hcl(host, addresses):
    me = addresses[host.backend.get_hostname()]
    conf = _hcl(host, "/etc/nomad.d/nomad.hcl")
    assert conf["datacenter"] == "home"
    assert conf["data_dir"] == "/opt/nomad"
    assert conf["advertise"] == {"http": me, "rpc": me, "serf": me}


def test_server_hcl(host, addresses):
    conf = _hcl(host, "/etc/nomad.d/server.hcl")
    server = conf["server"]
    assert server["enabled"] is True
    assert server["bootstrap_expect"] == 3
    assert sorted(server["server_join"]["retry_join"]) == sorted(a + ":4648" for a in addresses.values())


def test_client_hcl(host, addresses):
    conf = _hcl(host, "/etc/nomad.d/client.hcl")
    client = conf["client"]
    assert client["enabled"] is True
    assert sorted(client["servers"]) == sorted(a + ":4647" for a in addresses.values())
    assert client["network_interface"] == "eth0"
    assert conf["plugin"]["raw_exec"]["config"]["enabled"] is True


def test_config_files_are_private(host):
    for name in ("nomad.hcl", "server.hcl", "client.hcl"):
        f = host.file("/etc/nomad.d/" + name)
        assert f.user == "root" and f.mode == 0o640, name


def test_service_enabled_and_active(host):
    svc = host.service("nomad")
    assert svc.is_enabled
    assert svc.is_running


def test_started_once(host):
    # Server and client files were all in place before the first start: the
    # play never restarted the agent, so systemd started it exactly once.
    out = host.check_output("systemctl show nomad -p NRestarts --value")
    assert out.strip() == "0"
    starts = host.check_output("journalctl -u nomad --no-pager -o cat | grep -c '^Started' || true")
    assert starts.strip() == "1", starts


def _table(text):
    lines = [line for line in text.splitlines() if line.strip()]
    head = lines[0].split()
    return [dict(zip(head, line.split())) for line in lines[1:]]


def test_server_members(host):
    rows = _table(host.check_output("nomad server members"))
    assert len(rows) == 3
    assert all(r["Status"] == "alive" for r in rows), rows
    assert [r["Leader"] for r in rows].count("true") == 1, rows
    assert all(r["Datacenter"] == "home" for r in rows), rows


def test_node_status(host):
    rows = _table(host.check_output("nomad node status"))
    assert len(rows) == 3, rows
    assert all(r["Status"] == "ready" for r in rows), rows
    assert sorted(r["Name"] for r in rows) == HOSTS


JOB = """
job "verify-raw-exec" {
  datacenters = ["home"]
  type        = "service"
  group "g" {
    count = 1
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


def test_raw_exec_job_runs_through_nomad_job(scenario):
    # No `host` argument: this runs once, not once per host.
    from testinfra import get_host
    node = get_host("podman://nomad1")
    play = """
- hosts: nomad1
  gather_facts: false
  tasks:
    - name: Submit a raw_exec job
      nomadops.nomad.nomad_job:
        content: %s
      register: job
    - name: Remove it again
      nomadops.nomad.nomad_job:
        name: verify-raw-exec
        state: absent
        purge: true
""" % json.dumps(JOB)
    # Submit and check, then clean up in a second play so a failing check still purges.
    submit, cleanup = play.split("    - name: Remove it again")
    result = scenario.playbook(submit)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        status = node.check_output("nomad job status verify-raw-exec")
        assert re.search(r"^Status\s+= running", status, re.M), status
        allocs = [line for line in status.splitlines() if re.search(r"\bg\b.*\brun\b.*\brunning\b", line)]
        assert len(allocs) == 1, status
        # The task really runs on one of the hosts.
        deadline = time.time() + 30
        while time.time() < deadline:
            if any(get_host("podman://" + h).run("pgrep -f '^/bin/sleep 3600$'").rc == 0 for h in HOSTS):
                break
            time.sleep(1)
        else:
            pytest.fail("no host runs the raw_exec task's /bin/sleep 3600")
    finally:
        scenario.playbook("- hosts: nomad1\n  gather_facts: false\n  tasks:\n    - name: Remove it again"
                          + cleanup)
