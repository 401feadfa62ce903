# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_gossip_keyring: install, use, remove, in that order, and never a key in
the result. The integration tests run the same against real agents
(tests/integration/nomad_double/test_secure_and_rolling.py)."""

from nomad_replay import ReplayServer, exchange, run_module

from ansible_collections.nomadops.nomad.plugins.modules import nomad_gossip_keyring

OLD = 'cg8StVXbQJ0gPvMd9o7yrg=='
NEW = 'HpVvH8gU1DNY3LaSUrQ2Ww=='


def _listing(keys, nodes=3):
    return exchange('GET', '/v1/agent/keyring/list', body={'Messages': {}, 'Keys': keys, 'NumNodes': nodes})


def _ops():
    done = {'Messages': {}, 'Keys': None, 'NumNodes': 3}
    return [exchange('PUT', '/v1/agent/keyring/' + op, body=done) for op in ('install', 'use', 'remove')]


def test_a_new_key_is_installed_used_and_the_old_one_removed(capsys):
    with ReplayServer([_listing({OLD: 3})] + _ops()) as srv:
        failed, result = run_module(nomad_gossip_keyring.main, dict(address=srv.address, key=NEW), capsys)
        sent = [(r['method'], r['path'], r['body']) for r in srv.requests]
    assert not failed, result
    assert (result['changed'], result['installed'], result['removed'], result['keys_before']) == (True, True, 1, 1)
    assert sent == [('GET', '/v1/agent/keyring/list', None),
                    ('PUT', '/v1/agent/keyring/install', {'Key': NEW}),
                    ('PUT', '/v1/agent/keyring/use', {'Key': NEW}),
                    ('PUT', '/v1/agent/keyring/remove', {'Key': OLD})]
    assert OLD not in repr(result) and NEW not in repr(result)


def test_a_key_that_is_the_only_one_everywhere_changes_nothing(capsys):
    with ReplayServer([_listing({NEW: 3})] + _ops()) as srv:
        failed, result = run_module(nomad_gossip_keyring.main, dict(address=srv.address, key=NEW), capsys)
        assert [r['method'] for r in srv.requests] == ['GET']
    assert not failed and result['changed'] is False


def test_a_key_on_some_servers_only_is_installed_again(capsys):
    with ReplayServer([_listing({NEW: 2, OLD: 3})] + _ops()) as srv:
        failed, result = run_module(nomad_gossip_keyring.main, dict(address=srv.address, key=NEW), capsys)
        assert [r['path'].rsplit('/', 1)[1] for r in srv.requests] == ['list', 'install', 'use', 'remove']
    assert not failed and result['installed'] is True


def test_check_mode_only_lists(capsys):
    with ReplayServer([_listing({OLD: 3})] + _ops()) as srv:
        failed, result = run_module(nomad_gossip_keyring.main, dict(address=srv.address, key=NEW), capsys,
                                    check_mode=True)
        assert [r['method'] for r in srv.requests] == ['GET']
    assert not failed and result['changed'] is True


def test_servers_without_encryption_fail_saying_it_cannot_be_turned_on(capsys):
    with ReplayServer([exchange('GET', '/v1/agent/keyring/list', status=500, body='3/3 nodes reported failure')]) as srv:
        failed, result = run_module(nomad_gossip_keyring.main, dict(address=srv.address, key=NEW), capsys)
    assert failed
    assert result['msg'] == ('Failed to rotate the gossip key through %s: HTTP 500 from GET %s/v1/agent/keyring/list: '
                             '3/3 nodes reported failure (servers that run without gossip encryption answer this: '
                             'they have no keyring, and encryption cannot be turned on while they run)'
                             % (srv.address, srv.address))


def test_a_key_that_is_not_one_is_refused_without_showing_it(capsys):
    for bad, why in (('not base64!', 'key is not base64'),
                     ('c2hvcnQ=', 'key must be base64 of 16, 24 or 32 bytes, not 5')):
        failed, result = run_module(nomad_gossip_keyring.main, dict(address='http://127.0.0.1:1', key=bad), capsys)
        assert failed and result['msg'] == 'Invalid gossip key: %s (the value is not shown: it is a secret)' % why
        assert bad not in result['msg']
