#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_node_pool
short_description: Create, update or delete a Nomad node pool
version_added: 0.5.0
description:
  - Makes a node pool exist with the given description and metadata, or not exist.
  - Node pools came with Nomad 1.6. The module asks the agent for its release first and, on an older one, fails
    before sending anything else, naming the release.
  - The built-in pools C(default) and C(all) can be neither modified nor deleted. The module refuses to delete
    them before anything is sent, and to change them before anything is written, in Nomad's words (also in
    check mode); asking for them as they are changes nothing.
  - Nomad refuses to delete a pool that still has nodes or jobs which are not dead; the module fails with
    Nomad's words.
  - A client joins a pool through its own configuration (C(client { node_pool = "..." })), not through this
    module; see the C(nomad_node_pool) variable of the C(nomadops.nomad.nomad_client) role.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the pool and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the pool's name, description and metadata before and after, without Nomad's indexes.
options:
  name:
    description:
      - The pool, C([a-zA-Z0-9-_]), 1 to 128 characters.
      - The connection option O(namespace) is not used by this module; node pools belong to no namespace.
    type: str
    required: true
  description:
    description:
      - Its description, at most 256 bytes (UTF-8). Left as it is when not given.
    type: str
  meta:
    description:
      - Its metadata, string keys and string values. It replaces the pool's metadata as a whole.
      - Left as it is when not given; V({}) removes it all.
    type: dict
  state:
    description:
      - V(present) creates the pool, or updates its description and metadata.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: nomadops.nomad.nomad_namespace
  - name: Nomad node pools
    description: What node pools are and how clients and jobs use them.
    link: https://developer.hashicorp.com/nomad/docs/concepts/node-pools
'''

EXAMPLES = r'''
- name: A pool for the GPU hosts
  nomadops.nomad.nomad_node_pool:
    name: gpu
    description: Hosts with a GPU
    meta:
      team: ml

- name: See what would change, without changing it
  nomadops.nomad.nomad_node_pool:
    name: gpu
    description: Hosts with two GPUs
  check_mode: true
  diff: true

- name: Remove it once no node and no running job is left in it
  nomadops.nomad.nomad_node_pool:
    name: gpu
    state: absent
'''

RETURN = r'''
node_pool:
  description: The pool as it is now (as it would be, in check mode), or null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      sample: gpu
    description:
      description: Its description.
      type: str
      sample: Hosts with a GPU
    meta:
      description: Its metadata.
      type: dict
      sample: {team: ml}
  sample:
    name: gpu
    description: Hosts with a GPU
    meta:
      team: ml
version:
  description: The release of the agent the module talked to.
  returned: when the agent said it
  type: str
  sample: 1.6.5
'''

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six import string_types

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_node_pools

# Nomad's own rules (structs.validNodePoolName, maxNodePoolDescriptionLength),
# checked before anything is sent so that check mode sees them too.
VALID_NAME = re.compile(r'^[a-zA-Z0-9-_]{1,128}$')
MAX_DESCRIPTION = 256
BUILT_IN = ('default', 'all')


class NodePool(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.name = module.params['name']

    def read(self):
        try:
            body, dummy = self.client.get('/v1/node/pool/{}', self.name)
        except NomadNotFound:
            return None
        return dict(name=body.get('Name'), description=body.get('Description') or '', meta=body.get('Meta') or {})

    def present(self, before):
        p = self.module.params
        current = before or {}
        description = p['description'] if p['description'] is not None else current.get('description', '')
        meta = stringify(p['meta']) if p['meta'] is not None else current.get('meta', {})
        return dict(name=self.name, description=description, meta=meta)

    def write(self, after):
        self.client.put('/v1/node/pools', json=dict(Name=after['name'], Description=after['description'],
                                                    Meta=after['meta']))

    def delete(self):
        self.client.delete('/v1/node/pool/{}', self.name)


def stringify(meta):
    """Nomad's Meta is map[string]string: a YAML 3 or true would be refused
    by its JSON decoder, so send them as the strings HCL would have made."""
    out = {}
    for key, value in meta.items():
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        elif value is None:
            value = ''
        elif not isinstance(value, string_types):
            value = str(value)
        out[str(key)] = value
    return out


def version_problem(name, version):
    try:
        if has_node_pools(version):
            return None
    except ValueError:
        # An agent that does not say its release is left to answer for itself.
        return None
    return 'Node pool %r needs Nomad 1.6 or newer: the agent runs Nomad %s, which has no node pools' % (name, version)


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            description=dict(type='str'),
            meta=dict(type='dict'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p['name']
    if not VALID_NAME.match(name):
        module.fail_json(msg='Invalid node pool name %r: it must match ^[a-zA-Z0-9-_]{1,128}$' % name)
    # Go's len() of the string: bytes, not characters.
    if p['description'] is not None and len(p['description'].encode('utf-8')) > MAX_DESCRIPTION:
        module.fail_json(msg='Invalid node pool %r: description longer than %d' % (name, MAX_DESCRIPTION))
    if p['state'] == 'absent' and name in BUILT_IN:
        # Nomad's state store refuses it (state_store_node_pools.go); say so before asking.
        module.fail_json(msg='Failed to delete node pool %r: deleting node pool "%s" is not allowed' % (name, name))

    verb = 'read'
    result = dict(changed=False, node_pool=None)
    try:
        # Node pools belong to no namespace.
        client = client_from_module(module, namespace=None)
        version = agent_version(client)
        result['version'] = version
        problem = version_problem(name, version)
        if problem:
            module.fail_json(msg='%s (agent at %s)' % (problem, client.address), version=version)

        pool = NodePool(module, client)
        before = pool.read()
        after = pool.present(before) if p['state'] == 'present' else None
        if before != after and name in BUILT_IN:
            # NodePool.UpsertNodePools refuses every write to a built-in pool.
            module.fail_json(msg='Failed to write node pool %r: modifying node pool "%s" is not allowed'
                             % (name, name), node_pool=before, version=version)
        result.update(changed=before != after, node_pool=after)
        if module._diff:
            result['diff'] = dict(before=before or {}, after=after or {})
        if result['changed'] and not module.check_mode:
            verb = 'delete' if after is None else 'write'
            if after is None:
                pool.delete()
            else:
                pool.write(after)
    except NomadError as e:
        module.fail_json(msg='Failed to %s node pool %r: %s' % (verb, name, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
