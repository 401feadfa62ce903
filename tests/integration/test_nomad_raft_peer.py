# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_raft_peer through the real ``ansible`` CLI against three servers on 127.0.0.1 (the test double,
or a real Nomad with NOMAD_TEST_BINARY), one of which is then killed for good: refused while it is alive,
predicted in check mode, then out of gossip and raft, and nothing to do the second time."""

import os
import signal
import time
import urllib.error

import pytest

from tests.integration.nomad_agents import ANSIBLE, Cluster, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad3')
    c = Cluster(nomad_binary(str(work)), work, size=3).start()
    yield c
    c.stop()


def read(address, path):
    """A GET that outlasts a moment without a leader (500 "No cluster leader") after the kill."""
    for _attempt in range(40):
        try:
            return http_get(address, path)
        except urllib.error.HTTPError as exc:
            if exc.code != 500:
                raise
            time.sleep(0.5)
    return http_get(address, path)


def statuses(address):
    return dict((m['Name'].split('.')[0], m['Status']) for m in read(address, '/v1/agent/members')['Members'])


def voters(address):
    servers = read(address, '/v1/operator/raft/configuration')['Servers']
    return sorted(s['Node'].split('.')[0] for s in servers if s['Voter'])


def leader(address):
    try:
        return http_get(address, '/v1/status/leader')
    except urllib.error.HTTPError:
        # 500 "No cluster leader" while the two left elect one.
        return ''


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail('waited %ds for %s' % (timeout, what))


def test_a_server_gone_for_good_leaves_gossip_and_raft(cluster):
    address = cluster.address
    rc, res = ansible('nomadops.nomad.nomad_raft_peer', dict(address=address, name='it3'))
    assert rc != 0 and res['msg'].startswith('Not removing it3: gossip has it alive')
    assert voters(address) == ['it1', 'it2', 'it3']

    # The host is gone: the agent dies without leaving.
    os.killpg(cluster.procs[2].pid, signal.SIGKILL)
    cluster.procs[2].wait()
    wait_for('it3 to fail in gossip', lambda: statuses(address).get('it3', 'gone') != 'alive')
    wait_for('a leader among the two left', lambda: leader(address))
    # A real Nomad's autopilot (cleanup_dead_servers, on by default) may remove it3 by itself at any point
    # from here; the double has no autopilot cleanup, so there the module must do it all.
    autopilot = bool(os.environ.get('NOMAD_TEST_BINARY'))
    rc, res = ansible('nomadops.nomad.nomad_raft_peer', dict(address=address, name='it3'), check=True, diff=True)
    assert rc == 0, res
    assert sorted(res['voters']) == ['it1.global', 'it2.global']
    assert res['changed'] is True or autopilot, res
    print('check mode: changed=%s, it3 %s' % (res['changed'], statuses(address).get('it3')))

    rc, res = ansible('nomadops.nomad.nomad_raft_peer', dict(address=address, name='it3'))
    assert rc == 0, res
    assert res['changed'] is True or autopilot, res
    print('removal: changed=%s' % res['changed'])
    assert sorted(res['voters']) == ['it1.global', 'it2.global']
    assert voters(address) == ['it1', 'it2']
    assert statuses(address)['it3'] == 'left'

    rc, res = ansible('nomadops.nomad.nomad_raft_peer', dict(address=address, name='it3'))
    assert rc == 0 and res['changed'] is False, res
