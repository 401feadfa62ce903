# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' snapshot before an upgrade that migrates state
(roles/nomad_agent/tasks/upgrade_snapshot.yml), run through ansible-playbook
against the test double as 1.1.0 (or a real 0.12+ binary named by
NOMAD_TEST_BINARY): the host facts say which release is installed, as
host.yml reads them."""

import json
import os
import stat
import subprocess
import sys

import pytest

from tests.integration.nomad_agents import ANSIBLE, ROOT, Cluster, agent_release, nomad_binary

PLAYBOOK = os.path.join(os.path.dirname(ANSIBLE), 'ansible-playbook')
pytestmark = pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason='ansible is not installed next to this python')

PLAY = '''- name: The role's upgrade snapshot task
  hosts: nomad_servers
  gather_facts: false
  module_defaults:
    group/nomadops.nomad.nomad:
      address: "{{ agent }}"
  tasks:
    - name: Take the role's task
      ansible.builtin.include_role:
        name: nomadops.nomad.nomad_agent
        tasks_from: upgrade_snapshot
'''


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('upsnap')
    c = Cluster(nomad_binary(str(work), version='1.1.0'), work, size=1).start()
    if agent_release(c.address) < (0, 12):
        c.stop()
        pytest.skip('snapshots came with Nomad 0.12; NOMAD_TEST_BINARY is older')
    yield c
    c.stop()


def converge(cluster, tmp_path, installed, target, snapshot_dir):
    (tmp_path / 'play.yml').write_text(PLAY)
    (tmp_path / 'hosts').write_text('[nomad_servers]\nnomad1 ansible_connection=local ansible_python_interpreter=%s\n'
                                    % sys.executable)
    facts = dict(agent=cluster.address, nomad_version=target, nomad_upgrade_snapshot_dir=snapshot_dir,
                 nomad_agent_host=dict(service=dict(active=True), nomad_version=installed))
    (tmp_path / 'vars.json').write_text(json.dumps(facts))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'hosts'), str(tmp_path / 'play.yml'),
                           '-e', '@%s' % (tmp_path / 'vars.json')], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_a_snapshot_only_before_an_upgrade_across_1_3(cluster, tmp_path):
    dest = tmp_path / 'before-upgrade'
    out = converge(cluster, tmp_path, '1.3.16', '1.4.14', str(dest))
    assert 'skipping' in out and not dest.exists()
    out = converge(cluster, tmp_path, '1.2.16', '1.3.16', '')
    assert 'skipping' in out and not dest.exists()

    converge(cluster, tmp_path, '1.2.16', '1.3.16', str(dest))
    saved = os.listdir(dest)
    assert len(saved) == 1 and saved[0].startswith('nomad-') and saved[0].endswith('.snap'), saved
    assert stat.S_IMODE(os.stat(dest / saved[0]).st_mode) == 0o600
