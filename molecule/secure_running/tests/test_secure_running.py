# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS and then ACLs came on for a running cluster in Nomad's way - a rolling
pass into rpc_upgrade_mode, then one without it - with a leader throughout,
one server down at a time, each node drained before its restart and the job
running its 3 allocations at the end; supplied certificates that do not fit are
refused before anything changes. The run that did it was cut off three times
(SIGKILL to its process group) and taken up by the same command each time.

The poller (molecule/shared/poll_leader.py) sampled every server about three
times a second from before the change until now; see molecule/rolling for
what "a leader throughout" means and why it allows one election.
"""

import json
import os
import subprocess

from conftest import assert_a_leader_throughout

HOSTS = ["nomad1", "nomad2", "nomad3"]
TLS = "/etc/nomad.d/tls"


def _scratch(name):
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], name)


def _exec(host, *argv, check=True):
    proc = subprocess.run(["podman", "exec", host, *argv], capture_output=True, text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _https(host, path, token=None):
    argv = ["curl", "-s", "-w", "\n%{http_code}", "--cacert", TLS + "/ca.pem", "--cert", TLS + "/agent.pem",
            "--key", TLS + "/agent-key.pem"]
    if token:
        argv += ["-H", "X-Nomad-Token: " + token]
    body, _sep, status = _exec(host, *argv, "https://127.0.0.1:4646" + path).stdout.rpartition("\n")
    return int(status), body


def _token():
    with open(_scratch("secrets/acl-token")) as handle:
        return handle.read().strip()


def _started(host):
    return _exec(host, "systemctl", "show", "nomad", "-p", "ExecMainStartTimestamp", "--value").stdout.strip()


def _cut_log(index):
    with open(_scratch("cut-%d.log" % index)) as handle:
        return handle.read().splitlines()


def test_the_run_was_cut_off_where_side_effect_meant_and_taken_up_from_what_the_agents_ran():
    where = ["Restart nomad on", "Write nomad.hcl, server.hcl", "Fail when ACLs were bootstrapped"]
    logs = [_cut_log(index) for index in range(3)]
    for log, banner in zip(logs, where):
        assert log[-1].startswith("--- cut off here") and banner in log[-2], log[-5:]
    # Cut after one restart of the first pass, every host's file said upgrade mode. The run taken up
    # then restarted the two agents still on plaintext into it, before any file of the second pass.
    assert sum("Restart nomad on" in line for line in logs[1]) == 2, "\n".join(logs[1])
    # The bootstrap of the third run made the token, and its file was on the controller before the cut.
    assert any("Bootstrap ACLs once" in line for line in logs[2])


def test_every_agent_ends_on_https_and_tls_only_rpc_with_acls():
    token = _token()
    for host in HOSTS:
        status, body = _https(host, "/v1/agent/self", token)
        assert status == 200, body
        tls = json.loads(body)["config"]["TLSConfig"]
        assert (tls["EnableHTTP"], tls["EnableRPC"], tls["RPCUpgradeMode"]) == (True, True, False), host
        assert json.loads(body)["config"]["ACL"]["Enabled"] is True
        assert _exec(host, "curl", "-sf", "http://127.0.0.1:4646/v1/status/leader", check=False).returncode != 0
        assert "rpc_upgrade_mode" not in _exec(host, "cat", "/etc/nomad.d/security.hcl").stdout


def test_the_certificates_are_the_supplied_ones():
    with open(_scratch("pki/ca.pem")) as handle:
        ca = handle.read()
    for host in HOSTS:
        assert _exec(host, "cat", TLS + "/ca.pem").stdout == ca
        with open(_scratch("pki/%s.pem" % host)) as handle:
            assert _exec(host, "cat", TLS + "/agent.pem").stdout == handle.read()
    issuer = _exec("nomad1", "openssl", "x509", "-noout", "-issuer", "-in", TLS + "/agent.pem", check=False)
    if issuer.returncode == 0:
        assert "Example Corp Nomad CA" in issuer.stdout


def test_acls_are_on_and_bootstrapped_once():
    assert _https("nomad1", "/v1/jobs")[0] == 403
    status, body = _https("nomad1", "/v1/acl/token/self", _token())
    assert status == 200 and json.loads(body)["Type"] == "management"


def test_leader_present_throughout_and_one_server_down_at_most(samples):
    assert_a_leader_throughout(samples)


def test_the_drains_moved_the_job_and_it_runs_all_its_allocations():
    with open(_scratch("allocations-before.json")) as handle:
        before = json.load(handle)
    status, body = _https("nomad1", "/v1/job/keep/allocations", _token())
    assert status == 200, body
    allocs = json.loads(body)
    running = [a["ID"] for a in allocs if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"]
    lost = [a["ID"] for a in allocs if a["ClientStatus"] in ("lost", "failed")]
    migrated = [a["ID"] for a in allocs if a["DesiredStatus"] == "stop" and a["ID"] in before]
    print("running before %d, now %d (kept %d, moved by a drain %d); lost or failed %s"
          % (len(before), len(running), len(set(before) & set(running)), len(migrated), lost))
    # Cut off inside the first pass, the cluster waits half-moved until the run is taken up: the agent
    # restarted into upgrade mode speaks TLS to servers that do not yet, so its node can miss heartbeats
    # for longer than the TTL and Nomad replaces its allocations (lost). The job ends with its 3
    # allocations running.
    assert len(before) == 3 and len(running) == 3
    assert migrated, "no allocation was moved: the nodes were not drained"
    assert json.loads(_https("nomad1", "/v1/job/keep", _token())[1])["Status"] == "running"


def test_every_node_is_eligible_again():
    status, body = _https("nomad1", "/v1/nodes", _token())
    assert status == 200, body
    nodes = json.loads(body)
    assert sorted((n["Name"], n["Status"], n["SchedulingEligibility"], n["Drain"]) for n in nodes) == [
        (h, "ready", "eligible", False) for h in HOSTS]


def test_a_key_of_another_certificate_is_refused_before_anything_changes(scenario):
    before = dict((h, (_started(h), _exec(h, "sha256sum", TLS + "/agent-key.pem").stdout)) for h in HOSTS)
    wrong = _scratch("pki/nomad2-key.pem")
    proc = scenario.playbook("converge.yml", "-e", "nomad_tls_key_file=%s" % wrong)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The supplied TLS files cannot be used: the private key %s does not belong to the certificate %s" % (
        wrong, _scratch("pki/nomad1.pem")) in said, said[-3000:]
    assert dict((h, (_started(h), _exec(h, "sha256sum", TLS + "/agent-key.pem").stdout)) for h in HOSTS) == before


def test_a_supplied_file_that_is_not_there_is_named_before_anything_changes(scenario):
    before = dict((h, _started(h)) for h in HOSTS)
    missing = _scratch("pki/nomad9.pem")
    proc = scenario.playbook("converge.yml", "-e", "nomad_tls_cert_file=%s" % missing)
    assert proc.returncode != 0
    assert "nomad_tls_cert_file names %s, which is not a file on the controller." % missing in proc.stdout + proc.stderr
    assert dict((h, _started(h)) for h in HOSTS) == before
