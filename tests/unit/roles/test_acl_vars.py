# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_acl_* role variables as preflight judges them, before anything changes."""

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
    - {root}/roles/nomad_agent/vars/main.yml
    - {root}/roles/nomad_client/defaults/main.yml
    - {root}/roles/nomad_client/vars/main.yml
    - {root}/roles/nomad_server/defaults/main.yml
    - {root}/roles/nomad_server/vars/main.yml
  vars:
    nomad_agent_interface: eth0
  tasks:
    - ansible.builtin.import_tasks: {root}/roles/nomad_agent/tasks/preflight.yml
'''

pytestmark = pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='ansible-playbook is not next to this python')


def preflight(tmp_path, **extra):
    (tmp_path / 'play.yml').write_text(PLAY.format(root=ROOT))
    (tmp_path / 'hosts').write_text('[nomad_servers]\nh1 ansible_connection=local\n[nomad_clients]\nh1\n')
    (tmp_path / 'extra.json').write_text(json.dumps(extra))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'hosts'), str(tmp_path / 'play.yml'),
                           '-e', '@%s' % (tmp_path / 'extra.json')],
                          capture_output=True, text=True, check=False, cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_NOCOLOR='1'))
    return proc.returncode, ' '.join((proc.stdout + proc.stderr).split())


def test_good_acl_variables_pass(tmp_path):
    rc, out = preflight(tmp_path, nomad_acl_enabled=True, nomad_version='1.6.5',
                        nomad_acl_bootstrap_secret='2b778dd9-f5f1-6f29-b4b4-9a5fa948757a',
                        nomad_acl_policies=[{'name': 'web-submit', 'rules': 'namespace "web" {}'}],
                        nomad_acl_roles=[{'name': 'deployers', 'policies': ['web-submit']}],
                        nomad_acl_tokens=[{'name': 'ci', 'roles': ['deployers']}])
    assert rc == 0, out


def test_each_problem_is_named_and_no_secret_shown(tmp_path):
    secret = 'not-a-uuid-but-a-secret-all-the-same'
    rc, out = preflight(tmp_path, nomad_acl_bootstrap_secret=secret,
                        nomad_acl_policies=[{'rules': 'x'}, {'name': 'a'}],
                        nomad_acl_roles=[{'name': 'r', 'policies': ['a']}])
    assert rc != 0
    for words in ('need nomad_acl_enabled: true.',
                  'nomad_acl_bootstrap_secret and nomad_acl_roles need Nomad 1.4 or newer; nomad_version is 0.9.1.',
                  'nomad_acl_bootstrap_secret must be a UUID',
                  'nomad_acl_policies[0] has no name.',
                  'nomad_acl_policies[1] (a) needs one of rules, rules_src.'):
        assert words in out, out
    assert secret not in out
