# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rolling upgrade to the next release kept a leader, took one server down
at a time with the leader last, and kept the job's allocations; a downgrade
and a skipped point release are refused before anything changes.

With NOMADOPS_UPGRADE_PATH, the same holds over a walk through every release
of the path (side_effect ran one converge per release, walk.py recorded each
step): the leader went last at every step, every agent ends on the last
release, and each step printed the upgrade guide's notice for the releases it
crossed, once, and a converged re-run prints none.

The poller (molecule/shared/poll_leader.py) sampled every server about three
times a second from before the upgrade until now; see molecule/rolling for
what "a leader throughout" means and why it allows one election.
"""

import datetime
import importlib.util
import json
import os
import re
import subprocess

import pytest

from conftest import (MAX_GAP, MAX_SAMPLE_SPACING, assert_a_leader_throughout, assert_restarted_one_at_a_time,
                      leader_gaps)

HOSTS = ["nomad1", "nomad2", "nomad3"]
PATH = (os.environ.get("NOMADOPS_UPGRADE_PATH") or "").split()
TO = PATH[-1] if PATH else os.environ.get("NOMADOPS_UPGRADE_TO") or "0.9.1"
FROM = os.environ.get("NOMADOPS_UPGRADE_FROM") or "0.9.0"
WALK = [FROM] + (PATH or [TO])

walk_only = pytest.mark.skipif(not PATH, reason="NOMADOPS_UPGRADE_PATH is not set: one upgrade, no walk")


def _versions():
    """The collection's own rules (plugins/module_utils/versions.py), which need nothing but the standard library."""
    path = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.getcwd(),
                        "plugins", "module_utils", "versions.py")
    spec = importlib.util.spec_from_file_location("nomadops_versions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


versions = _versions()


def _words(text):
    """Text with every run of white space as one space: Ansible wraps its error lines."""
    return " ".join(text.split())


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


@pytest.mark.skipif(bool(PATH), reason="a walk is not cut off")
def test_the_upgrade_was_cut_off_between_two_server_restarts_and_taken_up():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "cut.log")) as handle:
        log = handle.read().splitlines()
    assert log[-1].startswith("--- cut off here") and "Restart nomad on" in log[-2], log[-5:]
    # Taken up: every agent runs the new release (test_every_host_runs_the_new_release).


def test_leader_present_throughout_and_one_server_down_at_most(samples):
    if PATH:
        assert_a_leader_throughout(samples)
        return
    # One restart per agent, the first in the run that was cut off: a real 0.9.1 agent restarts
    # faster than the poller's spacing, so "one at a time" comes from each agent's own systemd
    # stamps with the poller (molecule/rolling, tests/support/restarts.py).
    spacing, longest = leader_gaps(samples)
    assert spacing <= MAX_SAMPLE_SPACING and longest <= MAX_GAP
    assert samples[-1]["self_leader"], "no leader at the end"
    assert min(len(s["answering"]) for s in samples) >= 2
    assert_restarted_one_at_a_time(samples, HOSTS)


@pytest.mark.skipif(bool(PATH), reason="a walk has a leader per step: see test_the_leader_went_last_at_every_step")
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
    # On a walk, one release back: further back may cross 1.3's state migration (tested below).
    down = WALK[-2]
    before = _binaries()
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=%s" % down)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    if PATH:
        assert _words("%s: %s." % (", ".join(HOSTS), versions.upgrade_problem(TO, down))) in _words(said)
    else:
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


# ---- a walk through several releases (NOMADOPS_UPGRADE_PATH) ---------------------

def _steps():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "walk", "steps.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _log(release):
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "walk", "%s.log" % release)) as handle:
        return handle.read()


@walk_only
def test_the_walk_took_every_step_of_the_path():
    steps = _steps()
    print("; ".join("%s -> %s in %.0f s" % (s["from"], s["release"], s["end"] - s["start"]) for s in steps))
    assert [(s["from"], s["release"], s["rc"]) for s in steps] == [(a, b, 0) for a, b in zip(WALK, WALK[1:])]


@walk_only
def test_the_leader_went_last_at_every_step(samples):
    for step in _steps():
        # The leader as the step began: nothing restarts before the install and
        # the configs, which take seconds.
        before = [s["self_leader"] for s in samples if s["self_leader"] and s["t"] <= step["start"]]
        assert before, "no leader seen before the step to %s" % step["release"]
        restarted = dict((h, t) for h, t in step["starts"].items() if t != step["starts_before"][h])
        print("%s -> %s: leader before %s; restarts in order %s" % (
            step["from"], step["release"], before[-1], sorted(restarted, key=restarted.get)))
        assert sorted(restarted) == HOSTS, "every agent restarts once into the new binary"
        assert max(restarted, key=restarted.get) == before[-1]


@walk_only
def test_each_step_printed_the_notices_of_the_releases_it_crossed_once():
    crossed = []
    for step in _steps():
        said = _log(step["release"])
        notice = versions.upgrade_notice(step["from"], step["release"])
        printed = said.count("Before Nomad %s replaces" % step["release"])
        if notice:
            crossed.append("%s -> %s: %s" % (step["from"], step["release"], notice))
            assert printed == 1 and "Before Nomad %s replaces %s: %s" % (step["release"], step["from"], notice) in said
        else:
            assert printed == 0
        # Printed before the first agent restarted.
        if notice:
            assert said.index("Before Nomad") < said.index("Restart nomad on")
    print("notices printed:\n" + "\n".join(crossed))


@walk_only
def test_a_converged_rerun_prints_no_notice(scenario):
    proc = scenario.playbook("converge.yml")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Before Nomad" not in proc.stdout
    recap = proc.stdout[proc.stdout.index("PLAY RECAP"):]
    print(recap)
    assert set(re.findall(r"changed=(\d+)", recap)) == {"0"}


@walk_only
def test_every_server_runs_raft_protocol_3_after_1_3():
    if versions.parse_version(TO) < (1, 3, 0):
        pytest.skip("the walk ends before 1.3")
    servers = _api("/v1/operator/raft/configuration")["Servers"]
    print("raft configuration: %s" % [(s["Node"], s["ID"], s["RaftProtocol"], s["Voter"]) for s in servers])
    assert len(servers) == 3 and all(s["Voter"] and str(s["RaftProtocol"]) == "3" for s in servers)
    assert {m["Tags"]["raft_vsn"] for m in _api("/v1/agent/members")["Members"]} == {"3"}


@walk_only
def test_a_downgrade_below_the_state_migration_is_refused_even_when_allowed(scenario):
    if not versions.parse_version(FROM) < (1, 3, 0) <= versions.parse_version(TO):
        pytest.skip("the walk does not cross 1.3.0")
    before = _binaries()
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=%s" % FROM, "-e", "nomad_allow_downgrade=true")
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "no older release can read it, even with nomad_allow_downgrade" in _words(said)
    assert _binaries() == before


@walk_only
def test_a_client_ahead_of_the_servers_is_refused(scenario):
    # nomad3 alone to the next line: its client would be newer than the
    # servers outside the play, which keep the release they run.
    major, minor = TO.split(".")[:2]
    ahead = "%s.%d.0" % (major, int(minor) + 1)
    before = _binaries()
    proc = scenario.playbook("converge.yml", "--limit", "nomad3", "-e", "nomad_version=%s" % ahead)
    assert proc.returncode != 0
    said = proc.stdout + proc.stderr
    assert "nomad3: the client would run Nomad %s while server nomad1 runs %s; upgrade the servers first" % (
        ahead, TO) in _words(said)
    assert _binaries() == before
