#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_job_info
short_description: List Nomad jobs, or show one job with its allocations
version_added: 0.1.0
description:
  - Without O(name), lists the jobs (optionally those whose ID starts with O(prefix)).
  - With O(name), returns that job as Nomad stores it, its summary and its allocations.
  - Only reads; it never changes the cluster.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
  - nomadops.nomad.attributes.info_module
options:
  name:
    description:
      - ID of one job to show.
    type: str
    aliases: [id]
  prefix:
    description:
      - Without O(name), list only jobs whose ID starts with this.
    type: str
seealso:
  - module: nomadops.nomad.nomad_job
'''

EXAMPLES = r'''
- name: List all jobs
  nomadops.nomad.nomad_job_info:
  register: all_jobs

- name: Show httpecho and where it runs
  nomadops.nomad.nomad_job_info:
    name: httpecho
  register: httpecho

- name: Assert two allocations are running
  ansible.builtin.assert:
    that:
      - httpecho.exists
      - httpecho.allocations | selectattr('client_status', 'eq', 'running') | list | length == 2
'''

RETURN = r'''
jobs:
  description: Job stubs, without O(name).
  returned: when name is not given
  type: list
  elements: dict
  contains:
    id:
      description: Job ID.
      type: str
    name:
      description: Job name.
      type: str
    type:
      description: C(service), C(batch) or C(system).
      type: str
    status:
      description: C(pending), C(running) or C(dead).
      type: str
    stop:
      description: Whether the job was stopped.
      type: bool
    priority:
      description: Scheduling priority.
      type: int
    parent_id:
      description: Parent job of a periodic or dispatched child.
      type: str
    job_modify_index:
      description: Raft index of the job's last change.
      type: int
  sample:
    - id: httpecho
      name: httpecho
      type: service
      status: running
      stop: false
      priority: 50
      parent_id: ""
      job_modify_index: 16
exists:
  description: Whether the job named by O(name) exists.
  returned: when name is given
  type: bool
  sample: true
job:
  description: The job as Nomad stores it (API form), null when it does not exist.
  returned: when name is given
  type: dict
  sample: {"ID": "httpecho", "Name": "httpecho", "Type": "service", "Version": 0, "Status": "running"}
version:
  description: The job's version, null when it does not exist.
  returned: when name is given
  type: int
  sample: 0
summary:
  description: Per task group allocation counts (C(/v1/job/<id>/summary)).
  returned: when name is given and the job exists
  type: dict
  sample: {"web": {"Running": 2, "Queued": 0, "Starting": 0, "Complete": 0, "Failed": 0, "Lost": 0}}
allocations:
  description: The job's allocations, newest first, as in M(nomadops.nomad.nomad_job)'s return.
  returned: when name is given
  type: list
  elements: dict
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
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import (
    agent_version,
    client_from_module,
    namespace_problem,
    nomad_argument_spec,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import allocation_summaries


def job_stub(stub):
    return dict(
        id=stub.get('ID'),
        name=stub.get('Name'),
        type=stub.get('Type'),
        status=stub.get('Status'),
        stop=bool(stub.get('Stop')),
        priority=stub.get('Priority'),
        parent_id=stub.get('ParentID'),
        job_modify_index=stub.get('JobModifyIndex'),
    )


class JobInfo(object):
    def __init__(self, client):
        self.client = client

    def list(self, prefix):
        stubs, dummy = self.client.get('/v1/jobs', params=dict(prefix=prefix) if prefix else None)
        return dict(jobs=[job_stub(s) for s in stubs or []])

    def one(self, job_id):
        try:
            job, dummy = self.client.get('/v1/job/{}', job_id)
        except NomadNotFound:
            return dict(exists=False, job=None, version=None, allocations=[])
        summary, dummy = self.client.get('/v1/job/{}/summary', job_id)
        allocs, dummy = self.client.get('/v1/job/{}/allocations', job_id)
        ordered = sorted(allocs or [], key=lambda a: a.get('CreateIndex') or 0, reverse=True)
        summaries = allocation_summaries(self.client, ordered)
        # allocation_summaries sorts by group/name; keep newest first as documented
        order = dict((a.get('ID'), i) for i, a in enumerate(ordered))
        summaries.sort(key=lambda s: order.get(s['id'], 0))
        return dict(exists=True, job=job, version=job.get('Version'),
                    summary=(summary or {}).get('Summary') or {}, allocations=summaries)


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            name=dict(type='str', aliases=['id']),
            prefix=dict(type='str'),
        ),
        mutually_exclusive=[('name', 'prefix')],
        supports_check_mode=True,
    )
    name = module.params['name']
    what = 'job %r' % name if name else 'jobs'
    try:
        client = client_from_module(module)
        namespace = module.params['namespace']
        problem = namespace not in (None, 'default') and namespace_problem(namespace, agent_version(client))
        if problem:
            module.fail_json(msg=problem)
        info = JobInfo(client)
        result = info.one(name) if name else info.list(module.params['prefix'])
    except NomadError as e:
        module.fail_json(msg='Failed to read %s: %s' % (what, e))
    except Exception as e:  # the one outer handler: anything else is a bug worth reporting as such
        module.fail_json(msg='Unexpected error reading %s: %s' % (what, e))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
