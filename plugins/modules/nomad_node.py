#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_node
short_description: Drain a Nomad client node, or set its scheduling eligibility
version_added: 0.2.0
description:
  - Drains a client node (its allocations move to other nodes, within a deadline) and waits until the drain
    is done, like C(nomad node drain -enable -yes). Or ends a drain, or makes a node eligible or ineligible for
    new allocations, like C(nomad node eligibility).
  - A node counts as drained while its drain runs, and when it is ineligible with no allocation left to move
    (Nomad leaves a drained node ineligible), so running the same task again changes nothing. An ineligible node
    that still runs allocations is drained.
  - Finds the node by name, by ID, or by a unique ID prefix. An unknown node, or a cluster without a leader, fails
    with a message saying so before anything is sent.
  - Works with Nomad 0.9 and 1.x alike (the JSON body both take).
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the node and reports what would change; sends nothing.
  diff_mode:
    support: full
    description: Shows the node's drain and eligibility before and after.
options:
  name:
    description:
      - The node's name (usually the host name), its ID, or a unique prefix of its ID.
    type: str
    required: true
  drain:
    description:
      - V(true) drains the node, V(false) ends a drain in progress. Left as it is when not given.
    type: bool
  drain_deadline:
    description:
      - How long allocations may take to move before Nomad stops the rest, as a Go duration (C(30s), C(1h)).
      - V(0) means no deadline. Checked before anything is sent.
    type: str
    default: 1h
  ignore_system_jobs:
    description:
      - Leave the allocations of system jobs on the node while draining.
    type: bool
    default: false
  wait:
    description:
      - After starting a drain, or finding one running, wait until it is done.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the drain when O(wait=true).
    type: int
    default: 600
  eligible:
    description:
      - V(true) makes the node eligible for new allocations, V(false) ineligible. Left as it is when not given.
      - With O(drain=false), the node is made eligible in the same request that ends the drain.
      - Cannot be V(true) with O(drain=true), since a draining node is never eligible.
    type: bool
seealso:
  - module: nomadops.nomad.nomad_cluster_info
'''

EXAMPLES = r'''
- name: Drain nomad2 before its maintenance, giving allocations ten minutes to move
  nomadops.nomad.nomad_node:
    name: nomad2
    drain: true
    drain_deadline: 10m

- name: Back in service
  nomadops.nomad.nomad_node:
    name: nomad2
    drain: false
    eligible: true

- name: Keep new allocations off a node without moving the running ones
  nomadops.nomad.nomad_node:
    name: 1d061e01
    eligible: false
'''

RETURN = r'''
node:
  description: The node after the change (as it would be, in check mode).
  returned: always
  type: dict
  contains:
    id:
      description: Node ID.
      type: str
      sample: 1d061e01-5877-3589-e753-17ce53c1d921
    name:
      description: Node name.
      type: str
      sample: nomad2
    status:
      description: C(initializing), C(ready) or C(down).
      type: str
      sample: ready
    drain:
      description: Whether a drain is running.
      type: bool
      sample: false
    eligibility:
      description: C(eligible) or C(ineligible).
      type: str
      sample: ineligible
  sample:
    id: 1d061e01-5877-3589-e753-17ce53c1d921
    name: nomad2
    status: ready
    drain: false
    eligibility: ineligible
waited:
  description: Seconds spent waiting for the drain.
  returned: always
  type: float
  sample: 3.2
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError
from ansible_collections.nomadops.nomad.plugins.module_utils.common import client_from_module, nomad_argument_spec
from ansible_collections.nomadops.nomad.plugins.module_utils.go import parse_duration

POLL_INTERVAL = 1.0


class NodeError(Exception):
    """Why the node cannot be changed, in words for the user."""


def summary(node):
    return dict(id=node.get('ID'), name=node.get('Name'), status=node.get('Status'),
                drain=bool(node.get('Drain')), eligibility=node.get('SchedulingEligibility'))


def find_node(client, name):
    """The one node called ``name``, with that ID, or whose ID starts with it."""
    try:
        nodes, dummy = client.get('/v1/nodes')
    except NomadError as e:
        if 'No cluster leader' in str(e):
            raise NodeError('The cluster has no leader, so no node can be read or changed: %s' % e)
        raise
    nodes = nodes or []
    found = ([n for n in nodes if n.get('Name') == name] or [n for n in nodes if n.get('ID') == name]
             or [n for n in nodes if (n.get('ID') or '').startswith(name)])
    if len(found) != 1:
        known = ', '.join('%s (%s)' % (n.get('Name'), (n.get('ID') or '')[:8]) for n in nodes) or 'none'
        raise NodeError('%s node %r: known nodes are %s' % ('More than one' if found else 'No', name, known))
    node, dummy = client.get('/v1/node/{}', found[0]['ID'])
    return node


def movable_allocations(client, node, ignore_system_jobs):
    """What a drain would move: allocations meant to run, system jobs' aside when asked."""
    allocs, dummy = client.get('/v1/node/{}/allocations', node['ID'])
    return [a for a in allocs or [] if a.get('DesiredStatus') == 'run'
            and a.get('ClientStatus') in ('pending', 'running')
            and not (ignore_system_jobs and ((a.get('Job') or {}).get('Type') == 'system'))]


def wanted(node, p, movable):
    """The node's drain and eligibility once the task is done."""
    drain, eligibility = bool(node.get('Drain')), node.get('SchedulingEligibility')
    # Nomad leaves a finished drain ineligible: such a node, with nothing left to move, is drained already.
    if p['drain'] is True and not drain and (eligibility != 'ineligible' or movable):
        drain, eligibility = True, 'ineligible'
    elif p['drain'] is False and drain:
        drain = False
    if p['eligible'] is not None and not drain:
        eligibility = 'eligible' if p['eligible'] else 'ineligible'
    return drain, eligibility


def apply(client, node, p, deadline_ns, drain, eligibility):
    node_id = node['ID']
    if drain and not node.get('Drain'):
        client.post('/v1/node/{}/drain', node_id, json=dict(
            NodeID=node_id, MarkEligible=False,
            DrainSpec=dict(Deadline=deadline_ns, IgnoreSystemJobs=p['ignore_system_jobs'])))
    elif not drain and node.get('Drain'):
        client.post('/v1/node/{}/drain', node_id, json=dict(
            NodeID=node_id, DrainSpec=None, MarkEligible=eligibility == 'eligible'))
        return
    if not drain and eligibility != node.get('SchedulingEligibility'):
        client.post('/v1/node/{}/eligibility', node_id, json=dict(NodeID=node_id, Eligibility=eligibility))


def wait_for_drain(client, node_id, timeout):
    start = time.monotonic()
    while True:
        node, dummy = client.get('/v1/node/{}', node_id)
        elapsed = round(time.monotonic() - start, 2)
        if not node.get('Drain'):
            return node, elapsed
        if elapsed >= timeout:
            raise NodeError('Node %s is still draining after %ss (its deadline: %s)' % (
                node.get('Name'), timeout, (node.get('DrainStrategy') or {}).get('ForceDeadline')))
        time.sleep(POLL_INTERVAL)


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            drain=dict(type='bool'),
            drain_deadline=dict(type='str', default='1h'),
            ignore_system_jobs=dict(type='bool', default=False),
            wait=dict(type='bool', default=True),
            wait_timeout=dict(type='int', default=600),
            eligible=dict(type='bool'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['drain'] is True and p['eligible'] is True:
        module.fail_json(msg='drain=true and eligible=true contradict each other: a draining node is never eligible')
    try:
        deadline_ns = parse_duration(p['drain_deadline'])
    except ValueError as e:
        module.fail_json(msg='drain_deadline: %s' % e)

    result = dict(changed=False, waited=0.0)
    try:
        client = client_from_module(module)
        node = find_node(client, p['name'])
        before = summary(node)
        movable = movable_allocations(client, node, p['ignore_system_jobs']) if p['drain'] is True else []
        drain, eligibility = wanted(node, p, movable)
        after = dict(before, drain=drain, eligibility=eligibility)
        result.update(changed=before != after, node=after)
        if module._diff:
            result['diff'] = dict(before=before, after=after)
        if module.check_mode:
            module.exit_json(**result)
        if result['changed']:
            apply(client, node, p, deadline_ns, drain, eligibility)
        if drain and p['wait']:
            node, result['waited'] = wait_for_drain(client, node['ID'], p['wait_timeout'])
        else:
            node, dummy = client.get('/v1/node/{}', node['ID'])
        result['node'] = summary(node)
    except NodeError as e:
        module.fail_json(msg=str(e), **result)
    except NomadError as e:
        module.fail_json(msg='Failed to change node %r: %s' % (p['name'], e), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
