# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-only: the CA and its key never leave the controller, so the
certificates are made here and only the results are copied to the hosts."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files, tls

ARGUMENT_SPEC = dict(
    ca_cert=dict(type='path', required=True),
    ca_key=dict(type='path'),
    create_ca=dict(type='bool', default=True),
    ca_common_name=dict(type='str', default='Nomad Agent CA'),
    ca_valid_days=dict(type='int', default=3650),
    cert=dict(type='path'),
    key=dict(type='path'),
    common_name=dict(type='str'),
    dns_names=dict(type='list', elements='str', default=[]),
    ip_addresses=dict(type='list', elements='str', default=[]),
    valid_days=dict(type='int', default=365),
    renew_before_days=dict(type='int', default=30),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(
            ARGUMENT_SPEC, required_together=[('cert', 'key')]).validate(self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg='Invalid arguments for nomad_tls_certificate: %s'
                          % '; '.join(validation.error_messages))
            return result
        p = validation.validated_parameters
        for field in ('ca_valid_days', 'valid_days'):
            if p[field] < 1:
                result.update(failed=True, msg='Invalid arguments for nomad_tls_certificate: %s must be at least 1' % field)
                return result
        check_mode = self._task.check_mode
        if not p['ca_key']:
            return self._check_supplied(result, p)

        try:
            ca = tls.ensure_ca(p['ca_cert'], p['ca_key'], common_name=p['ca_common_name'],
                               valid_days=p['ca_valid_days'], create=p['create_ca'],
                               check_mode=check_mode)
        except (tls.TLSError, secret_files.SecretFileError) as exc:
            result.update(failed=True, msg='Failed to ensure CA %s: %s' % (p['ca_cert'], exc))
            return result
        warning = tls.ca_expiry_warning(ca['cert'], p['renew_before_days'])
        if warning:
            result.setdefault('warnings', []).append(warning)
        result.update(changed=ca['changed'], ca_changed=ca['changed'], cert_changed=False,
                      ca_cert=secret_files.expand(p['ca_cert']), ca_not_after=ca['not_after'])
        if not p['cert']:
            return result

        dns_names = p['dns_names']
        common_name = p['common_name'] or (dns_names[0] if dns_names else p['ip_addresses'][0] if p['ip_addresses'] else None)
        try:
            outcome = tls.ensure_certificate(
                ca, p['cert'], p['key'], common_name, dns_names, p['ip_addresses'],
                valid_days=p['valid_days'], renew_before_days=p['renew_before_days'],
                check_mode=check_mode)
        except (tls.TLSError, secret_files.SecretFileError) as exc:
            result.update(failed=True, msg='Failed to ensure certificate %s: %s' % (p['cert'], exc))
            return result

        after = outcome['after'] or {}
        result.update(
            changed=result['changed'] or outcome['changed'],
            cert_changed=outcome['changed'],
            reason=outcome['reason'],
            cert=secret_files.expand(p['cert']),
            key=secret_files.expand(p['key']),
            dns_names=after.get('dns_names'),
            ip_addresses=after.get('ip_addresses'),
            not_after=after.get('not_after'),
            serial=after.get('serial'),
        )
        if self._task.diff:
            result['diff'] = dict(before=outcome['before'] or {}, after=after,
                                  before_header=p['cert'], after_header=p['cert'])
        return result

    @staticmethod
    def _check_supplied(result, p):
        """Without the CA's key nothing can be issued: check the user's files instead."""
        if not p['cert']:
            result.update(failed=True, msg='Invalid arguments for nomad_tls_certificate: without ca_key, '
                                           'give the cert and key to check against ca_cert')
            return result
        try:
            problems = tls.supplied_problems(p['ca_cert'], p['cert'], p['key'], p['dns_names'])
        except tls.TLSError as exc:
            problems = [str(exc)]
        if problems:
            result.update(failed=True, msg='The supplied TLS files cannot be used: %s.' % '; '.join(problems))
            return result
        result.update(changed=False, ca_changed=False, cert_changed=False, ca_cert=secret_files.expand(p['ca_cert']),
                      cert=secret_files.expand(p['cert']), key=secret_files.expand(p['key']))
        return result
