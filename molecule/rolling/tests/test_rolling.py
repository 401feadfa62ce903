# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A config change restarted every server, one at a time, and a leader was
present throughout.

"Throughout" is measured, not assumed. molecule/shared/poll_leader.py sampled every
server about three times a second from before the change until now. A sample
"has a leader" when some server names itself as the raft leader. Restarting
the leader costs one election, which no rolling restart can avoid (Nomad
0.9.1 cannot hand leadership over); raft's election timeout is 1 s and a
follower waits 1-2 s without heartbeats before it stands, so the claim is:
no stretch without a self-acknowledged leader longer than MAX_GAP seconds,
with samples never further apart than MAX_SAMPLE_SPACING (else the log could
hide a gap). And since a server that is down cannot answer, "one at a time"
means: no sample in which fewer than two of the three servers answered.
"""

import datetime
import subprocess

from conftest import leader_gaps, servers_down

HOSTS = ["nomad1", "nomad2", "nomad3"]
MAX_GAP = 5.0
MAX_SAMPLE_SPACING = 2.5


def _started_at(host):
    """Wall-clock time at which systemd last started the agent on host."""
    out = subprocess.check_output(
        ["podman", "exec", host, "systemctl", "show", "nomad", "-p", "ExecMainStartTimestamp", "--value"],
        text=True).strip()
    # e.g. "Fri 2026-11-27 23:20:01 UTC"
    stamp = datetime.datetime.strptime(out.split(" ", 1)[1], "%Y-%m-%d %H:%M:%S %Z")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def test_every_server_restarted_while_polled(samples):
    first, last = samples[0]["t"], samples[-1]["t"]
    starts = {h: _started_at(h) for h in HOSTS}
    print("poll window %.0f..%.0f, agent starts %s" % (first, last, starts))
    for host, started in starts.items():
        # Second resolution in systemd's timestamp: allow one second of slack.
        assert first - 1 <= started <= last + 1, (host, started, first, last)
    order = sorted(starts, key=starts.get)
    print("restart order:", order)


def test_leader_present_throughout(samples):
    spacing, longest = leader_gaps(samples)
    assert spacing <= MAX_SAMPLE_SPACING, "samples too sparse to support the claim"
    assert longest <= MAX_GAP
    assert samples[-1]["self_leader"], "no leader at the end"


def test_never_more_than_one_server_down(samples):
    assert servers_down(samples), "no sample saw a server down: the restarts were not observed"
    assert min(len(s["answering"]) for s in samples) >= 2


def test_cluster_whole_after_the_change():
    out = subprocess.check_output(["podman", "exec", "nomad1", "nomad", "server", "members"], text=True)
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 and all(r[3] == "alive" for r in rows), out
    for h in HOSTS:
        text = subprocess.check_output(["podman", "exec", h, "cat", "/etc/nomad.d/nomad.hcl"], text=True)
        assert 'log_level = "DEBUG"' in text, (h, text)
