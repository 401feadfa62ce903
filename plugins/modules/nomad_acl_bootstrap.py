#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
---
module: nomad_acl_bootstrap
short_description: Bootstrap Nomad's ACL system once and keep the management token
version_added: 0.1.0
description:
  - Calls C(POST /v1/acl/bootstrap) on an ACL-enabled Nomad agent the first time, and returns the management token.
  - Bootstraps at most once. When a token is known (O(token), E(NOMAD_TOKEN) or the content of O(token_file)),
    it is checked with C(GET /v1/acl/token/self) first; a valid management token means the cluster is already
    bootstrapped and nothing is sent to the bootstrap endpoint.
  - A cluster that answers "ACL bootstrap already done" is reported as unchanged. If no token is known then,
    RV(token) is V(null) and RV(bootstrapped) is V(false); the token has to come from wherever it was first kept.
  - The result that carries the token is always censored as if the task had C(no_log=true),
    so the token never appears in the output, even with C(-vvv). Use it through a registered variable,
    or O(token_file).
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
options:
  token:
    description:
      - A management token believed to be current, for example from an earlier bootstrap.
        It is verified, never sent to the bootstrap endpoint.
      - When omitted, the content of O(token_file) is used if that file exists.
  bootstrap_secret:
    description:
      - Nomad 1.4 and newer. The secret (a UUID) the bootstrap gives the management token, chosen by the operator,
        for example one kept in a vault, so that the token is known before the first run.
      - When no other token is known it is verified first, as O(token) is, so a cluster that has it is not
        bootstrapped again.
      - Older releases ignore it and make a secret of their own; the module then returns that one, and warns.
    type: str
  token_file:
    description:
      - Path of a file B(on the controller) that keeps the management token.
      - It is read before the module runs (as the default for O(token)), and written with mode C(0600)
        after a bootstrap; its directory is created with mode C(0700). Both happen on the controller,
        in the action plugin, so the token never lands on a managed host.
    type: path
attributes:
  check_mode:
    support: full
    description: Can run in check mode and report what would change without changing it.
    details:
      - A known token is verified in check mode too. Without a valid token, check mode reports that a bootstrap
        would happen; Nomad 0.9.1 offers no read-only way to ask whether it already did.
  diff_mode:
    support: none
    description: Nothing to compare.
  platform:
    support: full
    description: The module runs where the Nomad agent is reachable; O(token_file) is handled on the controller.
    platforms: posix
  action_group:
    support: full
    description: Use C(group/nomadops.nomad.nomad) in C(module_defaults) to set the connection options once.
    membership:
      - nomadops.nomad.nomad
notes:
  - Run it once per cluster, e.g. with C(run_once=true) on the first server after the cluster has a leader.
  - A token that is not a UUID is refused by Nomad 0.9.1 with a 500 C(UUID must be 36 characters); an unknown
    UUID gets a 403 C(ACL token not found). Both are reported with that explanation.
seealso:
  - module: nomadops.nomad.nomad_job
  - name: Nomad ACL bootstrap API
    description: The endpoint this module calls.
    link: https://developer.hashicorp.com/nomad/api-docs/acl/tokens#bootstrap-token
'''

EXAMPLES = r'''
- name: Bootstrap ACLs once and keep the token on the controller
  nomadops.nomad.nomad_acl_bootstrap:
    address: https://127.0.0.1:4646
    ca_cert: /etc/nomad.d/tls/ca.pem
    client_cert: /etc/nomad.d/tls/agent.pem
    client_key: /etc/nomad.d/tls/agent-key.pem
    token_file: ~/.nomadops/prod/acl-token
  run_once: true
  register: acl

- name: Submit a job with the management token
  nomadops.nomad.nomad_job:
    src: httpecho.nomad
    token: "{{ acl.token }}"
'''

RETURN = r'''
token:
  description:
    - The management token's secret ID. Censored in output; V(null) when the cluster was already bootstrapped
      and no token was known.
  returned: always
  type: str
  sample: 7167b221-d0de-c5a9-bf10-7584ccd26401
accessor_id:
  description: The management token's accessor ID (not secret).
  returned: when a token is known
  type: str
  sample: 1f32885e-7bb6-9d3c-22a4-567bba21abe4
bootstrapped:
  description: Whether the returned token is a verified management token (from this run or an earlier one).
  returned: always
  type: bool
  sample: true
already_bootstrapped:
  description: Whether the cluster had been bootstrapped before this run.
  returned: always
  type: bool
  sample: false
token_file_changed:
  description: Whether O(token_file) was (or would be) written.
  returned: when O(token_file) is given
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    NomadAPIError,
    NomadError,
    NomadNotFound,
    NomadPermissionDenied,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    client_from_module,
    nomad_argument_spec,
)

ALREADY_DONE = 'ACL bootstrap already done'
ACL_DISABLED = 'ACL support disabled'
NOT_A_UUID = 'UUID must be 36 characters'


class ACLBootstrap(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.secret = module.params['bootstrap_secret']
        # A supplied bootstrap secret is the token once the bootstrap is done.
        self.token = module.params['token'] or self.secret

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def _explain(self, verb, err):
        message = getattr(err, 'message', str(err))
        if ACL_DISABLED in message:
            return ('Failed to %s on %s: ACLs are not enabled on this agent '
                    '(set acl { enabled = true } in its configuration)' % (verb, self.client.address))
        return 'Failed to %s on %s: %s' % (verb, self.client.address, err)

    def verify_token(self):
        """Return the token's description when it is a management token; None when Nomad does not know it."""
        try:
            body = self.client.get('/v1/acl/token/self')[0]
        except (NomadPermissionDenied, NomadNotFound):
            # "ACL token not found": a token from a cluster since rebuilt, or
            # one deleted, which token/self answers with 404 (recorded on
            # 0.9.1, 1.1.0 and 1.6.5).
            return None
        except NomadAPIError as err:
            if NOT_A_UUID in err.message:
                self.fail('Failed to verify the given ACL token on %s: it is not a Nomad token '
                          '(Nomad said: %s)' % (self.client.address, err.message))
            self.fail(self._explain('verify the given ACL token', err))
        if not isinstance(body, dict) or body.get('Type') != 'management':
            self.fail('Failed to verify the given ACL token on %s: it is a %s token, not a management token'
                      % (self.client.address, (body or {}).get('Type', 'unknown') if isinstance(body, dict) else 'unknown'))
        return body

    def present(self):
        stale = False
        if self.token:
            known = self.verify_token()
            if known is not None:
                return dict(changed=False, token=self.token, accessor_id=known.get('AccessorID'),
                            bootstrapped=True, already_bootstrapped=True)
            stale = True

        if self.module.check_mode:
            return dict(changed=True, token=None, bootstrapped=False, already_bootstrapped=False,
                        msg='ACLs would be bootstrapped')

        try:
            body = self.client.post('/v1/acl/bootstrap',
                                    json=dict(BootstrapSecret=self.secret) if self.secret else None)[0]
        except NomadAPIError as err:
            if ALREADY_DONE not in err.message:
                self.fail(self._explain('bootstrap ACLs', err))
            if stale:
                self.fail('Failed to bootstrap ACLs on %s: the cluster is already bootstrapped and the given token '
                          'is not known to it (ACL token not found); supply the current management token'
                          % self.client.address)
            # Bootstrapped earlier, token unknown here: not a change, but say so.
            self.module.warn('ACLs on %s were bootstrapped before and no management token was given; '
                             'supply it with token, NOMAD_TOKEN or token_file' % self.client.address)
            return dict(changed=False, token=None, bootstrapped=False, already_bootstrapped=True)

        if not isinstance(body, dict) or not body.get('SecretID'):
            self.fail('Failed to bootstrap ACLs on %s: the answer carried no token' % self.client.address)
        if self.secret and body['SecretID'] != self.secret:
            # Before 1.4 Nomad ignores BootstrapSecret: the token it made is the one that works.
            self.module.warn('The agent at %s ignored bootstrap_secret (Nomad 1.4 and newer take one) and made a '
                             'management token of its own, which is returned (and kept in token_file)'
                             % self.client.address)
        return dict(changed=True, token=body['SecretID'], accessor_id=body.get('AccessorID'),
                    bootstrapped=True, already_bootstrapped=False)


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(token_file=dict(type='path'),
                                          bootstrap_secret=dict(type='str', no_log=True)),
        supports_check_mode=True,
    )
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    try:
        client = client_from_module(module, token=module.params['token'] or module.params['bootstrap_secret'])
        result = ACLBootstrap(module, client).present()
    except NomadError as err:
        module.fail_json(msg='Failed to bootstrap ACLs: %s' % err)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
