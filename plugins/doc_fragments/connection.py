# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Twin of plugins/module_utils/common.py NOMAD_COMMON_ARGS.
    DOCUMENTATION = r'''
options:
  address:
    description:
      - Address of the Nomad agent's HTTP API, including the scheme.
      - The module runs on the managed host, so the default is the agent on that host.
      - If not set, the value of the E(NOMAD_ADDR) environment variable is used.
    type: str
    default: http://127.0.0.1:4646
  token:
    description:
      - ACL token sent as the C(X-Nomad-Token) header.
      - If not set, the value of the E(NOMAD_TOKEN) environment variable is used.
    type: str
  region:
    description:
      - Region to send requests to, passed as the C(region) query parameter.
      - If not set, the value of the E(NOMAD_REGION) environment variable is used, else the agent's own region.
    type: str
  namespace:
    description:
      - Namespace, passed as the C(namespace) query parameter. Open-source Nomad has namespaces from 1.0 on;
        with an older agent anything but C(default) fails before anything is sent, saying so.
      - M(nomadops.nomad.nomad_job) also writes it into the job, since Nomad 1.x files a job whose own
        C(namespace) is unset under C(default) whatever the request says; a job file naming another namespace
        is an error.
      - If not set, the value of the E(NOMAD_NAMESPACE) environment variable is used.
    type: str
  ca_cert:
    description:
      - Path on the managed host of a PEM CA bundle used to verify the agent's TLS certificate.
      - If not set, the value of the E(NOMAD_CACERT) environment variable is used.
    type: path
  client_cert:
    description:
      - Path on the managed host of a PEM client certificate for mutual TLS.
      - If not set, the value of the E(NOMAD_CLIENT_CERT) environment variable is used.
    type: path
  client_key:
    description:
      - Path on the managed host of the private key matching O(client_cert).
      - If not set, the value of the E(NOMAD_CLIENT_KEY) environment variable is used.
    type: path
  validate_certs:
    description:
      - Whether to verify the agent's TLS certificate. Only turn this off for testing.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the agent to answer one request.
      - Blocking queries add their own wait time on top of this.
    type: int
    default: 10
requirements:
  - requests
'''
