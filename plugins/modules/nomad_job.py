#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_job
short_description: Submit, plan, watch and stop Nomad jobs
version_added: 0.1.0
description:
  - Submits a job to Nomad from an HCL or JSON job file, from inline text, or from a job in API form,
    and waits until its allocations run (or complete, for batch jobs).
  - Whether anything changes is decided by Nomad's plan endpoint, never assumed. In check mode only the
    plan runs.
  - The job is registered with C(EnforceIndex) set to the plan's C(JobModifyIndex), and the hosts of
    one run that submit the same job take turns on the controller. When several hosts submit it at once,
    exactly one registers it and the others find nothing to do. Taking turns is needed because Nomad 0.9.1
    checks C(EnforceIndex) before raft applies the write, so submissions that reach the leader within the
    same few milliseconds can all pass it; between separate runs C(EnforceIndex) is the only guard.
  - A job that cannot be placed fails the task with Nomad's reasons, as C(nomad job run) prints them.
  - With O(state=absent) the job is stopped, and with O(purge=true) removed.
  - An action plugin reads O(src) on the controller, like M(ansible.builtin.template) does, and hands
    its text to the module, which runs on the managed host and talks to the agent there by default.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Runs Nomad's plan only; nothing is registered or stopped.
  diff_mode:
    support: full
    description: Shows the job before and after, without server-managed fields such as indexes and timestamps.
options:
  src:
    description:
      - Path on the controller of a job file, in HCL or JSON.
      - A relative path is looked up like M(ansible.builtin.copy) does, in the role's or playbook's
        C(files/) directory and then next to the playbook; in an ad-hoc command, in the current directory.
      - JSON is recognised by a C(.json) extension or by text that starts with an opening brace. JSON may be
        the object C(nomad job run -output) writes, with the job under C(Job), or the bare job.
      - Exactly one of O(src), O(content) and O(job) is required with O(state=present).
    type: path
  content:
    description:
      - The job file's text, HCL or JSON, told apart as for O(src).
    type: str
  job:
    description:
      - The job in API form (the object under C(Job) in C(nomad job run -output)).
    type: dict
  source_name:
    description:
      - Name of the file O(content) came from, used in error messages.
      - Set by the action plugin from O(src); there is rarely a reason to set it by hand.
    type: str
  name:
    description:
      - ID of the job to stop or purge with O(state=absent), when no job file is given.
    type: str
    aliases: [id]
  state:
    description:
      - V(present) registers the job if Nomad's plan says it differs from the running one.
      - V(absent) stops the job (deregisters it).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - With O(state=absent), also remove the job from Nomad's state instead of leaving it stopped.
    type: bool
    default: false
  wait:
    description:
      - After registering, wait for the evaluation chain to finish and then for the allocations to be
        running (service and system jobs) or complete (batch jobs).
      - After stopping, wait for the evaluation chain to finish.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait, in total, when O(wait=true).
    type: int
    default: 300
  dialect:
    description:
      - How an HCL job file is read. V(hcl1) is Nomad 0.9's job language, read on the managed host by the
        collection's parser of 0.9.1's C(jobspec). V(hcl2) is Nomad 1.x's, with variables and functions.
      - An HCL2 file sent to an agent of Nomad 1.6 or newer is parsed by that agent (C(/v1/jobs/parse), which
        takes the variables' values from 1.6 on), so every field its release knows works. Only the variables are
        resolved on the controller, typed as C(nomad job run) types them.
      - For Nomad 1.0 to 1.5, whose parse endpoint takes no variables, the action plugin evaluates the whole file on
        the controller (it needs python-hcl2 there) in Nomad 1.1.0's job language, like C(nomad job run) does.
      - V(auto) follows the agent's own version, as C(/v1/agent/self) reports it; HCL2 from Nomad 1.0 on, HCL1 before.
      - JSON job files and O(job) are the API form already, whatever the dialect.
    type: str
    choices: [auto, hcl1, hcl2]
    default: auto
  vars:
    description:
      - Values of the job file's C(variable)s, as C(nomad job run -var name=value) gives them (HCL2 only).
      - A value may be of any type (a YAML list stays a list); a string for a C(bool), C(list), C(map) or
        C(object) variable is read as an HCL expression, as the CLI reads C(-var), and a string for a C(number)
        variable is converted, so templated values work whichever type Ansible hands over.
      - C(NOMAD_VAR_<name>) in the controller's environment sets a variable too, as it does for the CLI; var files
        win over it, and O(vars) over both.
    type: dict
  var_files:
    description:
      - Variable files on the controller (C(.hcl) or C(.json)), as C(nomad job run -var-file) reads them
        (HCL2 only), looked up like O(src). O(vars) win over them, and later files over earlier ones.
    type: list
    elements: path
  hcl2_result:
    description:
      - The controller's evaluation of O(src) or O(content) as HCL2 (the job, or why it failed), which the
        action plugin sets; there is no reason to set it by hand.
    type: dict
  hcl2_variables:
    description:
      - The values of the job file's variables as resolved on the controller, for an agent that parses the file
        itself (Nomad 1.6 or newer), which the action plugin sets; there is no reason to set it by hand.
    type: dict
  wait_for_deployment:
    description:
      - After the allocations are placed, follow the deployment Nomad runs for the new version until it ends,
        as C(nomad job run) does from Nomad 1.2 on. A deployment that fails (or that a newer version cancels) fails
        the task with Nomad's description; when auto-revert rolled the job back, the message names the version it
        brought back.
      - By default, the deployment is followed for service jobs with an C(update) block (the job's or a group's),
        which are the jobs Nomad deploys. Nomad 1.x also deploys service jobs without one, with its default
        update strategy; V(true) follows those too. V(false) returns once the allocations are placed and running.
      - Only with O(wait=true).
    type: bool
  deployment_timeout:
    description:
      - Seconds to follow the deployment, counted from when the allocations were placed. The deployment goes on
        in Nomad when the task times out.
    type: int
    default: 600
  promote:
    description:
      - What to do when the deployment's canaries are all healthy and wait to be promoted (groups with
        C(canary) set and no C(auto_promote); groups with C(auto_promote) are left to Nomad).
      - V(true) promotes every group, and the task follows the deployment to its end.
      - V(false) ends the task there, with RV(deployment_status) C(running), so that a later task
        (M(nomadops.nomad.nomad_deployment)) or a person promotes it.
    type: bool
    default: false
  fail_on_placement_failure:
    description:
      - Fail when the scheduler cannot place every allocation (Nomad keeps a blocked evaluation and
        places them when capacity appears).
      - When false, the reasons are returned in RV(placement_failures) and as a warning.
    type: bool
    default: true
notes:
  - HCL1 job files are parsed on the managed host by the collection's own job parser, which follows Nomad
    0.9.1's C(jobspec) package; HCL2 files are evaluated on the controller, or parsed by a 1.6+ agent. Nothing is
    registered when the file has an error.
  - From Nomad 1.6 the job is registered with its submission (the file and how its variables were given), so
    C(nomad job inspect) and the web UI show what was submitted.
  - A 1.6+ agent parses with the filesystem functions (C(file), C(fileset), ...) turned off, as its API always
    does; read such files with a lookup and pass them in O(vars) instead.
  - A periodic or parameterized job gets no evaluation when registered, so there is nothing to wait for.
seealso:
  - module: nomadops.nomad.nomad_job_info
  - module: nomadops.nomad.nomad_deployment
'''

EXAMPLES = r'''
- name: Run the post's job on Nomad 1.x, written in HCL2 with variables, in a namespace of its own
  nomadops.nomad.nomad_job:
    src: httpecho-1x.nomad
    namespace: web
    vars:
      count: 3
      datacenters: [home]

- name: Run the httpecho job (ad-hoc - ansible ubuntu -m nomadops.nomad.nomad_job -a src=httpecho.nomad)
  nomadops.nomad.nomad_job:
    src: httpecho.nomad

- name: What would change? (runs the plan only)
  nomadops.nomad.nomad_job:
    src: httpecho.nomad
  check_mode: true
  diff: true

- name: Submit a job built in YAML
  nomadops.nomad.nomad_job:
    job:
      ID: sleeper
      Name: sleeper
      Type: batch
      Datacenters: [home]
      TaskGroups:
        - Name: main
          Count: 1
          Tasks:
            - Name: sleep
              Driver: raw_exec
              Config:
                command: /bin/sleep
                args: ["5"]

- name: Release a new version as canaries; a later task promotes them (see nomad_deployment)
  nomadops.nomad.nomad_job:
    src: httpecho.nomad
    promote: false
  register: release

- name: Release and promote the canaries once they are healthy, failing if the deployment fails
  nomadops.nomad.nomad_job:
    src: httpecho.nomad
    promote: true
    deployment_timeout: 900

- name: Accept a job that cannot be placed yet
  nomadops.nomad.nomad_job:
    src: gpu-job.nomad
    fail_on_placement_failure: false
  register: submitted

- name: Stop and purge the job
  nomadops.nomad.nomad_job:
    name: httpecho
    state: absent
    purge: true
'''

RETURN = r'''
job_id:
  description: ID of the job.
  returned: always
  type: str
  sample: httpecho
eval_id:
  description: ID of the evaluation the register (or stop) created; null when nothing was sent.
  returned: always
  type: str
  sample: 3acd4d2b-dc81-0af2-1a95-07fcca3f4113
job_modify_index:
  description: The job's C(JobModifyIndex) after this task (for an unchanged job, the one the plan saw).
  returned: when state is present
  type: int
  sample: 16
version:
  description: The job's version after this task; null for a job that does not exist.
  returned: always
  type: int
  sample: 0
diff_type:
  description: Nomad's plan verdict, C(Added), C(Edited) or C(None).
  returned: when state is present
  type: str
  sample: Added
desired_updates:
  description: The plan's per task group counts (C(Place), C(Ignore), C(InPlaceUpdate), ...).
  returned: when state is present
  type: dict
  sample: {"web": {"Place": 2, "Ignore": 0, "InPlaceUpdate": 0, "DestructiveUpdate": 0, "Stop": 0}}
evaluations:
  description: IDs of the evaluations followed (the C(NextEval) chain).
  returned: when the module waited
  type: list
  elements: str
  sample: ["3acd4d2b-dc81-0af2-1a95-07fcca3f4113"]
allocations:
  description: The job's allocations from this task's evaluations (or, unchanged, those that should run).
  returned: when state is present
  type: list
  elements: dict
  contains:
    id:
      description: Allocation ID.
      type: str
    name:
      description: Allocation name, C(<job>.<group>[<index>]).
      type: str
    node_id:
      description: ID of the node it was placed on.
      type: str
    node_name:
      description: Name of that node.
      type: str
    task_group:
      description: Task group.
      type: str
    client_status:
      description: C(pending), C(running), C(complete), C(failed) or C(lost).
      type: str
    desired_status:
      description: C(run), C(stop) or C(evict).
      type: str
    job_version:
      description: Job version the allocation runs.
      type: int
    eval_id:
      description: Evaluation that placed or last updated it.
      type: str
  sample:
    - id: b1dad8b9-1e21-59a2-87e2-8b92d31ae4b8
      name: httpecho.web[0]
      node_id: 1d061e01-5877-3589-e753-17ce53c1d921
      node_name: nomad1
      task_group: web
      client_status: running
      desired_status: run
      job_version: 0
      eval_id: 3acd4d2b-dc81-0af2-1a95-07fcca3f4113
placement_failures:
  description: Per task group, how many allocations could not be placed and why (Nomad's metrics, as the CLI words them).
  returned: when state is present
  type: dict
  sample:
    web:
      failed: 1
      reasons: ['Constraint "${attr.nonexistent.attribute} = yes" filtered 3 nodes']
      nodes_evaluated: 3
      nodes_filtered: 3
      nodes_exhausted: 0
      nodes_available: {"home": 3}
      constraint_filtered: {"${attr.nonexistent.attribute} = yes": 3}
      dimension_exhausted: {}
blocked_eval:
  description: ID of the blocked evaluation that waits for capacity, when placement failed.
  returned: when state is present
  type: str
  sample: 07cf9f5b-6f54-9ff4-8e3f-65847dd28a62
deployment_id:
  description: ID of the deployment of the submitted version that the task followed; null when there was none.
  returned: when state is present
  type: str
  sample: 5b1f0d3c-5ab7-2b18-9f6e-3e1f7c0d1a2b
deployment_status:
  description:
    - The deployment's status when the task ended, C(successful), or C(running) when canaries wait for promotion
      (O(promote=false)); C(failed) or C(cancelled) in a failed task's result. Null without a deployment.
  returned: when state is present
  type: str
  sample: successful
deployment_description:
  description: Nomad's description of that status.
  returned: when state is present
  type: str
  sample: Deployment completed successfully
deployment_groups:
  description: Per task group, the deployment's counts.
  returned: when a deployment was followed
  type: dict
  sample:
    web:
      desired: 2
      placed: 2
      healthy: 2
      unhealthy: 0
      desired_canaries: 1
      placed_canaries: [0f4b6e8e-3d6c-8b8b-0b1e-2c7a3b5d1f0e]
      promoted: true
      auto_promote: false
      auto_revert: true
promoted_groups:
  description: Groups whose canaries this task promoted (O(promote=true)).
  returned: when a deployment was followed
  type: list
  elements: str
  sample: [web]
reverted_to_version:
  description: The version auto-revert brought back when the deployment failed (in a failed task's result).
  returned: when auto-revert rolled the job back
  type: int
  sample: 0
warnings:
  description: Nomad's own warnings about the job (for example deprecated fields) appear among the task's warnings.
  returned: when Nomad gave any
  type: list
  elements: str
  sample: []
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    NomadAPIError,
    NomadError,
    NomadNotFound,
    NomadPermissionDenied,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    namespace_problem,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError, is_json_job, parse_jobspec
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import agent_parses_hcl2_variables, job_dialect
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import (
    AllocationFailed,
    Deadline,
    DeploymentFailed,
    PlacementFailure,
    WaitTimeout,
    allocation_summaries,
    deployment_groups,
    find_deployment,
    placement_failures,
    wait_for_deployment,
    wait_for_evaluations,
    wait_for_job,
)

# Fields Nomad keeps for itself: they change with every write and say nothing
# about what the user asked for, so diffs leave them out.
SERVER_MANAGED = frozenset((
    'CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'SubmitTime', 'Status', 'StatusDescription',
    'Stable', 'Version', 'VaultToken', 'Dispatched', 'CreateTime', 'ModifyTime',
))

# A concurrent writer can win more than once in a row; give up after this many re-plans.
MAX_REGISTER_ATTEMPTS = 4


def deploys(job):
    """Whether Nomad runs a deployment for the job: a service job whose update
    block (its own or a group's) asks for rolling updates."""
    if (job.get('Type') or 'service') != 'service':
        return False
    blocks = [job.get('Update')] + [g.get('Update') for g in job.get('TaskGroups') or []]
    return any(b and (b.get('MaxParallel') is None or b.get('MaxParallel') > 0) for b in blocks)


class JobInputError(Exception):
    """The job text or dict is unusable; nothing was sent."""


def is_hcl(content=None, job=None, source_name=None):
    """Whether the job comes as HCL text, which a dialect must read."""
    return job is None and content is not None and not is_json_job(content, source_name)


def load_job(content=None, job=None, source_name=None):
    """Turn content (HCL1 or JSON) or a job dict into the API job."""
    if job is not None:
        if isinstance(job.get('Job'), dict):
            job = job['Job']
        return dict(job)
    where = source_name or 'content'
    text = content or ''
    if is_json_job(text, source_name):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise JobInputError('Failed to parse job JSON %s: %s' % (where, e))
        if not isinstance(data, dict):
            raise JobInputError('Failed to parse job JSON %s: expected an object, got %s' % (where, type(data).__name__))
        if isinstance(data.get('Job'), dict):
            data = data['Job']
        return data
    try:
        return parse_jobspec(text, filename=source_name)
    except JobspecError as e:
        raise JobInputError('Failed to parse job file %s: %s' % (where, e))


def job_id_of(job, where):
    job_id = job.get('ID') or job.get('Name')
    if not job_id or not isinstance(job_id, str):
        raise JobInputError('The job in %s has no ID (set "ID" or the job block\'s name)' % where)
    if not job.get('ID'):
        job['ID'] = job_id
    if not job.get('Name'):
        job['Name'] = job_id
    return job_id


def clean(value):
    """Drop server-managed fields and nulls, recursively, for diffs."""
    if isinstance(value, dict):
        return dict((k, clean(v)) for k, v in sorted(value.items())
                    if k not in SERVER_MANAGED and v is not None)
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def overlay(base, new):
    """What the job will look like: the stored job with the submitted fields on
    top. Task groups and tasks are matched by name, so defaults the server
    filled in do not show up as removals."""
    if isinstance(base, dict) and isinstance(new, dict):
        out = dict(base)
        for key, value in new.items():
            if value is None:
                continue
            out[key] = overlay(base.get(key), value)
        return out
    if isinstance(base, list) and isinstance(new, list) and all(
            isinstance(x, dict) and 'Name' in x for x in base + new) and new:
        by_name = dict((x['Name'], x) for x in base)
        return [overlay(by_name.get(x['Name']), x) for x in new]
    return new


def _nomad_warnings(text):
    return [line.strip(' *') for line in (text or '').splitlines() if line.strip(' *')]


def _is_enforce_conflict(err):
    return isinstance(err, NomadAPIError) and 'Enforcing job modify index' in (err.message or '')


def choose_dialect(p, client, version):
    """hcl1 or hcl2 for an HCL job file: as asked, or as the agent's release reads it."""
    if p['dialect'] != 'auto':
        return p['dialect']
    if version() is None:
        raise JobInputError('dialect auto asks the agent for its release (/v1/agent/self, agent:read), which this '
                            'token may not read; set dialect: hcl2 (Nomad 1.0 and newer) or hcl1')
    return job_dialect(version())


def hcl2_job(p, where):
    result = p['hcl2_result'] or {}
    if result.get('error'):
        raise JobInputError('Failed to parse job file %s as HCL2: %s' % (where, result['error']))
    if not isinstance(result.get('job'), dict):
        raise JobInputError('Job file %s is HCL2, which the nomad_job action plugin evaluates on the controller; '
                            'this module ran without it (use nomadops.nomad.nomad_job, or give the job as JSON)'
                            % where)
    return dict(result['job'])


def agent_parsed_job(client, p, where):
    """The job as the agent's own release reads the file, and the Submission
    that keeps the file and its variables with the job version."""
    resolved = p['hcl2_variables'] or {}
    if resolved.get('error'):
        raise JobInputError('Failed to parse job file %s as HCL2: %s' % (where, resolved['error']))
    if 'values' not in resolved and (p['vars'] or p['var_files']):
        raise JobInputError('Job file %s has variables, which the nomad_job action plugin resolves on the '
                            'controller; this module ran without it (use nomadops.nomad.nomad_job)' % where)
    values = resolved.get('values') or {}
    body = dict(JobHCL=p['content'], Canonicalize=False)
    if values:
        # A JSON var file: typed values, which the agent converts no further.
        body['Variables'] = json.dumps(values, sort_keys=True)
    try:
        job, dummy = client.post('/v1/jobs/parse', json=body)
    except NomadAPIError as e:
        if e.status != 400:
            raise
        # The agent names its input "input.hcl"; lines and columns are the file's own.
        words = (e.message or '').replace('input.hcl:', '%s:' % where)
        raise JobInputError('Failed to parse job file %s: the agent refused it: %s' % (where, words))
    submission = dict(Source=p['content'], Format='hcl2', VariableFlags=resolved.get('flags') or None,
                      Variables=resolved.get('files') or '')
    return job, submission


def set_namespace(job, namespace, version, where):
    """Nomad 1.x files a job under its own Namespace, not the request's: put it there."""
    if not namespace:
        return
    # Only a namespace other than default needs the agent's version.
    # Unknown (a token that may not read the agent): Nomad itself refuses a
    # namespace its release lacks.
    problem = namespace != 'default' and version() is not None and namespace_problem(namespace, version())
    if problem:
        raise JobInputError(problem)
    if job is None:
        return
    own = job.get('Namespace')
    if own and own != namespace:
        raise JobInputError('The job in %s is in namespace %r, but namespace=%r was asked for' % (where, own, namespace))
    job['Namespace'] = namespace


class NomadJob(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.p = module.params
        self.result = dict(changed=False)

    # -- reads --------------------------------------------------------------

    def current(self, job_id):
        try:
            job, dummy = self.client.get('/v1/job/{}', job_id)
            return job
        except NomadNotFound:
            return None

    def plan(self, job):
        body, dummy = self.client.post('/v1/job/{}/plan', job['ID'], json=dict(Job=job, Diff=True, PolicyOverride=False))
        return body or {}

    def running_allocations(self, job_id):
        allocs, dummy = self.client.get('/v1/job/{}/allocations', job_id)
        return allocation_summaries(self.client, [a for a in allocs or [] if a.get('DesiredStatus') == 'run'])

    # -- present ------------------------------------------------------------

    def present(self, job, where, submission=None):
        job_id = job['ID']
        r = self.result
        r['job_id'] = job_id
        r.update(deployment_id=None, deployment_status=None, deployment_description=None)
        # Only diff and check mode report the stored job; a plain run needs no extra read.
        before = self.current(job_id) if (self.module._diff or self.module.check_mode) else None

        attempt = 0
        while True:
            attempt += 1
            try:
                plan = self.plan(job)
            except NomadError as e:
                raise StepError('plan', job_id, e, where)
            diff_type = (plan.get('Diff') or {}).get('Type') or 'None'
            r['diff_type'] = diff_type
            r['job_modify_index'] = plan.get('JobModifyIndex')
            r['desired_updates'] = (plan.get('Annotations') or {}).get('DesiredTGUpdates') or {}
            for w in _nomad_warnings(plan.get('Warnings')):
                self.module.warn('Nomad: %s' % w)

            if diff_type == 'None':
                return self._unchanged(job_id, before, job)

            r['changed'] = True
            if self.module._diff:
                r['diff'] = self._diff(before, job)
            if self.module.check_mode:
                failures = plan.get('FailedTGAllocs')
                if failures:
                    r['placement_failures'] = placement_failures(failures)
                    self.module.warn('The plan says not every allocation can be placed: %s' % '; '.join(
                        '%s: %s' % (g, ', '.join(f['reasons'])) for g, f in r['placement_failures'].items()))
                r.update(eval_id=None, version=(before or {}).get('Version'), allocations=[])
                return r

            try:
                request = dict(Job=job, EnforceIndex=True, JobModifyIndex=plan.get('JobModifyIndex') or 0)
                if submission is not None:
                    request['Submission'] = submission
                reg, dummy = self.client.post('/v1/jobs', json=request)
                break
            except NomadAPIError as e:
                if _is_enforce_conflict(e) and attempt < MAX_REGISTER_ATTEMPTS:
                    # Someone registered between our plan and our write. Plan
                    # again: if their job is ours, there is nothing left to do.
                    r['changed'] = False
                    r.pop('diff', None)
                    continue
                raise StepError('register', job_id, e, where)
            except NomadError as e:
                raise StepError('register', job_id, e, where)

        r['eval_id'] = reg.get('EvalID') or None
        r['job_modify_index'] = reg.get('JobModifyIndex')
        for w in _nomad_warnings(reg.get('Warnings')):
            self.module.warn('Nomad: %s' % w)

        r['allocations'] = []
        r['placement_failures'] = {}
        r['blocked_eval'] = None
        follow = self.p['wait_for_deployment']
        if follow is None:
            follow = deploys(job)
        if r['eval_id'] and self.p['wait']:
            try:
                # A deployment judges the allocations itself: a new version's
                # allocation that fails is the deployment's failure to report.
                waited = wait_for_job(self.client, job_id, r['eval_id'], self.p['wait_timeout'],
                                      job_type=job.get('Type') or 'service', wait_allocations=not follow,
                                      fail_on_placement_failure=self.p['fail_on_placement_failure'])
            except PlacementFailure as e:
                r.update(self._from_wait(e.result))
                raise StepError('place', job_id, e, where, result=r)
            except (AllocationFailed, WaitTimeout) as e:
                if getattr(e, 'result', None):
                    r.update(self._from_wait(e.result))
                raise StepError('run', job_id, e, where, result=r)
            except NomadError as e:
                raise StepError('watch', job_id, e, where, result=r)
            r.update(self._from_wait(waited))
            if waited['placement_message']:
                self.module.warn('Job %s registered, but %s' % (job_id, waited['placement_message']))
            if follow:
                self._follow_deployment(job_id, r['job_modify_index'], waited, where)
        stored = self.current(job_id) or {}
        r['version'] = stored.get('Version')
        return r

    def _follow_deployment(self, job_id, job_modify_index, waited, where):
        r = self.result
        try:
            evaluations = [self.client.get('/v1/evaluation/{}', e)[0] for e in waited['evaluations']]
            deployment = find_deployment(self.client, job_id, job_modify_index, evaluations)
        except NomadError as e:
            raise StepError('find the deployment of', job_id, e, where, result=r)
        if deployment is None:
            return
        self._deployment_result(deployment)
        try:
            deployment, promoted = wait_for_deployment(self.client, deployment['ID'], self.p['deployment_timeout'],
                                                       promote=self.p['promote'])
        except DeploymentFailed as e:
            self._deployment_result(e.deployment)
            r['reverted_to_version'] = e.reverted_to
            r['version'] = e.running_version
            r['allocations'] = self.running_allocations(job_id)
            raise StepError('deploy', job_id, e, where, result=r)
        except WaitTimeout as e:
            self._deployment_result(e.state or deployment)
            raise StepError('deploy', job_id, e, where, result=r)
        except NomadError as e:
            raise StepError('follow the deployment of', job_id, e, where, result=r)
        self._deployment_result(deployment)
        r['promoted_groups'] = promoted
        r['allocations'] = self.running_allocations(job_id)

    def _deployment_result(self, deployment):
        self.result.update(deployment_id=deployment.get('ID'), deployment_status=deployment.get('Status'),
                           deployment_description=deployment.get('StatusDescription'),
                           deployment_groups=deployment_groups(deployment))

    def _from_wait(self, waited):
        return dict(
            evaluations=waited['evaluations'],
            allocations=waited['allocations'],
            placement_failures=waited['placement_failures'],
            blocked_eval=waited['blocked_eval'],
        )

    def _unchanged(self, job_id, before, job):
        r = self.result
        r['changed'] = False
        stored = before if before is not None else self.current(job_id)
        r['version'] = (stored or {}).get('Version')
        r['eval_id'] = None
        r['allocations'] = self.running_allocations(job_id)
        r['placement_failures'] = {}
        if self.module._diff:
            cleaned = clean(stored or {})
            r['diff'] = dict(before=cleaned, after=cleaned)
        return r

    def _diff(self, before, job):
        base = clean(before or {})
        return dict(before=base, after=clean(overlay(base, job)),
                    before_header='job %s (stored)' % job['ID'], after_header='job %s (submitted)' % job['ID'])

    # -- absent -------------------------------------------------------------

    def absent(self, job_id):
        r = self.result
        r['job_id'] = job_id
        purge = self.p['purge']
        try:
            stored = self.current(job_id)
        except NomadError as e:
            raise StepError('read', job_id, e)
        r['version'] = (stored or {}).get('Version')
        r['eval_id'] = None
        if stored is None:
            return r
        if stored.get('Stop') and not purge:
            return r
        r['changed'] = True
        if self.module._diff:
            after = {} if purge else dict(clean(stored), Stop=True)
            r['diff'] = dict(before=clean(stored), after=after)
        if self.module.check_mode:
            return r
        try:
            body, dummy = self.client.delete('/v1/job/{}', job_id, params=dict(purge=purge))
        except NomadError as e:
            raise StepError('purge' if purge else 'stop', job_id, e)
        r['eval_id'] = (body or {}).get('EvalID') or None
        if r['eval_id'] and self.p['wait']:
            try:
                chain = wait_for_evaluations(self.client, r['eval_id'], Deadline(self.p['wait_timeout']))
            except NomadError as e:
                raise StepError('watch the stop of', job_id, e, result=r)
            r['evaluations'] = [ev.get('ID') for ev in chain]
        return r


class StepError(Exception):
    """A named step failed: carries the verb, the job and Nomad's cause."""

    def __init__(self, verb, job_id, cause, where=None, result=None):
        self.result = result or {}
        if isinstance(cause, PlacementFailure):
            text = 'Failed to place job %r: %s' % (job_id, cause)
        else:
            text = 'Failed to %s job %r: %s' % (verb, job_id, cause)
        if where and where != 'content':
            text += ' (job file %s)' % where
        super(StepError, self).__init__(text)


def main():
    argument_spec = nomad_argument_spec(
        src=dict(type='path'),
        content=dict(type='str'),
        job=dict(type='dict'),
        source_name=dict(type='str'),
        name=dict(type='str', aliases=['id']),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        purge=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
        fail_on_placement_failure=dict(type='bool', default=True),
        wait_for_deployment=dict(type='bool'),
        deployment_timeout=dict(type='int', default=600),
        promote=dict(type='bool', default=False),
        dialect=dict(type='str', default='auto', choices=['auto', 'hcl1', 'hcl2']),
        vars=dict(type='dict'),
        var_files=dict(type='list', elements='path'),
        hcl2_result=dict(type='dict'),
        hcl2_variables=dict(type='dict'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('src', 'content', 'job'), ('name', 'src'), ('name', 'content'), ('name', 'job')],
        required_if=[('state', 'present', ('src', 'content', 'job'), True),
                     ('state', 'absent', ('name', 'src', 'content', 'job'), True)],
        supports_check_mode=True,
    )
    p = module.params

    if p['src'] is not None and p['content'] is None:
        # Without the action plugin (e.g. a copy of the module used on its
        # own), src is a path on the managed host.
        try:
            with open(p['src'], 'rb') as f:
                p['content'] = f.read().decode('utf-8')
        except (IOError, OSError, UnicodeDecodeError) as e:
            module.fail_json(msg='Failed to read job file %s: %s' % (p['src'], e))
        p['source_name'] = p['source_name'] or os.path.basename(p['src'])

    where = p['source_name'] or ('job' if p['job'] is not None else 'content')
    try:
        client = client_from_module(module)
    except NomadError as e:
        module.fail_json(msg='Failed to set up the Nomad client: %s' % e)

    known = []

    def version():
        # Asked once, and only when a dialect or a namespace depends on it.
        if not known:
            try:
                known.append(agent_version(client))
            except NomadPermissionDenied:
                # A least-privilege token (submit-job in one namespace) may
                # not read the agent: then the release is not known here.
                known.append(None)
            except NomadError as e:
                module.fail_json(msg='Failed to ask the agent at %s for its version: %s' % (client.address, e))
        return known[0]

    job = None
    submission = None
    job_id = p['name']
    try:
        if is_hcl(p['content'], p['job'], p['source_name']) and choose_dialect(p, client, version) == 'hcl2':
            if version() is not None and agent_parses_hcl2_variables(version()):
                job, submission = agent_parsed_job(client, p, where)
            else:
                job = hcl2_job(p, where)
        elif p['content'] is not None or p['job'] is not None:
            if (p['vars'] or p['var_files']) and p['job'] is None:
                raise JobInputError('vars and var_files are for HCL2 job files (Nomad 1.0 or newer); %s is read '
                                    'as %s' % (where, 'JSON' if not is_hcl(p['content'], None, p['source_name'])
                                               else 'HCL1 (dialect=hcl1, or an agent older than 1.0)'))
            job = load_job(p['content'], p['job'], p['source_name'])
        if job is not None:
            job_id = job_id_of(job, where)
        set_namespace(job, p['namespace'], version, where)
    except JobInputError as e:
        module.fail_json(msg=str(e), changed=False)
    except NomadError as e:
        module.fail_json(msg='Failed to have the agent at %s parse job file %s: %s' % (client.address, where, e))
    except ValueError as e:
        module.fail_json(msg='The agent at %s reports a version this module cannot read: %s' % (client.address, e))

    nomad_job = NomadJob(module, client)
    try:
        if p['state'] == 'present':
            result = nomad_job.present(job, where, submission)
        else:
            result = nomad_job.absent(job_id)
    except StepError as e:
        result = dict(nomad_job.result)
        result.update(e.result)
        result.pop('msg', None)
        module.fail_json(msg=str(e), **result)
    except NomadError as e:
        result = dict(nomad_job.result)
        verb = 'submit' if p['state'] == 'present' else 'stop'
        module.fail_json(msg='Failed to %s job %r: %s' % (verb, job_id, e), **result)
    except Exception as e:  # the one outer handler: anything else is a bug worth reporting as such
        import traceback
        module.fail_json(msg='Unexpected error handling job %r: %s' % (job_id, e), exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
