# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One read of a cluster's leader, servers and nodes.

The readiness gate (nomad_cluster_info) polls with it; a server's host read
(nomad_host_info) reads it once before anything changes, so that a run which
restarts nothing can tell from that read alone that the cluster was ready
(module_utils/readiness.py judges it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    NomadConnectionError, NomadError, NomadPermissionDenied)
from ansible_collections.nomadops.nomad.plugins.module_utils.readiness import node_ready


class ClusterInfo(object):
    """Reads the leader, the server members and the nodes through one agent. A read that fails is
    reported in ``errors``, never raised: the caller decides whether to wait, or to fall back."""

    def __init__(self, client, stale=False, fall_back=True):
        self.client = client
        self.params = dict(stale=True) if stale else None
        # Without a token, a 403 means ACLs are on and not bootstrapped yet, or
        # that the token is missing: either way only the status endpoints answer.
        self.may_fall_back = fall_back and not client.token
        # Why the last read had no server members, or None.
        self.servers_error = None

    def read(self, single_look=False):
        """The cluster as the agent sees it now. A poll asks every part each time. A single look
        (``single_look``) does not read the nodes without a leader, since a consistent read of
        them waits for one until Nomad's RPC hold timeout, and asks nothing more of an agent that
        could not be reached."""
        errors = []
        self.servers_error = None
        leader = None
        acl_limited = False
        try:
            leader, dummy = self.client.get('/v1/status/leader', params=self.params)
            said_no_leader = not leader
        except NomadConnectionError as e:
            if single_look:
                self.servers_error = e
                return summary(None, [], [], False, ['%s: %s' % (part, e) for part in ('leader', 'servers', 'nodes')])
            said_no_leader = False
            errors.append('leader: %s' % e)
        except NomadError as e:
            # How a server without a leader answers (real 0.9.1, tests/recordings); an empty answer says the same.
            said_no_leader = 'No cluster leader' in str(e)
            errors.append('leader: %s' % e)
        leader = leader or None

        servers = []
        try:
            members, dummy = self.client.get('/v1/agent/members')
            for m in (members or {}).get('Members') or []:
                tags = m.get('Tags') or {}
                rpc = '%s:%s' % (tags.get('rpc_addr') or m.get('Addr'), tags.get('port'))
                servers.append(dict(
                    name=m.get('Name'),
                    address=m.get('Addr'),
                    port=m.get('Port'),
                    status=m.get('Status'),
                    leader=bool(leader) and rpc == leader,
                    build=tags.get('build'),
                    datacenter=tags.get('dc'),
                    region=tags.get('region'),
                ))
        except NomadPermissionDenied as e:
            if not self.may_fall_back:
                self.servers_error = e
                errors.append('servers: %s' % e)
            else:
                acl_limited = True
                servers = self.raft_peers(leader, errors)
        except NomadError as e:
            self.servers_error = e
            errors.append('servers: %s' % e)
        servers.sort(key=lambda s: (s['name'] or '', s['address'] or '', s['port'] or 0))

        nodes = []
        try:
            stubs = []
            if not (single_look and said_no_leader) or self.params:
                stubs, dummy = self.client.get('/v1/nodes', params=self.params)
            for n in stubs or []:
                nodes.append(dict(
                    id=n.get('ID'),
                    name=n.get('Name'),
                    datacenter=n.get('Datacenter'),
                    status=n.get('Status'),
                    eligibility=n.get('SchedulingEligibility'),
                    drain=bool(n.get('Drain')),
                    drivers=dict((name, dict(detected=bool(d.get('Detected')), healthy=bool(d.get('Healthy')),
                                             description=d.get('HealthDescription') or ''))
                                 for name, d in (n.get('Drivers') or {}).items()),
                ))
        except NomadError as e:
            errors.append('nodes: %s' % e)
        nodes.sort(key=lambda n: (n['name'] or '', n['id'] or ''))

        return summary(leader, servers, nodes, acl_limited, errors)

    def raft_peers(self, leader, errors):
        """The servers as the raft peers the agent knows, for when gossip members need a token."""
        try:
            peers, dummy = self.client.get('/v1/status/peers', params=self.params)
        except NomadError as e:
            errors.append('servers: %s' % e)
            return []
        servers = []
        for peer in peers or []:
            host, dummy, port = peer.rpartition(':')
            servers.append(dict(name=None, address=host, port=int(port) if port.isdigit() else None, status='peer',
                                leader=peer == leader, build=None, datacenter=None, region=None))
        return servers


def summary(leader, servers, nodes, acl_limited, errors):
    """A read as ClusterInfo.read returns it, with the counts the gate compares."""
    return dict(
        leader=leader,
        servers=servers,
        nodes=nodes,
        alive_servers=len([s for s in servers if s['status'] in ('alive', 'peer')]),
        ready_nodes=len([n for n in nodes if node_ready(n)]),
        acl_limited=acl_limited,
        errors=errors,
    )
