# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller half of nomad_job: `src` names a file on the controller, found
the way template and copy find theirs (role/playbook `files/`, then next to
the playbook; the current directory for ad-hoc commands). Its text goes to
the module as `content`, with the name the user wrote for error messages.
The module itself runs on the managed host, next to the agent it talks to.

An HCL job file is also evaluated here as HCL2, with `vars`, `var_files` and
the controller's NOMAD_VAR_* environment (as `nomad job run` reads its own),
since python-hcl2 lives on the controller. Only the module can ask the agent
which release it runs, so with dialect=auto every form goes: the module sends
the file and the variables' values for the agent to parse from 1.6 on, uses
this evaluation (or its error) for 1.0 to 1.5, and parses HCL1 itself for 0.9.

It also queues up the hosts of one run that submit the same job. Nomad 0.9.1
checks EnforceIndex against a snapshot before raft applies the write, so
submissions reaching the leader within one raft round trip can all pass it
and each add a job version. Run one after another, the second host plans
against the first one's result and has nothing to do."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.validation import check_type_dict, check_type_list
from ansible.plugins.action import ActionBase

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError, is_json_job
from ansible_collections.nomadops.nomad.plugins.plugin_utils.hcl2_eval import from_python, to_json
from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import (
    hcl2_variable_values,
    nomad_var_env,
    parse_hcl2_jobspec,
)

MODULE = 'nomadops.nomad.nomad_job'
# What names the job a task submits; the agent's address is left out because
# each host usually talks to its own agent of the same cluster.
JOB_IDENTITY = ('name', 'content', 'job', 'region', 'namespace', 'vars')


@contextlib.contextmanager
def one_submission_at_a_time(args):
    # Worker processes are forks of one ansible process and share its local
    # tmp directory, so a lock file there is seen by every host of the run.
    identity = json.dumps([args.get(k) for k in JOB_IDENTITY], sort_keys=True, default=str)
    key = hashlib.sha256(identity.encode('utf-8')).hexdigest()[:16]
    with open(os.path.join(C.DEFAULT_LOCAL_TMP, 'nomad_job-%s.lock' % key), 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def evaluate_hcl2(text, filename, variables, var_files, env, base_dir=None):
    """The job as Nomad 1.0-1.5 reads the file, or why it cannot: the module decides which counts."""
    try:
        return dict(job=parse_hcl2_jobspec(text, filename=filename, variables=variables, var_files=var_files,
                                           env=env, base_dir=base_dir))
    except JobspecError as e:
        return dict(error=nomad_words(e))


def resolve_hcl2_variables(text, filename, variables, var_files, env, base_dir=None):
    """What a 1.6+ agent needs besides the file: the variables' values, typed as
    `nomad job run` types them, and the Submission's record of how they were
    given (VariableFlags for -var and NOMAD_VAR_*, Variables for var files)."""
    try:
        values = hcl2_variable_values(text, filename=filename, variables=variables, var_files=var_files, env=env,
                                      base_dir=base_dir)
    except JobspecError as e:
        return dict(error=nomad_words(e))
    flags = dict((name, env[name]) for name in values if name in env)
    for name, value in (variables or {}).items():
        flags[name] = str(value) if isinstance(value, str) else to_json(from_python(value))
    return dict(values=values, flags=flags, files='\n'.join(content for _name, content in var_files))


def nomad_words(error):
    # Nomad's own line ("FILE:LINE,COL-COL: Summary; Detail") when there is one.
    return getattr(error, 'diagnostic', None) or to_text(error)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        src = args.pop('src', None)
        # file() and the other filesystem functions read next to the job file, as `nomad job run` would there.
        base_dir = None

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
            base_dir = os.path.dirname(path)

        if args.get('content') is not None and args.get('dialect', 'auto') != 'hcl1' \
                and not is_json_job(args['content'], args.get('source_name')):
            try:
                # Ad-hoc arguments (vars='{"count": 3}') come as text; the module's spec would convert them.
                variables = check_type_dict(args['vars']) if args.get('vars') is not None else None
                var_files = [self._read_var_file(path) for path in check_type_list(args.get('var_files') or [])]
            except (AnsibleError, TypeError) as e:
                result.update(failed=True, msg=to_text(e))
                return result
            env = nomad_var_env(os.environ)
            args['hcl2_result'] = evaluate_hcl2(args['content'], args.get('source_name'), variables, var_files, env,
                                                base_dir)
            args['hcl2_variables'] = resolve_hcl2_variables(args['content'], args.get('source_name'), variables,
                                                            var_files, env, base_dir)

        with one_submission_at_a_time(args):
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result

    def _read_var_file(self, name):
        try:
            path = self._find_needle('files', name)
            b_data, _show = self._loader._get_file_contents(path)
            return os.path.basename(path), to_text(b_data, errors='surrogate_or_strict')
        except (AnsibleError, UnicodeError) as e:
            raise AnsibleError('Failed to read variable file %s: %s' % (name, to_text(e)))
