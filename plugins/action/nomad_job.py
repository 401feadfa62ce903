# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_job: `src` names a file on the controller, found
the way template and copy find theirs (role/playbook `files/`, then next to
the playbook; the current directory for ad-hoc commands). Its text goes to
the module as `content`, with the name the user wrote for error messages.
The module itself runs on the managed host, next to the agent it talks to."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

MODULE = 'nomadops.nomad.nomad_job'


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        src = args.pop('src', None)

        if src is not None:
            given = [k for k in ('content', 'job', 'name') if args.get(k) is not None]
            if given:
                result.update(failed=True, msg='parameters are mutually exclusive: src|%s' % '|'.join(given))
                return result
            try:
                path = self._find_needle('files', src)
            except AnsibleError as e:
                result.update(failed=True, msg='Failed to find job file %s: %s' % (src, to_text(e)))
                return result
            try:
                # _get_file_contents also decrypts vault-encrypted job files.
                b_data, _show = self._loader._get_file_contents(path)
                args['content'] = to_text(b_data, errors='surrogate_or_strict')
            except (AnsibleError, UnicodeError) as e:
                result.update(failed=True, msg='Failed to read job file %s: %s' % (path, to_text(e)))
                return result
            args.setdefault('source_name', src)

        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
