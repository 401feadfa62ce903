#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_raft_peer
short_description: Remove a Nomad server that is gone for good from gossip and from raft
version_added: 0.6.0
description:
  - For a server whose host is gone and will not come back. While it stays a raft voter, the cluster needs more
    servers alive for a quorum than it has, and one more failure or restart can leave it without a leader.
  - The server is named as C(nomad server members) shows it, with or without its region, or by its raft address.
  - "In Nomad's order: C(force-leave) in gossip first (C(/v1/agent/force-leave), asked of the server the module
    talks to), which lets the leader drop the peer by itself; then, if raft still has it, the peer is removed
    (C(/v1/operator/raft/peer)) - by address on raft protocol 2, by ID from protocol 3."
  - Refused, before anything is sent, for a server that gossip still has C(alive), and when the voters left
    alive would not hold a quorum of the voters left. A cluster that has lost its quorum already needs Nomad's
    C(peers.json) recovery, by hand; the module does not guess at it.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads gossip and raft and reports what would be removed; sends nothing else.
  diff_mode:
    support: full
    description: Shows the raft voters before and after.
options:
  name:
    description:
      - The server, as its gossip member name (C(nomad3) or C(nomad3.global)) or its raft address
        (C(10.89.0.4:4647)).
    type: str
    required: true
  state:
    description:
      - Only V(absent). A server joins by starting with the cluster's C(server_join) or C(retry_join), which the
        roles write.
    type: str
    choices: [absent]
    default: absent
notes:
  - Needs a management token once ACLs are on.
  - The connection option O(namespace) is not used by this module.
seealso:
  - name: Nomad outage recovery
    description: Failure of a server, and the manual peers.json recovery when quorum is lost.
    link: https://developer.hashicorp.com/nomad/tutorials/manage-clusters/outage-recovery
'''

EXAMPLES = r'''
- name: Remove nomad3, whose host is gone, once its replacement has joined
  nomadops.nomad.nomad_raft_peer:
    name: nomad3
    state: absent
  delegate_to: nomad1
'''

RETURN = r'''
removed:
  description: Whether the server was (or, in check mode, would be) removed from gossip or raft.
  returned: always
  type: bool
  sample: true
voters:
  description: The raft voters after the call (in check mode, as they would be), by node name.
  returned: always
  type: list
  elements: str
  sample: [nomad1.global, nomad2.global, nomad4.global]
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadError
from ansible_collections.nomadops.nomad.plugins.module_utils.common import client_from_module, nomad_argument_spec

# The leader drops a peer that gossip says has left within a moment; the
# explicit removal is for a peer it did not drop by then.
LEADER_DROP_WAIT = 5.0


def matches(name, member_name, address):
    """Whether ``name`` (node name, node.region or ip:port) names this member or peer."""
    return name in (member_name, (member_name or '').rsplit('.', 1)[0], address)


class Cluster(object):
    def __init__(self, client):
        self.client = client

    def members(self):
        body, dummy = self.client.get('/v1/agent/members')
        return [dict(name=m.get('Name'), address='%s:%s' % (m.get('Addr'), (m.get('Tags') or {}).get('port')),
                     host=m.get('Addr'), status=m.get('Status'))
                for m in (body or {}).get('Members') or []]

    def peers(self):
        body, dummy = self.client.get('/v1/operator/raft/configuration')
        return (body or {}).get('Servers') or []

    def force_leave(self, member):
        self.client.put('/v1/agent/force-leave', params=dict(node=member))

    def remove_peer(self, peer):
        by_id = int(peer.get('RaftProtocol') or 2) >= 3
        self.client.delete('/v1/operator/raft/peer', params=dict(id=peer['ID']) if by_id
                           else dict(address=peer['Address']))


def in_raft(peer, peers):
    return any(p.get('ID') == peer.get('ID') for p in peers)


def voter_names(peers):
    return [p.get('Node') or p.get('Address') for p in peers if p.get('Voter')]


def quorum_problem(name, peers, gone, members):
    """Why removing ``gone`` would leave no quorum, or None."""
    alive = set(m['name'] for m in members if m['status'] == 'alive')
    left = [p for p in peers if p.get('Voter') and p is not gone]
    up = [p for p in left if p.get('Node') in alive]
    if len(up) > len(left) // 2:
        return None
    names = ', '.join(sorted(p.get('Node') or '?' for p in up)) or 'none'
    return ('Not removing %s: of the %d voters left, %d %s alive (%s), short of the %d a quorum needs. Start the '
            'servers that are down, or replace them first; a cluster that has lost its quorum needs the manual '
            'peers.json recovery (docs/roles.md)'
            % (name, len(left), len(up), 'is' if len(up) == 1 else 'are', names, len(left) // 2 + 1))


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            state=dict(type='str', default='absent', choices=['absent']),
        ),
        supports_check_mode=True,
    )
    name = module.params['name']
    verb = 'read the servers of'
    try:
        cluster = Cluster(client_from_module(module, namespace=None))
        members, peers = cluster.members(), cluster.peers()
        member = next((m for m in members if matches(name, m['name'], m['address'])), None)
        peer = next((p for p in peers if matches(name, p.get('Node'), p.get('Address'))), None)
        if member and member['status'] == 'alive':
            module.fail_json(msg='Not removing %s: gossip has it alive (%s). Only a server that is gone for good is '
                                 'removed; stop it first, or let it leave with `nomad server force-leave`.'
                             % (name, member['address']))
        before = voter_names(peers)
        after = voter_names([p for p in peers if p is not peer])
        leaving = member is not None and member['status'] != 'left'
        result = dict(changed=bool(leaving or peer), removed=bool(leaving or peer), voters=after)
        if module._diff:
            result['diff'] = dict(before=dict(voters=before), after=dict(voters=after))
        if peer:
            problem = quorum_problem(name, peers, peer, members)
            if problem:
                module.fail_json(msg=problem, voters=before)
        if module.check_mode or not result['changed']:
            module.exit_json(**result)

        current = peers
        if leaving:
            verb = 'force %s out of the gossip of' % member['name']
            cluster.force_leave(member['name'])
            if peer:
                current = cluster.peers()
                deadline = time.monotonic() + LEADER_DROP_WAIT
                while in_raft(peer, current) and time.monotonic() < deadline:
                    time.sleep(0.25)
                    current = cluster.peers()
        if peer and in_raft(peer, current):
            verb = 'remove %s from the raft peers of' % name
            try:
                cluster.remove_peer(peer)
            except NomadAPIError as e:
                # Autopilot's dead server cleanup may have removed it in the meantime.
                if 'was not found in the Raft configuration' not in e.message:
                    raise
            current = cluster.peers()
        result['voters'] = voter_names([p for p in current if p.get('ID') != peer.get('ID')]) if peer else after
    except NomadError as e:
        module.fail_json(msg='Failed to %s the cluster: %s' % (verb, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
