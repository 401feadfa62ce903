#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_acl_policy
short_description: Create, update or delete a Nomad ACL policy
version_added: 0.3.0
description:
  - Makes an ACL policy exist with the given rules and description, or not exist.
  - It compares what the server stores; RV(ignore:changed) is true only when the server's copy differs.
    Nomad itself rewrites a policy (and bumps its index) on every write, so nothing is sent when nothing differs.
  - Rules the agent's release would refuse are refused before anything is sent, naming the rule and its line,
    in Nomad's words where it has them; for example an unknown capability, or (from Nomad 1.6) a
    C(namespace) rule without a label.
  - Needs a management token (O(token)).
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the policy and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows the policy's description and rules before and after.
options:
  name:
    description:
      - The policy, C([a-zA-Z0-9-]), 1 to 128 characters.
      - The policy named C(anonymous) applies to every request that carries no token.
    type: str
    required: true
  description:
    description:
      - Its description, at most 256 characters. Left as it is when not given.
    type: str
  rules:
    description:
      - The rules, as HCL text (the C(.hcl) file C(nomad acl policy apply) takes).
      - Required with O(state=present) unless O(rules_src) is given.
    type: str
  rules_src:
    description:
      - A file B(on the controller) holding the rules; errors name it and the line.
    type: path
  state:
    description:
      - V(present) creates the policy, or updates its rules and description.
      - V(absent) deletes it. Tokens and roles that name it keep the name and lose what it granted.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: nomadops.nomad.nomad_acl_token
  - module: nomadops.nomad.nomad_acl_role
  - name: ACL policy specification
    description: What rules may say.
    link: https://developer.hashicorp.com/nomad/docs/other-specifications/acl-policy
'''

EXAMPLES = r'''
- name: A policy that may submit jobs in namespace web, and nothing else
  nomadops.nomad.nomad_acl_policy:
    name: web-submit
    description: Submit jobs in web
    rules: |
      namespace "web" {
        capabilities = ["submit-job", "read-job", "list-jobs"]
      }
    token: "{{ management_token }}"

- name: Rules kept in a file next to the playbook
  nomadops.nomad.nomad_acl_policy:
    name: readers
    rules_src: policies/readers.hcl
    token: "{{ management_token }}"

- name: Remove it
  nomadops.nomad.nomad_acl_policy:
    name: readers
    state: absent
    token: "{{ management_token }}"
'''

RETURN = r'''
policy:
  description: The policy as it is now (as it would be, in check mode), or null when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      sample: web-submit
    description:
      description: Its description.
      type: str
      sample: Submit jobs in web
    rules:
      description: Its rules, as stored.
      type: str
      sample: "namespace \"web\" {\n  capabilities = [\"submit-job\"]\n}\n"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.acl import VALID_NAME, rules_problems
from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)


def read(client, name):
    try:
        body, dummy = client.get('/v1/acl/policy/{}', name)
    except NomadNotFound:
        return None
    return dict(name=body.get('Name'), description=body.get('Description') or '', rules=body.get('Rules') or '')


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', required=True),
            description=dict(type='str'),
            rules=dict(type='str'),
            rules_src=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p['name']
    if not VALID_NAME.match(name):
        module.fail_json(msg='Invalid ACL policy name %r: it must match ^[a-zA-Z0-9-]{1,128}$' % name)
    origin = 'rules'
    if p['rules_src']:
        # The action plugin has read the file on the controller into rules.
        origin = p['rules_src']
        if p['rules'] is None:
            try:
                with open(p['rules_src'], 'rb') as f:
                    p['rules'] = f.read().decode('utf-8')
            except (IOError, OSError, UnicodeDecodeError) as e:
                module.fail_json(msg='Failed to read rules_src %s: %s' % (p['rules_src'], e))
    if p['state'] == 'present' and p['rules'] is None:
        module.fail_json(msg='state=present needs rules or rules_src')
    if p['description'] is not None and len(p['description']) > 256:
        module.fail_json(msg='description of ACL policy %r is %d characters long; Nomad takes at most 256'
                         % (name, len(p['description'])))

    try:
        client = client_from_module(module, namespace=None)
        if p['state'] == 'present':
            problems = rules_problems(p['rules'], agent_version(client), where=origin)
            if problems:
                module.fail_json(msg='ACL policy %r: the agent would refuse its rules: %s'
                                 % (name, '; '.join(problems)), problems=problems)
        before = read(client, name)
        if p['state'] == 'present':
            description = p['description'] if p['description'] is not None else (before or {}).get('description', '')
            after = dict(name=name, description=description, rules=p['rules'])
        else:
            after = None
        result = dict(changed=before != after, policy=after)
        if module._diff:
            result['diff'] = dict(before=before or {}, after=after or {})
        if result['changed'] and not module.check_mode:
            if after is None:
                client.delete('/v1/acl/policy/{}', name)
            else:
                client.post('/v1/acl/policy/{}', name,
                            json=dict(Name=name, Description=after['description'], Rules=after['rules']))
    except NomadError as e:
        verb = 'delete' if p['state'] == 'absent' else 'write'
        module.fail_json(msg='Failed to %s ACL policy %r: %s' % (verb, name, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
