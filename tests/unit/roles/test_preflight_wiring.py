# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The walk's preflight task, as playbooks/cluster.yml runs it: the shared
checks and those of each part the host takes fail the play together, in one
task, before any module runs on a host. The messages themselves are tested
with the filters (tests/unit/plugins/filter/test_preflight.py)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

pytestmark = pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='ansible-playbook is not next to this python')


def test_every_parts_problems_fail_the_one_preflight_task(tmp_path):
    (tmp_path / 'hosts').write_text('[nomad_servers]\nh1 ansible_connection=local\n[nomad_clients]\nh1\n')
    (tmp_path / 'extra.json').write_text(json.dumps({
        'nomad_version': '1.5.12',
        'nomad_data_dir': 'opt/nomad',                       # shared
        'nomad_bootstrap_expect': 2,                         # server part
        'nomad_node_pool': 'gpu',                            # client part
    }))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'hosts'), 'playbooks/cluster.yml', '--check',
                           '-e', '@%s' % (tmp_path / 'extra.json')],
                          capture_output=True, text=True, check=False, cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_BECOME='false'))
    out = proc.stdout
    assert proc.returncode == 2, out + proc.stderr
    failed = out.split('TASK [')[-1]   # the last task that ran
    assert failed.startswith("nomadops.nomad.nomad_agent : Check the inventory, the paths, the security settings")
    for words in ('nomad_data_dir, nomad_config_dir and nomad_bin_dir must be absolute paths',
                  'nomad_bootstrap_expect is 2 but nomad_servers has 1 host(s)',
                  'nomad_node_pool is set (gpu) but nomad_version is 1.5.12'):
        assert words in failed
