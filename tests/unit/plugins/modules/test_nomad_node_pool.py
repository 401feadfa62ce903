# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_node_pool against what a real Nomad 1.6.5 answered
(tests/recordings/nomad-1.6.5/node_pools/, made by tests/real/record_node_pools.py)."""

import glob
import json
import os

from nomad_replay import ROOT, ReplayServer, exchange, recorded_1_1, run_module, with_path

from ansible_collections.nomadops.nomad.plugins.modules import nomad_node_pool

RECORDINGS = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'node_pools')
GPU = 'Hosts with a GPU'


def recorded(name):
    """One exchange by its name without the number, e.g. recorded('pool-get')."""
    found = glob.glob(os.path.join(RECORDINGS, '[0-9][0-9]-%s.json' % name))
    assert len(found) == 1, 'no single recording named %s in %s' % (name, RECORDINGS)
    with open(found[0]) as f:
        return json.load(f)


def me():
    return recorded('agent-self')


def an_old_agent(version):
    return exchange('GET', '/v1/agent/self', body={'config': {'Version': {'Version': version}}})


def run(capsys, exchanges, check_mode=False, diff=False, **params):
    params.setdefault('name', 'gpu')
    with ReplayServer([me()] + list(exchanges)) as srv:
        failed, result = run_module(nomad_node_pool.main, dict(params, address=srv.address), capsys,
                                    check_mode=check_mode, diff=diff)
    return srv, failed, result


def writes(srv):
    return [r for r in srv.requests if r['method'] != 'GET']


def test_the_recordings_are_what_the_tests_assume():
    assert me()['response']['body']['config']['Version']['Version'] == '1.6.5'
    assert recorded('pool-get-missing')['response']['status'] == 404
    assert recorded('pool-get')['response']['body']['Description'] == GPU


def test_a_missing_pool_is_created(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get-missing'), recorded('pool-create')],
                              description=GPU, meta={'team': 'ml'}, diff=True)
    assert not failed, result
    after = {'name': 'gpu', 'description': GPU, 'meta': {'team': 'ml'}}
    assert result['changed'] is True and result['node_pool'] == after and result['version'] == '1.6.5'
    assert [(r['method'], r['path'], r['body']) for r in writes(srv)] == [
        ('PUT', '/v1/node/pools', {'Name': 'gpu', 'Description': GPU, 'Meta': {'team': 'ml'}})]
    assert result['diff'] == {'before': {}, 'after': after}


def test_check_mode_reports_the_creation_and_writes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get-missing')], description=GPU, check_mode=True, diff=True)
    assert not failed, result
    assert result['changed'] is True and result['node_pool'] == {'name': 'gpu', 'description': GPU, 'meta': {}}
    assert writes(srv) == []


def test_the_same_pool_again_changes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get')], description=GPU, meta={'team': 'ml'}, diff=True)
    assert not failed, result
    assert result['changed'] is False and writes(srv) == []
    assert result['diff']['before'] == result['diff']['after']


def test_nothing_given_leaves_the_pool_as_it_is(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get')])
    assert not failed and result['changed'] is False and writes(srv) == []
    assert result['node_pool'] == {'name': 'gpu', 'description': GPU, 'meta': {'team': 'ml'}}


def test_an_update_is_diffed_without_indexes_and_keeps_what_was_not_given(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get'), recorded('pool-update')],
                              meta={'team': 'ml', 'tier': 2}, diff=True)
    assert not failed, result
    assert result['changed'] is True
    assert result['diff'] == {'before': {'name': 'gpu', 'description': GPU, 'meta': {'team': 'ml'}},
                              'after': {'name': 'gpu', 'description': GPU, 'meta': {'team': 'ml', 'tier': '2'}}}
    # Nomad replaces the pool whole: the description it had is sent again.
    assert [r['body'] for r in writes(srv)] == [{'Name': 'gpu', 'Description': GPU,
                                                 'Meta': {'team': 'ml', 'tier': '2'}}]


def test_an_update_in_check_mode_writes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get')], description='New', check_mode=True)
    assert not failed and result['changed'] is True and result['node_pool']['description'] == 'New'
    assert writes(srv) == []


def test_absent_deletes_and_again_changes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get'), recorded('pool-delete')], state='absent', diff=True)
    assert not failed, result
    assert result['changed'] is True and result['node_pool'] is None
    assert [(r['method'], r['path']) for r in writes(srv)] == [('DELETE', '/v1/node/pool/gpu')]
    assert result['diff']['after'] == {}
    srv, failed, result = run(capsys, [recorded('pool-get-after-delete')], state='absent')
    assert not failed and result['changed'] is False and writes(srv) == []


def test_absent_in_check_mode_deletes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get')], state='absent', check_mode=True)
    assert not failed and result['changed'] is True and writes(srv) == []


def test_a_pool_with_nodes_is_not_deleted_and_nomad_says_why(capsys):
    got = with_path(recorded('pool-get'), '/v1/node/pool/edge')
    refused = recorded('pool-delete-with-nodes')
    srv, failed, result = run(capsys, [got, refused], name='edge', state='absent')
    assert failed
    assert result['msg'].startswith("Failed to delete node pool 'edge': HTTP %d " % refused['response']['status'])
    # Nomad's words, word for word.
    assert result['msg'].endswith(refused['response']['body'].strip())
    assert 'node pool "edge" has nodes in regions: [global]' in result['msg']


def test_deleting_a_built_in_pool_is_refused_in_nomads_words_before_anything_is_sent(capsys):
    for name in ('default', 'all'):
        with ReplayServer([]) as srv:
            failed, result = run_module(nomad_node_pool.main, dict(address=srv.address, name=name, state='absent'),
                                        capsys)
            assert srv.requests == []
        assert failed
        assert result['msg'] == "Failed to delete node pool %r: deleting node pool \"%s\" is not allowed" % (name, name)
        # Nomad's own words, as recorded.
        assert 'deleting node pool "%s" is not allowed' % name in recorded('pool-delete-%s' % name)['response']['body']


def test_changing_a_built_in_pool_is_refused_in_nomads_words_even_in_check_mode(capsys):
    for name in ('all', 'default'):
        got = recorded('pool-get-%s' % name)
        srv, failed, result = run(capsys, [got], name=name, description='Mine', check_mode=True)
        assert failed and writes(srv) == []
        assert result['msg'] == "Failed to write node pool %r: modifying node pool \"%s\" is not allowed" % (name, name)
    recorded_default = recorded('pool-modify-default')['response']
    assert recorded_default['status'] == 400
    assert recorded_default['body'] == 'modifying node pool "default" is not allowed'


def test_a_built_in_pool_as_it_is_changes_nothing(capsys):
    srv, failed, result = run(capsys, [recorded('pool-get-default')], name='default', description='Default node pool.')
    assert not failed and result['changed'] is False and writes(srv) == []
    assert result['node_pool'] == {'name': 'default', 'description': 'Default node pool.', 'meta': {}}


def test_before_1_6_it_fails_naming_the_release_and_sends_nothing_else(capsys):
    with ReplayServer([an_old_agent('1.5.12')]) as srv:
        failed, result = run_module(nomad_node_pool.main, dict(address=srv.address, name='gpu', description=GPU),
                                    capsys)
        assert [(r['method'], r['path']) for r in srv.requests] == [('GET', '/v1/agent/self')]
    assert failed
    assert result['msg'].startswith("Node pool 'gpu' needs Nomad 1.6 or newer: the agent runs Nomad 1.5.12")
    assert result['version'] == '1.5.12'


def test_bad_names_and_descriptions_are_refused_before_anything_is_sent(capsys):
    for params, words in ((dict(name='bad name!'), '^[a-zA-Z0-9-_]{1,128}$'),
                          (dict(name='gpu', description='x' * 257), 'description longer than 256'),
                          # 129 characters, but 258 bytes, which is what Nomad counts.
                          (dict(name='gpu', description='\u00e9' * 129), 'description longer than 256')):
        with ReplayServer([]) as srv:
            failed, result = run_module(nomad_node_pool.main, dict(params, address=srv.address), capsys)
            assert srv.requests == []
        assert failed and words in result['msg'], result
    # Nomad's words for the same.
    assert 'description longer than 256' in recorded('pool-upsert-long-description')['response']['body']
    assert 'description longer than 256' in recorded('pool-upsert-long-description-bytes')['response']['body']
    assert 'must match regex ^[a-zA-Z0-9-_]{1,128}$' in recorded('pool-upsert-invalid-name')['response']['body']


def test_a_real_1_1_0_agent_is_refused_too(capsys):
    with ReplayServer([recorded_1_1('001-agent-self')]) as srv:
        failed, result = run_module(nomad_node_pool.main, dict(address=srv.address, name='gpu', state='absent'),
                                    capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self']
    assert failed
    assert result['msg'].startswith("Node pool 'gpu' needs Nomad 1.6 or newer: the agent runs Nomad 1.1.0")
