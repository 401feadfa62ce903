# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_snapshot.

The module runs where the agent is (it passes the request on to the leader);
the snapshot file lives on the controller, because it holds ACL tokens and
variables and belongs with the backups, not on a server that may be the one
lost. A save lands in the managed host's private temporary directory, is
fetched into a temporary file next to its destination (mode 0600 from the
start), checked as `nomad operator snapshot inspect` reads it, and only then
takes its name. A restore is checked here before anything is sent, then
copied to the managed host for the module to send.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.module_utils.snapshot import (
    SnapshotError,
    file_sha256,
    inspect_snapshot,
)
from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files

MODULE = 'nomadops.nomad.nomad_snapshot'
DEFAULT_NAME = 'nomad-%Y%m%dT%H%M%SZ.snap'


def name_pattern(template):
    """The glob that matches every name the template makes (each %-field is any text)."""
    return re.sub(r'%.', '*', template.replace('%%', '%'))


def old_snapshots(directory, template, keep, newest):
    """Snapshots of the template's pattern beyond the ``keep`` newest (by name, which
    the timestamp orders), never ``newest`` itself."""
    if not keep:
        return []
    pattern = name_pattern(template)
    names = sorted(n for n in os.listdir(directory)
                   if fnmatch.fnmatchcase(n, pattern) and not n.startswith('.')
                   and os.path.isfile(os.path.join(directory, n)))
    if newest not in names:
        names.append(newest)
        names.sort()
    return [os.path.join(directory, n) for n in names[:-keep] if n != newest]


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        state = args.get('state') or 'saved'
        try:
            if state == 'saved':
                return self._save(result, args, task_vars)
            if state == 'restored':
                return self._restore(result, args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        # An unknown state: the module's own check words it.
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result

    def _fail(self, result, msg, **extra):
        result.update(extra)
        result.update(failed=True, msg=msg)
        return result

    def _save(self, result, args, task_vars):
        if not args.get('dest'):
            return self._fail(result, 'dest: a directory on the controller is required with state=saved')
        template = args.get('name') or DEFAULT_NAME
        if '/' in template or template in ('.', '..'):
            return self._fail(result, 'name: %r must be a file name, without a directory' % template)
        try:
            keep = int(args.get('keep') or 0)
        except (TypeError, ValueError):
            return self._fail(result, 'keep: %r is not a number of snapshots' % args.get('keep'))
        if keep < 0:
            return self._fail(result, 'keep: %d; give 0 (keep all) or more' % keep)
        directory = secret_files.expand(args['dest'])
        name = time.strftime(template, time.gmtime())
        path = os.path.join(directory, name)

        remote = self._connection._shell.join_path(self._make_tmp_path(), 'nomad.snap')
        module_args = dict(args, remote_file=remote)
        result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        result['path'] = path
        if result.get('failed'):
            return result
        if self._task.check_mode:
            if os.path.isdir(directory):
                result['removed'] = old_snapshots(directory, template, keep, name)
            else:
                result['removed'] = []
            return result

        try:
            secret_files.ensure_private_dir(directory)
            fd, partial = tempfile.mkstemp(prefix='.%s.' % name, dir=directory)
            os.close(fd)
        except (OSError, secret_files.SecretFileError) as e:
            return self._fail(result, 'Failed to store the snapshot in %s: %s' % (directory, to_text(e)))
        try:
            self._connection.fetch_file(remote, partial)
            os.chmod(partial, 0o600)
            found = inspect_snapshot(partial)
            digest = file_sha256(partial)
            if digest != result.get('sha256') or found['index'] != result.get('index'):
                raise SnapshotError('the copy on the controller (index %s, SHA-256 %s) differs from the one the '
                                    'managed host saved (index %s, SHA-256 %s)' % (
                                        found['index'], digest, result.get('index'), result.get('sha256')))
            os.replace(partial, path)
        except (OSError, SnapshotError, AnsibleError) as e:
            if os.path.exists(partial):
                os.unlink(partial)
            return self._fail(result, 'Failed to store the snapshot as %s: %s' % (path, to_text(e)))
        result['removed'] = []
        for old in old_snapshots(directory, template, keep, name):
            try:
                os.unlink(old)
                result['removed'].append(old)
            except OSError as e:
                self._display.warning('Could not remove the old snapshot %s: %s' % (old, e))
        return result

    def _restore(self, result, args, task_vars):
        src = args.get('src')
        if not src:
            return self._fail(result, 'src: the snapshot file on the controller is required with state=restored')
        path = secret_files.expand(src)
        result['path'] = path
        if not args.get('force') or str(args.get('force')).lower() in ('false', 'no', '0', 'off'):
            return self._fail(result, 'Restoring %s replaces the whole state of the cluster; set force=true to do '
                                      'it' % path, changed=False)
        try:
            found = inspect_snapshot(path)
        except SnapshotError as e:
            return self._fail(result, 'Failed to restore a snapshot: %s; nothing was sent' % e, changed=False)
        remote = self._connection._shell.join_path(self._make_tmp_path(), 'nomad.snap')
        if not self._task.check_mode:
            self._transfer_file(path, remote)
            self._fixup_perms2([remote])
        else:
            # In check mode the module checks the release only; the index is the file's.
            result.update(found)
        module_args = dict(args, remote_file=remote)
        result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        result['path'] = path
        return result
