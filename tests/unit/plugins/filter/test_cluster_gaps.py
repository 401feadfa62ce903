# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cluster_gaps: the readiness gate's verdict on the cluster a server's host read saw."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from nomad_replay import ReplayServer, exchange, fixture

from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.cluster_gaps import cluster_gaps
from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadClient, NomadConnectionError
from ansible_collections.nomadops.nomad.plugins.module_utils.cluster import ClusterInfo

NODE_IDS = ['cbf7908f-800b-95b3-8852-2b3a2f476899', '89b2ac88-189b-4392-3b39-984c36c5b5bd',
            '1d061e01-5877-3589-e753-17ce53c1d921']


def read(*exchanges):
    """The cluster as nomad_host_info reads it, from recorded answers of a real 0.9.1 cluster."""
    with ReplayServer(exchanges) as srv:
        return ClusterInfo(NomadClient(address=srv.address, timeout=5), fall_back=False).read(
            single_look=True)


@pytest.fixture(name='ready')
def ready_cluster():
    return read(fixture('status-leader'), fixture('agent-members'), fixture('nodes'))


def test_a_ready_cluster_has_no_gaps(ready):
    assert cluster_gaps(ready, 3, NODE_IDS) == []


def test_a_node_that_has_not_registered_is_a_gap(ready):
    gaps = cluster_gaps(ready, 3, NODE_IDS + ['36492a80-8800-926a-6578-939ad5aa1188'])
    assert gaps == ['nodes not ready: 36492a80-8800-926a-6578-939ad5aa1188: not registered']


def test_a_failed_server_and_a_draining_node_are_gaps(ready):
    cluster = copy.deepcopy(ready)
    cluster['servers'][2]['status'] = 'failed'
    cluster['alive_servers'] = 2
    cluster['nodes'][0]['drain'] = True
    gaps = cluster_gaps(cluster, 3, NODE_IDS)
    assert gaps == ['2 of 3 servers alive; not alive: nomad3.global (failed)',
                    'nodes not ready: cbf7908f-800b-95b3-8852-2b3a2f476899: nomad1 (ready, draining)']


def test_a_driver_the_node_does_not_report_healthy_is_a_gap(ready):
    # 0.9.1's node list says nothing of drivers; a docker client's node must.
    gaps = cluster_gaps(ready, 3, NODE_IDS, {NODE_IDS[0]: 'docker'})
    assert gaps == ['drivers not healthy: docker on nomad1 (not detected)']
    ready['nodes'][0]['drivers'] = dict(docker=dict(detected=True, healthy=True, description='Healthy'))
    assert cluster_gaps(ready, 3, NODE_IDS, {NODE_IDS[0]: ['docker']}) == []


def test_without_a_leader_nothing_else_can_be_known():
    cluster = read(exchange('GET', '/v1/status/leader', status=500, body='No cluster leader'),
                   fixture('agent-members'))
    gaps = cluster_gaps(cluster, 3, NODE_IDS)
    # The nodes are not asked for: Nomad would hold that read for seconds.
    assert gaps[0] == 'no leader elected' and gaps[1].startswith('nodes not ready: ' + NODE_IDS[0])
    assert gaps[2:] == ['not read: leader: ' + cluster['errors'][0].split(': ', 1)[1]]
    assert 'No cluster leader' in gaps[2]


def test_a_part_that_could_not_be_read_is_a_gap():
    cluster = read(fixture('status-leader'), fixture('agent-members'),
                   exchange('GET', '/v1/nodes', status=403, body='Permission denied'))
    gaps = cluster_gaps(cluster, 3, [])
    assert len(gaps) == 1 and gaps[0].startswith('not read: nodes: ') and 'Permission denied' in gaps[0]


def test_a_cluster_that_was_not_read_is_not_ready():
    assert cluster_gaps(None, 3, NODE_IDS) == ['the cluster was not read']


def test_bad_input_names_what_is_wrong(ready):
    with pytest.raises(AnsibleFilterError, match='with leader, servers, alive_servers, nodes, errors'):
        cluster_gaps({'leader': 'x'}, 3)
    with pytest.raises(AnsibleFilterError, match="expected_servers must be a number, got 'three'"):
        cluster_gaps(ready, 'three')
    with pytest.raises(AnsibleFilterError, match='drivers must map node IDs to driver names, got list'):
        cluster_gaps(ready, 3, [], ['docker'])


def test_a_single_look_asks_an_unreachable_agent_once():
    asked = []

    class Unreachable(object):
        token = None
        address = 'http://127.0.0.1:1'

        def get(self, path, params=None):
            asked.append(path)
            raise NomadConnectionError(self.address, 'timed out')

    reader = ClusterInfo(Unreachable(), fall_back=False)
    cluster = reader.read(single_look=True)
    assert asked == ['/v1/status/leader'] and reader.servers_error is not None
    assert len(cluster_gaps(cluster, 3)) == 5
    asked[:] = []
    ClusterInfo(Unreachable()).read()
    # A poll asks every part each time: the gate's "nothing could be read" needs the three errors.
    assert asked == ['/v1/status/leader', '/v1/agent/members', '/v1/nodes']
