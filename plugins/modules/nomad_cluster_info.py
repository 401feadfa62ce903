#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_cluster_info
short_description: Report a Nomad cluster's leader, servers and nodes, optionally waiting until it is ready
version_added: 0.1.0
description:
  - Reads the raft leader (C(/v1/status/leader)), the server members (C(/v1/agent/members)) and the
    client nodes (C(/v1/nodes)) through one agent.
  - Optionally waits until there is a leader, enough servers are alive and enough nodes are ready,
    and fails naming what is still missing when O(wait_timeout) passes. This makes it a readiness gate
    after (re)starting agents.
  - Only reads; it never changes the cluster.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
  - nomadops.nomad.attributes.info_module
options:
  wait_for_leader:
    description:
      - Wait until the cluster has elected a leader.
      - Implied when O(expected_servers), O(expected_nodes), O(expected_node_ids), O(expected_client_agents)
        O(expected_drivers) or O(raft_caught_up) is set.
    type: bool
    default: false
  expected_servers:
    description:
      - Wait until at least this many server members are C(alive).
    type: int
  expected_nodes:
    description:
      - Wait until at least this many client nodes are C(ready) and eligible for scheduling.
    type: int
  expected_node_ids:
    description:
      - Wait until each of these node IDs (a client's C(<data_dir>/client/client-id)) is C(ready) and eligible.
      - Stricter than O(expected_nodes) where a host has replaced its node, for example after a clone repair.
        Nomad 0.9.1 keeps the old node C(ready) until its heartbeat TTL runs out, up to five minutes after a
        leader election, so a count alone can be met before the new node has registered.
    type: list
    elements: str
  expected_client_agents:
    description:
      - HTTP addresses of client agents (C(http://10.0.0.5:4646)). Each is asked for its own node ID
        (C(/v1/agent/self)), which is then waited for as in O(expected_node_ids).
      - For agents started just now, whose node ID no file held before; this saves reading each client's
        C(client-id) after the start. The connection options other than O(address) apply to them too.
    type: list
    elements: str
  expected_drivers:
    description:
      - Task drivers that must be detected and healthy on given nodes, for example C(docker) where Docker was
        just installed or started. Keys are client agent addresses (as in O(expected_client_agents), which they
        are added to) or node IDs; values are lists of driver names.
      - A node counts as ready only when its drivers are. A gap names the node and what Nomad says of the
        driver (C(Failed to connect to docker daemon)).
    type: dict
  raft_caught_up:
    description:
      - Wait until the agent at O(address), a server, is healthy in raft's eyes - a voter in the leader's raft
        configuration, in contact with a leader, with every log entry it knows committed applied - as the gate
        between two servers of a rolling restart or upgrade.
      - Read from C(/v1/operator/raft/configuration) and the agent's own raft stats (C(/v1/agent/self)), which
        raft protocol 2 has. Where the server runs raft protocol 3 (the default from Nomad 1.3, the only one
        from 1.4), it must also be healthy in autopilot's eyes (C(/v1/operator/autopilot/health)) - alive, in
        recent contact with the leader, its log close to the leader's. Nomad answers that endpoint only when
        every server runs protocol 3, so 0.9.1's and 1.1.0's default clusters are judged without it.
      - Between turning ACLs on and their bootstrap, a server with ACLs answers those two only with a token,
        and none exists yet. Without O(token), a C(403) there makes the check fall back to what Nomad answers
        without one, C(/v1/status/leader) and C(/v1/status/peers) of the agent itself - it follows a leader
        and is among the raft peers - and RV(acl_limited) says so.
    type: bool
    default: false
  stale:
    description:
      - Ask the agent at O(address), a server, what it knows itself (Nomad's stale reads) for the leader, the
        raft configuration and the nodes, instead of having it ask the leader.
      - The roles' gates between two server restarts set it. While a running cluster moves to TLS, a restarted
        server speaks TLS on RPC and cannot forward a question to a server that has not restarted yet; and its
        own view is what says that it has rejoined.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the conditions above before failing.
    type: int
    default: 120
'''

EXAMPLES = r'''
- name: Show the cluster
  nomadops.nomad.nomad_cluster_info:
  register: cluster

- name: Wait until 3 servers and 3 ready clients form a cluster with a leader
  nomadops.nomad.nomad_cluster_info:
    wait_for_leader: true
    expected_servers: 3
    expected_nodes: 3
    wait_timeout: 180

- name: Wait until two client agents have said who they are and report Docker healthy
  nomadops.nomad.nomad_cluster_info:
    expected_client_agents:
      - http://10.0.0.5:4646
      - http://10.0.0.6:4646
    expected_drivers:
      http://10.0.0.5:4646: [docker]
      http://10.0.0.6:4646: [docker]

- name: Ask a remote agent over TLS
  nomadops.nomad.nomad_cluster_info:
    address: https://nomad1.example.com:4646
    ca_cert: /etc/nomad.d/ca.pem
    token: "{{ nomad_token }}"
'''

RETURN = r'''
leader:
  description: RPC address of the raft leader, or null when the cluster has none.
  returned: always
  type: str
  sample: 127.0.0.1:4647
servers:
  description: Server members as the agent's gossip sees them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Member name, C(<node name>.<region>).
      type: str
      sample: nomad1.global
    address:
      description: Gossip address.
      type: str
      sample: 10.0.0.11
    port:
      description: Gossip (serf) port.
      type: int
      sample: 4648
    status:
      description: Gossip status, C(alive), C(failed) or C(left); C(peer) for a raft peer when RV(acl_limited).
      type: str
      sample: alive
    leader:
      description: Whether this server is the raft leader.
      type: bool
      sample: true
    build:
      description: Nomad version of the server.
      type: str
      sample: 0.9.1
    datacenter:
      description: Datacenter of the server.
      type: str
      sample: home
    region:
      description: Region of the server.
      type: str
      sample: global
  sample:
    - name: nomad1.global
      address: 10.0.0.11
      port: 4648
      status: alive
      leader: true
      build: 0.9.1
      datacenter: home
      region: global
nodes:
  description: Client nodes. Empty when they cannot be listed (for example without a leader).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Node ID.
      type: str
      sample: 1d061e01-5877-3589-e753-17ce53c1d921
    name:
      description: Node name.
      type: str
      sample: nomad1
    datacenter:
      description: Datacenter of the node.
      type: str
      sample: home
    status:
      description: Node status, C(initializing), C(ready) or C(down).
      type: str
      sample: ready
    eligibility:
      description: Scheduling eligibility, C(eligible) or C(ineligible).
      type: str
      sample: eligible
    drain:
      description: Whether the node is draining.
      type: bool
      sample: false
    drivers:
      description: Each task driver the node reports, whether it was detected and is healthy, and Nomad's word on it.
      type: dict
      sample: {docker: {detected: true, healthy: true, description: Healthy}}
  sample:
    - id: 1d061e01-5877-3589-e753-17ce53c1d921
      name: nomad1
      datacenter: home
      status: ready
      eligibility: eligible
      drain: false
      drivers:
        docker: {detected: true, healthy: true, description: Healthy}
        raw_exec: {detected: false, healthy: false, description: disabled}
alive_servers:
  description: Number of server members with status C(alive).
  returned: always
  type: int
  sample: 3
ready_nodes:
  description: Number of nodes that are C(ready), eligible and not draining.
  returned: always
  type: int
  sample: 3
errors:
  description: Why a part could not be read (for example C(No cluster leader)); empty when all was read.
  returned: always
  type: list
  elements: str
  sample: []
acl_limited:
  description:
    - Whether the agent refused the reads that need an ACL token (C(403)) and none was given, as between turning
      ACLs on and their bootstrap. RV(servers) then lists the raft peers from C(/v1/status/peers), with no gossip
      status, and they count as RV(alive_servers).
  returned: always
  type: bool
  sample: false
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 4.2
'''

import json
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadError, NomadPermissionDenied
from ansible_collections.nomadops.nomad.plugins.module_utils.cluster import ClusterInfo
from ansible_collections.nomadops.nomad.plugins.module_utils.readiness import missing
from ansible_collections.nomadops.nomad.plugins.module_utils.common import client_from_module, nomad_argument_spec

POLL_INTERVAL = 1.0


def raft_gaps(client, stale=False, may_fall_back=False):
    """Why the agent the client talks to is not yet a caught-up raft voter; empty when it is."""
    params = dict(stale=True) if stale else None
    try:
        me, dummy = client.get('/v1/agent/self')
    except NomadPermissionDenied as e:
        if may_fall_back:
            return raft_gaps_without_token(client, params)
        return ['raft: the agent does not answer (%s)' % e]
    except NomadError as e:
        return ['raft: the agent does not answer (%s)' % e]
    raft = ((me or {}).get('stats') or {}).get('raft')
    if not raft:
        return ['raft: the agent at %s is not a server' % client.address]
    member = me.get('member') or {}
    tags = member.get('Tags') or {}
    rpc = '%s:%s' % (tags.get('rpc_addr') or member.get('Addr'), tags.get('port'))
    try:
        conf, dummy = client.get('/v1/operator/raft/configuration', params=params)
    except NomadError as e:
        return ['raft: no configuration from the leader (%s)' % e]
    voters = [s.get('Address') for s in (conf or {}).get('Servers') or [] if s.get('Voter')]
    gaps = []
    if rpc not in voters:
        gaps.append('raft: %s is not yet a voter (voters: %s)' % (rpc, ', '.join(voters) or 'none'))
    if raft.get('state') != 'Leader' and raft.get('last_contact') in (None, '', 'never'):
        gaps.append('raft: %s has had no contact with a leader yet' % rpc)
    applied, commit = int(raft.get('applied_index') or 0), int(raft.get('commit_index') or 0)
    if applied < commit:
        gaps.append('raft: %s has applied %d of %d committed entries' % (rpc, applied, commit))
    if str(tags.get('raft_vsn')) == '3':
        gaps += autopilot_gaps(client, rpc, params)
    return gaps


def autopilot_gaps(client, rpc, params):
    """Why autopilot does not count the server at ``rpc`` healthy yet; empty when it does."""
    try:
        health, dummy = client.get('/v1/operator/autopilot/health', params=params)
    except NomadAPIError as e:
        if 'raft_protocol' in (e.message or ''):
            # A rolling move from protocol 2 to 3 (Nomad 1.3): autopilot
            # judges no one until every server runs 3; the raft checks stand.
            return []
        # 429: some server is unhealthy; the body is the same report.
        try:
            health = json.loads(e.message) if e.status == 429 else None
        except ValueError:
            health = None
        if health is None:
            return ['autopilot: no server health from the leader (%s)' % e]
    except NomadError as e:
        return ['autopilot: no server health from the leader (%s)' % e]
    mine = [s for s in (health or {}).get('Servers') or [] if s.get('Address') == rpc]
    if not mine:
        return ['autopilot: %s is not among the servers autopilot tracks yet' % rpc]
    if not mine[0].get('Healthy'):
        return ['autopilot: %s is not healthy yet (serf %s, last contact %s, last index %s)'
                % (rpc, mine[0].get('SerfStatus'), mine[0].get('LastContact'), mine[0].get('LastIndex'))]
    return []


def raft_gaps_without_token(client, params):
    """What the status endpoints, which need no token, show: the agent follows a leader and is a raft peer."""
    host = urlparse(client.address).hostname
    try:
        leader, dummy = client.get('/v1/status/leader', params=params)
        peers, dummy = client.get('/v1/status/peers', params=params)
    except NomadError as e:
        return ['raft: the agent does not answer (%s)' % e]
    gaps = []
    if not any(peer.rpartition(':')[0] == host for peer in peers or []):
        gaps.append('raft: %s is not yet among the raft peers (%s)' % (host, ', '.join(peers or []) or 'none'))
    if not leader:
        gaps.append('raft: %s has had no contact with a leader yet' % host)
    return gaps


class AgentNodeIDs(object):
    """The node IDs that client agents report about themselves, asked until each has answered."""

    def __init__(self, module, addresses):
        self.module = module
        self.pending = list(addresses or ())
        self.ids = {}
        self.errors = {}

    def read(self):
        for address in list(self.pending):
            try:
                me, dummy = client_from_module(self.module, address=address).get('/v1/agent/self')
                node_id = ((me or {}).get('stats') or {}).get('client', {}).get('node_id')
            except NomadError as e:
                self.errors[address] = str(e)
                continue
            if node_id:
                self.ids[address] = node_id
                self.pending.remove(address)
            else:
                self.errors[address] = 'it is not a client'
        return list(self.ids.values())

    def gaps(self):
        return ['client agent %s has not said its node ID (%s)' % (a, self.errors.get(a, 'no answer'))
                for a in self.pending]


def main():
    argument_spec = nomad_argument_spec(
        wait_for_leader=dict(type='bool', default=False),
        expected_servers=dict(type='int'),
        expected_nodes=dict(type='int'),
        expected_node_ids=dict(type='list', elements='str'),
        expected_client_agents=dict(type='list', elements='str'),
        expected_drivers=dict(type='dict'),
        raft_caught_up=dict(type='bool', default=False),
        stale=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=120),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    for key in ('expected_servers', 'expected_nodes'):
        if p[key] is not None and p[key] < 0:
            module.fail_json(msg='%s must not be negative, got %d' % (key, p[key]))
    want_leader = p['wait_for_leader'] or any(p[key] is not None for key in (
        'expected_servers', 'expected_nodes', 'expected_node_ids', 'expected_client_agents', 'expected_drivers')) \
        or p['raft_caught_up']
    waiting = want_leader
    expected_drivers = {}
    for key, drivers in (p['expected_drivers'] or {}).items():
        drivers = [drivers] if isinstance(drivers, str) else drivers
        if not isinstance(drivers, list) or not all(isinstance(d, str) and d for d in drivers):
            module.fail_json(msg='expected_drivers: the value for %s must be a list of driver names, got %r'
                             % (key, drivers))
        expected_drivers[key] = drivers
    agent_addresses = list(p['expected_client_agents'] or [])
    agent_addresses += [key for key in expected_drivers if '://' in key and key not in agent_addresses]

    try:
        client = client_from_module(module)
    except NomadError as e:
        module.fail_json(msg='Failed to read the Nomad cluster: %s' % e)

    cluster = ClusterInfo(client, stale=p['stale'])
    agents = AgentNodeIDs(module, agent_addresses)
    start = time.monotonic()
    try:
        while True:
            info = cluster.read()
            node_ids = (p['expected_node_ids'] or []) + agents.read()
            drivers_by_id = dict((agents.ids.get(key, key), drivers) for key, drivers in expected_drivers.items()
                                 if '://' not in key or key in agents.ids)
            gaps = missing(info, want_leader, p['expected_servers'], p['expected_nodes'],
                           node_ids, drivers_by_id) + agents.gaps() if waiting else []
            if p['raft_caught_up']:
                gaps += raft_gaps(client, stale=p['stale'], may_fall_back=cluster.may_fall_back)
            elapsed = round(time.monotonic() - start, 2)
            if not gaps:
                break
            if elapsed >= p['wait_timeout']:
                detail = '; '.join(gaps)
                if info['errors']:
                    detail += ' (last errors: %s)' % '; '.join(info['errors'])
                module.fail_json(msg='Timed out after %ss waiting for the Nomad cluster at %s to be ready: %s'
                                 % (p['wait_timeout'], client.address, detail),
                                 changed=False, elapsed=elapsed, **info)
            time.sleep(min(POLL_INTERVAL, max(p['wait_timeout'] - elapsed, 0.05)))
    except Exception as e:  # the one outer handler: anything else is a bug worth reporting as such
        module.fail_json(msg='Unexpected error reading the Nomad cluster at %s: %s' % (client.address, e))

    if not waiting and len(info['errors']) == 3:
        # Nothing at all could be read: the agent is down or refuses us.
        # The three errors then usually say the same, so name the first.
        module.fail_json(msg='Failed to read the Nomad cluster: %s' % info['errors'][0].split(': ', 1)[1],
                         changed=False, elapsed=elapsed, **info)
    module.exit_json(changed=False, elapsed=elapsed, **info)


if __name__ == '__main__':
    main()
