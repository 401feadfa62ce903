# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-only: the gossip key lives on the controller, so this never
touches the target and needs neither delegate_to nor become."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.plugin_utils import gossip, secret_files

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    key=dict(type='str', no_log=True),
    regenerate=dict(type='bool', default=False),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)

        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if not validation.error_messages and validation.validated_parameters['key'] is not None \
                and validation.validated_parameters['regenerate']:
            validation.errors.append(ValueError('parameters are mutually exclusive: key|regenerate'))
        if validation.error_messages:
            result.update(failed=True, msg='Invalid arguments for nomad_gossip_key: %s'
                          % '; '.join(validation.error_messages))
            return result
        params = validation.validated_parameters
        path = secret_files.expand(params['path'])

        try:
            key, changed = gossip.ensure_key(
                path, key=params['key'], regenerate=params['regenerate'],
                check_mode=self._task.check_mode)
        except (gossip.GossipKeyError, secret_files.SecretFileError) as exc:
            result.update(failed=True, msg='Failed to ensure gossip key file %s: %s' % (path, exc))
            return result

        result.update(changed=changed, path=path, key=key)
        # The result carries the key: censor it even when the task forgot
        # no_log. Failures stay visible; their messages never hold the key.
        result['_ansible_no_log'] = True
        return result
