# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/support/restarts.py: "one server at a time" judged from the agents'
stamps and the poller together, on samples in which every restart was faster
than the poller's spacing (no sample ever misses a server, as on a real 0.9.1)."""

from tests.support.restarts import describe, one_at_a_time, restart_windows, stamp_to_wall

HOSTS = ["nomad1", "nomad2", "nomad3"]


def _samples(start, end, step=0.3, latency=0.01, missing=None):
    """Samples from start to end, every server answering in each, except the
    hosts ``missing`` maps to a (from, to) stretch."""
    out = []
    t = start
    while t <= end:
        answering = [h for h in HOSTS
                     if not (missing and h in missing and missing[h][0] <= t <= missing[h][1])]
        out.append({"t": round(t, 3), "t_end": round(t + latency, 3), "answering": answering,
                    "self_leader": answering[0] if answering else None})
        t += step
    return out


def test_in_order_and_faster_than_the_poller_passes():
    samples = _samples(0.0, 30.0)
    assert all(len(s["answering"]) == 3 for s in samples)  # the poller alone saw nothing
    stamps = {"nomad2": (5.00, 5.04), "nomad3": (12.00, 12.05), "nomad1": (20.00, 20.03)}
    assert one_at_a_time(samples, stamps, HOSTS) == []
    assert describe(samples, stamps).startswith("restarts in order: nomad2 down 0.040 s, answering after")


def test_two_servers_restarted_at_once_fails_though_the_poller_saw_nothing():
    samples = _samples(0.0, 30.0)
    stamps = {"nomad2": (5.00, 5.04), "nomad3": (5.02, 5.06), "nomad1": (20.00, 20.03)}
    faults = one_at_a_time(samples, stamps, HOSTS)
    assert len(faults) == 1
    assert faults[0].startswith("nomad3 stopped at 5.020 while nomad2, stopped at 5.000, was not back yet")
    assert faults[0].endswith("two servers down at once")


def test_a_server_stopped_between_the_others_start_and_its_first_answer_fails():
    # nomad2's process is up at 5.04 but first answers in the sample of 5.1
    # (ending 5.11); nomad3 stopping at 5.08 is too early.
    samples = _samples(0.0, 30.0, missing={"nomad2": (5.0, 5.09)})
    stamps = {"nomad2": (5.00, 5.04), "nomad3": (5.08, 5.12), "nomad1": (20.00, 20.03)}
    assert restart_windows(samples, stamps)["nomad2"] == (5.00, 5.04, 5.11)
    faults = one_at_a_time(samples, stamps, HOSTS)
    assert [f.split(" while ")[0] for f in faults] == ["nomad3 stopped at 5.080"]


def test_a_long_outage_overlapping_two_later_restarts_names_both():
    samples = _samples(0.0, 30.0, missing={"nomad1": (1.0, 15.0)})
    stamps = {"nomad1": (1.00, 14.00), "nomad2": (5.00, 5.04), "nomad3": (12.00, 12.05)}
    faults = one_at_a_time(samples, stamps, HOSTS)
    assert [f.split(" while ")[0] for f in faults] == ["nomad2 stopped at 5.000", "nomad3 stopped at 12.000"]


def test_an_agent_not_restarted_or_restarted_before_the_poller_fails():
    samples = _samples(10.0, 30.0)
    stamps = {"nomad1": None, "nomad2": (5.00, 5.04), "nomad3": (12.00, 12.05)}
    assert one_at_a_time(samples, stamps, HOSTS) == [
        "nomad1: its agent was not restarted",
        "nomad2: stopped at 5.000, before the poller's first sample at 10.000",
    ]


def test_an_agent_never_seen_answering_after_its_start_fails():
    samples = _samples(0.0, 30.0, missing={"nomad3": (12.0, 31.0)})
    stamps = {"nomad1": (3.00, 3.04), "nomad2": (5.00, 5.04), "nomad3": (12.00, 12.05)}
    assert one_at_a_time(samples, stamps, HOSTS) == [
        "nomad3: stopped at 12.000 and started at 12.050, but no later sample saw it answer"]


def test_stamps_that_are_not_one_restart_fail():
    samples = _samples(0.0, 30.0)
    stamps = {"nomad1": (3.00, 2.00), "nomad2": (5.00, 5.04), "nomad3": (12.00, 12.05)}
    assert one_at_a_time(samples, stamps, HOSTS)[0].startswith("nomad1: its agent started at 2.000, before it was")


def test_no_samples_fail():
    assert one_at_a_time([], {"nomad1": (1.0, 2.0)}, ["nomad1"]) == ["the poller took no samples"]


def test_monotonic_stamps_are_placed_on_the_wall_clock():
    # Read at wall 1000.0 s when CLOCK_MONOTONIC said 50.0 s: a stamp of 45.5 s
    # (45 500 000 us) happened 4.5 s earlier.
    assert stamp_to_wall(45500000, 1000.0, 50.0) == 995.5
