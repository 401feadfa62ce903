# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether servers restarted one at a time, judged from the agents' own
start stamps and the leader poller (molecule/shared/poll_leader.py) together.

The poller alone cannot see a restart that is faster than its spacing: a real
Nomad 0.9.1 agent is stopped and started again in well under a quarter of a
second, so a sample in which a server did not answer is luck, not proof. The
stamps systemd keeps for each unit cannot be missed: when the agent was
stopped (ActiveExitTimestamp) and when its new process started
(ExecMainStartTimestamp). What they cannot say is when the agent answered
again; the poller can. So each restart is a window from its stop to the
first sample, taken after the new process started, in which that server
answered, and "one at a time" means that no two windows overlap: no server
stopped before the one restarted before it was back.

A window ends at the end of that sample (``t_end``, when the poller records
it, else its start ``t``): the answer came at some moment within the sample,
and the later end makes a window longer, never shorter, so an overlap cannot
hide in the poller's own latency.
"""


def stamp_to_wall(stamp_us, wall_now, mono_now):
    """A systemd *TimestampMonotonic value (microseconds of CLOCK_MONOTONIC)
    as wall-clock seconds, given one reading of both clocks on the same host."""
    return wall_now - (mono_now - stamp_us / 1e6)


def restart_windows(samples, restarts):
    """``{host: (stopped, started, back)}``: each restart's stop, its new
    process's start, and the end of the first sample after that start in which
    the host answered (None when no sample did). ``restarts`` maps a host to
    ``(stopped, started)`` in wall-clock seconds."""
    windows = {}
    for host, (stopped, started) in restarts.items():
        back = None
        for sample in samples:
            if sample["t"] >= started and host in sample["answering"]:
                back = sample.get("t_end", sample["t"])
                break
        windows[host] = (stopped, started, back)
    return windows


def one_at_a_time(samples, restarts, hosts):
    """The faults that refute "every host in ``hosts`` restarted while the
    poller ran, one at a time", as sentences; an empty list when there are
    none. ``restarts`` maps a host to ``(stopped, started)`` wall-clock
    seconds, or to None when its agent was never restarted."""
    if not samples:
        return ["the poller took no samples"]
    first = samples[0]["t"]
    faults = []
    for host in hosts:
        if not restarts.get(host):
            faults.append("%s: its agent was not restarted" % host)
    known = dict((h, r) for h, r in restarts.items() if r and h in hosts)
    windows = restart_windows(samples, known)
    for host in sorted(windows, key=lambda h: windows[h][0]):
        stopped, started, back = windows[host]
        if started < stopped:
            faults.append("%s: its agent started at %.3f, before it was stopped at %.3f: "
                          "the stamps are not of one restart" % (host, started, stopped))
        elif stopped < first:
            faults.append("%s: stopped at %.3f, before the poller's first sample at %.3f"
                          % (host, stopped, first))
        elif back is None:
            faults.append("%s: stopped at %.3f and started at %.3f, but no later sample saw it answer"
                          % (host, stopped, started))
    order = sorted(windows, key=lambda h: windows[h][0])
    for i, before in enumerate(order):
        b_stopped, _b_started, b_back = windows[before]
        for after in order[i + 1:]:
            a_stopped = windows[after][0]
            if b_back is not None and a_stopped < b_back:
                faults.append("%s stopped at %.3f while %s, stopped at %.3f, was not back yet "
                              "(first seen answering at %.3f): two servers down at once"
                              % (after, a_stopped, before, b_stopped, b_back))
    return faults


def describe(samples, restarts):
    """One line for the record: each restart in order, how long its agent's
    process was down, and how long until the poller saw it answer."""
    windows = restart_windows(samples, dict((h, r) for h, r in restarts.items() if r))
    parts = []
    for host in sorted(windows, key=lambda h: windows[h][0]):
        stopped, started, back = windows[host]
        parts.append("%s down %.3f s, answering after %s" % (
            host, started - stopped, "%.3f s" % (back - stopped) if back is not None else "never"))
    return "restarts in order: " + "; ".join(parts)
