# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_acl_bootstrap against recorded Nomad 0.9.1 ACL answers (api/151-161)."""

import copy

from nomad_replay import ReplayServer, exchange, recorded, run_module

from ansible_collections.nomadops.nomad.plugins.modules import nomad_acl_bootstrap

MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def secret_of(ex):
    return ex['response']['body']['SecretID']


def with_token_recorded(name, token):
    """The recordings replace the token with a placeholder; put a real one back."""
    ex = copy.deepcopy(recorded(name))
    if isinstance(ex['response']['body'], dict) and 'SecretID' in ex['response']['body']:
        ex['response']['body']['SecretID'] = token
    return ex


def test_first_bootstrap_returns_the_management_token(capsys):
    boot = recorded('151-acl-bootstrap')
    with ReplayServer([boot]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address}, capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
        gets = srv.calls('GET', '/v1/acl/token/self')
    assert not failed, result
    assert result['changed'] is True
    assert result['token'] == secret_of(boot)
    assert result['accessor_id'] == boot['response']['body']['AccessorID']
    assert result['bootstrapped'] is True and result['already_bootstrapped'] is False
    assert len(posts) == 1 and gets == []
    assert 'X-Nomad-Token' not in posts[0]['headers']


def test_already_bootstrapped_without_token_is_unchanged_with_a_warning(capsys):
    with ReplayServer([recorded('152-acl-bootstrap-again')]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address}, capsys)
    assert not failed, result
    assert result['changed'] is False
    assert result['token'] is None and result['bootstrapped'] is False
    assert result['already_bootstrapped'] is True
    assert any('bootstrapped before' in w for w in result.get('warnings', []))


def test_valid_stored_token_means_no_bootstrap_call(capsys):
    token = secret_of(recorded('151-acl-bootstrap'))
    self_ex = with_token_recorded('160-acl-token-self', token)
    # The bootstrap answer is queued so that a second bootstrap would be seen.
    with ReplayServer([self_ex, recorded('153-acl-bootstrap-again-with-token')]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address, 'token': token}, capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
        gets = srv.calls('GET', '/v1/acl/token/self')
    assert not failed, result
    assert result['changed'] is False and result['already_bootstrapped'] is True
    assert result['bootstrapped'] is True
    assert posts == []
    assert gets[0]['headers']['X-Nomad-Token'] == token
    # AnsibleModule masks a returned value equal to a no_log parameter; the
    # action plugin puts the token back on the controller.
    assert result['token'] == MASK
    assert token not in capsys.readouterr().out


def test_stale_token_on_a_fresh_cluster_bootstraps_again(capsys):
    boot = recorded('151-acl-bootstrap')
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, boot]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main,
                                    {'address': srv.address, 'token': '00000000-1111-2222-3333-444444444444'}, capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert not failed, result
    assert result['changed'] is True and result['token'] == secret_of(boot)
    assert len(posts) == 1


def test_stale_token_on_a_bootstrapped_cluster_fails_clearly(capsys):
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, recorded('152-acl-bootstrap-again')]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main,
                                    {'address': srv.address, 'token': '00000000-1111-2222-3333-444444444444'}, capsys)
    assert failed
    assert 'already bootstrapped' in result['msg'] and 'ACL token not found' in result['msg']
    assert srv.address in result['msg']


def test_garbage_token_is_explained_with_nomads_message(capsys):
    bad = recorded('156-acl-jobs-garbage-token')
    garbage = exchange('GET', '/v1/acl/token/self', status=bad['response']['status'], body=bad['response']['body'])
    with ReplayServer([garbage]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address, 'token': 'not-a-token'}, capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert failed and posts == []
    assert 'not a Nomad token' in result['msg'] and 'UUID must be 36 characters' in result['msg']
    assert 'not-a-token' not in result['msg']


def test_non_management_token_is_refused(capsys):
    token = '11111111-2222-3333-4444-555555555555'
    ex = with_token_recorded('160-acl-token-self', token)
    ex['response']['body']['Type'] = 'client'
    with ReplayServer([ex]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address, 'token': token}, capsys)
    assert failed and 'client token, not a management token' in result['msg']


def test_acl_disabled_agent_says_how_to_enable(capsys):
    disabled = exchange('POST', '/v1/acl/bootstrap', status=500, body='ACL support disabled')
    with ReplayServer([disabled]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address}, capsys)
    assert failed
    assert 'Failed to bootstrap ACLs' in result['msg'] and 'acl { enabled = true }' in result['msg']


def test_check_mode_sends_no_bootstrap(capsys):
    with ReplayServer([recorded('151-acl-bootstrap')]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address}, capsys, check_mode=True)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert not failed and result['changed'] is True and result['token'] is None
    assert posts == []


def test_check_mode_with_valid_token_is_unchanged(capsys):
    token = secret_of(recorded('151-acl-bootstrap'))
    with ReplayServer([with_token_recorded('160-acl-token-self', token)]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, {'address': srv.address, 'token': token}, capsys,
                                    check_mode=True)
    assert not failed and result['changed'] is False


def test_unreachable_agent_fails_naming_the_address(capsys):
    failed, result = run_module(nomad_acl_bootstrap.main, {'address': 'http://127.0.0.1:9', 'timeout': 2}, capsys)
    assert failed
    assert 'Failed to bootstrap ACLs' in result['msg'] and '127.0.0.1:9' in result['msg']


def recorded_16(name):
    import glob
    import json
    import os
    from nomad_replay import ROOT
    found = glob.glob(os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'acl', '[0-9]*-%s.json' % name))
    assert len(found) == 1, name
    with open(found[0]) as f:
        return json.load(f)


SUPPLIED = '2b778dd9-f5f1-6f29-b4b4-9a5fa948757a'


def test_a_supplied_bootstrap_secret_is_sent_and_becomes_the_token(capsys):
    boot = copy.deepcopy(recorded_16('bootstrap-with-secret'))
    boot['response']['body']['SecretID'] = SUPPLIED
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, boot]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, dict(address=srv.address, bootstrap_secret=SUPPLIED),
                                    capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
        checked = srv.calls('GET', '/v1/acl/token/self')
    assert not failed, result
    assert [p['body'] for p in posts] == [{'BootstrapSecret': SUPPLIED}]
    # Verified first, as a known token is: a cluster that has it is not bootstrapped again.
    assert checked[0]['headers']['X-Nomad-Token'] == SUPPLIED
    assert result['changed'] is True and result['bootstrapped'] is True


def test_a_cluster_that_has_the_supplied_secret_is_not_bootstrapped_again(capsys):
    me = copy.deepcopy(recorded_16('token-self-client'))
    me['response']['body'].update(SecretID=SUPPLIED, Type='management', Policies=None, Name='Bootstrap Token')
    with ReplayServer([me]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, dict(address=srv.address, bootstrap_secret=SUPPLIED),
                                    capsys)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert not failed and result['changed'] is False and result['already_bootstrapped'] is True
    assert posts == []


def test_a_malformed_secret_gets_nomads_words(capsys):
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, recorded_16('bootstrap-bad-secret')]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, dict(address=srv.address, bootstrap_secret='x' * 36),
                                    capsys)
    assert failed and result['msg'].endswith('invalid acl token'), result


def test_an_old_release_that_ignores_the_secret_is_named_and_its_token_kept(capsys):
    boot = recorded_16('bootstrap-with-secret')
    boot = copy.deepcopy(boot)
    boot['response']['body']['SecretID'] = '7167b221-d0de-c5a9-bf10-7584ccd26401'
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, boot]) as srv:
        failed, result = run_module(nomad_acl_bootstrap.main, dict(address=srv.address, bootstrap_secret=SUPPLIED),
                                    capsys)
    assert not failed and result['token'] == '7167b221-d0de-c5a9-bf10-7584ccd26401'
    assert 'ignored bootstrap_secret' in result['warnings'][0]
