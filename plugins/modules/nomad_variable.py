#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_variable
short_description: Create, update or delete a Nomad Variable
version_added: 0.3.0
description:
  - Makes a Nomad Variable (Nomad 1.4 and newer) hold exactly the given items, or not exist.
  - Every write is a check-and-set on the variable's modify index as this module read it, so a change someone
    else made in between is never overwritten; the module fails instead and says to run again.
  - Item values are secrets. O(items) is C(no_log), no value is returned, and the diff shows only the keys that
    are added, changed or removed, never a value.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the variable and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows which keys would be added, changed or removed; values are shown as C(<hidden>).
options:
  path:
    description:
      - The variable's path, for example V(nomad/jobs/httpecho) (which the job C(httpecho) can read).
    type: str
    required: true
  items:
    description:
      - The items, names to string values. The variable holds exactly these afterwards.
      - Nomad stores strings only; quote numbers and booleans.
      - Required with O(state=present).
    type: dict
  state:
    description:
      - V(present) creates or updates the variable; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The connection option O(namespace) names the variable's namespace (V(default) when not given).
seealso:
  - module: nomadops.nomad.nomad_acl_policy
  - name: Nomad Variables
    description: What variables are and how jobs read them.
    link: https://developer.hashicorp.com/nomad/docs/concepts/variables
'''

EXAMPLES = r'''
- name: Settings for the httpecho job, readable by its tasks
  nomadops.nomad.nomad_variable:
    path: nomad/jobs/httpecho
    namespace: web
    items:
      greeting: "{{ vault_greeting }}"
      port: "8080"
    token: "{{ management_token }}"
'''

RETURN = r'''
variable:
  description: The variable as it is now (as it would be, in check mode), without values; null when it does not exist.
  returned: always
  type: dict
  contains:
    path:
      description: Its path.
      type: str
    namespace:
      description: Its namespace.
      type: str
    keys:
      description: The names of its items, sorted.
      type: list
      elements: str
    modify_index:
      description: Its modify index after this call; null in check mode when it would change.
      type: int
keys_added:
  description: Item names that are (or would be) added.
  returned: always
  type: list
  elements: str
keys_changed:
  description: Item names whose value is (or would be) changed.
  returned: always
  type: list
  elements: str
keys_removed:
  description: Item names that are (or would be) removed.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    NomadConflict,
    NomadError,
    NomadNotFound,
    NomadPermissionDenied,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_variables

HIDDEN = '<hidden>'


def url(path):
    """The variable's URL template and arguments: each segment quoted, the slashes kept."""
    segments = path.split('/')
    return ['/v1/var/' + '/'.join('{}' for dummy in segments)] + segments


def read(client, path):
    try:
        body, dummy = client.get(*url(path))
    except NomadNotFound:
        return None
    return body


def key_diff(before, after):
    """Only names: which items appear, go or differ, with the values hidden."""
    shown_before = dict((k, HIDDEN) for k in before if k not in after or before[k] != after[k])
    shown_after = dict((k, HIDDEN) for k in after if k not in before or before[k] != after[k])
    return shown_before, shown_after


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            path=dict(type='str', required=True),
            items=dict(type='dict', no_log=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        required_if=[('state', 'present', ('items',))],
        supports_check_mode=True,
    )
    p = module.params
    path = p['path'].strip('/')
    namespace = p['namespace'] or 'default'
    items = p['items']
    if p['state'] == 'present':
        if not items:
            module.fail_json(msg='items of variable %r is empty; Nomad refuses a variable without items '
                             '(use state=absent to delete it)' % path)
        wrong = sorted(k for k, v in items.items() if not isinstance(v, str))
        if wrong:
            module.fail_json(msg='items of variable %r: %s must be strings, as Nomad stores strings only; quote '
                             'them' % (path, ', '.join('items.%s' % k for k in wrong)))

    try:
        client = client_from_module(module, namespace=namespace)
        try:
            version = agent_version(client)
        except NomadPermissionDenied:
            # A token with rights on variables only may not read the agent;
            # an older release then answers the variable API with a 404 of its own.
            version = None
        if version is not None and not has_variables(version):
            module.fail_json(msg='Nomad Variables need Nomad 1.4 or newer; the agent at %s runs Nomad %s'
                             % (client.address, version))
        current = read(client, path)
        stored = (current or {}).get('Items') or {}
        wanted = dict(items) if p['state'] == 'present' else {}
        exists_after = p['state'] == 'present'
        changed = (current is not None) != exists_after or stored != wanted
        shown_before, shown_after = key_diff(stored, wanted)
        result = dict(changed=changed,
                      keys_added=sorted(k for k in wanted if k not in stored),
                      keys_changed=sorted(k for k in wanted if k in stored and stored[k] != wanted[k]),
                      keys_removed=sorted(k for k in stored if k not in wanted) if exists_after else [])
        if module._diff:
            base = dict(path=path, namespace=namespace)
            result['diff'] = dict(before=dict(base, items=shown_before) if current is not None else {},
                                  after=dict(base, items=shown_after) if exists_after else {})
        index = (current or {}).get('ModifyIndex')
        if changed and not module.check_mode:
            # cas=0 creates only if absent; cas=N writes only over index N.
            cas = index if current is not None else 0
            if exists_after:
                written, dummy = client.put(*url(path), params=dict(cas=cas),
                                            json=dict(Namespace=namespace, Path=path, Items=wanted))
                index = written.get('ModifyIndex')
            else:
                client.delete(*url(path), params=dict(cas=cas))
        elif changed:
            index = None
        result['variable'] = dict(path=path, namespace=namespace, keys=sorted(wanted),
                                  modify_index=index) if exists_after else None
    except NomadConflict:
        module.fail_json(msg='Failed to write variable %r in namespace %r: it changed after this task read it '
                         '(check-and-set on its modify index %s failed); nothing was written, run again to '
                         'apply over the new version' % (path, namespace, (current or {}).get('ModifyIndex', 0)))
    except NomadError as e:
        verb = 'delete' if p['state'] == 'absent' else 'write'
        module.fail_json(msg='Failed to %s variable %r in namespace %r: %s' % (verb, path, namespace, e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
