# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What keeps a cluster, as module_utils/cluster.py read it, from being ready, in words.

Pure functions with no HTTP library behind them: the cluster_gaps filter uses
them on the controller, where every task's worker process loads the
collection's filter files, and importing requests there would cost each task
a few tenths of a second.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def node_ready(node):
    return node['status'] == 'ready' and node['eligibility'] == 'eligible' and not node['drain']


def node_state(node):
    return '%s (%s%s%s)' % (node['name'], node['status'],
                            ', ineligible' if node['eligibility'] != 'eligible' else '',
                            ', draining' if node['drain'] else '')


def missing(info, want_leader, expected_servers, expected_nodes, expected_node_ids=(), expected_drivers=None):
    """What keeps the cluster from being ready, in words; empty when ready.
    ``expected_drivers`` maps node IDs to the drivers they must report healthy."""
    gaps = []
    if want_leader and not info['leader']:
        gaps.append('no leader elected')
    if expected_servers is not None and info['alive_servers'] < expected_servers:
        not_alive = ['%s (%s)' % (s['name'], s['status']) for s in info['servers'] if s['status'] not in ('alive', 'peer')]
        gaps.append('%d of %d servers alive%s' % (
            info['alive_servers'], expected_servers,
            '; not alive: ' + ', '.join(not_alive) if not_alive else ''))
    if expected_nodes is not None and info['ready_nodes'] < expected_nodes:
        not_ready = [node_state(n) for n in info['nodes'] if not node_ready(n)]
        gaps.append('%d of %d nodes ready%s' % (
            info['ready_nodes'], expected_nodes,
            '; not ready: ' + ', '.join(not_ready) if not_ready else ''))
    by_id = dict((n['id'], n) for n in info['nodes'])
    waiting_for = ['%s: %s' % (i, node_state(by_id[i]) if i in by_id else 'not registered')
                   for i in expected_node_ids or () if not (i in by_id and node_ready(by_id[i]))]
    if waiting_for:
        gaps.append('nodes not ready: ' + ', '.join(waiting_for))
    unhealthy = []
    for node_id, drivers in sorted((expected_drivers or {}).items()):
        node = by_id.get(node_id)
        for name in drivers:
            if node is None:
                unhealthy.append('%s on %s (not registered)' % (name, node_id))
                continue
            state = node.get('drivers', {}).get(name) or dict(detected=False, healthy=False, description='')
            if not state['healthy']:
                unhealthy.append('%s on %s (%s%s)' % (name, node['name'], 'detected, ' if state['detected'] else
                                                      'not detected', ': ' + state['description']
                                                      if state['description'] else ''))
    if unhealthy:
        gaps.append('drivers not healthy: ' + ', '.join(unhealthy))
    return gaps
