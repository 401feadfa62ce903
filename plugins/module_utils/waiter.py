# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Follow what Nomad does after a write: evaluations, allocations, deployments.

Everything runs against one monotonic deadline and uses Nomad's blocking
queries (``?index=N&wait=W``), so a settled object costs one request per
``wait`` rather than a poll loop. Failures are raised, never reported with
``fail_json``; the caller decides whether a placement failure is fatal.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadError, NomadNotFound

# Longest single blocking query: short enough that a lost wake-up costs little.
MAX_BLOCK = 5.0
# Pause when the server did not block (old index returned at once, or no
# index header at all): keeps a non-blocking server from being hammered.
MIN_PAUSE = 0.05
MAX_PAUSE = 0.5

EVAL_TERMINAL = ('complete', 'failed', 'canceled', 'cancelled', 'blocked')
ALLOC_BAD = ('failed', 'lost')


class WaitTimeout(NomadError):
    """The deadline passed before Nomad reached the wanted state."""

    def __init__(self, message, state=None):
        self.state = state
        super(WaitTimeout, self).__init__(message)


class EvaluationFailed(NomadError):
    def __init__(self, evaluation):
        self.evaluation = evaluation
        desc = evaluation.get('StatusDescription') or 'no description'
        super(EvaluationFailed, self).__init__(
            'evaluation %s finished with status "%s": %s' % (evaluation.get('ID'), evaluation.get('Status'), desc))


class PlacementFailure(NomadError):
    """The scheduler could not place every allocation.

    ``message`` reads like ``nomad job run``'s monitor output; ``failures``
    holds the per task group metrics; ``result`` what was placed anyway.
    """

    def __init__(self, evaluation, failures, blocked_eval=None, result=None):
        self.evaluation = evaluation
        self.failures = failures
        self.blocked_eval = blocked_eval
        self.result = result
        super(PlacementFailure, self).__init__(explain_placement(evaluation))


class AllocationFailed(NomadError):
    def __init__(self, allocations, result=None):
        self.allocations = allocations
        self.result = result
        lines = []
        for alloc in allocations:
            lines.append('allocation %s (group "%s", node %s) is %s%s' % (
                alloc.get('ID', '')[:8], alloc.get('TaskGroup'), (alloc.get('NodeID') or '')[:8],
                alloc.get('ClientStatus'), _task_failure(alloc)))
        super(AllocationFailed, self).__init__('; '.join(lines))


FAILURE_EVENTS = ('Driver Failure', 'Setup Failure', 'Failed Validation', 'Failed Artifact Download',
                  'Template', 'Terminated')


def _task_failure(alloc):
    """The event that explains a failed task, e.g. the driver's error.

    "Not Restarting" also fails the task but only says the error was
    unrecoverable, so the cause is looked for first.
    """
    reasons = []
    for task, state in sorted((alloc.get('TaskStates') or {}).items()):
        if not state.get('Failed') and state.get('State') != 'dead':
            continue
        events = list(reversed(state.get('Events') or []))
        event = next((e for e in events if e.get('Type') in FAILURE_EVENTS), None)
        if event is None:
            event = next((e for e in events if e.get('FailsTask')), None)
        if event is not None:
            detail = event.get('DisplayMessage') or event.get('DriverError') or ''
            reasons.append('task "%s": %s: %s' % (task, event.get('Type'), detail))
    if not reasons:
        desc = alloc.get('ClientDescription')
        return ' (%s)' % desc if desc else ''
    return ': ' + '; '.join(reasons)


def _plural(word, n):
    return word if n == 1 else word + 's'


def format_alloc_metrics(metrics, prefix='      '):
    """One line per reason, in the order and wording of Nomad's CLI
    (formatAllocMetrics): eligibility, datacenters, filters, exhaustion."""
    lines = []
    if not metrics.get('NodesEvaluated'):
        lines.append('%s* No nodes were eligible for evaluation' % prefix)
    for dc, available in sorted((metrics.get('NodesAvailable') or {}).items()):
        if available == 0:
            lines.append('%s* No nodes are available in datacenter "%s"' % (prefix, dc))
    for cls, num in sorted((metrics.get('ClassFiltered') or {}).items()):
        lines.append('%s* Class "%s" filtered %d %s' % (prefix, cls, num, _plural('node', num)))
    for cons, num in sorted((metrics.get('ConstraintFiltered') or {}).items()):
        lines.append('%s* Constraint "%s" filtered %d %s' % (prefix, cons, num, _plural('node', num)))
    exhausted = metrics.get('NodesExhausted') or 0
    if exhausted > 0:
        lines.append('%s* Resources exhausted on %d %s' % (prefix, exhausted, _plural('node', exhausted)))
    for cls, num in sorted((metrics.get('ClassExhausted') or {}).items()):
        lines.append('%s* Class "%s" exhausted on %d %s' % (prefix, cls, num, _plural('node', num)))
    for dim, num in sorted((metrics.get('DimensionExhausted') or {}).items()):
        lines.append('%s* Dimension "%s" exhausted on %d %s' % (prefix, dim, num, _plural('node', num)))
    for dim in metrics.get('QuotaExhausted') or []:
        lines.append('%s* Quota limit hit "%s"' % (prefix, dim))
    return lines


def placement_failures(failed_tg_allocs):
    """Per task group: how many allocations failed and why, as a dict."""
    out = {}
    for group, metrics in sorted((failed_tg_allocs or {}).items()):
        out[group] = dict(
            failed=(metrics.get('CoalescedFailures') or 0) + 1,
            reasons=[line.strip()[2:] for line in format_alloc_metrics(metrics, prefix='')],
            nodes_evaluated=metrics.get('NodesEvaluated') or 0,
            nodes_filtered=metrics.get('NodesFiltered') or 0,
            nodes_exhausted=metrics.get('NodesExhausted') or 0,
            nodes_available=metrics.get('NodesAvailable') or {},
            constraint_filtered=metrics.get('ConstraintFiltered') or {},
            dimension_exhausted=metrics.get('DimensionExhausted') or {},
        )
    return out


def explain_placement(evaluation, short=8):
    """The text ``nomad job run`` prints for an evaluation with FailedTGAllocs."""
    lines = ['Evaluation "%s" finished with status "%s" but failed to place all allocations:' % (
        (evaluation.get('ID') or '')[:short], evaluation.get('Status'))]
    for group, metrics in sorted((evaluation.get('FailedTGAllocs') or {}).items()):
        n = (metrics.get('CoalescedFailures') or 0) + 1
        lines.append('    Task Group "%s" (failed to place %d %s):' % (group, n, _plural('allocation', n)))
        lines.extend(format_alloc_metrics(metrics))
    if evaluation.get('BlockedEval'):
        lines.append('    Evaluation "%s" waiting for additional capacity to place remainder' % (
            evaluation['BlockedEval'][:short]))
    return '\n'.join(lines)


class Deadline(object):
    def __init__(self, timeout, clock=time.monotonic):
        self.clock = clock
        self.start = clock()
        self.timeout = float(timeout)

    def remaining(self):
        return self.timeout - (self.clock() - self.start)

    def expired(self):
        return self.remaining() <= 0

    def elapsed(self):
        return self.clock() - self.start


class _Watcher(object):
    """Blocking GETs of one URL until a predicate holds or the deadline passes."""

    def __init__(self, client, deadline, sleep=time.sleep):
        self.client = client
        self.deadline = deadline
        self.sleep = sleep

    def until(self, path, args, done, describe):
        index = None
        pause = MIN_PAUSE
        while True:
            started = self.deadline.clock()
            block = None
            if index is not None:
                block = max(min(self.deadline.remaining(), MAX_BLOCK), 0.001)
            body, new_index = self.client.get(path, *args, index=index, wait=block)
            if done(body):
                return body
            if self.deadline.expired():
                raise WaitTimeout('timed out after %gs waiting for %s' % (
                    self.deadline.timeout, describe(body)), state=body)
            if new_index is None or (index is not None and new_index <= index
                                     and self.deadline.clock() - started < (block or 0) / 2):
                # The server did not block: pause rather than spin.
                self.sleep(min(pause, max(self.deadline.remaining(), 0)))
                pause = min(pause * 2, MAX_PAUSE)
            if new_index is not None:
                index = new_index


def wait_for_evaluations(client, eval_id, deadline, sleep=time.sleep):
    """Follow an evaluation and its NextEval chain until each is terminal.

    Returns the list of evaluations seen (oldest first). A BlockedEval is
    not followed: it only completes once capacity appears, which is what
    placement failures are about.
    """
    watcher = _Watcher(client, deadline, sleep)
    chain = []
    current = eval_id
    while current:
        evaluation = watcher.until(
            '/v1/evaluation/{}', (current,),
            lambda ev: (ev or {}).get('Status') in EVAL_TERMINAL,
            lambda ev, c=current: 'evaluation %s to finish (status "%s")' % (c, (ev or {}).get('Status')))
        chain.append(evaluation)
        if evaluation.get('Status') == 'failed':
            raise EvaluationFailed(evaluation)
        current = evaluation.get('NextEval') or None
        if current and any(e.get('ID') == current for e in chain):
            break
    return chain


def _alloc_done(alloc, job_type):
    status = alloc.get('ClientStatus')
    if job_type == 'batch':
        return status == 'complete'
    return status == 'running'


def summarize_allocation(alloc, node_names=None):
    return dict(
        id=alloc.get('ID'),
        name=alloc.get('Name'),
        node_id=alloc.get('NodeID'),
        node_name=(node_names or {}).get(alloc.get('NodeID')),
        task_group=alloc.get('TaskGroup'),
        client_status=alloc.get('ClientStatus'),
        desired_status=alloc.get('DesiredStatus'),
        job_version=alloc.get('JobVersion'),
        eval_id=alloc.get('EvalID'),
    )


def node_names(client):
    """ID -> name of every node; names are not on 0.9.1's allocation stubs."""
    try:
        nodes, dummy = client.get('/v1/nodes')
    except NomadError:
        return {}
    return dict((n.get('ID'), n.get('Name')) for n in nodes or [])


def wait_for_allocations(client, job_id, alloc_ids, job_type, deadline, sleep=time.sleep):
    """Wait until the given allocations run (service, system) or complete (batch).

    Watches ``/v1/job/<id>/allocations`` with blocking queries; a failed or
    lost allocation raises AllocationFailed at once.
    """
    wanted = set(alloc_ids)
    if not wanted:
        return []
    watcher = _Watcher(client, deadline, sleep)
    target = 'complete' if job_type == 'batch' else 'running'

    def mine(allocs):
        return [a for a in allocs or [] if a.get('ID') in wanted]

    def done(allocs):
        ours = mine(allocs)
        # An allocation a newer job version replaced (DesiredStatus stop) is
        # no longer ours to wait for; one that should run but ended is a failure.
        live = [a for a in ours if a.get('DesiredStatus') == 'run']
        bad = [a for a in live if a.get('ClientStatus') in ALLOC_BAD
               or (job_type != 'batch' and a.get('ClientStatus') == 'complete')]
        if bad:
            raise AllocationFailed(bad)
        return len(ours) == len(wanted) and all(_alloc_done(a, job_type) for a in live)

    def describe(allocs):
        ours = mine(allocs)
        ready = [a for a in ours if _alloc_done(a, job_type)]
        waiting = ['%s (%s)' % (a.get('ID', '')[:8], a.get('ClientStatus')) for a in ours if not _alloc_done(a, job_type)]
        return 'allocations of job "%s" to be %s: %d of %d %s; waiting on %s' % (
            job_id, target, len(ready), len(wanted), target, ', '.join(waiting) or 'allocations not yet visible')

    allocs = watcher.until('/v1/job/{}/allocations', (job_id,), done, describe)
    return mine(allocs)


def wait_for_job(client, job_id, eval_id, timeout, job_type='service', wait_allocations=True,
                 fail_on_placement_failure=True, clock=time.monotonic, sleep=time.sleep):
    """Evaluations, then allocations, on one deadline.

    Returns a dict: ``evaluations`` (IDs), ``status`` of the last
    evaluation, ``allocations`` (summaries), ``placement_failures`` and
    ``placement_message`` (empty when all placed), ``blocked_eval``.
    Raises PlacementFailure when something could not be placed and
    ``fail_on_placement_failure`` is set; its ``result`` holds the same dict.
    """
    deadline = Deadline(timeout, clock)
    chain = wait_for_evaluations(client, eval_id, deadline, sleep)
    failed_eval = None
    for evaluation in chain:
        if evaluation.get('FailedTGAllocs'):
            failed_eval = evaluation
    result = dict(
        evaluations=[e.get('ID') for e in chain],
        status=chain[-1].get('Status') if chain else None,
        allocations=[],
        placement_failures=placement_failures(failed_eval.get('FailedTGAllocs')) if failed_eval else {},
        placement_message=explain_placement(failed_eval) if failed_eval else '',
        blocked_eval=(failed_eval.get('BlockedEval') or None) if failed_eval else None,
    )

    alloc_ids = []
    for evaluation in chain:
        try:
            allocs, dummy = client.get('/v1/evaluation/{}/allocations', evaluation.get('ID'))
        except NomadNotFound:
            allocs = []
        alloc_ids.extend(a.get('ID') for a in allocs or [] if a.get('DesiredStatus') == 'run')

    if failed_eval and fail_on_placement_failure:
        result['allocations'] = allocation_summaries(client, _current(client, job_id, alloc_ids))
        raise PlacementFailure(failed_eval, result['placement_failures'], result['blocked_eval'], result)

    if wait_allocations:
        try:
            allocs = wait_for_allocations(client, job_id, alloc_ids, job_type, deadline, sleep)
        except (AllocationFailed, WaitTimeout) as e:
            e.result = result
            result['allocations'] = allocation_summaries(client, _current(client, job_id, alloc_ids))
            raise
    else:
        allocs = _current(client, job_id, alloc_ids)
    result['allocations'] = allocation_summaries(client, allocs)
    return result


DEPLOYMENT_ACTIVE = ('running', 'paused', 'pending', 'blocked', 'initializing')
# Nomad's words for a rollback (structs.DeploymentStatusDescriptionRollback).
_ROLLBACK = re.compile(r'rolling back to job version (\d+)')


class DeploymentFailed(NomadError):
    """The deployment ended without success: failed, or cancelled by a newer version.

    ``deployment`` is the last state read; ``reverted_to`` the version
    auto-revert brought back (None when it did not); ``running_version`` the
    job's version afterwards.
    """

    def __init__(self, deployment, reverted_to=None, running_version=None):
        self.deployment = deployment
        self.reverted_to = reverted_to
        self.running_version = running_version
        text = 'deployment %s of version %s ended with status "%s": %s' % (
            (deployment.get('ID') or '')[:8], deployment.get('JobVersion'), deployment.get('Status'),
            deployment.get('StatusDescription') or 'no description')
        if reverted_to is not None:
            text += '; auto-revert brought back version %d' % reverted_to
            if running_version is not None and running_version != reverted_to:
                text += ', which now runs as version %d' % running_version
        groups = describe_groups(deployment)
        if groups:
            text += ' (%s)' % groups
        super(DeploymentFailed, self).__init__(text)


def deployment_groups(deployment):
    """Per task group counts of a deployment, in the module's return form."""
    out = {}
    for name, g in sorted(((deployment or {}).get('TaskGroups') or {}).items()):
        out[name] = dict(
            desired=g.get('DesiredTotal') or 0,
            placed=g.get('PlacedAllocs') or 0,
            healthy=g.get('HealthyAllocs') or 0,
            unhealthy=g.get('UnhealthyAllocs') or 0,
            desired_canaries=g.get('DesiredCanaries') or 0,
            placed_canaries=list(g.get('PlacedCanaries') or []),
            promoted=bool(g.get('Promoted')),
            auto_promote=bool(g.get('AutoPromote')),
            auto_revert=bool(g.get('AutoRevert')),
        )
    return out


def describe_groups(deployment):
    parts = []
    for name, g in sorted(deployment_groups(deployment).items()):
        text = 'group "%s": %d of %d healthy' % (name, g['healthy'], g['desired'])
        if g['unhealthy']:
            text += ', %d unhealthy' % g['unhealthy']
        if g['desired_canaries']:
            promoted = ', promoted' if g['promoted'] else ''
            text += ', %d of %d canaries placed%s' % (len(g['placed_canaries']), g['desired_canaries'], promoted)
        parts.append(text)
    return '; '.join(parts)


def awaiting_promotion(deployment):
    """Groups whose canaries are all healthy and wait for a promotion that
    Nomad will not make itself (no auto_promote); None while a canary is not
    healthy yet, or when no group has canaries to promote."""
    waiting = []
    for name, g in ((deployment or {}).get('TaskGroups') or {}).items():
        wanted = g.get('DesiredCanaries') or 0
        if not wanted or g.get('Promoted') or g.get('AutoPromote'):
            continue
        placed = g.get('PlacedCanaries') or []
        if len(placed) < wanted or (g.get('HealthyAllocs') or 0) < wanted:
            return None
        waiting.append(name)
    return sorted(waiting) or None


def reverted_version(deployment):
    found = _ROLLBACK.search((deployment or {}).get('StatusDescription') or '')
    return int(found.group(1)) if found else None


def find_deployment(client, job_id, job_modify_index, evaluations):
    """The deployment of the job version a register wrote, told by the
    register's ``JobModifyIndex``: never a later one, such as the deployment
    of the version auto-revert registers when this one fails fast. The
    evaluations name it; else the job's deployments are searched. None when
    there is none (a job without an update block, or a change that needed none).
    """
    def ours(deployment):
        return bool(deployment) and deployment.get('JobModifyIndex') == job_modify_index

    for evaluation in evaluations or []:
        did = evaluation.get('DeploymentID')
        if did:
            try:
                deployment, dummy = client.get('/v1/deployment/{}', did)
            except NomadNotFound:
                continue
            if ours(deployment):
                return deployment
    try:
        deployments, dummy = client.get('/v1/job/{}/deployments', job_id)
    except NomadNotFound:
        return None
    mine = [d for d in deployments or [] if ours(d)]
    return max(mine, key=lambda d: d.get('CreateIndex') or 0) if mine else None


def wait_for_deployment(client, deployment_id, timeout, promote=False, clock=time.monotonic, sleep=time.sleep):
    """Follow a deployment until it ends, or until its canaries are healthy.

    With ``promote`` the canaries are promoted once healthy and the wait goes
    on; without, the deployment is returned as soon as it only waits for a
    promotion. Returns ``(deployment, promoted)`` where ``promoted`` lists the
    groups this call promoted. A failed or cancelled deployment raises
    DeploymentFailed; the deadline raises WaitTimeout with the deployment as
    its state.
    """
    deadline = Deadline(timeout, clock)
    watcher = _Watcher(client, deadline, sleep)
    promoted = []

    def settled(d):
        d = d or {}
        if d.get('Status') not in DEPLOYMENT_ACTIVE:
            return True
        return d.get('Status') == 'running' and awaiting_promotion(d) is not None

    def describe(d):
        d = d or {}
        return 'deployment %s to finish (status "%s": %s; %s)' % (
            deployment_id, d.get('Status'), d.get('StatusDescription'), describe_groups(d))

    while True:
        deployment = watcher.until('/v1/deployment/{}', (deployment_id,), settled, describe)
        if deployment.get('Status') == 'successful':
            return deployment, promoted
        if deployment.get('Status') not in DEPLOYMENT_ACTIVE:
            reverted = reverted_version(deployment)
            running = None
            try:
                job, dummy = client.get('/v1/job/{}', deployment.get('JobID'))
                running = (job or {}).get('Version')
            except NomadNotFound:
                pass
            raise DeploymentFailed(deployment, reverted, running)
        if not promote:
            return deployment, promoted
        groups = awaiting_promotion(deployment)
        client.put('/v1/deployment/promote/{}', deployment_id, json=dict(DeploymentID=deployment_id, All=True))
        promoted.extend(groups)


def _current(client, job_id, alloc_ids):
    if not alloc_ids:
        return []
    allocs, dummy = client.get('/v1/job/{}/allocations', job_id)
    wanted = set(alloc_ids)
    return [a for a in allocs or [] if a.get('ID') in wanted]


def allocation_summaries(client, allocs):
    if not allocs:
        return []
    names = node_names(client)
    return sorted((summarize_allocation(a, names) for a in allocs), key=lambda a: (a['task_group'] or '', a['name'] or ''))
