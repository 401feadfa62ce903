# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""server_restart_reasons and server_outage: a run that needs every server stops, in one message,
when one is down."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.server_outage import (
    FilterModule, lost_servers, server_outage, server_restart_reasons, servers_down)

SERVERS = ['nomad1', 'nomad2', 'nomad3']
OFF = dict(tls=False, tls_rpc=False, tls_http=False, rpc_upgrade_mode=False, acl=False, gossip=False,
           gossip_key_sha256=None)
WANTED = dict(version='0.9.1', tls_rpc=False, tls_http=False, acl=False, gossip=False, gossip_key_sha256=None,
              clients=['nomad1', 'nomad2', 'nomad3', 'nomad4'], repair_clones=True)
UNREACHABLE = {'unreachable': True, 'msg': 'Failed to connect to the host via podman', 'changed': False}


def read(active=True, version='0.9.1', address='10.89.0.2', members=None, **security):
    return dict(service=dict(installed=True, active=active, enabled=True), services={}, nomad_version=version,
                security=dict(OFF, **security), interfaces={'eth0': address}, members=members)


def member(name, status, address='10.89.0.9'):
    return dict(name=name + '.global', address=address, status=status)


def reads_with_nomad3(nomad3, **kwargs):
    return {'nomad1': read(**kwargs), 'nomad2': read(address='10.89.0.3', **kwargs), 'nomad3': nomad3}


def test_registered():
    filters = FilterModule().filters()
    assert filters['server_restart_reasons'] is server_restart_reasons
    assert filters['server_outage'] is server_outage
    assert filters['servers_down'] is servers_down
    assert filters['lost_servers'] is lost_servers


# ---- server_restart_reasons -------------------------------------------------------

def test_a_converged_cluster_needs_nothing():
    reads = {'nomad1': read(), 'nomad2': read(), 'nomad3': read()}
    assert server_restart_reasons(reads, SERVERS, WANTED) == {}


def test_an_upgrade_of_running_servers_but_not_of_stopped_ones_or_clients():
    reads = {'nomad1': read(), 'nomad2': read(active=False), 'nomad4': read()}
    assert server_restart_reasons(reads, SERVERS, dict(WANTED, version='1.1.0')) == {'upgrade': ['nomad1']}


def test_tls_acl_gossip_docker_and_repair_each_name_their_hosts_in_play_order():
    reads = {'nomad2': read(gossip=True, gossip_key_sha256='aa'), 'nomad1': read(gossip=True, gossip_key_sha256='bb'),
             'nomad4': read()}
    reads['nomad2']['services'] = {'docker': dict(installed=True, active=False, enabled=True)}
    # nomad4 is a running clone of nomad1: nomad1 keeps the node and restarts, nomad4 gets fresh state.
    for host in ('nomad1', 'nomad4'):
        reads[host].update(node_id='36492a80-8800-926a-6578-939ad5aa1188', node_secret_digest='5f0c')
    wanted = dict(WANTED, tls_rpc=True, tls_http=True, acl=True, gossip=True, gossip_key_sha256='bb')
    assert server_restart_reasons(reads, SERVERS, wanted) == {
        'tls': ['nomad2', 'nomad1'], 'acl': ['nomad2', 'nomad1'], 'gossip': ['nomad2'], 'docker': ['nomad2'],
        'repair': ['nomad1', 'nomad4']}


def test_clones_are_not_repaired_when_repair_is_off_or_they_do_not_run():
    reads = {'nomad1': read(), 'nomad4': read(active=False)}
    for host in reads:
        reads[host].update(node_id='36492a80-8800-926a-6578-939ad5aa1188', node_secret_digest='5f0c')
    assert server_restart_reasons(reads, SERVERS, WANTED) == {'repair': ['nomad1']}
    assert server_restart_reasons(reads, SERVERS, dict(WANTED, repair_clones=False)) == {}


def test_a_tls_pass_left_half_done_and_a_new_gossip_key_count():
    reads = {'nomad1': read(tls=True, tls_rpc=True, rpc_upgrade_mode=True, gossip=True, gossip_key_sha256='aa')}
    wanted = dict(WANTED, tls_rpc=True, gossip=True)
    assert server_restart_reasons(reads, SERVERS, wanted) == {'tls': ['nomad1'], 'gossip': ['nomad1']}


def test_what_the_agents_run_counts_not_what_their_files_say():
    # A run cut off between writing upgrade-mode files everywhere and restarting nomad1: nomad1's files
    # say what the wanted TLS pass needs, but the agent still runs plaintext, and nomad2's binary was
    # replaced without a restart.
    reads = {'nomad1': read(tls=True, tls_rpc=True), 'nomad2': read(tls=True, tls_rpc=True)}
    reads['nomad1']['running'] = dict(tls_rpc=False, tls_http=False, rpc_upgrade_mode=False, acl=False)
    reads['nomad2']['running'] = dict(tls_rpc=True, tls_http=False, rpc_upgrade_mode=False, acl=False)
    reads['nomad2']['changed_since_start'] = ['/usr/local/bin/nomad']
    assert server_restart_reasons(reads, SERVERS, dict(WANTED, tls_rpc=True)) == {
        'tls': ['nomad1'], 'config': ['nomad2']}


def test_reasons_want_dicts():
    with pytest.raises(AnsibleFilterError, match='reads must be a dict'):
        server_restart_reasons([], SERVERS, WANTED)


# ---- server_outage ----------------------------------------------------------------

def test_nothing_to_say_when_every_server_is_up_or_the_run_needs_none():
    reads = reads_with_nomad3(read(address='10.89.0.4'))
    assert server_outage(reads, SERVERS, SERVERS, {'upgrade': ['nomad1']}) == ''
    down = reads_with_nomad3(read(active=False, address='10.89.0.4'))
    assert server_outage(down, SERVERS, ['nomad1', 'nomad2'], {}) == ''


def test_the_issue_an_upgrade_with_nomad3_unreachable():
    msg = server_outage(reads_with_nomad3(UNREACHABLE), SERVERS, ['nomad1', 'nomad2'],
                        {'upgrade': ['nomad1', 'nomad2']}, addresses={'nomad3': '10.89.0.4'})
    assert msg == (
        'Nomad server nomad3 is down (unreachable), and this run would install another Nomad release on nomad1 '
        "and nomad2 and restart them; write every host's files without the address of nomad3, which they name. "
        'With 3 servers a leader needs 2 of them alive (a quorum): restarting '
        'another server would leave 1, and the cluster without a leader. Nothing was changed. Bring nomad3 back, '
        'then run again; for a server that is gone for good, name a new server in its place in nomad_servers, '
        'and the run replaces it (docs/roles.md).')


def test_a_server_that_could_not_be_read_has_no_address_which_is_a_reason_of_its_own():
    msg = server_outage(reads_with_nomad3(UNREACHABLE), SERVERS, ['nomad1', 'nomad2'], {})
    assert msg.startswith("Nomad server nomad3 is down (unreachable), and this run would write every host's files "
                          "without the address of nomad3, which they name. With 3 servers")
    assert 'Nothing was changed.' in msg


def test_a_stopped_agent_in_the_play_is_started_not_down():
    reads = reads_with_nomad3(read(active=False, address='10.89.0.4'))
    assert server_outage(reads, SERVERS, SERVERS, {'upgrade': ['nomad1', 'nomad2']}) == ''
    assert servers_down(reads, SERVERS, SERVERS) == {}
    assert servers_down(reads, SERVERS, ['nomad1', 'nomad2']) == {
        'nomad3': 'its agent is not running, and this play does not start it'}


def test_outside_the_play_a_stopped_agent_or_a_failed_read_is_down():
    reads = reads_with_nomad3(read(active=False, address='10.89.0.4'))
    reads['nomad2'] = read(active=False, address='10.89.0.3')
    msg = server_outage(reads, SERVERS, ['nomad1'], {'config': ['nomad1']})
    assert msg.startswith('Nomad servers nomad2 (its agent is not running, and this play does not start it) and '
                          'nomad3 (its agent is not running, and this play does not start it) are down, and this run '
                          'would restart nomad1 for a change of its configuration, binary, unit or TLS files. '
                          'With 3 servers a leader needs 2 of them alive (a quorum), and 1 is: the cluster has no '
                          'leader now. Nothing was changed. Bring nomad2 and nomad3 back')
    reads['nomad3'] = {'failed': True, 'msg': 'Failed to read the node identity in /opt/nomad/client: denied'}
    msg = server_outage(reads, SERVERS, ['nomad1', 'nomad2'], {'config': ['nomad1']})
    assert msg.startswith('Nomad server nomad3 is down (not readable: Failed to read the node identity in '
                          '/opt/nomad/client: denied), and this run')
    # A server of the play that dropped out before its read was registered.
    for nothing in ({}, None):
        reads['nomad3'] = nothing
        assert servers_down(reads, SERVERS, ['nomad1', 'nomad2'], {'nomad3': '10.89.0.4'}) == {'nomad3': 'unreachable'}


def test_a_server_the_inventory_does_not_name_counts_and_the_quorum_follows_the_cluster_size():
    members = [member('nomad1', 'alive', '10.89.0.2'), member('nomad2', 'alive', '10.89.0.3'),
               member('nomad3', 'alive', '10.89.0.4'), member('nomad4', 'failed'), member('nomad5', 'alive', '10.9'),
               member('old', 'left', '10.8')]
    reads = reads_with_nomad3(read(address='10.89.0.4'), members=members)
    msg = server_outage(reads, SERVERS, SERVERS, {'upgrade': SERVERS})
    assert msg.startswith("Nomad server nomad4 is down (failed in the cluster's gossip, and not in nomad_servers), "
                          'and this run would install another Nomad release on nomad1, nomad2 and nomad3 and restart '
                          'them. With 5 servers a leader needs 3 of them alive (a quorum): restarting another server '
                          'would leave 3, one failure away from losing the leader, and each restart waits until '
                          'every server is alive again. Nothing was changed. Bring nomad4 back')


def test_members_match_the_inventory_by_name_or_address():
    members = [member('nomad1', 'alive', '10.89.0.2'),
               dict(name='ip-10-89-0-4.global', address='10.89.0.4', status='failed')]
    reads = reads_with_nomad3(UNREACHABLE, members=members)
    msg = server_outage(reads, SERVERS, ['nomad1', 'nomad2'], {'gossip': ['nomad1']},
                        addresses={'nomad3': '10.89.0.4'})
    assert msg.startswith('Nomad server nomad3 is down (unreachable), and this run would rotate the gossip key of '
                          'nomad1, which every server must take; write every host')


def test_seven_servers_two_down_still_keep_a_quorum_through_one_restart():
    servers = ['s%d' % i for i in range(1, 8)]
    reads = dict((s, read(address='10.0.0.%d' % i)) for i, s in enumerate(servers))
    reads['s6'] = reads['s7'] = UNREACHABLE
    msg = server_outage(reads, servers, servers[:5], {'tls': ['s1'], 'acl': ['s1'], 'repair': ['s2']},
                        addresses={'s6': '10.0.0.6', 's7': '10.0.0.7'})
    assert msg.startswith('Nomad servers s6 (unreachable) and s7 (unreachable) are down, and this run would change '
                          'TLS on s1, which restarts it; turn ACLs on or off on s1, which restarts it; give the cloned '
                          's2 fresh client state, restarting it; write every host\'s files without the address of s6 and s7, '
                          'which they name. With 7 servers a leader needs 4 of them alive (a '
                          'quorum): restarting another server would leave 4, one failure away from losing the leader')


def test_docker_and_several_hosts_read_their_own_pronouns():
    msg = server_outage(reads_with_nomad3(UNREACHABLE), SERVERS, ['nomad1', 'nomad2'],
                        {'docker': ['nomad1', 'nomad2']}, addresses={'nomad3': '10.89.0.4'})
    assert 'would install or start Docker on nomad1 and nomad2 and restart their agent;' in msg
    msg = server_outage(reads_with_nomad3(UNREACHABLE), SERVERS, ['nomad1', 'nomad2'], {'docker': ['nomad1']},
                        addresses={'nomad3': '10.89.0.4'})
    assert 'would install or start Docker on nomad1 and restart its agent;' in msg


def test_what_was_already_replaced_is_said_instead_of_nothing():
    msg = server_outage(reads_with_nomad3(UNREACHABLE), SERVERS, ['nomad1', 'nomad2'], {'config': ['nomad1']},
                        addresses={'nomad3': '10.89.0.4'}, changed=['nomad1', 'nomad4'])
    assert 'Nothing was changed' not in msg
    assert ('No agent was restarted and no configuration file was written; the binary, unit or TLS files of nomad1 '
            'and nomad4 were already replaced, so restart their agent once every server is back.') in msg


def test_nine_servers_two_down_say_how_many_failures_are_left():
    servers = ['s%d' % i for i in range(1, 10)]
    reads = dict((s, read(address='10.0.0.%d' % i)) for i, s in enumerate(servers))
    reads['s8'] = reads['s9'] = UNREACHABLE
    msg = server_outage(reads, servers, servers[:7], {'upgrade': ['s1']}, addresses={'s8': 'a', 's9': 'b'})
    assert ('With 9 servers a leader needs 5 of them alive (a quorum): restarting another server would leave 6, '
            '2 failures away from losing the leader') in msg


def test_outage_wants_dicts():
    with pytest.raises(AnsibleFilterError, match='reasons must be a dict'):
        server_outage({}, SERVERS, SERVERS, ['upgrade'])


# ---- lost_servers: a server gone for good, replaced in the inventory ------------------------------

def test_a_failed_server_the_inventory_replaced_is_lost_not_down():
    # nomad3's host is gone; the inventory names nomad4 instead, whose agent this run starts.
    gone = [member('nomad1', 'alive', '10.89.0.2'), member('nomad2', 'alive', '10.89.0.3'),
            member('nomad3', 'failed', '10.89.0.4')]
    servers = ['nomad1', 'nomad2', 'nomad4']
    reads = {'nomad1': read(members=gone), 'nomad2': read(address='10.89.0.3', members=gone),
             'nomad4': read(active=False, address='10.89.0.5')}
    play = ['nomad1', 'nomad2', 'nomad4']
    assert lost_servers(reads, servers, play) == ['nomad3']
    assert servers_down(reads, servers, play) == {}
    # Its files change on nomad1 and nomad2 (every server's address): allowed, the walk removes nomad3 first.
    assert server_outage(reads, servers, play, {'config': ['nomad1', 'nomad2']}) == ''


def test_without_a_replacement_or_a_quorum_a_failed_server_stays_down():
    gone = [member('nomad2', 'failed', '10.89.0.3'), member('nomad3', 'failed', '10.89.0.4')]
    # No server this run starts: the inventory just does not name nomad3.
    reads = {'nomad1': read(members=gone[1:]), 'nomad2': read(address='10.89.0.3', members=gone[1:])}
    assert lost_servers(reads, SERVERS[:2], SERVERS[:2]) == []
    assert 'nomad3' in servers_down(reads, SERVERS[:2], SERVERS[:2])
    # Two of three lost at once: the one left holds no quorum, so nothing is replaced (peers.json is by hand).
    reads = {'nomad1': read(members=gone), 'nomad4': read(active=False), 'nomad5': read(active=False)}
    servers = ['nomad1', 'nomad4', 'nomad5']
    assert lost_servers(reads, servers, servers) == []
    assert set(servers_down(reads, servers, servers)) == {'nomad2', 'nomad3'}


def test_a_raft_voter_that_gossip_forgot_is_lost_by_its_address():
    # As a real 0.9.1 left it: autopilot forced nomad3 out of gossip, raft still counts it as "(unknown)".
    gone = [member('nomad1', 'alive', '10.89.0.2'), member('nomad2', 'alive', '10.89.0.3')]
    peers = [dict(node='nomad1.global', address='10.89.0.2:4647', voter=True),
             dict(node='nomad2.global', address='10.89.0.3:4647', voter=True),
             dict(node='(unknown)', address='10.89.0.4:4647', voter=True)]
    servers = ['nomad1', 'nomad2', 'nomad4']
    reads = {'nomad1': dict(read(members=gone), raft_peers=peers),
             'nomad2': dict(read(address='10.89.0.3', members=gone), raft_peers=peers),
             'nomad4': read(active=False, address='10.89.0.5')}
    assert lost_servers(reads, servers, servers) == ['10.89.0.4:4647']
    assert servers_down(reads, servers, servers) == {}
    # Not replaced: it is down, and a restart of nomad1 or nomad2 would leave no quorum.
    assert servers_down(reads, servers[:2], servers[:2]) == {
        '10.89.0.4:4647': "a raft voter that the cluster's gossip has not alive, and not in nomad_servers"}
    message = server_outage(reads, servers[:2], servers[:2], {'config': ['nomad1']})
    assert message.startswith('Nomad server 10.89.0.4:4647 is down') and 'without a leader' in message
