# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.jobspec import FilterModule, jobspec

JOB = '''job "httpecho" {
  datacenters = ["home"]
  group "web" {
    count = 2
    task "server" {
      driver = "raw_exec"
      kill_timeout = "20s"
    }
  }
}
'''


def test_filter_is_registered_under_its_name():
    assert FilterModule().filters() == {'jobspec': jobspec}


def test_filter_returns_the_api_job():
    job = jobspec(JOB)
    assert job['ID'] == 'httpecho'
    assert job['TaskGroups'][0]['Count'] == 2
    assert job['TaskGroups'][0]['Tasks'][0]['KillTimeout'] == 20 * 10 ** 9


def test_filter_accepts_bytes():
    assert jobspec(JOB.encode('utf-8'))['Datacenters'] == ['home']


def test_filter_error_names_file_block_and_line():
    with pytest.raises(AnsibleFilterError) as caught:
        jobspec('job "x" {\n  group "g" {\n    cont = 1\n  }\n}\n', filename='x.nomad')
    message = str(caught.value)
    assert "group 'g' -> invalid key: cont" in message
    assert 'x.nomad line 3' in message


@pytest.mark.parametrize('value', [None, 42, ['job']])
def test_filter_rejects_non_text(value):
    with pytest.raises(AnsibleFilterError) as caught:
        jobspec(value)
    assert 'expects the text of a job file' in str(caught.value)


def test_filter_works_in_a_play_by_its_fqcn(tmp_path):
    # A real ad-hoc run: the repo's ansible.cfg resolves the FQCN through the
    # committed collections/ symlink.
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
    ansible = os.path.join(os.path.dirname(sys.executable), 'ansible')
    if not os.path.exists(ansible):
        ansible = shutil.which('ansible')
    if not ansible:
        pytest.skip('ansible CLI not installed')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(root, 'ansible.cfg'), ANSIBLE_LOCAL_TEMP=str(tmp_path),
               ANSIBLE_HOME=str(tmp_path), ANSIBLE_NOCOLOR='1')
    msg = "msg={{ (text | nomadops.nomad.jobspec(filename='h.nomad')).TaskGroups[0].Tasks[0].KillTimeout }}"
    run = subprocess.run([ansible, 'localhost', '-c', 'local', '-i', 'localhost,', '-m', 'ansible.builtin.debug',
                          '-a', msg, '-e', json.dumps({'text': JOB})],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"msg": "20000000000"' in run.stdout or '"msg": 20000000000' in run.stdout


HCL2_JOB = '''variable "count" {
  type    = number
  default = 1
}
job "web" {
  datacenters = ["home"]
  group "web" {
    count = var.count
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
'''


def test_hcl2_with_vars_evaluates_the_variables():
    job = jobspec(HCL2_JOB, filename='web.nomad', dialect='hcl2', vars={'count': 4})
    assert job['TaskGroups'][0]['Count'] == 4
    assert jobspec(HCL2_JOB, filename='web.nomad', dialect='hcl2')['TaskGroups'][0]['Count'] == 1


def test_hcl2_file_in_hcl1_and_vars_without_hcl2_are_refused():
    with pytest.raises(AnsibleFilterError, match='web.nomad'):
        jobspec(HCL2_JOB, filename='web.nomad')
    with pytest.raises(AnsibleFilterError, match='vars must be a dict, and are for dialect=hcl2 only'):
        jobspec(HCL2_JOB, filename='web.nomad', vars={'count': 4})
    with pytest.raises(AnsibleFilterError, match='dialect must be hcl1 or hcl2'):
        jobspec(HCL2_JOB, dialect='hcl3')


def test_loading_the_filter_files_imports_no_parser():
    # Ansible loads every filter file in every worker process that templates
    # anything; a parser imported at load time would be paid by every task on
    # every host. Checked in a fresh interpreter: this one has them loaded.
    filters = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter')
    names = sorted(f[:-3] for f in os.listdir(filters) if f.endswith('.py'))
    probe = ('import sys\n'
             'for name in %r:\n'
             '    __import__("ansible_collections.nomadops.nomad.plugins.filter." + name)\n'
             'print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in ("hcl2", "lark")\n'
             '                      or m.endswith((".jobspec_hcl2", ".hcl2_eval", "module_utils.jobspec")))))\n'
             % (names,))
    run = subprocess.run([sys.executable, '-c', probe], env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    assert 'jobspec' in names
    assert run.stdout.decode().strip() == ''
