#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_snapshot
short_description: Save the Nomad cluster's state to a file on the controller, or restore it
version_added: 0.6.0
description:
  - V(saved) takes a snapshot of the leader's state (jobs, allocations, ACL tokens, variables; what
    C(nomad operator snapshot save) writes) and stores it in a file on the controller, mode 0600, since it holds
    secrets. The file is checked as C(nomad operator snapshot inspect) reads it (the archive, its SHA-256 sums and
    its raft index) before the task reports success, and only then takes its name; a damaged download leaves
    nothing behind. O(keep) removes the oldest snapshots of the same name pattern.
  - V(restored) restores the cluster's state from such a file, which replaces everything the servers hold now.
    It only happens with O(force=true), and reports the raft index restored to.
  - Snapshots came with Nomad 0.12. The module asks the agent for its release first and, on an older one, fails
    before anything else is sent, naming the release.
  - An action plugin reads and writes the files on the controller; the module runs on the managed host and talks
    to the agent there, which passes the request to the leader.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Asks the agent for its release and checks a file to restore; saves, removes and restores nothing.
  diff_mode:
    support: none
    description: A snapshot is a binary archive; the result names the file, its index and its SHA-256 instead.
options:
  state:
    description:
      - V(saved) or V(restored).
    type: str
    choices: [saved, restored]
    default: saved
  dest:
    description:
      - With O(state=saved), the directory on the controller to save into; created mode 0700 when missing.
    type: path
  name:
    description:
      - With O(state=saved), the file name, a C(strftime) template of the time (UTC) the snapshot is taken.
    type: str
    default: nomad-%Y%m%dT%H%M%SZ.snap
  keep:
    description:
      - With O(state=saved), how many snapshots of this O(name) pattern (each C(%) field matching any text) to keep
        in O(dest), the newest by name; older ones are removed after the new one is checked. V(0) keeps all.
    type: int
    default: 0
  src:
    description:
      - With O(state=restored), the snapshot file on the controller.
    type: path
  force:
    description:
      - Restoring replaces the whole state of the cluster (jobs registered since the snapshot are gone); it only
        happens when this is V(true).
    type: bool
    default: false
  remote_file:
    description:
      - The snapshot's temporary path on the managed host, which the action plugin sets; there is no reason to set
        it by hand.
    type: path
notes:
  - The snapshot holds ACL tokens and variables. Keep O(dest) private; the files are written mode 0600 whatever the
    umask.
  - The snapshot comes from the leader; Nomad refuses while there is none.
seealso:
  - module: nomadops.nomad.nomad_job
'''

EXAMPLES = r'''
- name: Save a snapshot of the cluster, keeping the last 14
  nomadops.nomad.nomad_snapshot:
    state: saved
    dest: /var/backups/nomad
    keep: 14
  run_once: true

- name: Restore the cluster from a snapshot
  nomadops.nomad.nomad_snapshot:
    state: restored
    src: /var/backups/nomad/nomad-20261206T031500Z.snap
    force: true
  run_once: true
'''

RETURN = r'''
path:
  description: The snapshot file on the controller (saved, or restored from); in check mode, the name it would have.
  returned: always
  type: str
  sample: /var/backups/nomad/nomad-20261206T031500Z.snap
index:
  description: The raft index of the snapshot (saved, or restored to), from its meta.json.
  returned: unless in check mode with state saved
  type: int
  sample: 78
term:
  description: The raft term of the snapshot.
  returned: unless in check mode with state saved
  type: int
  sample: 2
size:
  description: Size in bytes of the file.
  returned: unless in check mode with state saved
  type: int
  sample: 8012
sha256:
  description: SHA-256 of the file.
  returned: unless in check mode with state saved
  type: str
  sample: 1f6f8f2f0f2a4c1e9d3b7a5c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f
removed:
  description: Older snapshots O(keep) removed (or would remove, in check mode).
  returned: with state saved
  type: list
  elements: str
  sample: [/var/backups/nomad/nomad-20261120T031500Z.snap]
nomad_version:
  description: The agent's release.
  returned: always
  type: str
  sample: 1.6.5
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadError
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.snapshot import (
    SnapshotError,
    file_sha256,
    inspect_snapshot,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_snapshots


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            state=dict(type='str', default='saved', choices=['saved', 'restored']),
            dest=dict(type='path'),
            name=dict(type='str', default='nomad-%Y%m%dT%H%M%SZ.snap'),
            keep=dict(type='int', default=0),
            src=dict(type='path'),
            force=dict(type='bool', default=False),
            remote_file=dict(type='path'),
        ),
        required_if=[('state', 'saved', ('dest',)), ('state', 'restored', ('src',))],
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False)
    try:
        client = client_from_module(module)
        version = agent_version(client)
    except NomadError as e:
        module.fail_json(msg='Failed to ask the agent for its release: %s' % e)
    result['nomad_version'] = version
    try:
        supported = has_snapshots(version)
    except ValueError as e:
        module.fail_json(msg='The agent at %s reports a version this module cannot read: %s' % (client.address, e))
    if not supported:
        module.fail_json(msg='Snapshots need Nomad 0.12 or newer (nomad operator snapshot); the agent at %s runs '
                             'Nomad %s. Nothing was sent.' % (client.address, version), **result)
    if p['state'] == 'restored' and not p['force']:
        module.fail_json(msg='Restoring %s replaces the whole state of the cluster; set force=true to do it'
                         % p['src'], **result)
    if not p['remote_file']:
        module.fail_json(msg='remote_file is set by the nomadops.nomad.nomad_snapshot action plugin, which reads and '
                             'writes the files on the controller; this module ran without it', **result)

    result['changed'] = True
    if module.check_mode:
        # The action plugin checked a file to restore; nothing more to learn without sending.
        module.exit_json(**result)

    path = p['remote_file']
    if p['state'] == 'saved':
        try:
            # Created 0600 before a byte arrives: the snapshot holds secrets.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                client.download('/v1/operator/snapshot', dest=handle)
        except NomadAPIError as e:
            module.fail_json(msg='Failed to save a snapshot: %s' % e.message, **result)
        except (NomadError, OSError) as e:
            module.fail_json(msg='Failed to save a snapshot: %s' % e, **result)
    try:
        result.update(inspect_snapshot(path))
    except SnapshotError as e:
        module.fail_json(msg='Failed to %s a snapshot: %s' % ('save' if p['state'] == 'saved' else 'restore', e),
                         **result)
    result.update(size=os.path.getsize(path), sha256=file_sha256(path))
    if p['state'] == 'restored':
        try:
            with open(path, 'rb') as handle:
                client.upload('PUT', '/v1/operator/snapshot', source=handle)
        except NomadAPIError as e:
            module.fail_json(msg='Failed to restore snapshot %s: %s' % (p['src'], e.message), **result)
        except (NomadError, OSError) as e:
            module.fail_json(msg='Failed to restore snapshot %s: %s' % (p['src'], e), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
