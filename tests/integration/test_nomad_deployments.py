# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_job following deployments, and nomad_deployment, through the real
``ansible`` CLI against an agent on 127.0.0.1: the test double by default (its
deployments follow tests/recordings/nomad-*/deployments.json), a real Nomad
when NOMAD_TEST_BINARY names one (0.9.1, 1.1.0 and 1.6.5 were run).

The job (files/deploy.nomad) is healthy when its task has run for a second;
a version whose task exits at once is never healthy, and with
progress_deadline = 0 its deployment fails on the first unhealthy
allocation, so auto_revert rolls it back.
"""

import os
import re

import pytest

from tests.integration.nomad_agents import ANSIBLE, ROOT, Cluster, agent_release, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

JOB_ID = 'it-deploy'
with open(os.path.join(ROOT, 'tests', 'integration', 'files', 'deploy.nomad')) as _f:
    JOB_TEXT = _f.read()


def variant(version, command='sleep 600', canary=0, min_healthy='1s'):
    text = JOB_TEXT.replace('VERSION = "1"', 'VERSION = "%s"' % version)
    text = text.replace('"sleep 600"', '"%s"' % command)
    text = text.replace('canary            = 0', 'canary            = %d' % canary)
    if min_healthy != '1s':
        # Nomad refuses a min_healthy_time that is not below healthy_deadline.
        text = text.replace('healthy_deadline  = "30s"', 'healthy_deadline  = "5m"')
    return text.replace('min_healthy_time  = "1s"', 'min_healthy_time  = "%s"' % min_healthy)


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('deploy')
    c = Cluster(nomad_binary(str(work)), work, size=1).start()
    yield c
    c.purge_all()
    c.stop()


def run(cluster, text, check=False, **extra):
    args = dict(content=text, source_name='deploy.nomad', address=cluster.address, wait_timeout=60,
                deployment_timeout=90)
    args.update(extra)
    return ansible('nomadops.nomad.nomad_job', args, check=check)


def deployment(cluster, check=False, diff=False, **extra):
    args = dict(address=cluster.address)
    if 'id' not in extra:
        args['job'] = JOB_ID
    args.update(extra)
    return ansible('nomadops.nomad.nomad_deployment', args, check=check, diff=diff)


def stored(cluster):
    return http_get(cluster.address, '/v1/job/%s' % JOB_ID)


def env_version(job):
    return job['TaskGroups'][0]['Tasks'][0]['Env']['VERSION']


def live_allocations(cluster):
    return [a for a in http_get(cluster.address, '/v1/job/%s/allocations' % JOB_ID) if a['DesiredStatus'] == 'run']


def test_a_version_that_never_turns_healthy_fails_naming_the_status_and_the_version_brought_back(cluster):
    rc, res = run(cluster, variant(1))
    assert rc == 0, res
    assert res['deployment_status'] == 'successful', res
    assert res['deployment_description'] == 'Deployment completed successfully'
    assert res['deployment_groups']['web']['healthy'] == 2 and res['deployment_groups']['web']['desired'] == 2

    broken = variant(2, command='exit 1')
    rc, res = run(cluster, broken, check=True)
    assert rc == 0 and res['changed'] is True and res['deployment_id'] is None, res
    assert stored(cluster)['Version'] == 0

    rc, res = run(cluster, broken)
    assert rc != 0, res
    assert res['deployment_status'] == 'failed'
    assert 'Failed due to unhealthy allocations - rolling back to job version 0' in res['msg'], res['msg']
    assert 'auto-revert brought back version 0, which now runs as version 2' in res['msg'], res['msg']
    assert res['reverted_to_version'] == 0 and res['version'] == 2
    assert res['deployment_groups']['web']['unhealthy'] >= 1
    # An independent reader: the job is version 2 with version 0's task.
    job = stored(cluster)
    assert job['Version'] == 2 and env_version(job) == '1'


def test_canaries_promoted_by_the_task_end_with_the_new_version_everywhere(cluster):
    rc, res = run(cluster, variant(3, canary=1), promote=True)
    assert rc == 0, res
    assert res['deployment_status'] == 'successful', res
    assert res['promoted_groups'] == ['web']
    group = res['deployment_groups']['web']
    assert group['desired_canaries'] == 1 and len(group['placed_canaries']) == 1 and group['promoted'] is True
    job = stored(cluster)
    assert env_version(job) == '3' and res['version'] == job['Version']
    live = live_allocations(cluster)
    assert len(live) == 2 and {a['JobVersion'] for a in live} == {job['Version']}
    assert {a['ClientStatus'] for a in live} == {'running'}


def test_canaries_left_for_nomad_deployment_to_promote(cluster):
    rc, res = run(cluster, variant(4, canary=1), promote=False)
    assert rc == 0, res
    assert res['deployment_status'] == 'running'
    # 0.9's words; 0.10 added "manual" (recorded from 0.9.1, 1.1.0 and 1.6.5).
    wording = 'requires promotion' if agent_release(cluster.address) < (0, 10) else 'requires manual promotion'
    assert res['deployment_description'] == 'Deployment is running but %s' % wording
    group = res['deployment_groups']['web']
    assert group['promoted'] is False and group['healthy'] >= 1 and len(group['placed_canaries']) == 1
    did = res['deployment_id']
    # Old version still runs beside the canary.
    assert sorted(a['JobVersion'] for a in live_allocations(cluster)) == [res['version'] - 1] * 2 + [res['version']]

    rc, res = deployment(cluster, state='promoted', check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['promoted_groups'] == ['web'], res
    assert res['diff']['after']['TaskGroups']['web']['Promoted'] is True
    assert http_get(cluster.address, '/v1/deployment/%s' % did)['TaskGroups']['web']['Promoted'] is False

    rc, res = deployment(cluster, state='promoted', groups=['nope'])
    assert rc != 0 and "has no task group 'nope' (it has: web)" in res['msg'], res

    rc, res = deployment(cluster, id=did[:8], state='promoted', wait=True, wait_timeout=90)
    assert rc == 0, res
    assert res['changed'] is True and res['deployment_id'] == did and res['deployment_status'] == 'successful'
    live = live_allocations(cluster)
    assert len(live) == 2 and {a['JobVersion'] for a in live} == {stored(cluster)['Version']}

    # Again: promoted already, nothing to send.
    rc, res = deployment(cluster, state='promoted')
    assert rc == 0 and res['changed'] is False, res
    # Ended: Nomad's words, nothing sent.
    for state, verb in (('paused', 'pause'), ('failed', 'fail'), ('running', 'resume')):
        rc, res = deployment(cluster, state=state)
        assert rc != 0 and "can't %s terminal deployment" % verb in res['msg'], res


def test_pause_resume_and_fail_by_hand(cluster):
    before = stored(cluster)['Version']
    rc, res = run(cluster, variant(5, min_healthy='60s'), wait_for_deployment=False)
    assert rc == 0 and res['deployment_id'] is None, res

    rc, res = deployment(cluster, state='promoted')
    assert rc != 0 and 'no canaries to promote' in res['msg'], res

    rc, res = deployment(cluster, state='paused')
    assert rc == 0 and res['changed'] is True and res['deployment_status'] == 'paused', res
    assert res['deployment_description'] == 'Deployment is paused'
    rc, res = deployment(cluster, state='paused')
    assert rc == 0 and res['changed'] is False, res
    rc, res = deployment(cluster, state='running')
    assert rc == 0 and res['changed'] is True and res['deployment_status'] == 'running', res

    rc, res = deployment(cluster, state='failed', check=True)
    assert rc == 0 and res['changed'] is True and res['deployment_status'] == 'running'
    rc, res = deployment(cluster, state='failed')
    assert rc == 0 and res['changed'] is True, res
    assert res['deployment_status'] == 'failed'
    # Which stable version Nomad takes is its own choice (1.1.0 and 1.6.5 take the
    # latest, 0.9.1 one older); the task must name the one it took.
    found = re.match(r'^Deployment marked as failed - rolling back to job version (\d+)$', res['deployment_description'])
    assert found and res['reverted_to_version'] == int(found.group(1)) < before + 1, res
    versions = http_get(cluster.address, '/v1/job/%s/versions' % JOB_ID)['Versions']
    back = next(v for v in versions if v['Version'] == res['reverted_to_version'])
    job = stored(cluster)
    assert job['Version'] == before + 2 and env_version(job) == env_version(back) != '5'
