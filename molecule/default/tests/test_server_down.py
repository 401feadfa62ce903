# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""With nomad3's host down, a run that would restart the other servers stops
before anything changes, in one failure that names nomad3, and no other host
is reported unreachable. Last by name: nomad3 comes back, and the cluster has
its three servers again, before it ends."""

import os
import re
import subprocess
import tempfile
import time

import pytest

UP = ["nomad1", "nomad2"]


def _sh(host, *argv):
    return subprocess.check_output(["podman", "exec", host, *argv], text=True)


def _state(host):
    """What a run that changed nothing leaves as it was: every file it writes, and the agent's start."""
    files = _sh(host, "sh", "-c", "sha256sum /etc/nomad.d/*.hcl /usr/local/bin/nomad /etc/systemd/system/nomad.service")
    started = _sh(host, "systemctl", "show", "nomad", "-p", "ExecMainStartTimestamp", "--value").strip()
    return files, started


def _address(host):
    text = _sh(host, "ip", "-4", "-o", "addr", "show", "eth0")
    return re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", text).group(1)


def _alive_servers():
    try:
        text = _sh("nomad1", "nomad", "server", "members")
    except subprocess.CalledProcessError:
        return 0
    return len([line for line in text.splitlines()[1:] if " alive " in line])


def _refused(proc, reason):
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said[-3000:]
    failures = re.findall(r'FAILED! => .*?"msg": "([^"]*)"', said)
    assert len(failures) == 1, said[-3000:]
    msg = failures[0]
    assert msg.startswith("Nomad server nomad3 is down (unreachable), and this run would "), msg
    assert reason in msg, msg
    assert "restarting another server would leave 1, and the cluster without a leader" in msg, msg
    assert "Nothing was changed." in msg, msg
    # Only nomad3 itself: no read was delegated to it from another host.
    assert set(re.findall(r"\[([^\]]+)\]: UNREACHABLE!", said)) == {"nomad3"}, said[-3000:]
    for host in UP:
        assert re.search(r"^%s\s+:.* unreachable=0 " % host, said, re.M), said[-1500:]
    return msg


@pytest.fixture(scope="module")
def nomad3_down():
    address = _address("nomad3")
    subprocess.run(["podman", "stop", "-t", "5", "nomad3"], check=True, capture_output=True)
    try:
        yield address
    finally:
        subprocess.run(["podman", "start", "nomad3"], check=True, capture_output=True)
        deadline = time.monotonic() + 60
        while _alive_servers() < 3 and time.monotonic() < deadline:
            time.sleep(1)
    assert _alive_servers() == 3, "nomad3 did not rejoin within 60 s"
    assert _address("nomad3") == address


def test_an_upgrade_is_refused_naming_nomad3_and_nothing_changes(scenario, nomad3_down):
    before = {h: _state(h) for h in UP}
    proc = scenario.playbook("converge.yml", "-e", "nomad_version=0.9.0", "-e", "nomad_allow_downgrade=true")
    msg = _refused(proc, "install another Nomad release on nomad1 and nomad2 and restart them")
    # Without nomad_advertise_address nothing else tells nomad3's address.
    assert "write every host's files without the address of nomad3" in msg
    assert {h: _state(h) for h in UP} == before


def test_a_config_change_is_refused_before_the_files_are_written(scenario, nomad3_down):
    before = {h: _state(h) for h in UP}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as extra:
        extra.write("all:\n  hosts:\n    nomad3:\n      nomad_advertise_address: %s\n" % nomad3_down)
    try:
        proc = scenario.playbook("converge.yml", "-i", extra.name,
                                 "-e", '{"nomad_server_extra": {"heartbeat_grace": "11s"}}')
    finally:
        os.unlink(extra.name)
    msg = _refused(proc, "restart nomad1 and nomad2 for a change of their configuration")
    assert "address of nomad3" not in msg
    assert {h: _state(h) for h in UP} == before
