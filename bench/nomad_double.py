# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cost of the Nomad 0.9.1 test double on this machine.

Starts three server+client doubles on 127.0.0.1 (random ports), as the
recorded cluster was, and prints: time until a leader and three ready nodes,
CPU used per agent while idle, time for a leader change after the leader is
stopped, and register-to-running latency of a two-allocation raw_exec job.
Every process it starts is stopped.

    python bench/nomad_double.py [--idle 20]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration', 'nomad_double'))

from double_harness import Cluster, http, leader_of, ready_nodes, wait_until  # noqa: E402


def cpu_seconds(proc):
    with open('/proc/%d/stat' % proc.pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--idle', type=float, default=20.0, help='seconds of idle CPU measurement')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='nomad-double-bench-')
    cluster = Cluster(work)
    try:
        agents = cluster.servers(3)
        t0 = time.monotonic()
        for a in agents:
            a.start()
        wait_until(lambda: leader_of(agents[0]) and len(ready_nodes(agents[0])) == 3, 60, what='cluster')
        print('leader + 3 ready nodes after start: %.1f s' % (time.monotonic() - t0))
        before = [cpu_seconds(a.proc) for a in agents]
        time.sleep(args.idle)
        used = [cpu_seconds(a.proc) - b for a, b in zip(agents, before)]
        print('idle CPU per agent: %s (%% of one core)' % ', '.join('%.1f%%' % (100 * u / args.idle) for u in used))
        job = {'ID': 'bench', 'Name': 'bench', 'Type': 'service', 'Datacenters': ['home'], 'TaskGroups': [{
            'Name': 'web', 'Count': 2, 'Tasks': [{'Name': 'sleep', 'Driver': 'raw_exec',
                                                  'Config': {'command': 'sleep', 'args': ['600']}}]}]}
        t0 = time.monotonic()
        http('POST', agents[1].addr + '/v1/jobs', {'Job': job})
        wait_until(lambda: len([x for x in agents[1].get('/v1/job/bench/allocations')[2]
                                if x['ClientStatus'] == 'running']) == 2, 60, interval=0.05, what='running')
        print('register -> 2 allocations running: %.2f s' % (time.monotonic() - t0))
        leader = leader_of(agents[0])
        victim = next(a for a in agents if '127.0.0.1:%d' % a.rpc == leader)
        other = next(a for a in agents if a is not victim)
        t0 = time.monotonic()
        victim.stop()
        wait_until(lambda: leader_of(other) not in (None, leader) and leader_of(other), 60, interval=0.05,
                   what='new leader')
        print('leader stopped -> new leader: %.1f s' % (time.monotonic() - t0))
    finally:
        cluster.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
