# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_acl_policy: rules_src is a file on the
controller, next to the playbook, not on the host the module runs on."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp

        module_args = dict(self._task.args)
        src = module_args.get('rules_src')
        if src:
            if module_args.get('rules') is not None:
                result.update(failed=True, msg='rules and rules_src are mutually exclusive: give one')
                return result
            try:
                path = self._find_needle('files', src)
                with open(path, 'rb') as f:
                    module_args['rules'] = f.read().decode('utf-8')
            except (AnsibleError, OSError, UnicodeDecodeError) as exc:
                result.update(failed=True, msg='Failed to read rules_src %s: %s' % (src, exc))
                return result
            module_args['rules_src'] = path
        result.update(self._execute_module(module_name=self._task.action, module_args=module_args,
                                           task_vars=task_vars))
        return result
