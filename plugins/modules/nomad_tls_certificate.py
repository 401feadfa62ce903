#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work happens in the action plugin of the same name, on the controller.

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nomad_tls_certificate
short_description: Keep a CA and Nomad agent certificates on the controller
version_added: 0.1.0
description:
  - Creates a certificate authority on the Ansible controller the first time, and keeps it.
  - Optionally issues a certificate signed by that CA, for one Nomad agent, with the names Nomad checks
    (V(server.<region>.nomad) or V(client.<region>.nomad)), plus V(localhost), V(127.0.0.1) and the host's address.
  - Idempotent. A certificate is re-issued only when it is missing, not signed by the CA, its private key does not match,
    its subject alternative names differ from the requested ones, or it expires within O(renew_before_days).
    An existing private key is kept when only the names change.
  - Private keys are written atomically with mode C(0600) and are never returned. Certificates are mode C(0644).
  - Keys are ECDSA P-256; certificates are usable for both TLS server and TLS client authentication,
    which Nomad agents need with C(verify_https_client).
  - Without O(ca_key) nothing is created or issued. The O(cert) and O(key) a user brought are checked against
    O(ca_cert) instead - the key belongs to the certificate, the CA signed it, both are valid now, and it names
    each of O(dns_names) - and the task fails naming the file and the problem. Nomad itself would find out only
    when the agent starts, or at the first TLS handshake.
  - This runs on the controller only and needs the python C(cryptography) package there.
    Copy the results to the hosts with M(ansible.builtin.copy).
author:
  - nomadops maintainers (@nomadops)
requirements:
  - cryptography (python, on the controller)
options:
  ca_cert:
    description: Path of the CA certificate (PEM) on the controller.
    type: path
    required: true
  ca_key:
    description:
      - Path of the CA private key (PEM) on the controller. Mode C(0600).
      - Without it, O(cert) and O(key) are only checked, as the description says.
    type: path
  create_ca:
    description:
      - Create the CA when neither O(ca_cert) nor O(ca_key) exists.
      - With V(false) a missing CA is an error, which suits user-supplied CAs.
      - An existing CA is never replaced, and a CA with only one of its two files is an error.
    type: bool
    default: true
  ca_common_name:
    description: Common name of a newly created CA.
    type: str
    default: Nomad Agent CA
  ca_valid_days:
    description: Lifetime of a newly created CA, in days.
    type: int
    default: 3650
  cert:
    description:
      - Path of the certificate to issue, on the controller. Without it only the CA is ensured.
      - Requires O(key).
    type: path
  key:
    description: Path of the certificate's private key on the controller. Mode C(0600).
    type: path
  common_name:
    description: Subject common name of the certificate. Defaults to the first of O(dns_names).
    type: str
  dns_names:
    description: DNS subject alternative names, e.g. V(server.global.nomad) and V(localhost).
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP subject alternative names, e.g. V(127.0.0.1) and the host's address.
    type: list
    elements: str
    default: []
  valid_days:
    description: Lifetime of an issued certificate, in days (never past the CA's own expiry).
    type: int
    default: 365
  renew_before_days:
    description: Re-issue a certificate that expires within this many days.
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    description: Can run in check mode and report what would change without changing it.
  diff_mode:
    support: full
    description: Reports differences.
    details: Shows the certificate's names, expiry and serial before and after.
  platform:
    support: full
    description: Runs on the Ansible controller.
    platforms: posix
notes:
  - Hosts running the task at once are safe; a lock on the key's directory makes one of them create the CA.
seealso:
  - module: nomadops.nomad.nomad_gossip_key
  - module: nomadops.nomad.nomad_acl_bootstrap
  - name: Nomad TLS configuration
    description: The agent's tls stanza.
    link: https://developer.hashicorp.com/nomad/docs/configuration/tls
'''

EXAMPLES = r'''
- name: Ensure the CA exists (once)
  nomadops.nomad.nomad_tls_certificate:
    ca_cert: ~/.nomadops/prod/tls/ca.pem
    ca_key: ~/.nomadops/prod/tls/ca-key.pem
  run_once: true

- name: Ensure each server has its certificate
  nomadops.nomad.nomad_tls_certificate:
    ca_cert: ~/.nomadops/prod/tls/ca.pem
    ca_key: ~/.nomadops/prod/tls/ca-key.pem
    create_ca: false
    cert: "~/.nomadops/prod/tls/{{ inventory_hostname }}.pem"
    key: "~/.nomadops/prod/tls/{{ inventory_hostname }}-key.pem"
    dns_names:
      - server.global.nomad
      - localhost
    ip_addresses:
      - 127.0.0.1
      - "{{ ansible_host }}"

- name: Check certificates from your own PKI before they are copied anywhere
  nomadops.nomad.nomad_tls_certificate:
    ca_cert: files/pki/ca.pem
    cert: "files/pki/{{ inventory_hostname }}.pem"
    key: "files/pki/{{ inventory_hostname }}-key.pem"
    dns_names: [server.global.nomad]
'''

RETURN = r'''
ca_cert:
  description: Absolute path of the CA certificate.
  returned: success
  type: str
  sample: /home/ops/.nomadops/prod/tls/ca.pem
ca_changed:
  description: Whether the CA was created.
  returned: success
  type: bool
  sample: false
ca_not_after:
  description: Expiry of the CA (UTC); V(null) in check mode for a CA that would be created.
  returned: success
  type: str
  sample: "2036-11-25T22:31:02Z"
cert_changed:
  description: Whether the certificate was (or would be) issued.
  returned: success
  type: bool
  sample: true
reason:
  description: Why the certificate was issued; V(null) when nothing changed.
  returned: when O(cert) is given
  type: str
  sample: subject alternative names differ (have localhost, server.global.nomad, 127.0.0.1, want localhost, server.global.nomad, 10.0.0.5, 127.0.0.1)
cert:
  description: Absolute path of the certificate.
  returned: when O(cert) is given
  type: str
  sample: /home/ops/.nomadops/prod/tls/nomad1.pem
key:
  description: Absolute path of the private key (never its content).
  returned: when O(cert) is given
  type: str
  sample: /home/ops/.nomadops/prod/tls/nomad1-key.pem
dns_names:
  description: DNS names in the certificate.
  returned: when O(cert) is given
  type: list
  elements: str
  sample: [localhost, server.global.nomad]
ip_addresses:
  description: IP addresses in the certificate.
  returned: when O(cert) is given
  type: list
  elements: str
  sample: [10.0.0.5, 127.0.0.1]
not_after:
  description: Expiry of the certificate (UTC); V(null) in check mode when it would be issued.
  returned: when O(cert) is given
  type: str
  sample: "2027-11-27T22:31:02Z"
serial:
  description: Serial number of the certificate, in hex.
  returned: when O(cert) is given
  type: str
  sample: 5f1c0e2a9b
'''
