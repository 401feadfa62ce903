# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_acl_token: a secret this call made is censored
in the result and kept in token_file on the controller, never on a managed
host's disk."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        module_args = dict(self._task.args)
        token_file = module_args.get('token_file')
        token_path = secret_files.expand(token_file) if token_file else None
        result.update(self._execute_module(module_name=self._task.action, module_args=module_args,
                                           task_vars=task_vars))
        secret = result.get('secret_id')
        if secret:
            # The secret is in the result: censor it even when the task forgot no_log.
            result['_ansible_no_log'] = True
        if result.get('failed') or not token_path:
            return result

        changed_file = False
        if secret:
            changed_file = True
            if not self._task.check_mode:
                try:
                    secret_files.write_private(token_path, secret + '\n', 0o600)
                except secret_files.SecretFileError as exc:
                    # The token exists now and only this result knows its secret.
                    result.update(failed=True, msg='Failed to store the new ACL token\'s secret: %s; the token '
                                  'exists (accessor %s): rotate it once the file can be written'
                                  % (exc, (result.get('acl_token') or {}).get('accessor_id')))
                    return result
        elif result.get('changed') and (result.get('acl_token') or {}).get('accessor_id') is None \
                and module_args.get('state', 'present') == 'present':
            changed_file = True  # check mode: a new token would be made and written
        elif result.get('acl_token') and secret_files.file_mode(token_path) not in (None, 0o600):
            changed_file = True
            if not self._task.check_mode:
                secret_files.ensure_mode(token_path, 0o600)
        elif result.get('acl_token') and secret_files.file_mode(token_path) is None:
            result.setdefault('warnings', []).append(
                'token_file %s does not exist and the token was made earlier, so its secret is not known here; '
                'set rotate: true once to make a new one and keep it' % token_file)
        result['token_file_changed'] = changed_file
        result['changed'] = bool(result.get('changed')) or changed_file
        return result
