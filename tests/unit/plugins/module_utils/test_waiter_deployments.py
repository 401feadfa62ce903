# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""waiter: following deployments, replayed from what real Nomad 0.9.1, 1.1.0 and
1.6.5 answered (tests/recordings/nomad-*/deployments.json, made by
tests/real/record_deployments.py)."""

import json
import os

import pytest

from nomad_replay import ReplayServer, exchange

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadClient
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import (
    DeploymentFailed,
    WaitTimeout,
    awaiting_promotion,
    deployment_groups,
    find_deployment,
    reverted_version,
    wait_for_deployment,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
RELEASES = ('0.9.1', '1.1.0', '1.6.5')


def recorded(release, name):
    with open(os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % release, 'deployments.json')) as f:
        for e in json.load(f)['exchanges']:
            if e['name'] == name:
                return e['response']
    raise KeyError(name)


def serve(path, *bodies):
    return [exchange('GET', path, body=b, index=10 + i) for i, b in enumerate(bodies)]


@pytest.mark.parametrize('release', RELEASES)
def test_auto_revert_is_named_with_the_version_now_running(release):
    failed = recorded(release, 'v1 deployment ended')
    job = recorded(release, 'job after auto-revert')
    running = dict(failed, Status='running', StatusDescription='Deployment is running')
    did = failed['ID']
    script = serve('/v1/deployment/%s' % did, running, failed) + serve('/v1/job/it-deploy', job)
    with ReplayServer(script) as srv:
        with pytest.raises(DeploymentFailed) as caught:
            wait_for_deployment(NomadClient(srv.address), did, timeout=10)
    e = caught.value
    assert e.reverted_to == 0 and e.running_version == job['Version'] == 2
    assert 'ended with status "failed": Failed due to unhealthy allocations - rolling back to job version 0' in str(e)
    assert 'auto-revert brought back version 0, which now runs as version 2' in str(e)
    assert 'group "web": 0 of 2 healthy, 1 unhealthy' in str(e)


@pytest.mark.parametrize('release', RELEASES)
def test_a_deployment_failed_by_hand_names_its_rollback(release):
    assert reverted_version(recorded(release, 'failed by hand')) == 2
    assert reverted_version(recorded(release, 'paused deployment')) is None


@pytest.mark.parametrize('release', RELEASES)
def test_healthy_canaries_end_the_wait_without_promote(release):
    waiting = recorded(release, 'canary healthy, waiting for promotion')
    assert awaiting_promotion(waiting) == ['web']
    did = waiting['ID']
    with ReplayServer(serve('/v1/deployment/%s' % did, waiting)) as srv:
        deployment, promoted = wait_for_deployment(NomadClient(srv.address), did, timeout=10, promote=False)
        assert srv.calls('PUT', '/v1/deployment/promote/%s' % did) == []
    wording = 'requires promotion' if release == '0.9.1' else 'requires manual promotion'
    assert promoted == [] and deployment['StatusDescription'] == 'Deployment is running but %s' % wording
    group = deployment_groups(deployment)['web']
    assert group['desired_canaries'] == 1 and group['healthy'] == 1 and group['promoted'] is False


@pytest.mark.parametrize('release', RELEASES)
def test_promote_promotes_once_and_follows_to_the_end(release):
    waiting = recorded(release, 'canary healthy, waiting for promotion')
    ended = recorded(release, 'promoted deployment ended')
    did = waiting['ID']
    promoted_running = dict(waiting, TaskGroups={'web': dict(waiting['TaskGroups']['web'], Promoted=True)},
                            StatusDescription='Deployment is running')
    script = serve('/v1/deployment/%s' % did, waiting, promoted_running, ended)
    script.append(exchange('PUT', '/v1/deployment/promote/%s' % did, body=recorded(release, 'promote'), index=20))
    with ReplayServer(script) as srv:
        deployment, promoted = wait_for_deployment(NomadClient(srv.address), did, timeout=10, promote=True)
        calls = srv.calls('PUT', '/v1/deployment/promote/%s' % did)
    assert promoted == ['web'] and deployment['Status'] == 'successful'
    assert len(calls) == 1 and calls[0]['body'] == {'DeploymentID': did, 'All': True}


def test_a_deployment_that_does_not_end_times_out_with_its_state():
    paused = recorded('1.1.0', 'paused deployment')
    did = paused['ID']
    with ReplayServer(serve('/v1/deployment/%s' % did, paused)) as srv:
        with pytest.raises(WaitTimeout) as caught:
            wait_for_deployment(NomadClient(srv.address), did, timeout=0.5)
    assert 'status "paused": Deployment is paused' in str(caught.value)
    assert caught.value.state['Status'] == 'paused'


@pytest.mark.parametrize('release', RELEASES)
def test_the_deployment_of_the_registered_version_not_the_revert_that_followed(release):
    listed = recorded(release, 'deployments after auto-revert')
    registered = recorded(release, 'register v1 (never healthy)')['JobModifyIndex']
    with ReplayServer(serve('/v1/job/it-deploy/deployments', listed)) as srv:
        found = find_deployment(NomadClient(srv.address), 'it-deploy', registered, [])
    assert found['JobVersion'] == 1 and found['Status'] == 'failed'
    assert max(listed, key=lambda d: d['CreateIndex'])['JobVersion'] == 2
