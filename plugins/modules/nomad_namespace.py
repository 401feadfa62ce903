#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_namespace
short_description: Create, update or delete a Nomad namespace
version_added: 0.2.0
description:
  - Makes a namespace exist with the given description, or not exist.
  - Open-source Nomad has namespaces from 1.0 on. An older agent answers C(501 Nomad Enterprise only endpoint),
    and the module then fails saying that namespaces need Nomad 1.0 or newer.
  - Nomad refuses to delete a namespace that still has jobs which are not dead, and the C(default) namespace;
    the module fails with Nomad's words.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the namespace and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the namespace's name and description before and after.
options:
  name:
    description:
      - The namespace, C([a-zA-Z0-9-]), 1 to 128 characters.
      - The connection option O(namespace) is not used by this module.
    type: str
    required: true
  description:
    description:
      - Its description. Left as it is when not given.
    type: str
  state:
    description:
      - V(present) creates the namespace, or updates its description.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: nomadops.nomad.nomad_job
'''

EXAMPLES = r'''
- name: A namespace for team A's jobs
  nomadops.nomad.nomad_namespace:
    name: team-a
    description: Team A's jobs

- name: Run a job in it
  nomadops.nomad.nomad_job:
    src: httpecho-1x.nomad
    namespace: team-a

- name: Remove it once its jobs are gone
  nomadops.nomad.nomad_namespace:
    name: team-a
    state: absent
'''

RETURN = r'''
namespace:
  description: The namespace as it is now (as it would be, in check mode), or null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      sample: team-a
    description:
      description: Its description.
      type: str
      sample: Team A's jobs
  sample:
    name: team-a
    description: Team A's jobs
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    namespace_problem,
    nomad_argument_spec,
)

# Nomad's own rule (structs.validNamespaceName), checked before anything is sent.
VALID_NAME = re.compile(r'^[a-zA-Z0-9-]{1,128}$')


def read(client, name):
    try:
        body, dummy = client.get('/v1/namespace/{}', name)
    except NomadNotFound:
        return None
    return dict(name=body.get('Name'), description=body.get('Description') or '')


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            description=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p['name']
    if not VALID_NAME.match(name):
        module.fail_json(msg='Invalid namespace name %r: it must match ^[a-zA-Z0-9-]{1,128}$' % name)

    try:
        # The namespace API is for one namespace by name, not the request's.
        client = client_from_module(module, namespace=None)
        try:
            before = read(client, name)
        except NomadAPIError as e:
            if e.status != 501:
                raise
            module.fail_json(msg='%s (the agent at %s answered: %s)' % (
                namespace_problem(name, agent_version(client)) or 'Namespaces need Nomad 1.0 or newer',
                client.address, e.message))

        if p['state'] == 'present':
            description = p['description'] if p['description'] is not None else (before or {}).get('description', '')
            after = dict(name=name, description=description)
        else:
            after = None
        result = dict(changed=before != after, namespace=after)
        if module._diff:
            result['diff'] = dict(before=before or {}, after=after or {})
        if result['changed'] and not module.check_mode:
            if after is None:
                client.delete('/v1/namespace/{}', name)
            else:
                client.post('/v1/namespace/{}', name, json=dict(Name=name, Description=description))
    except NomadError as e:
        verb = 'delete' if p['state'] == 'absent' else 'write'
        module.fail_json(msg='Failed to %s namespace %r: %s' % (verb, name, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
