# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rolling upgrade to the next release kept a leader, took one server down
at a time with the leader last, and kept the job's allocations; a downgrade
and a skipped point release are refused before anything changes.

The poller (molecule/shared/poll_leader.py) sampled every server about three
times a second from before the upgrade until now; see molecule/rolling for
what "a leader throughout" means and why it allows one election.
"""

import datetime
import json
import os
import subprocess

from conftest import assert_a_leader_throughout

HOSTS = ["nomad1", "nomad2", "nomad3"]
TO = os.environ.get("NOMADOPS_UPGRADE_TO") or "0.9.1"
FROM = os.environ.get("NOMADOPS_UPGRADE_FROM") or "0.9.0"


def _exec(host, *argv):
    return subprocess.check_output(["podman", "exec", host, *argv], text=True)


def _api(path):
    return json.loads(_exec("nomad1", "curl", "-sf", "http://127.0.0.1:4646" + path))


def _started_at(host):
    out = _exec(host, "systemctl", "show", "nomad", "-p", "ExecMainStartTimestamp", "--value").strip()
    stamp = datetime.datetime.strptime(out.split(" ", 1)[1], "%Y-%m-%d %H:%M:%S %Z")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def test_every_host_runs_the_new_release():
    for host in HOSTS:
        assert _exec(host, "nomad", "version").startswith("Nomad v%s" % TO), host
    assert {m["Tags"]["build"] for m in _api("/v1/agent/members")["Members"]} == {TO}


def test_leader_present_throughout_and_one_server_down_at_most(samples):
    assert_a_leader_throughout(samples)


def test_the_leader_went_last(samples):
    first_leader = next(s["self_leader"] for s in samples if s["self_leader"])
    starts = {h: _started_at(h) for h in HOSTS}
    print("leader before the upgrade: %s; agent starts: %s" % (first_leader, starts))
    assert max(starts, key=starts.get) == first_leader


def test_the_job_kept_its_allocations():
    before = json.load(open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "allocations-before.json")))
    allocs = _api("/v1/job/keep/allocations")
    running = [a["ID"] for a in allocs if a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"]
    lost = [a["ID"] for a in allocs if a["ID"] in before and a["ClientStatus"] in ("lost", "failed")]
    print("running before %d, now %d (kept %d); lost or failed %s"
          % (len(before), len(running), len(set(before) & set(running)), lost))
    assert len(before) == 3 and len(running) == 3
    assert _api("/v1/job/keep")["Status"] == "running"


def _binaries():
    return {h: _exec(h, "sha256sum", "/usr/local/bin/nomad").split()[0] for h in HOSTS}


def test_a_downgrade_is_refused_before_anything_changes(scenario):
    before = _binaries()
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=%s" % FROM)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "Nomad does not support downgrading" in said and "nomad_allow_downgrade" in said
    assert _binaries() == before


def test_a_skipped_point_release_is_refused_naming_the_one_to_go_through(scenario):
    major, minor = TO.split(".")[:2]
    skip = "%s.%d.0" % (major, int(minor) + 2)
    before = _binaries()
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=%s" % skip)
    assert proc.returncode != 0
    assert "go through %s.%d.x first" % (major, int(minor) + 1) in proc.stdout + proc.stderr
    assert _binaries() == before
