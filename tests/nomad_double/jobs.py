# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Job handling of the double: request decoding, canonicalization (server
defaults), validation with Nomad 0.9.1's messages (1.1.0's in that
personality), and plan diffs."""

import copy
import json

from .util import IS_1X

S = 10 ** 9
MIN = 60 * S
H = 60 * MIN

SERVICE_RESCHEDULE = {'Attempts': 0, 'Delay': 30 * S, 'DelayFunction': 'exponential', 'Interval': 0,
                      'MaxDelay': H, 'Unlimited': True}
BATCH_RESCHEDULE = {'Attempts': 1, 'Delay': 5 * S, 'DelayFunction': 'constant', 'Interval': 24 * H,
                    'MaxDelay': 0, 'Unlimited': False}
SERVICE_RESTART = {'Attempts': 2, 'Delay': 15 * S, 'Interval': 30 * MIN, 'Mode': 'fail'}
BATCH_RESTART = {'Attempts': 3, 'Delay': 15 * S, 'Interval': 24 * H, 'Mode': 'fail'}
MIGRATE = {'HealthCheck': 'checks', 'HealthyDeadline': 5 * MIN, 'MaxParallel': 1, 'MinHealthyTime': 10 * S}
UPDATE_DEFAULTS = {'AutoRevert': False, 'Canary': 0, 'HealthCheck': 'checks', 'HealthyDeadline': 5 * MIN,
                   'MaxParallel': 1, 'MinHealthyTime': 10 * S, 'ProgressDeadline': 10 * MIN,
                   'Stagger': 30 * S}
ZERO_UPDATE = {'AutoRevert': False, 'Canary': 0, 'HealthCheck': '', 'HealthyDeadline': 0, 'MaxParallel': 0,
               'MinHealthyTime': 0, 'ProgressDeadline': 0, 'Stagger': 0}

# Go types of the fields the API decodes strictly (json.Unmarshal errors are 400s).
_INT_FIELDS = {('TaskGroup', 'Count'), ('Job', 'Priority')}
_STR_FIELDS = {('Task', 'Driver'), ('Task', 'Name'), ('TaskGroup', 'Name'), ('Job', 'ID'), ('Job', 'Name'),
               ('Job', 'Type'), ('Job', 'Region')}


class RequestError(Exception):
    """A request the HTTP layer rejects with 400."""


def check_types(job):
    """Mimic encoding/json's type errors for the fields clients get wrong."""
    def bad(kind, field, val, want):
        got = 'string' if isinstance(val, str) else 'number' if isinstance(val, (int, float)) else \
            'bool' if isinstance(val, bool) else 'array' if isinstance(val, list) else 'object'
        path = {'Job': 'Job', 'TaskGroup': 'Job.TaskGroups', 'Task': 'Job.TaskGroups.Tasks'}[kind]
        raise RequestError('json: cannot unmarshal %s into Go struct field %s.%s.%s of type %s'
                           % (got, kind, path, field, want))

    def check(kind, obj):
        for k, v in obj.items():
            if v is None:
                continue
            if (kind, k) in _INT_FIELDS and (isinstance(v, bool) or not isinstance(v, int)):
                bad(kind, k, v, 'int')
            if (kind, k) in _STR_FIELDS and not isinstance(v, str):
                bad(kind, k, v, 'string')
    check('Job', job)
    for tg in job.get('TaskGroups') or []:
        check('TaskGroup', tg)
        for t in tg.get('Tasks') or []:
            check('Task', t)


def _default(obj, key, value):
    if obj.get(key) is None:
        obj[key] = copy.deepcopy(value)


def canonicalize(job):
    """The job as the server stores it."""
    return canonicalize_1x(job) if IS_1X else canonicalize_091(job)


def canonicalize_091(job):
    """0.9.1's Canonicalize + server defaults."""
    job = copy.deepcopy(job)
    jtype = job.get('Type') or 'service'
    for key, value in (('AllAtOnce', False), ('Namespace', 'default'), ('ParentID', ''), ('Priority', 50),
                       ('Stable', False), ('StatusDescription', ''), ('Stop', False), ('VaultToken', ''),
                       ('Version', 0), ('Dispatched', False), ('Region', 'global'), ('Type', 'service'),
                       ('Status', '')):
        _default(job, key, value)
    _default(job, 'Name', job.get('ID'))
    job_update = job.get('Update')
    job_migrate = job.pop('Migrate', None)
    job_resched = job.pop('Reschedule', None)
    if job.get('Periodic'):
        _default(job['Periodic'], 'Enabled', True)
        _default(job['Periodic'], 'ProhibitOverlap', False)
        _default(job['Periodic'], 'SpecType', 'cron')
        _default(job['Periodic'], 'TimeZone', 'UTC')
    for tg in job.get('TaskGroups') or []:
        _default(tg, 'Count', 1)
        _default(tg, 'EphemeralDisk', {'Migrate': False, 'SizeMB': 300, 'Sticky': False})
        if jtype == 'service':
            tg['Migrate'] = _merged(MIGRATE, job_migrate, tg.get('Migrate'))
        if jtype in ('service', 'system'):
            restart = SERVICE_RESTART
        else:
            restart = BATCH_RESTART
        tg['RestartPolicy'] = _merged(restart, None, tg.get('RestartPolicy'))
        if jtype == 'service':
            tg['ReschedulePolicy'] = _merged(SERVICE_RESCHEDULE, job_resched, tg.get('ReschedulePolicy'))
        elif jtype == 'batch':
            tg['ReschedulePolicy'] = _merged(BATCH_RESCHEDULE, job_resched, tg.get('ReschedulePolicy'))
        if jtype == 'service' and (job_update or tg.get('Update')):
            upd = _merged(UPDATE_DEFAULTS, job_update, tg.get('Update'))
            tg['Update'] = upd if upd.get('MaxParallel') else None
        for task in tg.get('Tasks') or []:
            _default(task, 'KillTimeout', 5 * S)
            _default(task, 'LogConfig', {'MaxFileSizeMB': 10, 'MaxFiles': 10})
            _default(task, 'Resources', {'CPU': None, 'Devices': None, 'DiskMB': None, 'IOPS': None,
                                         'MemoryMB': None, 'Networks': None})
            res = task['Resources']
            for key, value in (('CPU', 100), ('MemoryMB', 300), ('DiskMB', 0), ('IOPS', 0)):
                _default(res, key, value)
            res.setdefault('Devices', None)
            res.setdefault('Networks', None)
            for net in res.get('Networks') or []:
                for key, value in (('CIDR', ''), ('Device', ''), ('IP', ''), ('MBits', 10)):
                    _default(net, key, value)
                net.setdefault('DynamicPorts', None)
                net.setdefault('ReservedPorts', None)
    upd = copy.deepcopy(ZERO_UPDATE)
    if job_update:
        upd['MaxParallel'] = job_update.get('MaxParallel') or 0
        upd['Stagger'] = job_update.get('Stagger') or 30 * S
    job['Update'] = upd
    return job


# What 1.1.0's server fills in beyond 0.9.1's defaults (api/041 sent, api/045 stored).
JOB_KEYS_1X = (('ConsulNamespace', ''), ('ConsulToken', ''), ('NomadTokenID', ''), ('VaultNamespace', ''),
               ('Multiregion', None))
GROUP_KEYS_1X = ('Networks', 'Scaling', 'Services', 'ShutdownDelay', 'StopAfterClientDisconnect', 'Volumes')
TASK_KEYS_1X = (('CSIPluginConfig', None), ('Kind', ''), ('Lifecycle', None), ('ScalingPolicies', None),
                ('VolumeMounts', None))


def _network_1x(net, mbits):
    for key, value in (('CIDR', ''), ('Device', ''), ('IP', ''), ('MBits', mbits), ('Mode', '')):
        _default(net, key, value)
    net.setdefault('DNS', None)
    for kind in ('DynamicPorts', 'ReservedPorts'):
        net.setdefault(kind, None)
        for port in net[kind] or []:
            _default(port, 'To', 0)
            _default(port, 'Value', 0)
            if not port.get('HostNetwork'):
                port['HostNetwork'] = 'default'


def canonicalize_1x(job):
    """The job as a 1.1.0 server stores it: 0.9.1's defaults, and every
    service group gets an update strategy, so every service job a deployment."""
    jtype = job.get('Type') or 'service'
    job_update = job.get('Update')
    tg_updates = [tg.get('Update') for tg in job.get('TaskGroups') or []]
    job = canonicalize_091(dict(job, Update=None))
    for key, value in JOB_KEYS_1X:
        _default(job, key, value)
    for tg, tg_update in zip(job.get('TaskGroups') or [], tg_updates):
        for key in GROUP_KEYS_1X:
            tg.setdefault(key, None)
        _default(tg, 'Consul', {'Namespace': ''})
        for net in tg.get('Networks') or []:
            _network_1x(net, 0)
        if jtype == 'service':
            upd = _merged(dict(UPDATE_DEFAULTS, AutoPromote=False), job_update, tg_update)
            tg['Update'] = upd if upd.get('MaxParallel') else None
        for task in tg.get('Tasks') or []:
            for key, value in TASK_KEYS_1X:
                _default(task, key, value)
            _default(task, 'RestartPolicy', tg['RestartPolicy'])
            res = task['Resources']
            for key in ('Cores', 'MemoryMaxMB'):
                _default(res, key, 0)
            for net in res.get('Networks') or []:
                _network_1x(net, 10)
    upd = dict(ZERO_UPDATE, AutoPromote=False)
    if job_update or jtype == 'service':
        upd['MaxParallel'] = (job_update or {}).get('MaxParallel') or 1
        upd['Stagger'] = (job_update or {}).get('Stagger') or 30 * S
    job['Update'] = upd
    return job


def warnings(job):
    """Register/validate warnings of 1.1.0 (api/066): task-level networks are deprecated."""
    if not IS_1X:
        return ''
    groups = []
    for tg in job.get('TaskGroups') or []:
        tasks = ['Task "%s": task network resources have been deprecated as of Nomad 0.12.0. Please configure '
                 'networking via group network block.' % t.get('Name')
                 for t in tg.get('Tasks') or [] if (t.get('Resources') or {}).get('Networks')]
        if tasks:
            groups.append('Group "%s" has warnings: %s' % (tg.get('Name'), multierror([multierror(tasks)])))
    if not groups:
        return ''
    return '%d warning(s):\n\n%s' % (len(groups), '\n'.join('* %s' % g for g in groups))


def _merged(base, *overrides):
    out = copy.deepcopy(base)
    for o in overrides:
        for k, v in (o or {}).items():
            if v is not None:
                out[k] = v
    return out


def multierror(errors):
    if IS_1X:
        # go-multierror's newer ListFormatFunc, as 1.1.0 prints it (api/064).
        if len(errors) == 1:
            return '1 error occurred:\n\t* %s\n\n' % errors[0]
        return '%d errors occurred:\n\t%s\n\n' % (len(errors), '\n\t'.join('* %s' % e for e in errors))
    return '%d error(s) occurred:\n\n%s' % (len(errors), '\n'.join('* %s' % e for e in errors))


def validate(job):
    """Validation errors (strings), in Nomad 0.9.1's words and order."""
    errs = []
    if not job.get('Region'):
        errs.append('Missing job region')
    if not job.get('ID'):
        errs.append('Missing job ID')
    elif ' ' in job['ID']:
        errs.append('Job ID contains a space')
    if not job.get('Name'):
        errs.append('Missing job name')
    jtype = job.get('Type')
    if jtype not in ('service', 'batch', 'system'):
        errs.append('Invalid job type: %s' % json.dumps(jtype))
    prio = job.get('Priority')
    if prio is not None and not 1 <= prio <= 100:
        errs.append('Job priority must be between [1, 100]')
    if not job.get('Datacenters'):
        errs.append('Missing job datacenters')
    tgs = job.get('TaskGroups') or []
    if not tgs:
        errs.append('Missing job task groups')
    seen = {}
    for i, tg in enumerate(tgs):
        name = tg.get('Name') or ''
        if name in seen:
            errs.append("Job task group %d redefines '%s' from group %d" % (i + 1, name, seen[name] + 1))
        seen[name] = i
        tg_errs = _validate_tg(job, tg)
        if tg_errs:
            errs.append('Task group %s validation failed: %s' % (name, multierror(tg_errs)))
    return errs


def _validate_tg(job, tg):
    errs = []
    name = tg.get('Name') or ''
    if not name:
        errs.append('Missing task group name')
    if (tg.get('Count') or 0) < 0:
        errs.append("Task group count can't be negative")
    if not tg.get('Tasks'):
        errs.append('Missing tasks for task group')
    if tg.get('RestartPolicy') is None:
        errs.append('Task Group %s should have a restart policy' % name)
    if job.get('Type') != 'system' and tg.get('ReschedulePolicy') is None:
        errs.append('Task Group %s should have a reschedule policy' % name)
    if tg.get('EphemeralDisk') is None:
        errs.append('Task Group %s should have an ephemeral disk object' % name)
    seen = {}
    labels = {}
    for i, task in enumerate(tg.get('Tasks') or []):
        tname = task.get('Name') or ''
        if tname in seen:
            errs.append("Task %d redefines '%s' from task %d" % (i + 1, tname, seen[tname] + 1))
        seen[tname] = i
        terrs = []
        if not tname:
            terrs.append('Missing task name')
        if not task.get('Driver'):
            terrs.append('Missing task driver')
        # 1.1.0 no longer checks port labels (api/037, 066).
        for net in [] if IS_1X else (task.get('Resources') or {}).get('Networks') or []:
            for port in (net.get('ReservedPorts') or []) + (net.get('DynamicPorts') or []):
                label = (port.get('Label') or '').lower()
                if label in labels:
                    terrs.append('Port label %s already in use' % port.get('Label'))
                labels[label] = True
        if terrs:
            errs.append('Task %s validation failed: %s' % (tname, multierror(terrs)))
    return errs


# --- comparing jobs -----------------------------------------------------------

SERVER_FIELDS = ('CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'SubmitTime', 'Status', 'StatusDescription',
                 'Stable', 'Version', 'VaultToken')


def spec(job):
    """The user-visible part of a canonical job, for equality checks."""
    out = {k: v for k, v in job.items() if k not in SERVER_FIELDS}
    return json.dumps(out, sort_keys=True)


def tasks_spec(tg):
    return json.dumps(tg.get('Tasks'), sort_keys=True)


# --- plan diffs -----------------------------------------------------------------

DIFF_EXCLUDE_JOB = set(SERVER_FIELDS) | {'ID', 'TaskGroups', 'Update', 'Payload', 'ParentID'}
OBJECT_NAMES = {'Networks': 'Network', 'DynamicPorts': 'Dynamic Port', 'ReservedPorts': 'Static Port',
                'Constraints': 'Constraint', 'Affinities': 'Affinity', 'Services': 'Service',
                'Checks': 'Check', 'Artifacts': 'Artifact', 'Templates': 'Template', 'Spreads': 'Spread'}


def _fmt(v):
    if v is None:
        return ''
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def _field(kind, name, old, new, annotations=None):
    return {'Type': kind, 'Name': name, 'Old': old, 'New': new, 'Annotations': annotations}


def _kind(old, new):
    if old == '' and new != '':
        return 'Added'
    if new == '' and old != '':
        return 'Deleted'
    return 'Edited'


def _flatten(prefix, value, out):
    """Driver config style flattening: args[0], nested.key."""
    if isinstance(value, dict):
        for k in sorted(value):
            _flatten('%s.%s' % (prefix, k) if prefix else k, value[k], out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten('%s[%d]' % (prefix, i), v, out)
    else:
        out[prefix] = _fmt(value)


def object_diff(name, old, new, exclude=(), flat=False):
    """Diff two structs into Nomad's ObjectDiff shape (None if equal)."""
    old = old or {}
    new = new or {}
    fields, objects = [], []
    if flat:
        fo, fn = {}, {}
        _flatten('', old, fo)
        _flatten('', new, fn)
        for k in sorted(set(fo) | set(fn)):
            a, b = fo.get(k, ''), fn.get(k, '')
            if a != b:
                fields.append(_field(_kind(a, b), k, a, b))
    else:
        for k in sorted(set(old) | set(new)):
            if k in exclude:
                continue
            a, b = old.get(k), new.get(k)
            if isinstance(a, dict) or isinstance(b, dict):
                sub = object_diff(k, a, b, flat=(k in ('Config', 'Meta', 'Env')))
                if sub:
                    objects.append(sub)
            elif isinstance(a, list) or isinstance(b, list):
                objects.extend(_list_diff(k, a or [], b or []))
            else:
                fa, fb = _fmt(a), _fmt(b)
                if fa != fb:
                    fields.append(_field(_kind(fa, fb), k, fa, fb))
    if not fields and not objects:
        return None
    kind = 'Added' if not old else 'Deleted' if not new else 'Edited'
    return {'Type': kind, 'Name': name, 'Fields': fields or None, 'Objects': objects or None}


def _list_diff(name, old, new):
    if all(not isinstance(v, (dict, list)) for v in old + new):
        so, sn = [_fmt(v) for v in old], [_fmt(v) for v in new]
        fields = [_field('Deleted', name, v, '') for v in so if v not in sn] + \
                 [_field('Added', name, '', v) for v in sn if v not in so]
        if not fields:
            return []
        kind = 'Added' if not old else 'Deleted' if not new else 'Edited'
        return [{'Type': kind, 'Name': name, 'Fields': fields, 'Objects': None}]
    label = OBJECT_NAMES.get(name, name)
    out = []
    ko = {json.dumps(v, sort_keys=True): v for v in old}
    kn = {json.dumps(v, sort_keys=True): v for v in new}
    for k, v in ko.items():
        if k not in kn:
            d = object_diff(label, v, None)
            if d:
                out.append(d)
    for k, v in kn.items():
        if k not in ko:
            d = object_diff(label, None, v)
            if d:
                out.append(d)
    return out


TG_EXCLUDE = {'Name', 'Tasks', 'Count', 'Update', 'Migrate'}
TASK_EXCLUDE = {'Name'}


def job_diff(old, new, updates, annotate=True):
    """Nomad's JobDiff between the stored job and the planned one.

    ``updates`` maps task group name -> DesiredTGUpdates counts.  Without
    ``annotate`` (the diffs between job versions) the scheduler's annotations
    such as "forces create" are left out.
    """
    if old is None:
        base = object_diff('', None, new, exclude=DIFF_EXCLUDE_JOB)
        jkind = 'Added'
    else:
        base = object_diff('', old, new, exclude=DIFF_EXCLUDE_JOB)
        jkind = 'Edited' if base else 'None'
    tg_diffs = []
    old_tgs = {tg['Name']: tg for tg in (old or {}).get('TaskGroups') or []}
    new_tgs = {tg['Name']: tg for tg in new.get('TaskGroups') or []}
    for name in sorted(set(old_tgs) | set(new_tgs)):
        d = _tg_diff(old_tgs.get(name), new_tgs.get(name), updates.get(name) or {}, annotate)
        if d['Type'] != 'None':
            jkind = 'Edited' if jkind == 'None' else jkind
        tg_diffs.append(d)
    return {'Type': jkind, 'ID': new['ID'], 'Fields': (base or {}).get('Fields'),
            'Objects': (base or {}).get('Objects'), 'TaskGroups': tg_diffs or None}


def _tg_diff(old, new, upd, annotate=True):
    kind = 'Added' if old is None else 'Deleted' if new is None else None
    base = object_diff('', old, new, exclude=TG_EXCLUDE)
    fields = list((base or {}).get('Fields') or [])
    oc, nc = (old or {}).get('Count'), (new or {}).get('Count')
    if _fmt(oc) != _fmt(nc):
        ann = None
        if annotate and nc is not None and (oc is None or nc > oc):
            ann = ['forces create']
        elif annotate and oc is not None and (nc is None or nc < oc):
            ann = ['forces destroy']
        fields.insert(0, _field(_kind(_fmt(oc), _fmt(nc)), 'Count', _fmt(oc), _fmt(nc), ann))
    objects = (base or {}).get('Objects')
    tasks = []
    ot = {t['Name']: t for t in (old or {}).get('Tasks') or []}
    nt = {t['Name']: t for t in (new or {}).get('Tasks') or []}
    for tname in sorted(set(ot) | set(nt)):
        td = object_diff('', ot.get(tname), nt.get(tname), exclude=TASK_EXCLUDE)
        if td is None:
            tasks.append({'Type': 'None', 'Name': tname, 'Fields': None, 'Objects': None, 'Annotations': None})
        else:
            tkind = 'Added' if tname not in ot else 'Deleted' if tname not in nt else 'Edited'
            ann = ['forces create'] if tkind == 'Added' else ['forces destroy'] if tkind == 'Deleted' \
                else ['forces create/destroy update']
            tasks.append({'Type': tkind, 'Name': tname, 'Fields': td['Fields'], 'Objects': td['Objects'],
                          'Annotations': ann})
    if kind is None:
        changed = fields or objects or any(t['Type'] != 'None' for t in tasks)
        kind = 'Edited' if changed else 'None'
    names = (('Place', 'create'), ('Ignore', 'ignore'), ('InPlaceUpdate', 'in-place update'),
             ('DestructiveUpdate', 'create/destroy update'), ('Stop', 'destroy'), ('Migrate', 'migrate'),
             ('Canary', 'canary'))
    updates = {label: upd[key] for key, label in names if upd.get(key)}
    return {'Type': kind, 'Name': (new or old)['Name'], 'Fields': fields or None, 'Objects': objects,
            'Tasks': tasks, 'Updates': updates or None}
