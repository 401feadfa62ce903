# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_cluster_info against recorded cluster responses."""

import copy
import json
import os

from nomad_replay import ReplayServer, exchange, fixture, recorded, run_module

from ansible_collections.nomadops.nomad.plugins.modules import nomad_cluster_info


def test_healthy_cluster_from_fixtures(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, wait_for_leader=True, expected_servers=3, expected_nodes=3, wait_timeout=5),
            capsys, check_mode=True)
    assert not failed, result
    assert result['changed'] is False
    assert result['leader'] == '127.0.0.1:6647'
    assert result['alive_servers'] == 3 and result['ready_nodes'] == 3
    leaders = [s['name'] for s in result['servers'] if s['leader']]
    assert leaders == ['nomad3.global']  # rpc port 6647 is nomad3's
    s = result['servers'][0]
    assert (s['name'], s['address'], s['port'], s['build'], s['datacenter'], s['region']) == (
        'nomad1.global', '127.0.0.1', 4648, '0.9.1', 'home', 'global')
    assert sorted(n['name'] for n in result['nodes']) == ['nomad1', 'nomad2', 'nomad3']
    assert all(n['eligibility'] == 'eligible' and n['drain'] is False for n in result['nodes'])


def test_waiting_for_more_than_there_is_fails_with_what_is_missing(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_servers=5, expected_nodes=4, wait_timeout=1), capsys)
    assert failed
    assert 'Timed out after 1s' in result['msg']
    assert '3 of 5 servers alive' in result['msg'] and '3 of 4 nodes ready' in result['msg']
    assert srv.address in result['msg']


def test_recorded_no_quorum(capsys):
    exs = [recorded('140-noleader-status-leader'), recorded('145-noleader-agent-members'),
           recorded('142-noleader-nodes')]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_servers=3, expected_nodes=1, wait_timeout=1), capsys)
    assert failed
    assert 'no leader elected' in result['msg']
    assert '1 of 3 servers alive' in result['msg']
    assert '0 of 1 nodes ready' in result['msg']
    assert 'No cluster leader' in result['msg']


def test_recorded_no_quorum_without_waiting_reports(capsys):
    exs = [recorded('140-noleader-status-leader'), recorded('145-noleader-agent-members'),
           recorded('142-noleader-nodes')]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address), capsys)
    assert not failed
    assert result['leader'] is None
    assert [s['name'] for s in result['servers']] == ['lonely.global']
    assert result['servers'][0]['leader'] is False
    assert result['nodes'] == []
    assert any('No cluster leader' in e for e in result['errors'])


def test_unreachable_agent_fails_naming_it(capsys):
    address = 'http://127.0.0.1:9'
    failed, result = run_module(nomad_cluster_info.main, dict(address=address, timeout=2), capsys)
    assert failed and address in result['msg']


NOMAD3, NOMAD2 = '1d061e01-5877-3589-e753-17ce53c1d921', '89b2ac88-189b-4392-3b39-984c36c5b5bd'


def _wait_for_node_ids(ids, capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv:
        return run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_nodes=3, expected_node_ids=ids, wait_timeout=1), capsys)


def test_expected_node_ids_met_by_the_ready_nodes(capsys):
    failed, result = _wait_for_node_ids([NOMAD3, NOMAD2], capsys)
    assert not failed, result


def test_count_met_but_a_node_id_missing_keeps_waiting(capsys):
    # Three ready nodes meet the count, but one of them stands for a host's
    # old registration: the host's new node has not registered yet.
    new_node = '11111111-2222-3333-4444-555555555555'
    failed, result = _wait_for_node_ids([NOMAD3, new_node], capsys)
    assert failed
    assert result['ready_nodes'] == 3
    assert 'nodes not ready: %s: not registered' % new_node in result['msg']
    assert NOMAD3 not in result['msg']


def agent_self(node_id):
    return exchange('GET', '/v1/agent/self', body={'stats': {'client': {'node_id': node_id}}})


def test_client_agents_name_the_nodes_to_wait_for(capsys):
    # The recorded nodes hold 1d061e01 and cbf7908f, both ready; the first
    # agent is not up yet on its first ask, as right after a start.
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv, \
            ReplayServer([exchange('GET', '/v1/agent/self', status=500, body='agent starting'),
                          agent_self('1d061e01-5877-3589-e753-17ce53c1d921')]) as one, \
            ReplayServer([agent_self('cbf7908f-800b-95b3-8852-2b3a2f476899')]) as two:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_client_agents=[one.address, two.address], wait_timeout=10), capsys)
    assert not failed, result
    assert len(one.calls('GET', '/v1/agent/self')) == 2
    # Each agent is asked until it answers, then never again.
    assert len(two.calls('GET', '/v1/agent/self')) == 1


def test_client_agent_whose_node_is_missing_is_named(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv, \
            ReplayServer([agent_self('00000000-1111-2222-3333-444444444444')]) as one, \
            ReplayServer([exchange('GET', '/v1/agent/self', status=500, body='agent starting')]) as two:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_client_agents=[one.address, two.address], wait_timeout=1), capsys)
    assert failed
    assert 'nodes not ready: 00000000-1111-2222-3333-444444444444: not registered' in result['msg']
    assert 'client agent %s has not said its node ID' % two.address in result['msg']
    assert 'agent starting' in result['msg']


def nodes_with_docker(healthy_on):
    """The recorded node list (docker not detected anywhere, as 0.9.1 says
    without a daemon), with Docker up on the named nodes."""
    ex = recorded('005-nodes')
    for node in ex['response']['body']:
        if node['Name'] in healthy_on:
            node['Drivers']['docker'] = {'Attributes': {'driver.docker': 'true'}, 'Detected': True,
                                         'HealthDescription': 'Healthy', 'Healthy': True,
                                         'UpdateTime': node['Drivers']['docker']['UpdateTime']}
    return ex


def test_driver_not_detected_names_the_host_and_nomads_words(capsys):
    nodes = nodes_with_docker(healthy_on=['nomad1'])
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), nodes]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, wait_timeout=1,
            expected_drivers={'cbf7908f-800b-95b3-8852-2b3a2f476899': ['docker'],
                              '89b2ac88-189b-4392-3b39-984c36c5b5bd': ['docker', 'raw_exec']}), capsys)
    assert failed
    assert 'drivers not healthy: docker on nomad2 (not detected: Failed to connect to docker daemon)' in result['msg']
    assert 'nomad1' not in result['msg'].split('drivers not healthy:')[1]
    assert 'raw_exec' not in result['msg']
    nomad2 = [n for n in result['nodes'] if n['name'] == 'nomad2'][0]
    assert nomad2['drivers']['raw_exec'] == {'detected': True, 'healthy': True, 'description': 'Healthy'}


def test_drivers_keyed_by_client_agent_are_waited_for_by_its_node_id(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), nodes_with_docker(['nomad1'])]) as srv, \
            ReplayServer([agent_self('cbf7908f-800b-95b3-8852-2b3a2f476899')]) as one:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_drivers={one.address: ['docker']}, wait_timeout=5), capsys)
    assert not failed, result
    assert len(one.calls('GET', '/v1/agent/self')) == 1


def test_expected_drivers_must_be_lists_of_names(capsys):
    failed, result = run_module(nomad_cluster_info.main, dict(
        address='http://127.0.0.1:1', expected_drivers={'http://127.0.0.1:1': [{'docker': True}]}), capsys)
    assert failed
    assert 'expected_drivers: the value for http://127.0.0.1:1 must be a list of driver names' in result['msg']


def raft_self(**raft):
    """The recorded follower's /v1/agent/self (nomad1, caught up), with its raft stats changed as given."""
    ex = recorded('001-agent-self')
    ex['response']['body']['stats']['raft'].update(raft)
    return ex


def test_a_caught_up_voter_passes_the_raft_gate(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes'), raft_self(),
                       recorded('009-operator-raft-configuration')]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, raft_caught_up=True,
                                                                  wait_timeout=5), capsys)
    assert not failed, result


def test_a_server_still_applying_or_not_voting_keeps_the_gate_shut(capsys):
    config = recorded('009-operator-raft-configuration')
    config['response']['body']['Servers'] = [s for s in config['response']['body']['Servers']
                                             if s['Address'] != '127.0.0.1:4647']
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes'),
                       raft_self(applied_index='9', commit_index='15'), config]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, raft_caught_up=True,
                                                                  wait_timeout=1), capsys)
    assert failed
    assert 'raft: 127.0.0.1:4647 is not yet a voter (voters: 127.0.0.1:6647, 127.0.0.1:5647)' in result['msg']
    assert 'raft: 127.0.0.1:4647 has applied 9 of 15 committed entries' in result['msg']


def _before_the_acl_bootstrap():
    """A server with ACLs on and no token yet: 0.9.1's recorded answers without a token."""
    return [recorded('163-acl-status-leader-no-token'), recorded('167-acl-agent-members-no-token'),
            recorded('166-acl-nodes-no-token'), recorded('164-acl-agent-self-no-token'),
            recorded('004-status-peers')]


def test_before_the_acl_bootstrap_the_gate_reads_what_needs_no_token(capsys):
    with ReplayServer(_before_the_acl_bootstrap()) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, expected_servers=3, raft_caught_up=True, wait_timeout=5), capsys)
    assert not failed, result
    assert result['acl_limited'] is True
    assert result['alive_servers'] == 3 and result['leader'] == '127.0.0.1:4647'
    assert [(s['address'], s['port'], s['status'], s['leader']) for s in result['servers']] == [
        ('127.0.0.1', 4647, 'peer', True), ('127.0.0.1', 5647, 'peer', False), ('127.0.0.1', 6647, 'peer', False)]


def test_a_server_outside_the_raft_peers_keeps_the_gate_shut_before_the_bootstrap(capsys):
    exchanges = _before_the_acl_bootstrap()
    exchanges[-1]['response']['body'] = ['127.0.0.2:4647']
    with ReplayServer(exchanges) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, raft_caught_up=True, wait_timeout=1), capsys)
    assert failed
    assert 'raft: 127.0.0.1 is not yet among the raft peers (127.0.0.2:4647)' in result['msg']


def test_with_a_token_a_403_is_an_error_not_a_fallback(capsys):
    with ReplayServer(_before_the_acl_bootstrap()) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(
            address=srv.address, token='a-token-nomad-does-not-know', expected_servers=3, wait_timeout=1), capsys)
    assert failed and '0 of 3 servers alive' in result['msg'] and 'Permission denied' in result['msg']


def test_stale_reads_ask_the_agent_itself(capsys):
    with ReplayServer([fixture('status-leader'), fixture('agent-members'), fixture('nodes')]) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, stale=True), capsys)
        queries = [(r['path'], r['query']) for r in srv.requests]
    assert not failed, result
    assert ('/v1/status/leader', {'stale': 'true'}) in queries and ('/v1/nodes', {'stale': 'true'}) in queries


# -- raft protocol 3 (Nomad 1.6.5): the gate also asks autopilot ---------------

def _recorded_1_6_5(path):
    """What a real Nomad 1.6.5 server on raft protocol 3 answered (tests/real/record_jobs_parse.py)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))))))
    with open(os.path.join(root, 'tests', 'recordings', 'nomad-1.6.5', 'raft.json')) as f:
        for ex in json.load(f)['exchanges']:
            if ex['request']['path'] == path:
                return exchange('GET', path, status=ex['status'], body=copy.deepcopy(ex['body']))
    raise AssertionError('no recorded answer for %s' % path)


def _protocol_3(health=None, status=200):
    config = _recorded_1_6_5('/v1/operator/raft/configuration')
    leader = config['response']['body']['Servers'][0]['Address']
    autopilot = _recorded_1_6_5('/v1/operator/autopilot/health')
    if health is not None:
        autopilot['response']['body']['Servers'][0].update(health)
        autopilot['response']['body']['Healthy'] = False
        autopilot['response']['status'] = status
    return [exchange('GET', '/v1/status/leader', body=leader), _recorded_1_6_5('/v1/agent/members'),
            exchange('GET', '/v1/nodes', body=[]), _recorded_1_6_5('/v1/agent/self'), config, autopilot]


def test_a_protocol_3_server_autopilot_counts_healthy_passes_the_gate(capsys):
    with ReplayServer(_protocol_3()) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, raft_caught_up=True,
                                                                  wait_timeout=5), capsys)
        assert srv.calls('GET', '/v1/operator/autopilot/health')
    assert not failed, result


def test_a_protocol_3_server_autopilot_does_not_count_healthy_keeps_the_gate_shut(capsys):
    # Nomad answers 429, with the same report, while a server is unhealthy.
    with ReplayServer(_protocol_3(dict(Healthy=False, LastContact='12.5s'), status=429)) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, raft_caught_up=True,
                                                                  wait_timeout=1), capsys)
    address = _recorded_1_6_5('/v1/operator/raft/configuration')['response']['body']['Servers'][0]['Address']
    assert failed
    assert 'autopilot: %s is not healthy yet (serf alive, last contact 12.5s' % address in result['msg']


def test_while_servers_move_from_protocol_2_to_3_autopilot_judges_no_one_and_the_raft_checks_stand(capsys):
    exchanges = _protocol_3()
    # What 1.3 to 1.6 answer until every server runs protocol 3 (nomad/operator_endpoint.go).
    exchanges[-1] = exchange('GET', '/v1/operator/autopilot/health', status=500,
                             body='rpc error: all servers must have raft_protocol set to 3 or higher to use this '
                                  'endpoint')
    with ReplayServer(exchanges) as srv:
        failed, result = run_module(nomad_cluster_info.main, dict(address=srv.address, raft_caught_up=True,
                                                                  wait_timeout=5), capsys)
    assert not failed, result
