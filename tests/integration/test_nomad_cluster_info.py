# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_cluster_info through the real ``ansible`` CLI against three agents
(each server and client) on 127.0.0.1: the test double, or a real Nomad with
NOMAD_TEST_BINARY."""

import os

import pytest

from tests.integration.nomad_agents import ANSIBLE, Cluster, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad3')
    c = Cluster(nomad_binary(str(work)), work, size=3).start()
    yield c
    c.stop()


def test_ready_cluster_passes_the_gate(cluster):
    # ask a follower as well as whichever agent leads: the answer is the same
    for agent in cluster.agents:
        address = 'http://127.0.0.1:%d' % agent['http']
        rc, res = ansible('nomadops.nomad.nomad_cluster_info', dict(
            address=address, wait_for_leader=True, expected_servers=3, expected_nodes=3, wait_timeout=30),
            check=True)
        assert rc == 0, res
        assert res['changed'] is False
        assert res['leader'] == http_get(address, '/v1/status/leader')
        assert res['alive_servers'] == 3 and res['ready_nodes'] == 3
        assert len([s for s in res['servers'] if s['leader']]) == 1
        leader = [s for s in res['servers'] if s['leader']][0]
        assert res['leader'].endswith(':%d' % [a for a in cluster.agents if leader['name'].startswith(a['name'])][0]['rpc'])
        assert sorted(n['name'] for n in res['nodes']) == ['it1', 'it2', 'it3']


def test_gate_fails_naming_what_is_missing(cluster):
    rc, res = ansible('nomadops.nomad.nomad_cluster_info', dict(
        address=cluster.address, expected_servers=3, expected_nodes=4, wait_timeout=2))
    assert rc != 0
    assert 'Timed out after 2s' in res['msg'] and '3 of 4 nodes ready' in res['msg']
    assert 'servers alive' not in res['msg']
