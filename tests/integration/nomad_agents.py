# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start Nomad agents (the test double, or a real binary named by
NOMAD_TEST_BINARY) on 127.0.0.1 with free ports, and run modules through the
real ``ansible`` CLI from the repository root."""

import atexit
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.support.agent_teardown import teardown
from tests.support.ports import free_ports

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')
DATACENTER = 'dc1'


def nomad_binary(workdir, version=None):
    """The real binary from NOMAD_TEST_BINARY, else the double built into
    workdir (as ``version``, 0.9.1 by default)."""
    real = os.environ.get('NOMAD_TEST_BINARY')
    if real:
        if not os.access(real, os.X_OK):
            pytest.fail('NOMAD_TEST_BINARY=%s is not an executable file' % real)
        return real
    build = os.path.join(ROOT, 'tests', 'nomad_double', 'build.py')
    if not os.path.isfile(build):
        pytest.skip('the Nomad test double is not available (no tests/nomad_double/build.py)')
    out = os.path.join(workdir, 'nomad')
    proc = subprocess.run([sys.executable, build, out] + (['--version', version] if version else []),
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not os.path.isfile(out):
        pytest.fail('building the test double failed (%d): %s%s' % (proc.returncode, proc.stdout, proc.stderr))
    return out


AGENT_HCL = '''name       = "{name}"
region     = "global"
datacenter = "{dc}"
data_dir   = "{data_dir}"
bind_addr  = "127.0.0.1"
log_level  = "INFO"
disable_update_check = true

ports {{
  http = {http}
  rpc  = {rpc}
  serf = {serf}
}}

advertise {{
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}}

server {{
  enabled          = true
  bootstrap_expect = {expect}
  server_join {{
    retry_join = [{join}]
  }}
}}

client {{
  enabled           = true
  servers           = [{servers}]
  network_interface = "lo"
}}

plugin "raw_exec" {{
  config {{
    enabled = true
  }}
}}
'''


def agent_release(address):
    """(major, minor) of the agent's release, as /v1/agent/self reports it."""
    version = http_get(address, '/v1/agent/self')['config']['Version']['Version']
    return tuple(int(x) for x in version.split('.')[:2])


def http_get(address, path, timeout=5):
    """An independent reader: plain urllib, not the collection's client."""
    with urllib.request.urlopen(address + path, timeout=timeout) as resp:
        return json.loads(resp.read().decode('utf-8'))


def http_delete(address, path, timeout=5):
    req = urllib.request.Request(address + path, method='DELETE')
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read().decode('utf-8'))


class Cluster(object):
    def __init__(self, binary, workdir, size=1, env=None):
        self.binary = binary
        self.env = dict(os.environ, **(env or {}))
        self.workdir = str(workdir)
        self.size = size
        self.procs = []
        self.agents = []
        self.report = None
        ports = free_ports(3 * size)
        for i in range(size):
            http, rpc, serf = ports[3 * i:3 * i + 3]
            self.agents.append(dict(name='it%d' % (i + 1), http=http, rpc=rpc, serf=serf))
        self.address = 'http://127.0.0.1:%d' % self.agents[0]['http']

    def start(self, timeout=90):
        # The last resort when neither a fixture's teardown nor a finally runs.
        atexit.register(self.stop)
        try:
            self._spawn()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self):
        join = ', '.join('"127.0.0.1:%d"' % a['serf'] for a in self.agents)
        servers = ', '.join('"127.0.0.1:%d"' % a['rpc'] for a in self.agents)
        for a in self.agents:
            adir = os.path.join(self.workdir, a['name'])
            os.makedirs(os.path.join(adir, 'data'), exist_ok=True)
            cfg = os.path.join(adir, 'agent.hcl')
            with open(cfg, 'w') as f:
                f.write(AGENT_HCL.format(name=a['name'], dc=DATACENTER, data_dir=os.path.join(adir, 'data'),
                                         http=a['http'], rpc=a['rpc'], serf=a['serf'], expect=self.size,
                                         join=join, servers=servers))
            with open(os.path.join(adir, 'agent.log'), 'wb') as log:
                self.procs.append(subprocess.Popen([self.binary, 'agent', '-config', cfg], stdout=log,
                                                   stderr=subprocess.STDOUT, cwd=adir, env=self.env,
                                                   start_new_session=True))

    def log_tail(self):
        out = []
        for a in self.agents:
            try:
                with open(os.path.join(self.workdir, a['name'], 'agent.log'), 'rb') as f:
                    out.append('--- %s ---\n%s' % (a['name'], f.read()[-3000:].decode('utf-8', 'replace')))
            except OSError:
                pass
        return '\n'.join(out)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    self.stop()
                    pytest.fail('a Nomad agent exited with %s:\n%s' % (p.returncode, self.log_tail()))
            try:
                leader = http_get(self.address, '/v1/status/leader')
                nodes = http_get(self.address, '/v1/nodes')
                ready = [n for n in nodes if n.get('Status') == 'ready']
                if leader and len(ready) >= self.size:
                    return
                last = 'leader %r, %d ready nodes' % (leader, len(ready))
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = str(e)
            time.sleep(0.25)
        self.stop()
        pytest.fail('the Nomad agents were not ready after %ss (%s):\n%s' % (timeout, last, self.log_tail()))

    def purge_all(self):
        try:
            for job in http_get(self.address, '/v1/jobs'):
                http_delete(self.address, '/v1/job/%s?purge=true' % job['ID'])
        except (urllib.error.URLError, OSError, ValueError):
            pass

    def stop(self):
        """Stop the agents and everything they started (see tests/support/agent_teardown.py);
        keep each agent's config and log, remove its data_dir. Safe to call twice."""
        atexit.unregister(self.stop)
        if not self.procs:
            return self.report
        procs, self.procs = self.procs, []
        addresses = ['http://127.0.0.1:%d' % a['http'] for a in self.agents]
        data_dirs = [os.path.join(self.workdir, a['name'], 'data') for a in self.agents]
        self.report = teardown(self.workdir, procs=procs, addresses=addresses, remove=data_dirs)
        forced = self.report.forced()
        if forced:
            sys.stderr.write('nomad agents in %s left behind (now cleaned up):\n  %s\n'
                             % (self.workdir, '\n  '.join(forced)))
        return self.report


def ansible(module, args, check=False, diff=False, env=None, cwd=ROOT, timeout=600):
    """Run one module ad-hoc on localhost through the real CLI, from the repo
    root; return (rc, result of the host)."""
    cmd = [ANSIBLE, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', module, '-a', json.dumps(args),
           '-e', 'ansible_python_interpreter=%s' % sys.executable]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    full_env = dict(os.environ)
    full_env.update(
        ANSIBLE_STDOUT_CALLBACK='json',
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_NOCOLOR='1',
    )
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        data = json.loads(proc.stdout[proc.stdout.index('{'):])
        result = data['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        raise AssertionError('could not read ansible output (rc %d):\n%s\n%s'
                             % (proc.returncode, proc.stdout, proc.stderr))
    return proc.returncode, result
