# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Stop Nomad agents started by a harness, and everything they started.

A real Nomad does not stop its tasks when the agent stops: each task keeps
running under its ``nomad executor`` (with ``nomad logmon`` beside it) so
that a restarted agent can re-attach, and, run as root, it leaves the tmpfs
it mounted on each task's ``secrets/`` until the allocation is garbage
collected. So stopping the agent process alone leaves processes and mounts
behind, and the directory holding them cannot be removed. :func:`teardown`
goes in this order:

1. purge every job and wait for the allocations to be terminal, then ask
   each client to garbage-collect them (that is what unmounts ``secrets/``);
2. SIGINT the agents, wait, SIGKILL the ones that do not stop;
3. SIGKILL what still runs in the harness's directory (found by its cwd,
   arguments or environment), with all its descendants, and remove the
   cgroups Nomad had made for them;
4. unmount whatever is still mounted there, deepest first;
5. remove the directories asked for, but never across a mount.

Each step is best effort and the next one runs anyway: the test double
(which stops its tasks and mounts nothing) goes through the same steps and
they find nothing to do. The result says what had to be forced.

::

    from tests.support.agent_teardown import teardown
    report = teardown(workdir, procs=[popen, ...], addresses=['http://127.0.0.1:4646'],
                      remove=[data_dir])
    report.forced()   # [] when the agents left nothing behind
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import shutil
import signal
import subprocess
import time

from urllib.error import URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

__all__ = ['Report', 'kill_leftovers', 'purge_jobs', 'stop_processes', 'teardown', 'unmount_under']

TERMINAL = ('complete', 'failed', 'lost')


class Report(object):
    """What :func:`teardown` found and had to force."""

    def __init__(self):
        self.jobs = []          # job IDs purged through the API
        self.processes = []     # (pid, argv) killed after the agents stopped
        self.cgroups = []       # cgroup directories removed
        self.mounts = []        # mount points released
        self.errors = []        # what could not be done

    def forced(self):
        """What the agents themselves should have cleaned up, as text lines."""
        return (['process %d: %s' % (pid, ' '.join(argv)) for pid, argv in self.processes]
                + ['mount %s' % point for point in self.mounts]
                + ['cgroup %s' % path for path in self.cgroups]
                + ['error: %s' % e for e in self.errors])

    def __repr__(self):
        return 'Report(jobs=%r, processes=%r, cgroups=%r, mounts=%r, errors=%r)' % (
            self.jobs, self.processes, self.cgroups, self.mounts, self.errors)


def _call(method, url, timeout=5):
    with urlopen(Request(url, method=method), timeout=timeout) as resp:
        body = resp.read().decode('utf-8')
    return json.loads(body) if body.strip() else None


def _listing(address, path):
    """Objects of every namespace: ``namespace=*`` is how Nomad 1.x lists them
    all, while an older Nomad takes ``*`` for a name and answers with none."""
    seen = {}
    for query in ('', '?namespace=*'):
        try:
            items = _call('GET', address + path + query) or []
        except (URLError, OSError, ValueError):
            if not query:
                raise
            continue
        for item in items:
            seen[(item.get('Namespace') or 'default', item['ID'])] = item
    return list(seen.values())


def purge_jobs(addresses, timeout=30, report=None):
    """Purge every job through the first agent that answers, wait until every
    allocation is terminal, then garbage-collect each client's allocations."""
    report = report if report is not None else Report()
    for address in addresses:
        try:
            jobs = _listing(address, '/v1/jobs')
        except (URLError, OSError, ValueError):
            continue
        for job in jobs:
            try:
                _call('DELETE', '%s/v1/job/%s?purge=true&namespace=%s'
                      % (address, quote(job['ID'], safe=''), quote(job.get('Namespace') or 'default', safe='')))
                report.jobs.append(job['ID'])
            except (URLError, OSError, ValueError) as e:
                report.errors.append('purge %s: %s' % (job['ID'], e))
        deadline = time.monotonic() + timeout
        while True:
            try:
                live = [a['ID'] for a in _listing(address, '/v1/allocations') if a.get('ClientStatus') not in TERMINAL]
            except (URLError, OSError, ValueError) as e:
                report.errors.append('allocations of %s: %s' % (address, e))
                break
            if not live:
                break
            if time.monotonic() > deadline:
                report.errors.append('allocations still not terminal after %ss: %s' % (timeout, ', '.join(live)))
                break
            time.sleep(0.2)
        break
    for address in addresses:
        try:
            # Not every agent is a client, and the double has no such endpoint.
            _call('PUT', address + '/v1/client/gc', timeout=30)
        except (URLError, OSError, ValueError):
            pass
    return report


def stop_processes(procs, timeout=15):
    """SIGINT the agents (``subprocess.Popen``), wait, SIGKILL the stragglers."""
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGINT)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _read(path, binary=False):
    with open(path, 'rb' if binary else 'r') as f:
        return f.read()


def _ancestors():
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            pid = int(_read('/proc/%d/stat' % pid).rsplit(') ', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return pids


def _processes():
    """pid -> (ppid, mount namespace, cwd, argv, environ values) of every process."""
    out = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        base = '/proc/' + name
        try:
            ppid = int(_read(base + '/stat').rsplit(') ', 1)[1].split()[1])
            mntns = os.readlink(base + '/ns/mnt')
            cwd = os.readlink(base + '/cwd')
            argv = _read(base + '/cmdline', True).decode('utf-8', 'replace').split('\0')[:-1]
            env = [v.split('=', 1)[-1] for v in _read(base + '/environ', True).decode('utf-8', 'replace').split('\0')]
        except (OSError, IndexError, ValueError):
            continue
        out[int(name)] = (ppid, mntns, cwd, argv, env)
    return out


def _under(path, root):
    return path == root or path.startswith(root + os.sep)


def _mentions(strings, root):
    return any(s == root or (root + os.sep) in s for s in strings)


def _alive(pid):
    try:
        return _read('/proc/%d/stat' % pid).rsplit(') ', 1)[1][0] != 'Z'
    except (OSError, IndexError):
        return False


def _own_cgroups(pid):
    """(hierarchy controllers, path) of a process's cgroups."""
    out = set()
    try:
        for line in _read('/proc/%d/cgroup' % pid).splitlines():
            dummy, controllers, path = line.split(':', 2)
            out.add((controllers, path))
    except (OSError, ValueError):
        pass
    return out


def _cgroup_dir(controllers, path):
    """Where a cgroup (as /proc/PID/cgroup names it) is in this mount namespace."""
    want = set(c for c in controllers.split(',') if c)
    for line in _read('/proc/self/mounts').splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        if (fields[2] == 'cgroup2' and not want) or (fields[2] == 'cgroup' and want and want <= set(fields[3].split(','))):
            return _unescape(fields[1]) + path
    return None


def kill_leftovers(root, report=None, rounds=5):
    """SIGKILL every process of this mount namespace whose cwd, arguments or
    environment lie under ``root``, with all their descendants wherever they
    run; then remove the cgroups Nomad had put them in, once empty."""
    report = report if report is not None else Report()
    root = os.path.realpath(root)
    ours = _ancestors()
    my_ns = os.readlink('/proc/self/ns/mnt')
    mine = _own_cgroups(os.getpid())
    cgroups = set()
    for dummy in range(rounds):
        procs = _processes()
        # Paths mean something only in our mount namespace: a container's
        # processes may use the same names for their own files.
        found = [pid for pid, (_pp, ns, cwd, argv, env) in sorted(procs.items())
                 if ns == my_ns and pid not in ours
                 and (_under(cwd, root) or _mentions(argv, root) or _mentions(env, root))]
        for pid in found:
            for child, info in sorted(procs.items()):
                if info[0] == pid and child not in found and child not in ours:
                    found.append(child)
        if not found:
            break
        for pid in found:
            cgroups |= _own_cgroups(pid) - mine
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                continue
            report.processes.append((pid, procs[pid][3]))
        # Not our children: wait until whoever reaps them has done so.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in found):
            time.sleep(0.05)
    # The executor removes its task's cgroup on a clean exit, not when killed.
    for controllers, path in sorted(cgroups, key=lambda c: -len(c[1])):
        where = _cgroup_dir(controllers, path)
        if where and path not in ('', '/') and os.path.isdir(where):
            try:
                os.rmdir(where)
                report.cgroups.append(where)
            except OSError:
                pass
    return report


def _unescape(field):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), field)


def mounts_under(root):
    root = os.path.realpath(root)
    points = [_unescape(line.split()[1]) for line in _read('/proc/self/mounts').splitlines() if line.strip()]
    return sorted(set(p for p in points if _under(p, root) and p != root),
                  key=lambda p: (-p.count(os.sep), -len(p)))


def unmount_under(root, report=None, rounds=3):
    """Unmount everything mounted below ``root``, deepest first; lazily if busy."""
    report = report if report is not None else Report()
    for dummy in range(rounds):
        points = mounts_under(root)
        if not points:
            break
        for point in points:
            proc = subprocess.run(['umount', point], capture_output=True, check=False)
            if proc.returncode != 0:
                proc = subprocess.run(['umount', '-l', point], capture_output=True, check=False)
            if proc.returncode == 0:
                report.mounts.append(point)
    left = mounts_under(root)
    if left:
        report.errors.append('still mounted: %s' % ', '.join(left))
    return report


def remove_tree(path, report=None):
    """``rm -rf`` that refuses to run while anything is mounted below ``path``:
    a bind mount there would otherwise lose its source's files."""
    report = report if report is not None else Report()
    if not os.path.lexists(path):
        return report
    left = mounts_under(path)
    if left:
        report.errors.append('not removed, still mounted below it: %s' % path)
        return report
    errors = []
    shutil.rmtree(path, onerror=lambda func, p, exc: errors.append('%s: %s' % (p, exc[1])))
    report.errors.extend('remove %s' % e for e in errors)
    return report


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def teardown(root, procs=(), addresses=(), remove=(), job_timeout=30, settle_timeout=10, stop_timeout=15):
    """Stop the agents ``procs`` (answering on ``addresses``) that a harness
    started with everything under ``root``, and all they left there; then
    remove the directories ``remove``. Never raises for what it cannot clean:
    see the returned :class:`Report`."""
    report = Report()
    steps = (
        lambda: purge_jobs(addresses, job_timeout, report),
        # Garbage collection only starts destroying the allocations: give the
        # agents the time to unmount their secrets/ before they are stopped.
        lambda: _wait_for(lambda: not mounts_under(root) or all(p.poll() is not None for p in procs),
                          settle_timeout),
        lambda: stop_processes(procs, stop_timeout),
        lambda: kill_leftovers(root, report),
        lambda: unmount_under(root, report),
    ) + tuple((lambda path=path: remove_tree(path, report)) for path in remove)
    for step in steps:
        try:
            step()
        except Exception as e:  # one failing step must not keep the others from cleaning
            report.errors.append('%s: %s' % (type(e).__name__, e))
    return report
