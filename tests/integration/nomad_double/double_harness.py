# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers that run real double agents on 127.0.0.1 with random free ports.

Every process started here is stopped by PID at teardown, and so is every
process still running in a test's directories after its agents stopped.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support.ports import free_ports  # noqa: F401 (the tests import it from here)
from tests.support.recordings import recordings_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TESTS = os.path.join(ROOT, 'tests')


def shared_dir():
    """What a real Nomad 0.9.1 did (tests/recordings/nomad-0.9.1)."""
    return recordings_dir('0.9.1')


def shared_dir_1x():
    """What a real Nomad 1.1.0 did (tests/recordings/nomad-1.1.0)."""
    return recordings_dir('1.1.0')


# What makes the double's source (or any built double) behave as Nomad 1.1.0.
ONE_X_ENV = {'NOMAD_DOUBLE_VERSION': '1.1.0'}


def require_1x():
    """Skip unless what plays Nomad can be 1.x: the double always can; a real
    binary (NOMAD_TEST_BINARY) only if it is one."""
    binary = os.environ.get('NOMAD_TEST_BINARY')
    if not binary:
        return
    out = subprocess.run([binary, 'version'], capture_output=True, text=True, check=False).stdout
    m = re.match(r'Nomad v(\d+)\.', out)
    if not m or int(m.group(1)) < 1:
        pytest.skip('NOMAD_TEST_BINARY is not a Nomad 1.x: %s' % out.strip())


def nomad_cmd():
    """What plays Nomad: a real binary (NOMAD_TEST_BINARY), the built double
    (NOMAD_DOUBLE_BIN), else the double's source."""
    exe = os.environ.get('NOMAD_TEST_BINARY') or os.environ.get('NOMAD_DOUBLE_BIN')
    if exe:
        return [exe]
    return [sys.executable, '-m', 'nomad_double']


def nomad_env():
    env = dict(os.environ)
    env['PYTHONPATH'] = TESTS + os.pathsep + env.get('PYTHONPATH', '')
    for k in ('NOMAD_ADDR', 'NOMAD_TOKEN'):
        env.pop(k, None)
    return env


def run_nomad(args, cwd=None, timeout=60, env=None):
    e = nomad_env()
    e.update(env or {})
    return subprocess.run(nomad_cmd() + list(args), cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=timeout, check=False)


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers, decoded body or text)."""
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode()
            status, hdrs = r.status, dict(r.headers.items())
    except urllib.error.HTTPError as e:
        raw = e.read().decode()
        status, hdrs = e.code, dict(e.headers.items())
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw


def wait_until(fn, timeout=30.0, interval=0.2, what='condition'):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError('timed out waiting for %s (last: %r)' % (what, last))


class Agent(object):
    def __init__(self, name, workdir, ports):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.data_dir = os.path.join(self.dir, 'data')
        self.http, self.rpc, self.serf = ports
        self.proc = None
        self.config_path = os.path.join(self.dir, 'agent.hcl')
        self.log_path = os.path.join(self.dir, 'agent.log')

    @property
    def addr(self):
        return 'http://127.0.0.1:%d' % self.http

    def write(self, text):
        with open(self.config_path, 'w') as f:
            f.write(text)

    def start(self, env=None):
        log = open(self.log_path, 'ab')
        e = nomad_env()
        e.update(env or {})
        self.proc = subprocess.Popen(nomad_cmd() + ['agent', '-config', self.config_path], env=e,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        log.close()
        return self

    def stop(self, sig=signal.SIGINT):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def get(self, path, **kw):
        return http('GET', self.addr + path, **kw)

    def log(self):
        with open(self.log_path) as f:
            return f.read()


def hcl_config(agent, server=None, client=None, extra=''):
    """A config like the recorded cluster's (server_join/servers given by the caller)."""
    lines = ['name = "%s"' % agent.name, 'datacenter = "home"', 'data_dir = "%s"' % agent.data_dir,
             'bind_addr = "127.0.0.1"', 'disable_update_check = true',
             'ports {\n  http = %d\n  rpc = %d\n  serf = %d\n}' % (agent.http, agent.rpc, agent.serf),
             'advertise {\n  http = "127.0.0.1"\n  rpc = "127.0.0.1"\n  serf = "127.0.0.1"\n}']
    if server is not None:
        lines.append('server {\n%s\n}' % server)
    if client is not None:
        lines.append('client {\n%s\n}' % client)
        lines.append('plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}')
    lines.append(extra)
    return '\n'.join(lines) + '\n'


class Cluster(object):
    """Agents started by one test; all stopped at teardown."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.agents = []

    def agent(self, name):
        a = Agent(name, self.workdir, free_ports(3))
        self.agents.append(a)
        return a

    def servers(self, n, expect=None, join=None, client=True, extra=''):
        agents = [self.agent('nomad%d' % (i + 1)) for i in range(n)]
        join = join if join is not None else ['127.0.0.1:%d' % a.serf for a in agents]
        for a in agents:
            server = '  enabled = true\n  bootstrap_expect = %d\n  server_join {\n    retry_join = %s\n  }' % (
                expect or n, json.dumps(join))
            cl = None
            if client:
                cl = '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"' % agents[0].rpc
            a.write(hcl_config(a, server, cl, extra))
        return agents

    def stop_all(self):
        """Stop every agent, then kill whatever still runs in our directories;
        return what no agent should have left behind (see ``leaks``)."""
        for a in self.agents:
            a.stop()
        return clean_up(self.workdir)


def real_nomad():
    """The real Nomad binary the tests run against (NOMAD_TEST_BINARY), or None for the double."""
    return os.environ.get('NOMAD_TEST_BINARY') or None


def processes():
    """pid -> (ppid, cwd, argv) of the processes we can see."""
    out = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                ppid = int(f.read().rsplit(') ', 1)[1].split()[1])
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().decode(errors='replace').split('\0')[:-1]
            cwd = os.readlink('/proc/%s/cwd' % pid)
        except (OSError, IndexError, ValueError):
            continue
        out[int(pid)] = (ppid, cwd, argv)
    return out


def kill_leftovers(workdir):
    """Kill the processes that run in ``workdir`` (tasks, executors), with all
    their descendants wherever those run; return them as (pid, ppid, cwd, argv),
    parents first."""
    procs = processes()
    root = os.path.realpath(workdir)
    found = [pid for pid, (_pp, cwd, _a) in sorted(procs.items())
             if cwd == root or cwd.startswith(root + os.sep)]
    for pid in found:
        for child, (ppid, _c, _a) in sorted(procs.items()):
            if ppid == pid and child not in found:
                found.append(child)
    left = []
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        left.append((pid,) + procs[pid])
    # Not our children: wait until whoever reaps them has done so.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(x[0]) for x in left):
        time.sleep(0.05)
    return left


def release_mounts(workdir):
    """Unmount whatever is mounted under ``workdir``, deepest first; return the mount points.

    Run as root, a real Nomad mounts a tmpfs on each task's ``secrets/`` and
    leaves it there when the agent stops (the allocation is not destroyed).
    """
    root = os.path.realpath(workdir)
    with open('/proc/self/mounts') as f:
        points = [re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), line.split()[1]) for line in f]
    inside = sorted(set(p for p in points if p.startswith(root + os.sep)), key=len, reverse=True)
    for point in inside:
        subprocess.run(['umount', point], capture_output=True, check=False)
    return inside


def clean_up(workdir):
    """After a test's agents stopped: kill what still runs in ``workdir``, unmount
    what is mounted there, and return what should not have been left (``leaks``)."""
    leaked = leaks(kill_leftovers(workdir))
    mounts = release_mounts(workdir)
    if not real_nomad():
        # The double mounts nothing.
        leaked += [('mount', point) for point in mounts]
    return leaked


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(') ', 1)[1][0] != 'Z'
    except OSError:
        return False


def leaks(leftovers):
    """The leftovers (from ``kill_leftovers``) that should not have outlived their agents.

    A real Nomad leaves every task running under its executor (``nomad
    executor``, with ``nomad logmon`` collecting its output) when the agent
    stops, under any init system, so that the restarted agent re-attaches to
    it: with a real binary only processes outside those trees leak.  The
    double stops its tasks with the agent unless it runs under systemd (see
    its README), so with the double every leftover is a leak.
    """
    binary = real_nomad()
    if not binary:
        return list(leftovers)
    binary = os.path.realpath(binary)
    parent = dict((pid, ppid) for pid, ppid, _cwd, _argv in leftovers)
    plugins = set(pid for pid, _pp, _cwd, argv in leftovers
                  if len(argv) > 1 and os.path.realpath(argv[0]) == binary and argv[1] in ('executor', 'logmon'))

    def in_plugin_tree(pid):
        seen = set()
        while pid in parent and pid not in seen:
            if pid in plugins:
                return True
            seen.add(pid)
            pid = parent[pid]
        return False
    return [x for x in leftovers if not in_plugin_tree(x[0])]


def leader_of(agent):
    st, _h, body = agent.get('/v1/status/leader', timeout=5)
    return body if st == 200 else None


def ready_nodes(agent):
    st, _h, body = agent.get('/v1/nodes', timeout=5)
    if st != 200:
        return []
    return [n for n in body if n['Status'] == 'ready']
