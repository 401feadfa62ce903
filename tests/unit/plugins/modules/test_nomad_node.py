# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_node against the drain and eligibility exchanges of a real Nomad 1.1.0."""

import copy

from nomad_replay import ReplayServer, exchange, recorded_1_1, run_module, with_path

from ansible_collections.nomadops.nomad.plugins.modules import nomad_node

NOMAD1 = 'fa3cc417-bf22-eae3-dc87-30275cecf508'
NOMAD2 = '0b93b8e3-a148-3121-bd20-ffc61dfd8d9e'


def nodes(**eligibility):
    """The recorded node list, with the named nodes' eligibility as given."""
    ex = copy.deepcopy(recorded_1_1('168-nodes-after-drain'))
    for node in ex['response']['body']:
        if node['Name'] in eligibility:
            node['SchedulingEligibility'] = eligibility[node['Name']]
    return ex


def run(srv, capsys, check_mode=False, diff=False, **params):
    return run_module(nomad_node.main, dict(address=srv.address, **params), capsys, check_mode=check_mode, diff=diff)


def test_drain_starts_and_waits_until_nomad_says_it_is_done(capsys, monkeypatch):
    monkeypatch.setattr(nomad_node, 'POLL_INTERVAL', 0.01)
    before = recorded_1_1('170-node-after-drain-disable')  # nomad1, eligible, not draining
    with ReplayServer([nodes(nomad1='eligible'), before, recorded_1_1('163-node-drain-enable'),
                       recorded_1_1('164-node-draining'), recorded_1_1('165-node-drain-complete'),
                       with_path(recorded_1_1('166-node-allocations-after-drain'),
                                 '/v1/node/%s/allocations' % NOMAD1)]) as srv:
        failed, result = run(srv, capsys, diff=True, name='nomad1', drain=True, drain_deadline='1m')
        sent = srv.calls('POST', '/v1/node/%s/drain' % NOMAD1)
        polls = srv.calls('GET', '/v1/node/%s' % NOMAD1)
    assert not failed, result
    assert [c['body'] for c in sent] == [{'NodeID': NOMAD1, 'MarkEligible': False,
                                          'DrainSpec': {'Deadline': 60 * 10 ** 9, 'IgnoreSystemJobs': False}}]
    assert len(polls) >= 3  # before, draining, complete
    assert result['changed'] is True
    assert result['node'] == {'id': NOMAD1, 'name': 'nomad1', 'status': 'ready', 'drain': False,
                              'eligibility': 'ineligible'}
    assert result['diff']['before']['eligibility'] == 'eligible' and result['diff']['after']['drain'] is True


def test_a_drained_node_with_nothing_left_to_move_is_left_alone(capsys):
    with ReplayServer([nodes(), recorded_1_1('165-node-drain-complete'),
                       recorded_1_1('166-node-allocations-after-drain')]) as srv:
        failed, result = run(srv, capsys, name='nomad1', drain=True)
        assert srv.calls('POST') == []
    assert not failed and result['changed'] is False


def test_an_ineligible_node_still_running_allocations_is_drained(capsys):
    ineligible = recorded_1_1('152-node-after-ineligible')  # nomad2, with its allocation still running
    allocations = with_path(recorded_1_1('154-node-allocations-ineligible'), '/v1/node/%s/allocations' % NOMAD2)
    with ReplayServer([nodes(nomad2='ineligible'), ineligible, allocations]) as srv:
        failed, result = run(srv, capsys, check_mode=True, name='nomad2', drain=True)
        assert srv.calls('POST') == []
    assert not failed and result['changed'] is True and result['node']['drain'] is True


def test_ending_a_drain_makes_the_node_eligible_in_the_same_request(capsys):
    with ReplayServer([nodes(), recorded_1_1('164-node-draining'), recorded_1_1('169-node-drain-disable'),
                       recorded_1_1('170-node-after-drain-disable')]) as srv:
        failed, result = run(srv, capsys, name=NOMAD1[:8], drain=False, eligible=True)
        sent = srv.calls('POST')
    assert not failed, result
    assert [(c['path'], c['body']) for c in sent] == [
        ('/v1/node/%s/drain' % NOMAD1, {'NodeID': NOMAD1, 'DrainSpec': None, 'MarkEligible': True})]
    assert result['node']['eligibility'] == 'eligible'


def test_eligibility_alone_uses_the_eligibility_endpoint(capsys):
    eligible = copy.deepcopy(recorded_1_1('152-node-after-ineligible'))  # nomad2, as it was before
    eligible['response']['body']['SchedulingEligibility'] = 'eligible'
    with ReplayServer([nodes(), eligible, recorded_1_1('151-node-eligibility-ineligible'),
                       recorded_1_1('152-node-after-ineligible')]) as srv:
        failed, result = run(srv, capsys, name='nomad2', eligible=False)
        sent = srv.calls('POST')
    assert not failed, result
    assert [c['body'] for c in sent] == [{'NodeID': NOMAD2, 'Eligibility': 'ineligible'}]


def test_an_unknown_node_names_the_known_ones(capsys):
    with ReplayServer([nodes()]) as srv:
        failed, result = run(srv, capsys, name='nomad9', drain=True)
    assert failed
    assert result['msg'].startswith("No node 'nomad9': known nodes are nomad2 (0b93b8e3), nomad3 (886f7c55), "
                                    "nomad1 (fa3cc417)")


def test_a_cluster_without_a_leader_is_named_as_such(capsys):
    no_leader = exchange('GET', '/v1/nodes', status=500, body='No cluster leader')
    with ReplayServer([no_leader]) as srv:
        failed, result = run(srv, capsys, name='nomad1', drain=True)
    assert failed and result['msg'].startswith('The cluster has no leader, so no node can be read or changed')


def test_bad_input_fails_before_anything_is_sent(capsys):
    with ReplayServer([]) as srv:
        failed, result = run(srv, capsys, name='nomad1', drain=True, drain_deadline='ten minutes')
        assert failed and result['msg'] == 'drain_deadline: time: invalid duration "ten minutes"'
        failed, result = run(srv, capsys, name='nomad1', drain=True, eligible=True)
        assert failed and 'contradict' in result['msg']
        assert srv.requests == []
