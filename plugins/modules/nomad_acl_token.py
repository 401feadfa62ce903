#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_acl_token
short_description: Create, update, rotate or delete a Nomad ACL token
version_added: 0.3.0
description:
  - Makes an ACL token exist with the given type, policies and (from Nomad 1.4) roles, or not exist.
  - A token is found by O(accessor_id) when one is given, otherwise by O(name). A name that more than one token
    carries is an error that lists their accessor IDs; pass O(accessor_id) then.
  - Its policies and roles are updated in place, so its secret stays the same. O(rotate=true) makes a new token
    with the same name, type, policies and roles, returns its secret, and deletes the old one.
  - The secret (RV(secret_id)) is returned only when this call made it, and the whole result is then censored
    as if the task had C(no_log=true). O(token_file) keeps it in a file on the controller, mode C(0600).
  - Needs a management token (O(token)).
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the token and reports what would change; creates, writes and deletes nothing.
  diff_mode:
    support: full
    description: Shows the token's name, type, policies, roles and global flag before and after; never its secret.
options:
  name:
    description:
      - The token's name. Required unless O(accessor_id) is given.
    type: str
  accessor_id:
    description:
      - The token's accessor ID (not secret). When given, the token is found by it and O(name) may rename it.
    type: str
  type:
    description:
      - V(client) tokens have what their policies and roles grant; V(management) tokens may do anything and take
        no policies.
    type: str
    choices: [client, management]
    default: client
  policies:
    description:
      - The policies of a client token. Nomad does not check that they exist.
    type: list
    elements: str
    default: []
  roles:
    description:
      - Names of the roles of a client token (Nomad 1.4 and newer).
    type: list
    elements: str
  global:
    description:
      - Whether the token is replicated to every region. Nomad cannot change this on an existing token, so a
        different value is an error; rotate it (O(rotate)) or delete it first.
    type: bool
    default: false
  expiration_ttl:
    description:
      - How long a new token lives, as a Go duration such as V(24h) (Nomad 1.4 and newer, at least V(1m)).
      - Only a new token gets it; Nomad cannot change the expiry of an existing one.
    type: str
  rotate:
    description:
      - Make a new secret. The new token has a new accessor ID; the old one is deleted after the new one exists.
    type: bool
    default: false
  token_file:
    description:
      - Path of a file B(on the controller) to keep the secret of a token this call made, mode C(0600);
        its directory is created with mode C(0700).
      - An existing token's secret is not written (it is not returned); use O(rotate) for a new one.
    type: path
  state:
    description:
      - V(present) creates or updates the token; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The connection option O(token) is the management token used to do this, not the token being managed.
seealso:
  - module: nomadops.nomad.nomad_acl_policy
  - module: nomadops.nomad.nomad_acl_role
  - module: nomadops.nomad.nomad_acl_bootstrap
'''

EXAMPLES = r'''
- name: A client token that may only submit jobs in namespace web
  nomadops.nomad.nomad_acl_token:
    name: ci-web
    policies: [web-submit]
    token_file: ~/.nomadops/prod/ci-web-token
    token: "{{ management_token }}"
  register: ci

- name: Give it a second policy; its secret stays the same
  nomadops.nomad.nomad_acl_token:
    name: ci-web
    policies: [web-submit, readers]
    token: "{{ management_token }}"

- name: A new secret for it
  nomadops.nomad.nomad_acl_token:
    name: ci-web
    policies: [web-submit, readers]
    rotate: true
    token_file: ~/.nomadops/prod/ci-web-token
    token: "{{ management_token }}"
'''

RETURN = r'''
acl_token:
  description: The token as it is now (as it would be, in check mode), without its secret; null when it does not exist.
  returned: always
  type: dict
  contains:
    accessor_id:
      description: Its accessor ID; null for a token that check mode would create.
      type: str
      sample: 1f32885e-7bb6-9d3c-22a4-567bba21abe4
    name:
      description: Its name.
      type: str
    type:
      description: V(client) or V(management).
      type: str
    policies:
      description: Its policies, sorted.
      type: list
      elements: str
    roles:
      description: Its roles' names, sorted (Nomad 1.4 and newer).
      type: list
      elements: str
    global:
      description: Whether it is global.
      type: bool
secret_id:
  description: The secret of the token this call made (censored in output); null otherwise.
  returned: always
  type: str
token_file_changed:
  description: Whether O(token_file) was (or would be) written.
  returned: when O(token_file) is given
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.acl import token_view
from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_acl_roles


class TokenModule(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.p = module.params

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def find(self):
        """The token's full body (it holds the secret: never return it), or None."""
        accessor = self.p['accessor_id']
        if not accessor:
            tokens, dummy = self.client.get('/v1/acl/tokens')
            matches = [t for t in tokens or [] if t.get('Name') == self.p['name']]
            if len(matches) > 1:
                self.fail('ACL token name %r is carried by %d tokens (accessor IDs %s); give accessor_id to say '
                          'which' % (self.p['name'], len(matches), ', '.join(sorted(t['AccessorID'] for t in matches))),
                          accessor_ids=sorted(t['AccessorID'] for t in matches))
            if not matches:
                return None
            accessor = matches[0]['AccessorID']
        try:
            body, dummy = self.client.get('/v1/acl/token/{}', accessor)
        except NomadNotFound:
            return None
        return body

    def wanted(self, current):
        p = self.p
        view = {
            'accessor_id': (current or {}).get('AccessorID'),
            'name': p['name'] if p['name'] is not None else (current or {}).get('Name') or '',
            'type': p['type'],
            'policies': sorted(set(p['policies'])) if p['type'] == 'client' else [],
            'global': p['global'],
        }
        if current is not None and 'Roles' in current or p['roles'] is not None:
            view['roles'] = sorted(set(p['roles'] or [])) if p['type'] == 'client' else []
        return view

    def body(self, wanted, current):
        body = dict(Name=wanted['name'], Type=wanted['type'], Policies=wanted['policies'], Global=wanted['global'])
        if 'roles' in wanted:
            body['Roles'] = [dict(Name=r) for r in wanted['roles']]
        if current is not None:
            body['AccessorID'] = current['AccessorID']
            if current.get('ExpirationTTL'):
                # Nomad refuses an update that changes the expiry; send it back as it is.
                body['ExpirationTTL'] = current['ExpirationTTL']
        elif self.p['expiration_ttl']:
            body['ExpirationTTL'] = self.p['expiration_ttl']
        return body

    def check_input(self):
        p = self.p
        if p['type'] == 'management' and (p['policies'] or p['roles']):
            self.fail('a management token takes no policies or roles (Nomad: "management token cannot be '
                      'associated with policies")')
        if p['state'] == 'present' and p['type'] == 'client' and not p['policies'] and not p['roles']:
            self.fail('a client token needs policies (or, from Nomad 1.4, roles): one without is refused by Nomad '
                      '("client token missing policies")')
        if p['roles'] is not None or p['expiration_ttl']:
            version = agent_version(self.client)
            if not has_acl_roles(version):
                self.fail('%s need%s Nomad 1.4 or newer; the agent at %s runs Nomad %s' % (
                    ' and '.join(o for o in ('roles', 'expiration_ttl') if p[o]) or 'roles',
                    's' if not (p['roles'] and p['expiration_ttl']) else '', self.client.address, version))

    def run(self):
        p = self.p
        if p['state'] == 'present':
            self.check_input()
        current = self.find()
        before = token_view(current)
        if p['state'] == 'absent':
            result = dict(changed=current is not None, acl_token=None, secret_id=None)
            if self.module._diff:
                result['diff'] = dict(before=before or {}, after={})
            if current is not None and not self.module.check_mode:
                self.client.delete('/v1/acl/token/{}', current['AccessorID'])
            return result

        wanted = self.wanted(current)
        if current is not None and bool(current.get('Global')) != wanted['global']:
            self.fail('ACL token %s (%s) is %sglobal and Nomad cannot change that on an existing token; set '
                      'global: %s, or rotate it (rotate: true) to make a new one'
                      % (current['AccessorID'], before['name'], '' if before['global'] else 'not ',
                         str(before['global']).lower()))
        compared = dict((k, v) for k, v in (before or {}).items() if k in wanted)
        update = current is not None and compared != wanted
        create = current is None or p['rotate']
        result = dict(changed=create or update, secret_id=None)
        after = dict(wanted)
        if create:
            after['accessor_id'] = None
        if self.module._diff:
            result['diff'] = dict(before=before or {}, after=after)
        if not self.module.check_mode:
            if create:
                made, dummy = self.client.post('/v1/acl/token', json=self.body(wanted, None))
                result['secret_id'] = made['SecretID']
                after = token_view(made)
                if current is not None:
                    # The new token exists before the old one goes, so a
                    # failure in between leaves a working token.
                    self.client.delete('/v1/acl/token/{}', current['AccessorID'])
            elif update:
                updated, dummy = self.client.post('/v1/acl/token/{}', current['AccessorID'],
                                                  json=self.body(wanted, current))
                after = token_view(updated)
            else:
                after = before
        result['acl_token'] = after
        return result


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str'),
            accessor_id=dict(type='str'),
            type=dict(type='str', default='client', choices=['client', 'management']),
            policies=dict(type='list', elements='str', default=[]),
            roles=dict(type='list', elements='str'),
            expiration_ttl=dict(type='str'),
            rotate=dict(type='bool', default=False),
            token_file=dict(type='path'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            **{'global': dict(type='bool', default=False)}
        ),
        required_one_of=[('name', 'accessor_id')],
        supports_check_mode=True,
    )
    try:
        client = client_from_module(module, namespace=None)
        result = TokenModule(module, client).run()
    except NomadError as e:
        what = module.params['accessor_id'] or module.params['name']
        verb = 'delete' if module.params['state'] == 'absent' else 'write'
        module.fail_json(msg='Failed to %s ACL token %r: %s' % (verb, what, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
