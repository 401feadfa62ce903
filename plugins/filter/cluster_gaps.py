# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.cluster_gaps`` filter; documented in cluster_gaps.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping

from ansible_collections.nomadops.nomad.plugins.module_utils.readiness import missing

NOT_READ = 'the cluster was not read'
READ_KEYS = ('leader', 'servers', 'alive_servers', 'nodes', 'errors')


def cluster_gaps(cluster, expected_servers, node_ids=None, drivers=None):
    """What keeps a cluster read by nomad_host_info (its ``cluster``) from being ready, in the words of
    the readiness gate (nomad_cluster_info): a leader, ``expected_servers`` alive, each of ``node_ids``
    ready and eligible, and for each node ID in ``drivers`` those drivers healthy. Empty when ready."""
    if cluster is None:
        return [NOT_READ]
    if not isinstance(cluster, Mapping) or not all(key in cluster for key in READ_KEYS):
        raise AnsibleFilterError('cluster_gaps expects the cluster that nomadops.nomad.nomad_host_info read, '
                                 'with %s' % ', '.join(READ_KEYS))
    try:
        expected_servers = int(expected_servers)
    except (TypeError, ValueError):
        raise AnsibleFilterError('cluster_gaps: expected_servers must be a number, got %r' % (expected_servers,))
    if not isinstance(drivers or {}, Mapping):
        raise AnsibleFilterError('cluster_gaps: drivers must map node IDs to driver names, got %s'
                                 % type(drivers).__name__)
    drivers = dict((node_id, [names] if isinstance(names, str) else list(names))
                   for node_id, names in (drivers or {}).items())
    # A part that could not be read is a gap too: the gate would have to look again.
    return (missing(cluster, True, expected_servers, None, list(node_ids or []), drivers)
            + ['not read: %s' % error for error in cluster['errors']])


class FilterModule(object):

    def filters(self):
        return {'cluster_gaps': cluster_gaps}
