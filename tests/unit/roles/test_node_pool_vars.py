# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_node_pool (client) and nomad_node_pools (server) as the roles'
variables render them: client.hcl's client block and the problems preflight
fails on."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

PLAY = '''- hosts: h1
  gather_facts: false
  vars_files:
    - {root}/roles/nomad_agent/defaults/main.yml
    - {root}/roles/nomad_client/defaults/main.yml
    - {root}/roles/nomad_client/vars/main.yml
    - {root}/roles/nomad_server/defaults/main.yml
    - {root}/roles/nomad_server/vars/main.yml
  vars:
    nomad_agent_interface: eth0
  tasks:
    - name: Show them
      ansible.builtin.copy:
        dest: "{{{{ out }}}}"
        content: "{{{{ {{'client': nomad_client_problems, 'server': nomad_server_problems,
                        'hcl': nomad_client_settings}} | to_json }}}}"
        mode: "0600"
      delegate_to: localhost
'''

pytestmark = pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='ansible-playbook is not next to this python')


def render(tmp_path, **extra):
    (tmp_path / 'play.yml').write_text(PLAY.format(root=ROOT))
    (tmp_path / 'hosts').write_text('[nomad_servers]\nh1 ansible_connection=local nomad_agent_address=10.0.0.1\n'
                                    '[nomad_clients]\nh1\n')
    out = tmp_path / 'out.json'
    extra.setdefault('nomad_version', '1.6.5')
    extra['out'] = str(out)
    (tmp_path / 'extra.json').write_text(json.dumps(extra))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'hosts'), str(tmp_path / 'play.yml'),
                           '-e', '@%s' % (tmp_path / 'extra.json')],
                          capture_output=True, text=True, check=False, cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_no_pool_writes_nothing_and_raises_nothing(tmp_path):
    got = render(tmp_path, nomad_version='0.9.1')
    assert 'node_pool' not in got['hcl']['client']
    assert got['client'] == [] and got['server'] == []


def test_a_pool_is_written_into_the_client_block(tmp_path):
    got = render(tmp_path, nomad_node_pool='gpu', nomad_node_pools=[{'name': 'gpu', 'description': 'GPUs'}])
    assert got['hcl']['client']['node_pool'] == 'gpu'
    assert got['hcl']['client']['enabled'] is True
    assert got['client'] == [] and got['server'] == []


def test_before_1_6_both_are_refused_naming_the_variable_and_the_release(tmp_path):
    got = render(tmp_path, nomad_version='1.5.12', nomad_node_pool='gpu', nomad_node_pools=[{'name': 'gpu'}])
    assert got['client'] == ['nomad_node_pool is set (gpu) but nomad_version is 1.5.12: node pools, and '
                             'client { node_pool }, need Nomad 1.6 or newer (an older agent does not know the key).']
    assert got['server'] == ['nomad_node_pools is set but nomad_version is 1.5.12: node pools need Nomad 1.6 '
                             'or newer.']


def test_bad_names_shapes_and_built_in_pools_are_refused(tmp_path):
    got = render(tmp_path, nomad_node_pool='bad pool', nomad_node_pools=[{'name': 'all'}, {'description': 'x'}])
    assert got['client'] == ['nomad_node_pool must be a node pool name, 1 to 128 of a-z, A-Z, 0-9, - and _; '
                             'got bad pool.']
    assert got['server'] == ['nomad_node_pools must be a list of {name, description, meta}, each with a name.',
                             'nomad_node_pools names the built-in pool(s) all, which Nomad does not let anyone '
                             'modify; leave them out.']
