# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""waiter: evaluation chains, allocations and placement failures, replayed
from responses a real Nomad 0.9.1 gave."""

import copy
import os
import re

import pytest

from nomad_replay import ReplayServer, exchange, fixture, recorded, shared_dir, with_path

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadClient
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import (
    AllocationFailed,
    EvaluationFailed,
    PlacementFailure,
    WaitTimeout,
    explain_placement,
    wait_for_job,
)


def _eval_allocs_from_job_allocs(job_allocs_ex, eval_id):
    body = [a for a in job_allocs_ex['response']['body'] if a['EvalID'] == eval_id]
    return exchange('GET', '/v1/evaluation/%s/allocations' % eval_id, body=body, index=30)


def _cli_stdout(name):
    path = os.path.join(shared_dir(), 'transcripts', 'cli', name)
    if not os.path.isfile(path):
        pytest.fail('recorded CLI transcripts missing from tests/recordings')
    with open(path) as f:
        text = f.read()
    out = text.split('# ---- stdout ----\n', 1)[1].split('# ---- stderr ----', 1)[0]
    return out.rstrip('\n').splitlines()


# -- always available: our own small fixtures ------------------------------

def test_pending_then_complete_uses_a_blocking_query():
    pending = fixture('eval-pending')
    eval_id = pending['response']['body']['ID']
    complete = copy.deepcopy(pending)
    complete['response']['body']['Status'] = 'complete'
    complete['response']['headers']['X-Nomad-Index'] = '29'
    allocs = with_path(fixture('eval-allocations'), '/v1/evaluation/%s/allocations' % eval_id)
    for a in allocs['response']['body']:
        a['EvalID'] = eval_id
    job_allocs = exchange('GET', '/v1/job/httpecho/allocations', body=allocs['response']['body'], index=31)
    nodes = fixture('nodes')
    with ReplayServer([pending, complete, allocs, job_allocs, nodes]) as srv:
        result = wait_for_job(NomadClient(srv.address), 'httpecho', eval_id, timeout=10)
        evals = srv.calls('GET', '/v1/evaluation/%s' % eval_id)
    assert len(evals) == 2
    assert 'index' not in evals[0]['query']
    assert evals[1]['query']['index'] == pending['response']['headers']['X-Nomad-Index']
    assert evals[1]['query']['wait'].endswith(('s', 'ms'))
    assert result['evaluations'] == [eval_id]
    assert result['placement_failures'] == {}
    assert sorted(a['id'] for a in result['allocations']) == sorted(a['ID'] for a in allocs['response']['body'])
    assert all(a['client_status'] == 'running' for a in result['allocations'])
    names = dict((n['ID'], n['Name']) for n in nodes['response']['body'])
    assert all(a['node_name'] == names[a['node_id']] for a in result['allocations'])


def test_next_eval_chain_is_followed():
    first = fixture('eval-complete')
    second = copy.deepcopy(first)
    second_id = '11111111-2222-3333-4444-555555555555'
    second['response']['body'].update(ID=second_id, PreviousEval=first['response']['body']['ID'])
    second['request']['path'] = '/v1/evaluation/' + second_id
    first = copy.deepcopy(first)
    first['response']['body']['NextEval'] = second_id
    fid = first['response']['body']['ID']
    exs = [first, second,
           exchange('GET', '/v1/evaluation/%s/allocations' % fid, body=[], index=5),
           exchange('GET', '/v1/evaluation/%s/allocations' % second_id, body=[], index=5)]
    with ReplayServer(exs) as srv:
        result = wait_for_job(NomadClient(srv.address), 'httpecho', fid, timeout=5)
    assert result['evaluations'] == [fid, second_id]


def test_eval_that_never_finishes_times_out_naming_it():
    pending = fixture('eval-pending')
    eval_id = pending['response']['body']['ID']
    with ReplayServer([pending]) as srv:
        with pytest.raises(WaitTimeout) as err:
            wait_for_job(NomadClient(srv.address), 'httpecho', eval_id, timeout=0.4)
        # The replay server does not block; the waiter must pause, not spin.
        assert len(srv.requests) < 30
    assert eval_id in str(err.value) and 'pending' in str(err.value)


def test_failed_evaluation_raises():
    ev = copy.deepcopy(fixture('eval-complete'))
    ev['response']['body'].update(Status='failed', StatusDescription='maximum attempts reached (5)')
    with ReplayServer([ev]) as srv:
        with pytest.raises(EvaluationFailed) as err:
            wait_for_job(NomadClient(srv.address), 'httpecho', ev['response']['body']['ID'], timeout=5)
    assert 'maximum attempts reached' in str(err.value)


def test_fixture_unplaceable_explained():
    ev = fixture('eval-unplaceable')['response']['body']
    text = explain_placement(ev)
    assert text.splitlines()[1:] == [
        '    Task Group "web" (failed to place 1 allocation):',
        '      * Constraint "${attr.nonexistent.attribute} = yes" filtered 3 nodes',
        '    Evaluation "%s" waiting for additional capacity to place remainder' % ev['BlockedEval'][:8],
    ]


# -- recorded transcripts ---------------------------------------------------

def test_recorded_register_eval_to_running_allocations():
    ev = recorded('029-evaluation-complete')
    eval_id = ev['response']['body']['ID']
    exs = [ev, recorded('030-evaluation-allocations'), recorded('032-job-allocations'), recorded('005-nodes')]
    with ReplayServer(exs) as srv:
        result = wait_for_job(NomadClient(srv.address), 'httpecho', eval_id, timeout=10)
    assert result['status'] == 'complete'
    assert len(result['allocations']) == 2
    assert {a['client_status'] for a in result['allocations']} == {'running'}
    assert all(a['node_name'] and a['node_name'].startswith('nomad') for a in result['allocations'])
    assert {a['task_group'] for a in result['allocations']} == {'web'}


def test_recorded_pending_then_complete():
    pending, complete = recorded('046-evaluation-pending'), recorded('047-evaluation-complete-count3')
    eval_id = pending['response']['body']['ID']
    exs = [pending, complete, exchange('GET', '/v1/evaluation/%s/allocations' % eval_id, body=[], index=30)]
    with ReplayServer(exs) as srv:
        result = wait_for_job(NomadClient(srv.address), 'httpecho', eval_id, timeout=10)
        second = srv.calls('GET', '/v1/evaluation/' + eval_id)[1]
    assert second['query']['index'] == pending['response']['headers']['X-Nomad-Index']
    assert result['status'] == 'complete'


def _cli_placement_lines(cli_name, ev):
    """The CLI's placement explanation with its own run's eval IDs swapped for the API run's."""
    lines = _cli_stdout(cli_name)
    start = next(i for i, line in enumerate(lines) if 'failed to place all allocations' in line)
    expected = lines[start:]
    ids = re.findall(r'Evaluation "([0-9a-f]{8})"', '\n'.join(expected))
    text = '\n'.join(expected).replace('==> ', '')
    text = text.replace(ids[0], ev['ID'][:8]).replace(ids[-1], ev['BlockedEval'][:8])
    return text


@pytest.mark.parametrize('eval_name, cli_name', [
    ('051-evaluation-unplaceable', '18-job-run-unplaceable.txt'),
    ('058-evaluation-nowhere', '19-job-run-nowhere.txt'),
])
def test_recorded_placement_failure_reads_like_the_cli(eval_name, cli_name):
    ex = recorded(eval_name)
    ev = ex['response']['body']
    exs = [ex, exchange('GET', '/v1/evaluation/%s/allocations' % ev['ID'], body=[], index=37)]
    with ReplayServer(exs) as srv:
        with pytest.raises(PlacementFailure) as err:
            wait_for_job(NomadClient(srv.address), ev['JobID'], ev['ID'], timeout=10)
    assert str(err.value) == _cli_placement_lines(cli_name, ev)
    assert err.value.blocked_eval == ev['BlockedEval']
    assert err.value.result['placement_failures']['web']['failed'] == 1
    # the blocked eval stays blocked until capacity appears: it must not be waited on
    assert not srv.calls('GET', '/v1/evaluation/' + ev['BlockedEval'])


def test_recorded_placement_failure_can_be_tolerated():
    ex = recorded('051-evaluation-unplaceable')
    ev = ex['response']['body']
    exs = [ex, exchange('GET', '/v1/evaluation/%s/allocations' % ev['ID'], body=[], index=37)]
    with ReplayServer(exs) as srv:
        result = wait_for_job(NomadClient(srv.address), ev['JobID'], ev['ID'], timeout=10,
                              fail_on_placement_failure=False)
    assert result['placement_failures']['web']['reasons'] == [
        'Constraint "${attr.nonexistent.attribute} = yes" filtered 3 nodes']
    assert result['allocations'] == []
    assert result['blocked_eval'] == ev['BlockedEval']


def test_recorded_batch_job_waits_for_complete():
    ev = recorded('092-evaluation-batch')
    eval_id = ev['response']['body']['ID']
    job_allocs = recorded('093-job-allocations-batch')
    exs = [ev, _eval_allocs_from_job_allocs(job_allocs, eval_id), job_allocs, recorded('005-nodes')]
    with ReplayServer(exs) as srv:
        result = wait_for_job(NomadClient(srv.address), 'batchtrue', eval_id, timeout=10, job_type='batch')
    assert len(result['allocations']) == 2
    assert {a['client_status'] for a in result['allocations']} == {'complete'}


def test_recorded_running_is_not_enough_for_batch():
    # the service job's running allocations must not satisfy a batch wait
    ev = recorded('029-evaluation-complete')
    exs = [ev, recorded('030-evaluation-allocations'), recorded('032-job-allocations')]
    with ReplayServer(exs) as srv:
        with pytest.raises(WaitTimeout) as err:
            wait_for_job(NomadClient(srv.address), 'httpecho', ev['response']['body']['ID'], timeout=0.5,
                         job_type='batch')
    assert '0 of 2 complete' in str(err.value)


def test_recorded_driver_failure_is_reported():
    reg = recorded('062-jobs-register-bad-driver-config-types')
    eval_id = reg['response']['body']['EvalID']
    job_allocs = recorded('076-job-allocations-bad-driver-config')
    ev = exchange('GET', '/v1/evaluation/' + eval_id, index=45,
                  body=dict(fixture('eval-complete')['response']['body'], ID=eval_id, JobID='malformed'))
    exs = [ev, _eval_allocs_from_job_allocs(job_allocs, eval_id), job_allocs]
    with ReplayServer(exs) as srv:
        with pytest.raises(AllocationFailed) as err:
            wait_for_job(NomadClient(srv.address), 'malformed', eval_id, timeout=10)
    assert 'Driver Failure' in str(err.value) and 'failed to parse config' in str(err.value)
