# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scenarios' verify tests share: running Ansible against the
scenario's own inventory, as an operator would from the controller.

Outside `molecule verify` there is no inventory, so the tests that need one
skip instead of failing.
"""

import importlib.util
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest


def _molecule_path(variable):
    value = os.environ.get(variable)
    if not value:
        pytest.skip("%s is not set: run through molecule verify" % variable)
    return value


def _run(argv, timeout, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)


class Scenario:
    """The running scenario, seen from the controller."""

    @staticmethod
    def playbook(playbook, *options, timeout=600):
        """ansible-playbook on the scenario's inventory. `playbook` is YAML
        text, or the name of a playbook file in the scenario directory."""
        inventory = _molecule_path("MOLECULE_INVENTORY_FILE")
        if "\n" not in playbook:
            path = os.path.join(_molecule_path("MOLECULE_SCENARIO_DIRECTORY"), playbook)
            return _run(["ansible-playbook", *options, "-i", inventory, path], timeout)
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
            handle.write(playbook)
        try:
            return _run(["ansible-playbook", *options, "-i", inventory, handle.name], timeout)
        finally:
            os.unlink(handle.name)

    @staticmethod
    def adhoc(pattern, module, args, *options):
        """`ansible PATTERN -m MODULE -a ARGS [OPTIONS]`: the process and each host's result."""
        inventory = _molecule_path("MOLECULE_INVENTORY_FILE")
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = _run(["ansible", pattern, "-i", inventory, "-m", module, "-a", args] + list(options), 600, env)
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
            return proc, data["plays"][0]["tasks"][0]["hosts"]
        except (ValueError, KeyError, IndexError):
            raise AssertionError("unreadable ansible output (rc %d):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))


@pytest.fixture(scope="session")
def scenario():
    return Scenario()


# ---- what ../shared/poll_leader.py saw (scenarios rolling and upgrade) ----------

def _ephemeral(name):
    base = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not base:
        pytest.skip("MOLECULE_EPHEMERAL_DIRECTORY is not set: run through molecule")
    return os.path.join(base, name)


@pytest.fixture(scope="module")
def samples():
    """The poller's samples, from side_effect until now; stops the poller."""
    pid_file = _ephemeral("leader-poll.pid")
    assert os.path.exists(pid_file), "side_effect did not start the poller"
    time.sleep(2)  # a couple of samples of the settled cluster after the converge
    pid = int(open(pid_file).read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pytest.fail("the poller (pid %d) died before verify: see leader-poll.log" % pid)
    for _attempt in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    os.unlink(pid_file)
    with open(_ephemeral("leader-poll.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def leader_gaps(samples):
    """(widest spacing between samples, longest stretch without a self-acknowledged leader), in seconds,
    printed with the leaders in turn for the record."""
    spacing = max(b["t"] - a["t"] for a, b in zip(samples, samples[1:]))
    with_leader = [s["t"] for s in samples if s["self_leader"]]
    assert with_leader, "no sample ever saw a leader"
    # The window starts and ends with a leader: a gap at either end counts too.
    edges = [samples[0]["t"]] + with_leader + [samples[-1]["t"]]
    longest = max(b - a for a, b in zip(edges, edges[1:]))
    leaders = []
    for s in samples:
        if s["self_leader"] and (not leaders or leaders[-1] != s["self_leader"]):
            leaders.append(s["self_leader"])
    print("samples=%d over %.1f s; widest sample spacing %.2f s; longest stretch without a "
          "self-acknowledged leader %.2f s; leaders in turn: %s"
          % (len(samples), samples[-1]["t"] - samples[0]["t"], spacing, longest, leaders))
    return spacing, longest


def servers_down(samples):
    """The samples in which a server did not answer, printed with the fewest that answered."""
    down = [s for s in samples if len(s["answering"]) < 3]
    print("samples with a server down: %d; fewest servers answering in one sample: %d"
          % (len(down), min(len(s["answering"]) for s in samples)))
    return down


def _restarts_module():
    # tests/support/restarts.py judges; its unit tests feed it by hand.
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "tests", "support", "restarts.py")
    spec = importlib.util.spec_from_file_location("nomadops_restarts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


restarts = _restarts_module()

# The stamps systemd keeps for the agent's unit, and one reading of the
# host's wall and monotonic clocks to place them on the poller's time line.
_STAMPS = ("systemctl show {unit} -p ActiveExitTimestampMonotonic -p ExecMainStartTimestampMonotonic; "
           "python3 -c 'import time; print(\"clocks=%r %r\" % (time.time(), time.monotonic()))'")


def agent_restarts(hosts, unit="nomad"):
    """``{host: (stopped, started)}`` in wall-clock seconds: when systemd last
    stopped the agent and when its current process started; None for an agent
    that was never stopped."""
    found = {}
    for host in hosts:
        out = subprocess.run(["podman", "exec", host, "sh", "-c", _STAMPS.format(unit=unit)],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        wall, mono = (float(v) for v in values["clocks"].split())
        stopped = int(values["ActiveExitTimestampMonotonic"])
        started = int(values["ExecMainStartTimestampMonotonic"])
        found[host] = None if not stopped else (
            restarts.stamp_to_wall(stopped, wall, mono), restarts.stamp_to_wall(started, wall, mono))
    return found


def assert_restarted_one_at_a_time(samples, hosts):
    """Every agent in hosts restarted while the poller ran, and none stopped
    before the one restarted before it answered again (tests/support/restarts.py)."""
    found = agent_restarts(hosts)
    print(restarts.describe(samples, found))
    faults = restarts.one_at_a_time(samples, found, hosts)
    assert not faults, "\n".join(faults)


# What "a leader throughout, one server down at most" allows (molecule/rolling
# says why): one election, and samples dense enough to see it.
MAX_GAP = 5.0
MAX_SAMPLE_SPACING = 2.5


def assert_a_leader_throughout(samples):
    """A self-acknowledged leader in every stretch longer than MAX_GAP, at least two of
    the three servers answering in every sample, and some sample with a server down."""
    spacing, longest = leader_gaps(samples)
    assert spacing <= MAX_SAMPLE_SPACING, "samples too sparse to support the claim"
    assert longest <= MAX_GAP
    assert samples[-1]["self_leader"], "no leader at the end"
    assert servers_down(samples), "no sample saw a server down: the restarts were not observed"
    assert min(len(s["answering"]) for s in samples) >= 2
