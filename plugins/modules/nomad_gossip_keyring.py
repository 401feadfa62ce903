#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_gossip_keyring
short_description: Rotate the gossip encryption key of running Nomad servers
version_added: 0.2.0
description:
  - Makes O(key) the one gossip key that every server uses, through the agent keyring API, as
    C(nomad operator keyring -install), C(-use) and C(-remove) do. The servers keep running.
  - The key is installed on every server first, then made the primary one, then every other key is removed,
    so no server ever gossips with a key that another one cannot read yet.
  - This is how the key of a running cluster changes. A server keeps the keyring it wrote at its first start in
    its C(data_dir) and ignores a new C(encrypt) in its configuration, so changing the file and restarting does
    nothing.
  - It cannot turn encryption on. Servers that run without it have no keyring, Nomad answers
    C(3/3 nodes reported failure), and the module fails saying what that usually means.
  - The keys are secrets. They are never returned or shown, and are removed from Nomad's error messages.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Lists the keyring and reports whether the key would change; sends nothing else.
  diff_mode:
    support: none
    description: Keys are secrets; there is nothing to show.
options:
  key:
    description:
      - The gossip key, base64 of 16, 24 or 32 bytes, as C(nomad operator keygen) prints it.
    type: str
    required: true
notes:
  - The agent at O(address) must be a server. With ACLs on, the token needs C(agent:write).
seealso:
  - module: nomadops.nomad.nomad_gossip_key
'''

EXAMPLES = r'''
- name: Rotate the gossip key of the running servers
  nomadops.nomad.nomad_gossip_keyring:
    key: "{{ lookup('ansible.builtin.file', '~/.nomadops/global-home/gossip.key') }}"
  run_once: true
'''

RETURN = r'''
num_nodes:
  description: How many servers answered the keyring list.
  returned: success
  type: int
  sample: 3
keys_before:
  description: How many keys the servers had before (the keys themselves are never returned).
  returned: success
  type: int
  sample: 1
installed:
  description: Whether O(key) had to be installed on some server.
  returned: success
  type: bool
  sample: true
removed:
  description: How many other keys were removed.
  returned: success
  type: int
  sample: 1
'''

import base64
import binascii
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError
from ansible_collections.nomadops.nomad.plugins.module_utils.common import client_from_module, nomad_argument_spec


BASE64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')


def key_problem(key):
    """Why ``key`` is no gossip key Nomad takes, without showing it; None when it is one."""
    if not BASE64.match(key):
        return 'key is not base64'
    try:
        size = len(base64.b64decode(key))
    except (binascii.Error, TypeError, ValueError):
        return 'key is not base64'
    if size not in (16, 24, 32):
        return 'key must be base64 of 16, 24 or 32 bytes, not %d' % size
    return None


def rotate(client, key, check_mode):
    """Install, use, remove: the order in which no server is left unable to read another."""
    listing, dummy = client.get('/v1/agent/keyring/list')
    keys = (listing or {}).get('Keys') or {}
    num_nodes = int((listing or {}).get('NumNodes') or 0)
    others = sorted(k for k in keys if k != key)
    installed = keys.get(key, 0) < num_nodes
    result = dict(changed=bool(installed or others), num_nodes=num_nodes, keys_before=len(keys),
                  installed=installed, removed=len(others))
    if check_mode or not result['changed']:
        return result
    if installed:
        client.put('/v1/agent/keyring/install', json=dict(Key=key))
    client.put('/v1/agent/keyring/use', json=dict(Key=key))
    for other in others:
        client.put('/v1/agent/keyring/remove', json=dict(Key=other))
    return result


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(key=dict(type='str', required=True, no_log=True)),
        supports_check_mode=True,
    )
    key = module.params['key']
    problem = key_problem(key)
    if problem:
        module.fail_json(msg='Invalid gossip key: %s (the value is not shown: it is a secret)' % problem)
    address = module.params['address']
    try:
        client = client_from_module(module)
        address = client.address
        result = rotate(client, key, module.check_mode)
    except NomadError as e:
        # Nomad's messages do not carry keys, but a wrong one must never leak.
        message = str(e).replace(key, '<key>')
        if 'nodes reported failure' in message:
            # Nomad's answer drops serf's per-server messages; say what the count usually means.
            message += (' (servers that run without gossip encryption answer this: they have no keyring, and '
                        'encryption cannot be turned on while they run)')
        module.fail_json(msg='Failed to rotate the gossip key through %s: %s' % (address, message))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
