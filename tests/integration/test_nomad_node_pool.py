# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_node_pool through the real ``ansible`` CLI, against one Nomad agent on
127.0.0.1 whose client joins the pool ``edge`` by its own config: the test
double built as 1.6.5 by default, a real Nomad 1.6 (or newer) binary when
NOMAD_TEST_BINARY names one.

Order: check mode -> create -> apply again (unchanged) -> update -> an
independent reader -> absent (check mode, real, again); then the built-in
pools and a pool that still has a node.
"""

import os
import subprocess
import sys
import urllib.error
from unittest import mock

import pytest

from tests.integration import nomad_agents
from tests.integration.nomad_agents import ANSIBLE, ROOT, Cluster, ansible, http_get

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

MODULE = 'nomadops.nomad.nomad_node_pool'
CLIENT_POOL = 'edge'


def binary(workdir):
    """NOMAD_TEST_BINARY, else the double built as 1.6.5 (nomad_agents builds it as 0.9.1)."""
    real = os.environ.get('NOMAD_TEST_BINARY')
    if real:
        return nomad_agents.nomad_binary(workdir)
    out = os.path.join(workdir, 'nomad')
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), out,
                           '--version', '1.6.5'], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.fail('building the test double failed (%d): %s%s' % (proc.returncode, proc.stdout, proc.stderr))
    return out


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad-pools')
    # The harness's one config, with this client in a pool of its own.
    config = nomad_agents.AGENT_HCL.replace('network_interface = "lo"',
                                            'network_interface = "lo"\n  node_pool         = "%s"' % CLIENT_POOL)
    assert config != nomad_agents.AGENT_HCL
    with mock.patch.object(nomad_agents, 'AGENT_HCL', config):
        c = Cluster(binary(str(work)), work, size=1).start()
    version = http_get(c.address, '/v1/agent/self')['config']['Version']['Version']
    if tuple(int(x) for x in version.split('.')[:2]) < (1, 6):
        c.stop()
        pytest.skip('node pools need Nomad 1.6 or newer; NOMAD_TEST_BINARY runs %s' % version)
    yield c
    c.stop()


def pool(cluster, name):
    """An independent reader: plain urllib, not the collection's client."""
    try:
        return http_get(cluster.address, '/v1/node/pool/%s' % name)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def args(cluster, **extra):
    out = dict(name='gpu', address=cluster.address)
    out.update(extra)
    return out


def test_create_reapply_update_delete(cluster):
    wanted = args(cluster, description='Hosts with a GPU', meta={'team': 'ml', 'gpus': 2})

    # 1. check mode: it would be created, nothing is written
    rc, res = ansible(MODULE, wanted, check=True, diff=True)
    assert rc == 0, res
    assert res['changed'] is True
    assert res['diff'] == {'before': {}, 'after': {'name': 'gpu', 'description': 'Hosts with a GPU',
                                                   'meta': {'team': 'ml', 'gpus': '2'}}}
    assert pool(cluster, 'gpu') is None

    # 2. create
    rc, res = ansible(MODULE, wanted)
    assert rc == 0, res
    assert res['changed'] is True and res['version'].startswith('1.')
    got = pool(cluster, 'gpu')
    assert (got['Name'], got['Description'], got['Meta']) == ('gpu', 'Hosts with a GPU', {'team': 'ml', 'gpus': '2'})
    created = got['CreateIndex']

    # 3. the same again: nothing to write
    rc, res = ansible(MODULE, wanted, diff=True)
    assert rc == 0, res
    assert res['changed'] is False
    assert pool(cluster, 'gpu')['ModifyIndex'] == got['ModifyIndex']

    # 4. a new description; the meta, not given, stays
    rc, res = ansible(MODULE, args(cluster, description='Hosts with two GPUs'), diff=True)
    assert rc == 0, res
    assert res['changed'] is True
    assert res['diff']['before']['description'] == 'Hosts with a GPU'
    assert res['diff']['after'] == {'name': 'gpu', 'description': 'Hosts with two GPUs',
                                    'meta': {'team': 'ml', 'gpus': '2'}}
    assert 'ModifyIndex' not in res['diff']['before']
    got = pool(cluster, 'gpu')
    assert (got['Description'], got['Meta'], got['CreateIndex']) == ('Hosts with two GPUs',
                                                                     {'team': 'ml', 'gpus': '2'}, created)
    assert got['ModifyIndex'] > created

    # 5. absent: checked, done, done again
    rc, res = ansible(MODULE, args(cluster, state='absent'), check=True)
    assert rc == 0 and res['changed'] is True
    assert pool(cluster, 'gpu') is not None
    rc, res = ansible(MODULE, args(cluster, state='absent'))
    assert rc == 0 and res['changed'] is True and res['node_pool'] is None
    assert pool(cluster, 'gpu') is None
    assert 'gpu' not in [p['Name'] for p in http_get(cluster.address, '/v1/node/pools')]
    rc, res = ansible(MODULE, args(cluster, state='absent'))
    assert rc == 0 and res['changed'] is False


def test_the_built_in_pools_stay_as_they_are(cluster):
    rc, res = ansible(MODULE, args(cluster, name='default'))
    assert rc == 0 and res['changed'] is False
    assert res['node_pool'] == {'name': 'default', 'description': 'Default node pool.', 'meta': {}}

    rc, res = ansible(MODULE, args(cluster, name='all', description='Mine'))
    assert rc != 0 and res['msg'] == "Failed to write node pool 'all': modifying node pool \"all\" is not allowed"
    rc, res = ansible(MODULE, args(cluster, name='default', state='absent'))
    assert rc != 0
    assert res['msg'] == "Failed to delete node pool 'default': deleting node pool \"default\" is not allowed"
    assert pool(cluster, 'all')['Description'] == 'Node pool with all nodes in the cluster.'
    assert pool(cluster, 'default') is not None


def test_a_client_pool_is_reported_and_kept_while_it_has_nodes(cluster):
    nodes = http_get(cluster.address, '/v1/nodes')
    assert [n['NodePool'] for n in nodes] == [CLIENT_POOL]
    assert http_get(cluster.address, '/v1/node/%s' % nodes[0]['ID'])['NodePool'] == CLIENT_POOL
    # The client's registration created it, bare.
    got = pool(cluster, CLIENT_POOL)
    assert (got['Description'], got['Meta']) == ('', None)

    rc, res = ansible(MODULE, args(cluster, name=CLIENT_POOL, state='absent'))
    assert rc != 0
    assert res['msg'].startswith("Failed to delete node pool 'edge': ")
    assert 'node pool "edge" has nodes in regions: [global]' in res['msg']
    assert pool(cluster, CLIENT_POOL) is not None

    rc, res = ansible(MODULE, args(cluster, name=CLIENT_POOL, description='At the edge'))
    assert rc == 0 and res['changed'] is True
    assert pool(cluster, CLIENT_POOL)['Description'] == 'At the edge'
