#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_acl_role
short_description: Create, update or delete a Nomad ACL role
version_added: 0.3.0
description:
  - Makes an ACL role (a named set of policies that tokens can carry) exist with the given description and
    policies, or not exist. Roles came in Nomad 1.4; an older agent is refused before anything is sent.
  - The role is found by its name. Nomad refuses a role that names a policy that does not exist.
  - Needs a management token (O(token)).
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the role and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the role's description and policies before and after.
options:
  name:
    description:
      - The role, C([a-zA-Z0-9-]), 1 to 128 characters.
    type: str
    required: true
  description:
    description:
      - Its description. Left as it is when not given.
    type: str
  policies:
    description:
      - The policies it grants; at least one with O(state=present).
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) creates or updates the role; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: nomadops.nomad.nomad_acl_policy
  - module: nomadops.nomad.nomad_acl_token
'''

EXAMPLES = r'''
- name: Deployers may submit jobs in web
  nomadops.nomad.nomad_acl_role:
    name: deployers
    description: Deploy web
    policies: [web-submit]
    token: "{{ management_token }}"

- name: A token of that role
  nomadops.nomad.nomad_acl_token:
    name: deployer
    roles: [deployers]
    token: "{{ management_token }}"
'''

RETURN = r'''
role:
  description: The role as it is now (as it would be, in check mode), or null when it does not exist.
  returned: always
  type: dict
  contains:
    id:
      description: Its ID; null for a role that check mode would create.
      type: str
    name:
      description: Its name.
      type: str
    description:
      description: Its description.
      type: str
    policies:
      description: Its policies, sorted.
      type: list
      elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.acl import VALID_NAME
from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_acl_roles


def view(body):
    return dict(id=body.get('ID'), name=body.get('Name'), description=body.get('Description') or '',
                policies=sorted(p.get('Name') for p in body.get('Policies') or []))


def read(client, name):
    try:
        body, dummy = client.get('/v1/acl/role/name/{}', name)
    except NomadNotFound:
        return None
    return view(body)


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            description=dict(type='str'),
            policies=dict(type='list', elements='str', default=[]),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p['name']
    if not VALID_NAME.match(name):
        module.fail_json(msg='Invalid ACL role name %r: it must match ^[a-zA-Z0-9-]{1,128}$' % name)
    if p['state'] == 'present' and not p['policies']:
        module.fail_json(msg='ACL role %r needs at least one policy (Nomad: "at least one policy should be '
                         'specified")' % name)

    try:
        client = client_from_module(module, namespace=None)
        version = agent_version(client)
        if not has_acl_roles(version):
            module.fail_json(msg='ACL roles need Nomad 1.4 or newer; the agent at %s runs Nomad %s'
                             % (client.address, version))
        before = read(client, name)
        if p['state'] == 'present':
            after = dict(id=(before or {}).get('id'), name=name,
                         description=p['description'] if p['description'] is not None
                         else (before or {}).get('description', ''),
                         policies=sorted(set(p['policies'])))
        else:
            after = None
        result = dict(changed=before != after, role=after)
        if module._diff:
            result['diff'] = dict(before=before or {}, after=after or {})
        if result['changed'] and not module.check_mode:
            if after is None:
                client.delete('/v1/acl/role/{}', before['id'])
            else:
                body = dict(Name=name, Description=after['description'],
                            Policies=[dict(Name=policy) for policy in after['policies']])
                if before is None:
                    made, dummy = client.post('/v1/acl/role', json=body)
                else:
                    body['ID'] = before['id']
                    made, dummy = client.post('/v1/acl/role/{}', before['id'], json=body)
                result['role'] = view(made)
    except NomadError as e:
        verb = 'delete' if p['state'] == 'absent' else 'write'
        module.fail_json(msg='Failed to %s ACL role %r: %s' % (verb, name, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
