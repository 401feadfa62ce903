# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_job_info against recorded Nomad 0.9.1 responses."""

from nomad_replay import ReplayServer, exchange, fixture, recorded, run_module, with_path

from ansible_collections.nomadops.nomad.plugins.modules import nomad_job_info


def test_recorded_list(capsys):
    with ReplayServer([recorded('101-jobs-list-with-periodic-child')]) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address), capsys, check_mode=True)
    assert not failed, result
    ids = [j['id'] for j in result['jobs']]
    assert 'periodic-true' in ids
    child = [j for j in result['jobs'] if j['parent_id'] == 'periodic-true']
    assert child and child[0]['id'].startswith('periodic-true/periodic-')


def test_recorded_prefix_is_sent(capsys):
    with ReplayServer([recorded('102-jobs-list-prefix')]) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address, prefix='periodic'), capsys)
        assert srv.requests[0]['query'] == {'prefix': 'periodic'}
    assert not failed and all(j['id'].startswith('periodic') for j in result['jobs'])


def test_recorded_one_job_with_allocations(capsys):
    exs = [recorded('031-job-get'), recorded('036-job-summary'), recorded('032-job-allocations'),
           recorded('005-nodes')]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address, name='httpecho'), capsys)
    assert not failed, result
    assert result['exists'] is True and result['job']['ID'] == 'httpecho'
    assert result['version'] == recorded('031-job-get')['response']['body']['Version']
    assert result['summary']['web']['Running'] == 2
    assert [a['client_status'] for a in result['allocations']] == ['running', 'running']
    assert all(a['node_name'].startswith('nomad') for a in result['allocations'])


def test_missing_job_is_not_an_error(capsys):
    with ReplayServer([with_path(fixture('job-not-found'), '/v1/job/nope')]) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address, name='nope'), capsys)
    assert not failed and result['exists'] is False and result['job'] is None


def test_permission_denied(capsys):
    with ReplayServer([fixture('acl-no-token')]) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address), capsys)
    assert failed and result['msg'].startswith('Failed to read jobs: ') and 'NOMAD_TOKEN' in result['msg']


def test_a_namespace_on_a_0_9_agent_fails_saying_why(capsys):
    me = exchange('GET', '/v1/agent/self', body={'config': {'Version': {'Version': '0.9.1'}}})
    with ReplayServer([me]) as srv:
        failed, result = run_module(nomad_job_info.main, dict(address=srv.address, namespace='team-a'), capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self']
    assert failed and "Namespace 'team-a' needs Nomad 1.0 or newer" in result['msg']
