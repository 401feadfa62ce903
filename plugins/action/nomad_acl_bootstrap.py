# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_acl_bootstrap.

The module runs where the agent is reachable (usually the first server);
the token file lives on the controller. Reading and writing it here keeps
the token off the managed hosts' disks and out of every temp file.
"""

from __future__ import annotations

import os
import tempfile

from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files

# What AnsibleModule puts in place of a returned value equal to a no_log
# parameter: a verified token comes back masked, and is restored here.
_MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    @staticmethod
    def _rescue(result, token, error):
        """The cluster has bootstrapped and will never hand this token out again: when its file cannot
        be written, keep it in a private file of the controller's temp directory and fail saying where.
        The result then carries the path and not the token, so it is shown, not censored."""
        for key in ('token', '_ansible_no_log'):
            result.pop(key, None)
        try:
            fd, kept = tempfile.mkstemp(prefix='nomad-acl-token-', suffix='.txt')
            with os.fdopen(fd, 'w') as handle:
                handle.write(token + '\n')
        except (IOError, OSError) as exc:
            result.update(failed=True, _ansible_no_log=True, token=token,
                          msg='Failed to store ACL token file (%s), and to keep the token anywhere else (%s); '
                              'it is only in this task\'s registered result, under no_log.' % (error, exc))
            return result
        result.update(failed=True, token_kept_in=kept,
                      msg='Failed to store ACL token file: %s. ACLs are bootstrapped and Nomad will not do it '
                          'again: the management token was kept in %s (mode 0600). Move it to the token file, '
                          'or set nomad_acl_token, before the next run.' % (error, kept))
        return result

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        module_args = dict(self._task.args)
        token_file = module_args.get('token_file')
        token_path = secret_files.expand(token_file) if token_file else None
        stored = None
        if token_path:
            try:
                stored = (secret_files.read_text(token_path) or '').strip() or None
            except secret_files.SecretFileError as exc:
                result.update(failed=True, msg='Failed to read ACL token file: %s' % exc)
                return result
        if not module_args.get('token') and stored:
            module_args['token'] = stored
        # A supplied bootstrap secret is the token the module returns when no
        # other was given.
        sent_token = module_args.get('token') or module_args.get('bootstrap_secret')

        result.update(self._execute_module(module_name=self._task.action, module_args=module_args,
                                           task_vars=task_vars))
        if result.get('token') == _MASK:
            result['token'] = sent_token
        if result.get('token'):
            # The token is in the result: censor it even when the task forgot no_log.
            result['_ansible_no_log'] = True
        if result.get('failed') or not token_path:
            return result

        token = result.get('token')
        changed_file = False
        if token and token != stored:
            changed_file = True
            if not self._task.check_mode:
                try:
                    secret_files.write_private(token_path, token + '\n', 0o600)
                except secret_files.SecretFileError as exc:
                    return self._rescue(result, token, exc)
        elif token and secret_files.file_mode(token_path) != 0o600:
            changed_file = True
            if not self._task.check_mode:
                secret_files.ensure_mode(token_path, 0o600)
        result['token_file_changed'] = changed_file
        result['changed'] = bool(result.get('changed')) or changed_file
        return result
