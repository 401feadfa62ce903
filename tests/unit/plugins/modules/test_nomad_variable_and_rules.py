# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_acl_policy's rule check and nomad_variable's check-and-set, against
what real Nomad 0.9.1, 1.1.0 and 1.6.5 answered (tests/recordings/nomad-*/acl/,
made by tests/real/record_acl.py)."""

import copy
import glob
import json
import os

import pytest

from nomad_replay import ROOT, ReplayServer, exchange, run_module

from ansible_collections.nomadops.nomad.plugins.module_utils.acl import rules_problems
from ansible_collections.nomadops.nomad.plugins.modules import nomad_variable

RELEASES = ('0.9.1', '1.1.0', '1.6.5')


def recorded(release, name):
    found = glob.glob(os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % release, 'acl', '[0-9]*-%s.json' % name))
    assert len(found) == 1, 'no single recording %s of %s' % (name, release)
    with open(found[0]) as f:
        return json.load(f)


def policy_writes(release):
    """Every recorded policy write whose only question was its rules."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % release, 'acl', '*.json'))):
        with open(path) as f:
            ex = json.load(f)
        req = ex['request']
        if req['method'] in ('PUT', 'POST') and req['path'].startswith('/v1/acl/policy/') \
                and req['token'] == 'management' and 'Rules' in (req['body'] or {}) \
                and 'name' not in path and 'description' not in path:
            out.append((os.path.basename(path), req['body']['Rules'], ex['response']['status']))
    return out


@pytest.mark.parametrize('release', RELEASES)
def test_the_rule_check_agrees_with_the_release_on_every_recorded_policy(release):
    writes = policy_writes(release)
    assert len(writes) >= 8
    for name, rules, status in writes:
        problems = rules_problems(rules, release)
        assert bool(problems) == (status != 200), (name, status, problems)


def test_the_rule_check_names_the_line_and_the_release():
    problems = rules_problems('# a\nnamespace {\n  policy = "read"\n}\n', '1.6.5', where='web.hcl')
    assert problems == ['web.hcl line 2: Invalid namespace name: a namespace rule needs a label, e.g. namespace '
                        '"default" { ... } (Nomad 1.6.5 refuses one without)']
    assert rules_problems('namespace "default" {\n  policy = "scale"\n}\n', '0.9.1')[0].startswith(
        "rules line 2: Invalid namespace policy 'scale' for namespace 'default'; Nomad 0.9.1 takes one of")
    assert rules_problems('namespace "default" {\n  capabilities = ["parse-job"]\n}\n', '1.1.0')
    assert rules_problems('namespace "default" {\n  capabilities = ["parse-job"]\n}\n', '1.6.5') == []


def agent_self():
    return recorded('1.6.5', 'agent-self')


def var_get():
    """The variable as recorded: index 51, items greeting and port."""
    ex = recorded('1.6.5', 'var-get')
    assert ex['response']['body']['ModifyIndex'] == 51
    return ex


def run(capsys, exchanges, check_mode=False, diff=False, **params):
    params.setdefault('path', 'nomad/jobs/httpecho')
    with ReplayServer([agent_self()] + list(exchanges)) as srv:
        failed, result = run_module(nomad_variable.main, dict(params, address=srv.address), capsys,
                                    check_mode=check_mode, diff=diff)
    return srv, failed, result


def test_a_write_that_loses_the_check_and_set_fails_and_shows_no_value(capsys):
    # Someone wrote between this module's read (index 51) and its write: Nomad answers 409 (recorded).
    stale = copy.deepcopy(recorded('1.6.5', 'var-update-stale'))
    stale['request']['query'] = {}
    srv, failed, result = run(capsys, [var_get(), stale], items={'greeting': 'bonjour', 'port': '8080'})
    assert failed
    assert [c['query'] for c in srv.calls('PUT')] == [{'cas': '51', 'namespace': 'default'}]
    assert 'it changed after this task read it' in result['msg'] and 'modify index 51' in result['msg']
    text = json.dumps(result)
    assert 'bonjour' not in text and 'hello' not in text


def test_create_is_a_check_and_set_on_absence(capsys):
    created = recorded('1.6.5', 'var-create')
    missing = recorded('1.6.5', 'var-get-missing')
    srv, failed, result = run(capsys, [missing, created], diff=True, items={'greeting': 'hello', 'port': '8080'})
    assert not failed and result['changed'] is True
    assert [c['query'] for c in srv.calls('PUT')] == [{'cas': '0', 'namespace': 'default'}]
    assert result['variable']['modify_index'] == created['response']['body']['ModifyIndex']
    assert result['diff']['after']['items'] == {'greeting': '<hidden>', 'port': '<hidden>'}


def test_check_mode_and_an_unchanged_variable_write_nothing(capsys):
    srv, failed, result = run(capsys, [var_get()], check_mode=True, diff=True,
                              items={'greeting': 'good-morning', 'port': '8080'})
    assert not failed and result['changed'] is True and result['keys_changed'] == ['greeting']
    assert result['diff']['before']['items'] == {'greeting': '<hidden>'}
    assert srv.calls('PUT') == []
    srv, failed, result = run(capsys, [var_get()], items={'greeting': 'hello', 'port': '8080'})
    assert not failed and result['changed'] is False and srv.calls('PUT') == []


def test_delete_is_a_check_and_set_too(capsys):
    gone = exchange('DELETE', '/v1/var/nomad/jobs/httpecho', status=204, body='')
    srv, failed, result = run(capsys, [var_get(), gone], state='absent')
    assert not failed, result
    assert result["changed"] is True and result["variable"] is None
    assert [c['query'] for c in srv.calls('DELETE')] == [{'cas': '51', 'namespace': 'default'}]


def test_an_old_agent_is_refused_before_anything_else(capsys):
    old = exchange('GET', '/v1/agent/self', body={'config': {'Version': {'Version': '1.3.16'}}})
    with ReplayServer([old]) as srv:
        failed, result = run_module(nomad_variable.main, dict(path='a', items={'k': 'v'}, address=srv.address),
                                    capsys)
    assert failed and result['msg'] == ('Nomad Variables need Nomad 1.4 or newer; the agent at %s runs Nomad 1.3.16'
                                        % srv.address)
    assert [c['path'] for c in srv.requests] == ['/v1/agent/self']


def test_a_token_that_may_not_read_the_agent_still_writes_its_variable(capsys):
    denied = exchange('GET', '/v1/agent/self', status=403, body='Permission denied')
    created = recorded('1.6.5', 'var-create')
    missing = recorded('1.6.5', 'var-get-missing')
    with ReplayServer([denied, missing, created]) as srv:
        failed, result = run_module(nomad_variable.main, dict(path='nomad/jobs/httpecho', address=srv.address,
                                                              items={'greeting': 'hello', 'port': '8080'}), capsys)
    assert not failed and result['changed'] is True, result
    assert len(srv.calls('PUT')) == 1
