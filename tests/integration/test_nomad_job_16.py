# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_job against a Nomad 1.6 agent, which parses HCL2 job files itself:
the test double built as 1.6.5 (it replays what a real 1.6.5 answered, see
tests/real/record_jobs_parse.py), or a real 1.6+ binary named by
NOMAD_TEST_BINARY.

A field 1.6 added (node_pool) is accepted, variables keep the CLI's -var
typing however Ansible hands them over, NOMAD_VAR_* on the controller sets
one, the job is registered with its submission, and a typo is refused in
the agent's words with the file and line, with nothing registered.
"""

import os

import pytest

from tests.integration.nomad_agents import ANSIBLE, Cluster, agent_release, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

JOB_FILE = 'tests/integration/files/sleeper-16.nomad'
JOB_ID = 'it-sleeper-16'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad16')
    c = Cluster(nomad_binary(str(work), version='1.6.5'), work, size=1).start()
    if agent_release(c.address) < (1, 6):
        c.stop()
        pytest.skip('the agent parses job files with their variables from Nomad 1.6; NOMAD_TEST_BINARY is older')
    yield c
    c.purge_all()
    c.stop()


def job_ids(cluster):
    return sorted(j['ID'] for j in http_get(cluster.address, '/v1/jobs'))


def test_check_apply_submission_idempotent(cluster):
    # A string for a number variable, as a templated value arrives.
    args = dict(src=JOB_FILE, address=cluster.address, wait_timeout=60, vars={'count': '3'})
    rc, res = ansible('nomadops.nomad.nomad_job', args, check=True)
    assert rc == 0, res
    assert res['changed'] is True and res['desired_updates']['main']['Place'] == 3
    assert JOB_ID not in job_ids(cluster)

    rc, res = ansible('nomadops.nomad.nomad_job', args)
    assert rc == 0, res
    assert res['changed'] is True and res['version'] == 0
    job = http_get(cluster.address, '/v1/job/%s' % JOB_ID)
    assert job['NodePool'] == 'default' and job['TaskGroups'][0]['Count'] == 3

    submission = http_get(cluster.address, '/v1/job/%s/submission?version=0' % JOB_ID)
    with open(JOB_FILE) as f:
        assert submission['Source'] == f.read()
    assert submission['Format'] == 'hcl2'
    assert submission['VariableFlags'] == {'count': '3'}

    rc, res = ansible('nomadops.nomad.nomad_job', dict(args, vars={'count': 3}))
    assert rc == 0, res
    assert res['changed'] is False and res['version'] == 0


def test_nomad_var_from_the_controllers_environment(cluster):
    args = dict(src=JOB_FILE, address=cluster.address, wait_timeout=60)
    rc, res = ansible('nomadops.nomad.nomad_job', args, check=True, env={'NOMAD_VAR_count': '1'})
    assert rc == 0, res
    # Against the job of the test before (3 running): down to one.
    assert res['changed'] is True and res['desired_updates']['main']['Stop'] == 2


def test_a_typo_is_refused_in_the_agents_words_and_nothing_is_registered(cluster):
    before = job_ids(cluster)
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src='tests/integration/files/sleeper-16-typo.nomad',
                                                       address=cluster.address))
    assert rc != 0
    assert 'sleeper-16-typo.nomad:15,3-13: Unsupported argument' in res['msg'], res['msg']
    assert 'Did you mean "node_pool"?' in res['msg']
    assert job_ids(cluster) == before


def test_a_bad_variable_value_is_refused_before_the_agent_is_asked(cluster):
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=JOB_FILE, address=cluster.address,
                                                       vars={'count': 'three'}))
    assert rc != 0
    assert 'Failed to parse job file' in res['msg'] and 'count' in res['msg']
    assert 'a number is required' in res['msg'], res['msg']
