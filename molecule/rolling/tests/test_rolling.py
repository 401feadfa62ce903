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
hide a gap).

"One at a time" is proven from the agents' own stamps, not from the poller
alone: a real 0.9.1 agent restarts faster than the poller's spacing, so no
sample need catch a server down. systemd records when it stopped each agent
and when the new process started; the poller says when that server answered
again. No server may stop before the one restarted before it answers again
(tests/support/restarts.py, whose unit tests hold both the in-order and the
two-at-once case). And no sample may have fewer than two servers answering.
"""

import subprocess

from conftest import assert_restarted_one_at_a_time, leader_gaps, servers_down

HOSTS = ["nomad1", "nomad2", "nomad3"]
MAX_GAP = 5.0
MAX_SAMPLE_SPACING = 2.5


def test_every_server_restarted_one_at_a_time(samples):
    assert_restarted_one_at_a_time(samples, HOSTS)


def test_leader_present_throughout(samples):
    spacing, longest = leader_gaps(samples)
    assert spacing <= MAX_SAMPLE_SPACING, "samples too sparse to support the claim"
    assert longest <= MAX_GAP
    assert samples[-1]["self_leader"], "no leader at the end"


def test_never_more_than_one_server_down(samples):
    servers_down(samples)  # printed for the record: on a fast restart no sample need see one
    assert min(len(s["answering"]) for s in samples) >= 2


def test_cluster_whole_after_the_change():
    out = subprocess.check_output(["podman", "exec", "nomad1", "nomad", "server", "members"], text=True)
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 3 and all(r[3] == "alive" for r in rows), out
    for h in HOSTS:
        text = subprocess.check_output(["podman", "exec", h, "cat", "/etc/nomad.d/nomad.hcl"], text=True)
        assert 'log_level = "DEBUG"' in text, (h, text)
