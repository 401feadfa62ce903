#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_deployment
short_description: Promote, fail, pause or resume a Nomad deployment
version_added: 0.6.0
description:
  - Acts on one deployment, named by its ID or as the latest deployment of a job.
  - V(promoted) promotes the canaries of every group, or of the groups named in O(groups). V(failed) fails the
    deployment; when its groups have C(auto_revert), Nomad rolls the job back to its last stable version, which the
    result names. V(paused) and V(running) pause and resume it.
  - The deployment is read first, and nothing is sent when it is already as asked (promoted, failed, paused or
    running), so the task can run again without changing anything.
  - What Nomad refuses is refused in Nomad's words, before anything is sent and also in check mode when the
    deployment shows it (a deployment that has ended cannot be promoted, failed, paused or resumed, which Nomad words
    as C(can't promote terminal deployment)), and otherwise as Nomad answers (a canary that is not healthy yet).
  - Promoting a deployment whose groups have no canaries is refused (C(no canaries to promote)) before anything is
    sent. Nomad itself (0.9.1, 1.1.0 and 1.6.5 were recorded) accepts such a request and only marks the groups
    promoted, so a promotion step pointed at the wrong job or deployment would pass unnoticed.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.connection
attributes:
  check_mode:
    support: full
    description: Reads the deployment and reports what would change; sends nothing.
  diff_mode:
    support: full
    description: Shows the deployment's status and each group's promotion before and after.
options:
  id:
    description:
      - ID of the deployment; a unique prefix of at least 8 characters is enough, as for C(nomad deployment).
      - Exactly one of O(id) and O(job) is required.
    type: str
  job:
    description:
      - ID of a job whose latest deployment to act on.
    type: str
  state:
    description:
      - V(promoted), V(failed), V(paused), or V(running) (resumed).
    type: str
    choices: [promoted, failed, paused, running]
    required: true
  groups:
    description:
      - With O(state=promoted), the task groups to promote; all of them when not given.
      - A group the deployment does not have is refused, naming the ones it has.
    type: list
    elements: str
  wait:
    description:
      - After promoting or resuming, follow the deployment until it ends, and fail if it fails (with the version
        auto-revert brought back, if it did).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to follow the deployment with O(wait=true).
    type: int
    default: 600
seealso:
  - module: nomadops.nomad.nomad_job
'''

EXAMPLES = r'''
- name: Promote the canaries of the job's latest deployment, and wait until it completes
  nomadops.nomad.nomad_deployment:
    job: httpecho
    state: promoted
    wait: true

- name: Promote only the web group of a deployment nomad_job returned
  nomadops.nomad.nomad_deployment:
    id: "{{ release.deployment_id }}"
    state: promoted
    groups: [web]

- name: Give up on a release; auto_revert brings the last stable version back
  nomadops.nomad.nomad_deployment:
    job: httpecho
    state: failed

- name: Pause a rollout
  nomadops.nomad.nomad_deployment:
    job: httpecho
    state: paused
'''

RETURN = r'''
deployment_id:
  description: ID of the deployment acted on.
  returned: when a deployment was found
  type: str
  sample: 5b1f0d3c-5ab7-2b18-9f6e-3e1f7c0d1a2b
job_id:
  description: Its job.
  returned: when a deployment was found
  type: str
  sample: httpecho
job_version:
  description: The job version it deploys.
  returned: when a deployment was found
  type: int
  sample: 3
deployment_status:
  description: Its status after the task (before it, in check mode).
  returned: when a deployment was found
  type: str
  sample: running
deployment_description:
  description: Nomad's description of that status.
  returned: when a deployment was found
  type: str
  sample: Deployment is running
deployment_groups:
  description: Per task group, the deployment's counts, as M(nomadops.nomad.nomad_job) returns them.
  returned: when a deployment was found
  type: dict
  sample: {"web": {"desired": 2, "placed": 1, "healthy": 1, "unhealthy": 0, "desired_canaries": 1,
           "placed_canaries": ["0f4b6e8e-3d6c-8b8b-0b1e-2c7a3b5d1f0e"], "promoted": true, "auto_promote": false,
           "auto_revert": true}}
promoted_groups:
  description: Groups this task promoted (or would, in check mode).
  returned: with state promoted
  type: list
  elements: str
  sample: [web]
eval_id:
  description: The evaluation Nomad created for the change; null when nothing was sent.
  returned: always
  type: str
  sample: 835513c2-8b11-377f-60c0-fdccbb048870
reverted_to_version:
  description: The job version Nomad rolled back to when the deployment was failed.
  returned: with state failed, when auto-revert rolled back
  type: int
  sample: 2
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadError, NomadNotFound
from ansible_collections.nomadops.nomad.plugins.module_utils.common import client_from_module, nomad_argument_spec
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import (
    DEPLOYMENT_ACTIVE,
    DeploymentFailed,
    WaitTimeout,
    deployment_groups,
    reverted_version,
    wait_for_deployment,
)

# Nomad's own words for a request on an ended deployment (nomad/structs).
TERMINAL = "can't %s terminal deployment"
VERBS = dict(promoted='promote', failed='fail', paused='pause', running='resume')


class DeploymentError(Exception):
    def __init__(self, message, result=None):
        self.result = result or {}
        super(DeploymentError, self).__init__(message)


class NomadDeployment(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.p = module.params
        self.result = dict(changed=False, eval_id=None)

    # -- reads --------------------------------------------------------------

    def find(self):
        if self.p['job']:
            try:
                deployment, dummy = self.client.get('/v1/job/{}/deployment', self.p['job'])
            except NomadNotFound:
                deployment = None
            if not deployment:
                raise DeploymentError('Job %r has no deployment (is it a service job with an update block, and '
                                      'does it exist in this namespace?)' % self.p['job'])
            return deployment
        wanted = self.p['id']
        if len(wanted) == 36:
            try:
                return self.client.get('/v1/deployment/{}', wanted)[0]
            except NomadNotFound:
                raise DeploymentError('Deployment %s: deployment not found' % wanted)
        if len(wanted) < 8:
            raise DeploymentError('id: %r is too short to name a deployment; give at least 8 characters' % wanted)
        found, dummy = self.client.get('/v1/deployments', params=dict(prefix=wanted))
        found = [d for d in found or [] if d.get('ID', '').startswith(wanted)]
        if not found:
            raise DeploymentError('Deployment %s: deployment not found' % wanted)
        if len(found) > 1:
            raise DeploymentError('id: prefix %r matches %d deployments: %s' % (
                wanted, len(found), ', '.join(d['ID'] for d in found)))
        return found[0]

    def describe(self, deployment):
        self.result.update(deployment_id=deployment.get('ID'), job_id=deployment.get('JobID'),
                           job_version=deployment.get('JobVersion'), deployment_status=deployment.get('Status'),
                           deployment_description=deployment.get('StatusDescription'),
                           deployment_groups=deployment_groups(deployment))

    # -- the verbs ----------------------------------------------------------

    def run(self):
        state = self.p['state']
        verb = VERBS[state]
        deployment = self.find()
        self.describe(deployment)
        did = deployment['ID']
        name = 'deployment %s of job %r' % (did[:8], deployment.get('JobID'))
        status = deployment.get('Status')

        if state == 'promoted':
            groups = self.promotion(deployment, name)
            if not groups:
                return self.result
        elif state == 'failed' and status == 'failed':
            return self.result
        elif state == 'paused' and status == 'paused':
            return self.result
        elif state == 'running' and status == 'running':
            return self.result
        if status not in DEPLOYMENT_ACTIVE:
            raise DeploymentError('Failed to %s %s: %s (it ended with status "%s": %s)' % (
                verb, name, TERMINAL % verb, status, deployment.get('StatusDescription')), self.result)

        self.result['changed'] = True
        if self.module._diff:
            self.result['diff'] = dict(before=self._view(deployment), after=self._after(deployment))
        if self.module.check_mode:
            return self.result

        try:
            if state == 'promoted':
                body = dict(DeploymentID=did, All=not self.p['groups'])
                if self.p['groups']:
                    body['Groups'] = self.result['promoted_groups']
                reply, dummy = self.client.put('/v1/deployment/promote/{}', did, json=body)
            elif state == 'failed':
                reply, dummy = self.client.put('/v1/deployment/fail/{}', did, json=dict(DeploymentID=did))
            else:
                reply, dummy = self.client.put('/v1/deployment/pause/{}', did,
                                               json=dict(DeploymentID=did, Pause=state == 'paused'))
        except NomadAPIError as e:
            # Nomad's words are the message body; the URL adds nothing for the reader.
            raise DeploymentError('Failed to %s %s: %s' % (verb, name, e.message), self.result)
        reply = reply or {}
        self.result['eval_id'] = reply.get('EvalID') or None
        if reply.get('RevertedJobVersion') is not None:
            self.result['reverted_to_version'] = reply['RevertedJobVersion']

        if self.p['wait'] and state in ('promoted', 'running'):
            self.follow(did, name)
        else:
            self.describe(self.client.get('/v1/deployment/{}', did)[0])
        if state == 'failed' and 'reverted_to_version' not in self.result:
            reverted = reverted_version(dict(StatusDescription=self.result['deployment_description']))
            if reverted is not None:
                self.result['reverted_to_version'] = reverted
        return self.result

    def promotion(self, deployment, name):
        """The groups to promote; [] when they are promoted already. Refuses
        unknown groups, and a promotion with nothing to promote."""
        groups = deployment.get('TaskGroups') or {}
        asked = self.p['groups'] or sorted(groups)
        unknown = [g for g in asked if g not in groups]
        if unknown:
            raise DeploymentError('groups: %s has no task group %s (it has: %s)' % (
                name, ', '.join(repr(g) for g in unknown), ', '.join(sorted(groups)) or 'none'), self.result)
        with_canaries = [g for g in asked if (groups[g].get('DesiredCanaries') or 0) > 0]
        waiting = [g for g in with_canaries if not groups[g].get('Promoted')]
        self.result['promoted_groups'] = waiting
        if with_canaries and not waiting:
            return []
        if not with_canaries:
            if deployment.get('Status') not in DEPLOYMENT_ACTIVE:
                raise DeploymentError('Failed to promote %s: %s (it ended with status "%s": %s)' % (
                    name, TERMINAL % 'promote', deployment.get('Status'), deployment.get('StatusDescription')),
                    self.result)
            raise DeploymentError('Failed to promote %s: no canaries to promote (%s)' % (
                name, 'groups ' + ', '.join(asked) if self.p['groups'] else 'no group has canaries'), self.result)
        return waiting

    def follow(self, did, name):
        try:
            deployment, dummy = wait_for_deployment(self.client, did, self.p['wait_timeout'], promote=False)
        except DeploymentFailed as e:
            self.describe(e.deployment)
            if e.reverted_to is not None:
                self.result['reverted_to_version'] = e.reverted_to
            raise DeploymentError('Failed to complete %s: %s' % (name, e), self.result)
        except WaitTimeout as e:
            if e.state:
                self.describe(e.state)
            raise DeploymentError('Failed to complete %s: %s' % (name, e), self.result)
        self.describe(deployment)

    def _view(self, deployment):
        return dict(Status=deployment.get('Status'), StatusDescription=deployment.get('StatusDescription'),
                    TaskGroups=dict((n, dict(Promoted=bool(g.get('Promoted'))))
                                    for n, g in (deployment.get('TaskGroups') or {}).items()))

    def _after(self, deployment):
        after = self._view(deployment)
        state = self.p['state']
        if state == 'promoted':
            for g in self.result['promoted_groups']:
                after['TaskGroups'][g]['Promoted'] = True
        else:
            after['Status'] = state
        after.pop('StatusDescription')
        return after


def main():
    module = AnsibleModule(
        argument_spec=nomad_argument_spec(
            id=dict(type='str'),
            job=dict(type='str'),
            state=dict(type='str', required=True, choices=['promoted', 'failed', 'paused', 'running']),
            groups=dict(type='list', elements='str'),
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=600),
        ),
        mutually_exclusive=[('id', 'job')],
        required_one_of=[('id', 'job')],
        supports_check_mode=True,
    )
    if module.params['groups'] is not None and module.params['state'] != 'promoted':
        module.fail_json(msg='groups: only with state=promoted (Nomad fails, pauses and resumes whole deployments)')
    try:
        client = client_from_module(module)
    except NomadError as e:
        module.fail_json(msg='Failed to set up the Nomad client: %s' % e)
    deployment = NomadDeployment(module, client)
    try:
        result = deployment.run()
    except DeploymentError as e:
        result = dict(deployment.result)
        result.update(e.result)
        module.fail_json(msg=str(e), **result)
    except NomadError as e:
        module.fail_json(msg='Failed to %s deployment %s: %s' % (
            VERBS[module.params['state']], module.params['id'] or 'of job %r' % module.params['job'], e),
            **deployment.result)
    except Exception as e:  # the one outer handler: anything else is a bug worth reporting as such
        import traceback
        module.fail_json(msg='Unexpected error handling the deployment: %s' % e, exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
