# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.clone_plan`` filter; documented in clone_plan.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping


def clone_plan(hosts):
    """Which client hosts need fresh client state, and which keeper must restart.

    ``hosts`` is a list, in play order, of {host, node_id, secret, active}.
    Within each group sharing a node ID: when they share the secret too (a
    true clone), the first keeps the node and the others are repaired, and
    the keeper restarts if it runs, to register under its own name again.
    When the secrets differ the servers accepted only one of them, and
    nothing tells which, so every member is repaired.
    """
    if not isinstance(hosts, list):
        raise AnsibleFilterError('clone_plan expects a list of hosts, got %s' % type(hosts).__name__)
    groups = {}
    for entry in hosts:
        if not isinstance(entry, Mapping) or 'host' not in entry:
            raise AnsibleFilterError('clone_plan: each host must be a dict with host, node_id, secret and active; '
                                     'got %r' % (entry,))
        if entry.get('node_id'):
            groups.setdefault(entry['node_id'], []).append(entry)
    repair, restart = [], []
    for members in groups.values():
        if len(members) < 2:
            continue
        if len(set(m.get('secret') for m in members)) == 1:
            repair.extend(m['host'] for m in members[1:])
            if members[0].get('active'):
                restart.append(members[0]['host'])
        else:
            repair.extend(m['host'] for m in members)
    order = [entry['host'] for entry in hosts]
    return dict(repair=sorted(repair, key=order.index), restart=sorted(restart, key=order.index))


class FilterModule(object):

    def filters(self):
        return {'clone_plan': clone_plan}
