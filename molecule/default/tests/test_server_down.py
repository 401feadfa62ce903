# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""With a server down, a run that would restart the others stops before
anything changes, in one failure that names it, and no other host is
reported unreachable: a config change while nomad3's agent is stopped outside
the play (--limit), then an upgrade while nomad3's host is stopped. Last by
name: nomad3 comes back and the cluster has its three servers again before it
ends (its address may change with the container's restart)."""

import re
import subprocess
import time

import pytest

UP = ["nomad1", "nomad2"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _sh(host, *argv):
    return subprocess.check_output(["podman", "exec", host, *argv], text=True)


def _state(host):
    """What a run that changed nothing leaves as it was: every file it writes, and the agent's start."""
    files = _sh(host, "sh", "-c", "sha256sum /etc/nomad.d/*.hcl /usr/local/bin/nomad /etc/systemd/system/nomad.service")
    started = _sh(host, "systemctl", "show", "nomad", "-p", "ExecMainStartTimestamp", "--value").strip()
    return files, started


def _alive_servers():
    try:
        text = _sh("nomad1", "nomad", "server", "members")
    except subprocess.CalledProcessError:
        return 0
    return len([line for line in text.splitlines()[1:] if " alive " in line])


def _wait_for_three_servers():
    deadline = time.monotonic() + 60
    while _alive_servers() < 3 and time.monotonic() < deadline:
        time.sleep(1)
    assert _alive_servers() == 3, "nomad3 did not rejoin within 60 s"


def _refused(proc, down, reason):
    said = ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode != 0, said[-3000:]
    failures = re.findall(r'FAILED! => .*?"msg": "([^"]*)"', said)
    assert len(failures) == 1, said[-3000:]
    msg = failures[0]
    assert msg.startswith("Nomad server nomad3 is down (%s), and this run would " % down), msg
    assert reason in msg, msg
    assert "restarting another server would leave 1, and the cluster without a leader" in msg, msg
    assert "Nothing was changed." in msg, msg
    # Only nomad3 itself, if anything: no read was delegated to it from another host.
    assert set(re.findall(r"\[([^\]]+)\]: UNREACHABLE!", said)) <= {"nomad3"}, said[-3000:]
    for host in UP:
        assert re.search(r"^%s\s+:.* unreachable=0 " % host, said, re.M), said[-1500:]
    return msg


@pytest.fixture
def nomad3_agent_stopped():
    _sh("nomad3", "systemctl", "stop", "nomad")
    try:
        yield
    finally:
        _sh("nomad3", "systemctl", "start", "nomad")
        _wait_for_three_servers()


@pytest.fixture
def nomad3_host_stopped():
    subprocess.run(["podman", "stop", "-t", "5", "nomad3"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["podman", "start", "nomad3"], check=True, capture_output=True)
        _wait_for_three_servers()


def test_a_config_change_is_refused_before_the_files_are_written(scenario, nomad3_agent_stopped):
    before = {h: _state(h) for h in UP}
    proc = scenario.playbook("converge.yml", "--limit", "nomad1,nomad2",
                             "-e", '{"nomad_server_extra": {"heartbeat_grace": "11s"}}')
    msg = _refused(proc, "its agent is not running, and this play does not start it",
                   "restart nomad1 and nomad2 for a change of their configuration")
    assert "address of nomad3" not in msg
    assert {h: _state(h) for h in UP} == before


def test_an_upgrade_is_refused_naming_nomad3_and_nothing_changes(scenario, nomad3_host_stopped):
    before = {h: _state(h) for h in UP}
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=0.9.0", "-e", "nomad_allow_downgrade=true")
    msg = _refused(proc, "unreachable", "install another Nomad release on nomad1 and nomad2 and restart them")
    assert "write every host's files without the address of nomad3" in msg
    assert {h: _state(h) for h in UP} == before
