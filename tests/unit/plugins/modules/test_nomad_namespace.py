# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_namespace against what a real Nomad 1.1.0 (and 0.9.1) answered."""

from nomad_replay import ReplayServer, exchange, recorded_1_1, run_module, with_path

from ansible_collections.nomadops.nomad.plugins.modules import nomad_namespace

TEAM_A = "Team A's jobs"


def missing():
    return recorded_1_1('205-namespace-get-after-delete')


def written():
    # Create and update are the same upsert, which answers an empty 200.
    return recorded_1_1('186-namespace-create-again')


def test_a_missing_namespace_is_created(capsys):
    with ReplayServer([missing(), written()]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a',
                                                               description=TEAM_A), capsys, diff=True)
        sent = srv.calls('POST', '/v1/namespace/team-a')
    assert not failed, result
    assert result['changed'] is True and result['namespace'] == {'name': 'team-a', 'description': TEAM_A}
    assert [c['body'] for c in sent] == [{'Name': 'team-a', 'Description': TEAM_A}]
    assert result['diff'] == {'before': {}, 'after': {'name': 'team-a', 'description': TEAM_A}}


def test_the_same_namespace_again_changes_nothing(capsys):
    with ReplayServer([recorded_1_1('184-namespace-get')]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a',
                                                               description=TEAM_A), capsys)
        assert srv.calls('POST') == []
    assert not failed and result['changed'] is False


def test_a_new_description_is_written_but_not_in_check_mode(capsys):
    with ReplayServer([recorded_1_1('184-namespace-get'), written()]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a',
                                                               description='New'), capsys, check_mode=True)
        assert srv.calls('POST') == []
    assert not failed and result['changed'] is True and result['namespace']['description'] == 'New'


def test_absent_deletes_and_nomad_refusals_come_through(capsys):
    with ReplayServer([recorded_1_1('184-namespace-get'), recorded_1_1('204-namespace-delete')]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a', state='absent'),
                                    capsys)
        assert len(srv.calls('DELETE', '/v1/namespace/team-a')) == 1
    assert not failed and result['changed'] is True and result['namespace'] is None
    with ReplayServer([recorded_1_1('184-namespace-get'), recorded_1_1('200-namespace-delete-nonempty')]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a', state='absent'),
                                    capsys)
    assert failed
    assert "Failed to delete namespace 'team-a'" in result['msg']
    assert 'namespace "team-a" has non-terminal jobs in regions: [global]' in result['msg']


def test_absent_when_missing_changes_nothing(capsys):
    with ReplayServer([missing()]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a', state='absent'),
                                    capsys)
        assert srv.calls('DELETE') == []
    assert not failed and result['changed'] is False


def test_on_0_9_it_says_namespaces_need_1_0(capsys):
    enterprise_only = with_path(recorded_1_1('compare-0.9.1/02-091-namespaces'), '/v1/namespace/team-a')
    me = exchange('GET', '/v1/agent/self', body={'config': {'Version': {'Version': '0.9.1'}}})
    with ReplayServer([enterprise_only, me]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='team-a'), capsys)
        assert srv.calls('POST') == []
    assert failed
    assert result['msg'].startswith("Namespace 'team-a' needs Nomad 1.0 or newer: the agent runs Nomad 0.9.1")
    assert 'Nomad Enterprise only endpoint' in result['msg']


def test_a_bad_name_is_refused_before_anything_is_sent(capsys):
    with ReplayServer([]) as srv:
        failed, result = run_module(nomad_namespace.main, dict(address=srv.address, name='Team A!'), capsys)
        assert srv.requests == []
    assert failed and 'Invalid namespace name' in result['msg'] and '^[a-zA-Z0-9-]{1,128}$' in result['msg']
