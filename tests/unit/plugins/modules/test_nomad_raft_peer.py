# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_raft_peer: a server gone for good leaves gossip and raft, only while a quorum stays, never
while it is alive. Members and raft configuration as a real Nomad 0.9.1 cluster answered them, with
nomad3 failed and nomad4 joined in its place."""

import copy

import pytest
from nomad_replay import ReplayServer, exchange, fixture, recorded, run_module

from ansible_collections.nomadops.nomad.plugins.modules import nomad_raft_peer


# Nomad answers both with an empty 200.
FORCE_LEAVE = exchange('PUT', '/v1/agent/force-leave')


def members(**status):
    ex = copy.deepcopy(fixture('agent-members'))
    body = ex['response']['body']
    if 'nomad4' in status:
        nomad4 = copy.deepcopy(body['Members'][0])
        nomad4.update(Name='nomad4.global', Port=7648)
        nomad4['Tags']['port'] = '7647'
        body['Members'].append(nomad4)
    for member in body['Members']:
        member['Status'] = status.get(member['Name'].split('.')[0], member['Status'])
    return ex


def raft(without=(), with_nomad4=True, protocol='2'):
    ex = copy.deepcopy(recorded('009-operator-raft-configuration'))
    servers = ex['response']['body']['Servers']
    if with_nomad4:
        servers.append(dict(servers[1], ID='127.0.0.1:7647', Node='nomad4.global', Address='127.0.0.1:7647',
                            Leader=False))
    for server in servers:
        server['RaftProtocol'] = protocol
        if protocol == '3':
            server['ID'] = 'id-' + server['Node'].split('.')[0]
    ex['response']['body']['Servers'] = [s for s in servers if s['Node'].split('.')[0] not in without]
    return ex


def run(capsys, exchanges, check_mode=False, diff=False, name='nomad3'):
    with ReplayServer(exchanges) as srv:
        failed, result = run_module(nomad_raft_peer.main, dict(name=name, address=srv.address), capsys,
                                    check_mode=check_mode, diff=diff)
    return srv, failed, result


def writes(srv):
    return [(r['method'], r['path'], r['query']) for r in srv.requests if r['method'] != 'GET']


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(nomad_raft_peer, 'LEADER_DROP_WAIT', 0.3)


def test_the_leader_drops_a_peer_forced_out_of_gossip(capsys):
    srv, failed, result = run(capsys, [members(nomad3='failed', nomad4='alive'), raft(), FORCE_LEAVE,
                                       raft(without=['nomad3'])])
    assert not failed, result
    assert writes(srv) == [('PUT', '/v1/agent/force-leave', {'node': 'nomad3.global'})]
    assert result['changed'] is True and result['removed'] is True
    assert result['voters'] == ['nomad1.global', 'nomad2.global', 'nomad4.global']


def test_a_peer_the_leader_kept_is_removed_by_address_on_raft_protocol_2(capsys, monkeypatch):
    monkeypatch.setattr(nomad_raft_peer, 'LEADER_DROP_WAIT', 0)
    removed = exchange('DELETE', '/v1/operator/raft/peer')
    srv, failed, result = run(capsys, [members(nomad3='failed', nomad4='alive'), raft(), FORCE_LEAVE, raft(), removed,
                                       raft(without=['nomad3'])], name='nomad3.global')
    assert not failed, result
    assert writes(srv) == [('PUT', '/v1/agent/force-leave', {'node': 'nomad3.global'}),
                           ('DELETE', '/v1/operator/raft/peer', {'address': '127.0.0.1:6647'})]
    assert result['voters'] == ['nomad1.global', 'nomad2.global', 'nomad4.global']


def test_by_id_from_raft_protocol_3(capsys):
    removed = exchange('DELETE', '/v1/operator/raft/peer')
    srv, failed, result = run(capsys, [members(nomad3='left', nomad4='alive'), raft(protocol='3'), removed,
                                       raft(without=['nomad3'], protocol='3')])
    assert not failed, result
    # Already out of gossip: only raft is left to do.
    assert writes(srv) == [('DELETE', '/v1/operator/raft/peer', {'id': 'id-nomad3'})]


def test_an_alive_server_is_refused_before_anything_is_sent(capsys):
    srv, failed, result = run(capsys, [members(), raft()])
    assert failed and writes(srv) == []
    assert result['msg'] == ('Not removing nomad3: gossip has it alive (127.0.0.1:6647). Only a server that is gone '
                             'for good is removed; stop it first, or let it leave with `nomad server force-leave`.')


def test_no_removal_that_leaves_no_quorum(capsys):
    # nomad2 and nomad3 both failed, no replacement: one of the two voters left is alive.
    srv, failed, result = run(capsys, [members(nomad2='failed', nomad3='failed'), raft(with_nomad4=False)])
    assert failed and writes(srv) == []
    assert result['msg'].startswith('Not removing nomad3: of the 2 voters left, 1 is alive (nomad1.global), short of '
                                    'the 2 a quorum needs.')
    assert 'peers.json' in result['msg']


def test_check_mode_and_diff_say_what_would_go_and_send_nothing(capsys):
    srv, failed, result = run(capsys, [members(nomad3='failed', nomad4='alive'), raft()], check_mode=True, diff=True)
    assert not failed and writes(srv) == []
    assert result['changed'] is True
    assert result['diff'] == {'before': {'voters': ['nomad3.global', 'nomad1.global', 'nomad2.global',
                                                    'nomad4.global']},
                              'after': {'voters': ['nomad1.global', 'nomad2.global', 'nomad4.global']}}


def test_a_server_already_gone_changes_nothing(capsys):
    srv, failed, result = run(capsys, [members(nomad3='left', nomad4='alive'), raft(without=['nomad3'])])
    assert not failed and writes(srv) == [] and result['changed'] is False


def test_a_peer_autopilot_removed_meanwhile_is_not_an_error(capsys):
    # Nomad's words when the peer is already gone (nomad/operator_endpoint.go).
    gone = exchange('DELETE', '/v1/operator/raft/peer', status=500,
                    body='address "127.0.0.1:6647" was not found in the Raft configuration')
    srv, failed, result = run(capsys, [members(nomad3='left', nomad4='alive'), raft(), gone,
                                       raft(without=['nomad3'])])
    assert not failed, result
    assert result['changed'] is True and result['voters'] == ['nomad1.global', 'nomad2.global', 'nomad4.global']
