#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work happens in the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nomad_gossip_key
short_description: Keep a Nomad gossip encryption key in a file on the controller
version_added: 0.1.0
description:
  - Makes sure a file on the Ansible controller holds a gossip (serf) encryption key for Nomad servers,
    generating one the first time. Every later run returns the same key, so every server gets the same key.
  - A generated key is 16 random bytes, base64-encoded, the format C(nomad operator keygen) of Nomad 0.9.1 produces.
  - The file is written atomically with mode C(0600); its directory is created with mode C(0700).
  - The key is returned, and the result is always censored as if the task had C(no_log=true),
    so the key never appears in the output, even with C(-vvv).
  - This runs on the controller only; it needs neither C(delegate_to) nor privileges on the target.
author:
  - nomadops maintainers (@nomadops)
options:
  path:
    description:
      - Path of the key file on the controller. C(~) is expanded.
    type: path
    required: true
  key:
    description:
      - A key to store instead of generating one. It must be base64 of 16, 24 or 32 bytes.
      - When the file already holds a different key, it is replaced.
    type: str
  regenerate:
    description:
      - Replace the stored key with a new one. Every server must then be reconfigured and restarted.
      - Mutually exclusive with O(key).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Can run in check mode and report what would change without changing it.
    details: In check mode a key that would be generated is returned as V(null).
  diff_mode:
    support: none
    description: Nothing to compare.
  platform:
    support: full
    description: Runs on the Ansible controller.
    platforms: posix
notes:
  - Several hosts running the task at once are safe; a lock on the directory of O(path) lets one of them create the key.
seealso:
  - module: nomadops.nomad.nomad_tls_certificate
  - module: nomadops.nomad.nomad_acl_bootstrap
'''

EXAMPLES = r'''
- name: Ensure the cluster's gossip key exists
  nomadops.nomad.nomad_gossip_key:
    path: ~/.nomadops/prod/gossip.key
  run_once: true
  register: gossip

- name: Render the server config with it
  ansible.builtin.template:
    src: server.hcl.j2
    dest: /etc/nomad.d/server.hcl
    mode: "0640"
  vars:
    nomad_encrypt: "{{ gossip.key }}"
  no_log: true
'''

RETURN = r'''
key:
  description: The gossip key (base64). Censored in output; use it through a registered variable.
  returned: success
  type: str
  sample: cg8StVXbQJ0gPvMd9o7yrg==
path:
  description: Absolute path of the key file.
  returned: success
  type: str
  sample: /home/ops/.nomadops/prod/gossip.key
'''
