# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``BINARY agent -dev`` for the recording scripts beside this file: on
127.0.0.1 only, on ports of its own, and stopped with all it started.

    with DevAgent(binary, config='name = "rec1"\\n') as agent:
        status, headers, body = call(agent.address, 'GET', '/v1/nodes')

``config`` is agent configuration added to the ports block; ``ports`` is
(http, rpc, serf), free ones below the ephemeral range when not given. The
agent runs in a scratch directory (its log there) and in a session of its
own, so that stopping it reaches the tasks it ran too; entering the ``with``
returns once it is its own leader. Failing to start says why, with the end
of its log, since the directory goes with the agent.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from tests.support.ports import free_ports

PORTS = '''ports {{
  http = {http}
  rpc  = {rpc}
  serf = {serf}
}}
'''


def call(address, method, path, body=None, token=None):
    """(status, headers, body) of one request; the body decoded from JSON
    where it is JSON. The Date header is dropped: it only says when."""
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(address + path, data=data, method=method)
    if data is not None:
        req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Nomad-Token', token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, headers, raw = resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, dict(e.headers.items()), e.read()
    text = raw.decode('utf-8')
    try:
        payload = json.loads(text) if text else text
    except ValueError:
        payload = text
    headers = dict((k, v) for k, v in headers.items() if k.lower() not in ('date',))
    return status, headers, payload


class DevAgent(object):
    def __init__(self, binary, config='', ports=None, timeout=90):
        self.binary = os.path.abspath(binary)
        self.config = config
        self.ports = ports
        self.timeout = timeout
        self.workdir = self.proc = self.address = self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        http, rpc, serf = self.ports or free_ports(3)
        self.address = 'http://127.0.0.1:%d' % http
        self.workdir = tempfile.mkdtemp(prefix='nomad-dev-')
        config = os.path.join(self.workdir, 'agent.hcl')
        with open(config, 'w') as f:
            f.write(PORTS.format(http=http, rpc=rpc, serf=serf) + self.config)
        self._log = open(os.path.join(self.workdir, 'agent.log'), 'wb')
        self.proc = subprocess.Popen([self.binary, 'agent', '-dev', '-bind', '127.0.0.1', '-network-interface', 'lo',
                                      '-config', config],
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     start_new_session=True)
        try:
            self.wait_until(self._leader, 'elect itself leader')
        except BaseException:
            self.stop()
            raise
        return self

    def _leader(self):
        # Before there is one, the answer is a 500 saying so.
        status, dummy, leader = call(self.address, 'GET', '/v1/status/leader')
        return status == 200 and leader

    def wait_until(self, check, what):
        """What ``check()`` returns once it is true; a refused connection
        counts as not yet."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit('the agent exited with %s while waiting for it to %s:\n%s'
                                 % (self.proc.returncode, what, self.log_tail()))
            try:
                result = check()
            except (urllib.error.URLError, OSError):
                result = None
            if result:
                return result
            time.sleep(0.5)
        raise SystemExit('the agent did not %s within %ds:\n%s' % (what, self.timeout, self.log_tail()))

    def log_tail(self, lines=30):
        self._log.flush()
        with open(self._log.name, 'rb') as f:
            return b''.join(f.readlines()[-lines:]).decode('utf-8', 'replace')

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not None:
            self._log.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
