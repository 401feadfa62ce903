# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.upgrade_problem import (
    FilterModule, cluster_upgrade_problems, upgrade_notice, upgrade_problem)


def test_registered_and_quiet_when_fine_or_nothing_installed():
    assert FilterModule().filters()['upgrade_problem'] is upgrade_problem
    assert upgrade_problem(None, '0.9.1') == '' and upgrade_problem('0.9.0', '0.9.1') == ''


def test_says_why_not():
    assert upgrade_problem('0.9.1', '1.1.0').endswith('go through 0.10.x first')
    assert 'nomad_allow_downgrade' in upgrade_problem('0.9.1', '0.9.0')
    assert upgrade_problem('0.9.1', '0.9.0', allow_downgrade=True) == ''


def test_a_target_that_is_no_version_is_an_error():
    with pytest.raises(AnsibleFilterError, match='not a Nomad release version'):
        upgrade_problem('0.9.1', 'latest')


# ---- cluster_upgrade_problems ---------------------------------------------------

def _same(hosts, installed, target):
    return dict((h, [installed, target]) for h in hosts)


HOSTS = ['nomad1', 'nomad2', 'nomad3']


def test_cluster_registered_and_empty_when_every_move_is_fine():
    assert FilterModule().filters()['cluster_upgrade_problems'] is cluster_upgrade_problems
    assert cluster_upgrade_problems(_same(HOSTS, '1.2.16', '1.3.16'), _same(HOSTS, '1.2.16', '1.3.16')) == []
    # A first install, and a converged re-run.
    assert cluster_upgrade_problems(_same(HOSTS, None, '1.6.5'), _same(HOSTS, None, '1.6.5')) == []
    assert cluster_upgrade_problems(_same(HOSTS, '1.6.5', '1.6.5'), {}) == []


def test_hosts_with_the_same_reason_are_named_together_once():
    moves = _same(HOSTS, '1.1.0', '1.3.16')
    problems = cluster_upgrade_problems(moves, moves)
    assert problems == ['nomad1, nomad2, nomad3: Nomad 1.1.0 is installed and 1.3.16 was asked for: Nomad supports '
                        'upgrading one point release at a time, so go through 1.2.x first']


def test_hosts_with_different_releases_get_a_reason_each():
    servers = {'nomad1': ['1.1.0', '1.3.16'], 'nomad2': ['1.2.16', '1.3.16'], 'nomad3': ['1.3.16', '1.2.16']}
    problems = cluster_upgrade_problems(servers, {})
    assert len(problems) == 2
    assert problems[0].startswith('nomad1: Nomad 1.1.0 is installed') and 'go through 1.2.x' in problems[0]
    assert problems[1].startswith('nomad3: Nomad 1.3.16 is installed and 1.2.16 was asked for')
    assert 'even with nomad_allow_downgrade' in problems[1]


def test_a_downgrade_across_the_state_migration_is_refused_even_when_allowed():
    problems = cluster_upgrade_problems(_same(HOSTS, '1.3.16', '1.2.16'), {}, allow_downgrade=True)
    assert len(problems) == 1 and 'migrated this host' in problems[0]
    assert cluster_upgrade_problems(_same(HOSTS, '1.2.16', '1.1.0'), {}, allow_downgrade=True) == []


def test_clients_may_not_go_ahead_of_the_servers():
    # --limit to a client, or a play of clients alone: the servers outside it stay.
    servers = _same(HOSTS, '1.2.16', '1.2.16')
    clients = _same(['client1', 'client2'], '1.2.16', '1.3.16')
    problems = cluster_upgrade_problems(servers, clients)
    assert problems == ['client1, client2: the client would run Nomad 1.3.16 while server nomad1 runs 1.2.16; '
                        'upgrade the servers first']


def test_servers_from_1_9_wait_for_clients_older_than_1_6():
    servers = _same(HOSTS, '1.8.4', '1.9.0')
    problems = cluster_upgrade_problems(servers, {'old': ['1.5.12', '1.5.12'], 'new': ['1.8.4', '1.8.4']})
    assert len(problems) == 1
    assert problems[0].startswith('old: Nomad 1.9.0 servers (nomad1) refuse clients older than 1.6.0')
    assert 'upgrade it to 1.6.x or later first' in problems[0]


def test_cluster_input_that_is_not_host_pairs_is_an_error():
    with pytest.raises(AnsibleFilterError, match=r'servers must be a dict'):
        cluster_upgrade_problems(['nomad1'], {})
    with pytest.raises(AnsibleFilterError, match=r'clients\[nomad1\] must be \[installed, target\]'):
        cluster_upgrade_problems({}, {'nomad1': '1.2.16'})
    with pytest.raises(AnsibleFilterError, match='not a Nomad release version'):
        cluster_upgrade_problems({'nomad1': ['1.2.16', 'latest']}, {})


# ---- upgrade_notice -------------------------------------------------------------

def test_notice_registered_and_empty_without_a_crossing():
    assert FilterModule().filters()['upgrade_notice'] is upgrade_notice
    assert upgrade_notice(None, '1.3.16') == ''
    assert upgrade_notice('', '1.3.16') == ''
    assert upgrade_notice('1.3.16', '1.3.16') == ''
    assert upgrade_notice('1.1.0', '1.2.16') == ''
    assert upgrade_notice('0.9.0', '0.9.1') == ''


def test_notice_of_each_release_crossed():
    assert upgrade_notice('1.2.16', '1.3.16').startswith('Nomad 1.3.0 migrates')
    assert 'raft protocol 3' in upgrade_notice('1.2.16', '1.3.16')
    assert upgrade_notice('1.3.16', '1.4.14') == 'Nomad 1.4.0 supports raft protocol 3 only.'
    assert 'older than 1.6.0' in upgrade_notice('1.8.4', '1.9.0')
    assert 'workload identity' in upgrade_notice('1.9.7', '1.10.0')


def test_notice_for_several_hosts_covers_what_the_oldest_crosses():
    both = upgrade_notice(['1.3.16', None, '1.2.16', '1.3.16'], '1.4.14')
    assert both.startswith('Nomad 1.3.0 migrates') and both.endswith('Nomad 1.4.0 supports raft protocol 3 only.')
    assert both.count('Nomad 1.4.0') == 1
    # 1.10 sorts after 1.9, not before 1.2.
    assert upgrade_notice(['1.10.0', '1.9.7'], '1.10.1').startswith('Nomad 1.10.0')
    assert upgrade_notice([None, None], '1.3.16') == ''
    assert upgrade_notice([], '1.3.16') == ''


def test_notice_of_what_is_no_version_is_an_error():
    with pytest.raises(AnsibleFilterError, match='upgrade_notice: not a Nomad release version'):
        upgrade_notice(['1.2.16', 'latest'], '1.3.16')
    with pytest.raises(AnsibleFilterError, match='upgrade_notice: not a Nomad release version'):
        upgrade_notice('1.2.16', 'latest')


def test_upgrade_migrates_state_across_1_3_only():
    from ansible_collections.nomadops.nomad.plugins.filter.upgrade_problem import upgrade_migrates_state
    assert upgrade_migrates_state('1.2.16', '1.3.16') is True
    assert upgrade_migrates_state(['1.3.16', '1.2.16', None], '1.3.16') is True
    assert upgrade_migrates_state(['1.3.16', '1.3.16'], '1.4.14') is False
    assert upgrade_migrates_state('1.1.0', '1.2.16') is False
    assert upgrade_migrates_state([None, None], '1.3.16') is False
    assert upgrade_migrates_state(None, '1.6.5') is False
