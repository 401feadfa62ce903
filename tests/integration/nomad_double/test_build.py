# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""build.py makes one executable file that works without the source tree."""

import os
import stat
import subprocess
import sys

import pytest

from double_harness import ROOT, Agent, free_ports, hcl_config, leader_of, wait_until


@pytest.mark.skipif(bool(os.environ.get('NOMAD_TEST_BINARY')), reason='tests a real Nomad binary, not the double')
def test_built_zipapp_runs_standalone(tmp_path):
    out = str(tmp_path / 'nomad')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), out], check=True,
                   capture_output=True)
    with open(out, 'rb') as f:
        assert f.readline() == b'#!/usr/bin/env python3\n'
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o755
    # Run from an empty directory with a clean environment: nothing of the checkout is reachable.
    env = {'PATH': os.environ['PATH']}
    res = subprocess.run([out, 'version'], cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert (res.returncode, res.stdout) == (0, 'Nomad v0.9.1 (23c4597dbb6d1d46e020301b0f63db5cff80d3f0)\n')
    a = Agent('z', str(tmp_path), free_ports(3))
    a.write(hcl_config(a, '  enabled = true\n  bootstrap_expect = 1',
                       '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"' % a.rpc))
    # A config directory with an HCL and a JSON file, as /etc/nomad.d holds.
    confdir = tmp_path / 'nomad.d'
    confdir.mkdir()
    os.rename(a.config_path, str(confdir / 'nomad.hcl'))
    (confdir / 'extra.json').write_text('{"log_level": "DEBUG"}')
    proc = subprocess.Popen([out, 'agent', '-config', str(confdir)], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: leader_of(a), 20, what='leader') == '127.0.0.1:%d' % a.rpc
        st, _h, me = a.get('/v1/agent/self')
        assert me['config']['LogLevel'] == 'DEBUG'
        assert [os.path.basename(f) for f in me['config']['Files']] == ['extra.json', 'nomad.hcl']
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.returncode == 1


@pytest.mark.skipif(bool(os.environ.get('NOMAD_TEST_BINARY')), reason='tests a real Nomad binary, not the double')
def test_built_version_override_for_upgrade_tests(tmp_path):
    out = str(tmp_path / 'nomad')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), out, '--version', '0.9.0'],
                   check=True, capture_output=True)
    res = subprocess.run([out, 'version'], capture_output=True, text=True, check=False)
    assert res.stdout == 'Nomad v0.9.0 (0000000000000000000000000000000000000000)\n'
    a = Agent('old', str(tmp_path), free_ports(3))
    a.write(hcl_config(a, '  enabled = true\n  bootstrap_expect = 1',
                       '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"' % a.rpc))
    proc = subprocess.Popen([out, 'agent', '-config', a.config_path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: leader_of(a), 20, what='leader')
        st, _h, me = a.get('/v1/agent/self')
        assert me['config']['Version']['Version'] == '0.9.0' and me['member']['Tags']['build'] == '0.9.0'
        nodes = wait_until(lambda: a.get('/v1/nodes')[2], 20, what='node')
        assert nodes[0]['Version'] == '0.9.0'
    finally:
        proc.terminate()
        proc.wait(15)
