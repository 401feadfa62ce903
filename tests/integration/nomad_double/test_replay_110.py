# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay the recorded Nomad 1.1.0 scenario against the double's 1.1.0 personality.

The same method as ``test_replay.py`` (read its docstring): every recorded
request of ``tests/recordings/nomad-1.1.0/transcripts/api/`` that the double's
structure allows is sent, in order, to the double agent playing the recorded
agent, and the status, the Content-Type, the X-Nomad-* headers and the body
(text equal after translating IDs and numbers; JSON of the same shape) are
compared.  The recorded cluster's leader answered on 4646 and a follower on
5646, so here the double that wins the election plays 4646.

What the double does not do is listed in NOT_MIMICKED, with the reason; those
exchanges are skipped.
"""

import json
import os
import re
import time

import pytest

from double_harness import (ONE_X_ENV, Agent, clean_up, free_ports, http, leader_of, ready_nodes, require_1x,
                            shared_dir_1x, wait_until)
from test_replay import Translator, config_for, jtype, settle_signature

FREE_FORM = {'Attributes', 'Drivers', 'Meta', 'Links', 'Config', 'Env', 'Details', 'QueuedAllocations',
             'DesiredTGUpdates', 'Summary', 'ConstraintFiltered', 'NodesAvailable', 'ClassEligibility', 'Scores',
             'Updates', 'Options', 'ChrootEnv', 'HTTPAPIResponseHeaders', 'ClassFiltered', 'ClassExhausted',
             'DimensionExhausted', 'QuotaExhausted', 'stats', 'client', 'nomad', 'raft', 'runtime', 'serf',
             'vault', 'TaskStates', 'TaskGroups@deployment', 'TaskResources', 'Tasks@AllocatedResources',
             'TaskLifecycles', 'FailedTGAllocs'}
# Values 1.1.0 left null where the double has a value, or the other way round,
# for a reason the replay does not reproduce.
NULLABLE = {
    'TaskStates': 'allocations recorded before their client reported (TRANSIENT)',
    'ScoreMetaData': 'scoring details are only kept for some placements',
    'PlacedCanaries': 'no canaries',
    'Devices': 'no devices',
    'Attributes': 'drivers the double does not offer (exec, java, mock_driver) are undetected',
    'Meta': 'drain Meta is what the request sent',
}
# Recorded exchanges the double does not reproduce, and why.
NOT_MIMICKED = {}
NOT_MIMICKED.update(dict(('%03d' % n, 'canary deployments and promotion are not mimicked') for n in range(104, 120)))
NOT_MIMICKED.update(dict(('%03d' % n, 'the scaling-policy agent (Vault, scaling policies) is not mimicked')
                         for n in range(220, 232)))
NOT_MIMICKED.update(dict(('%03d' % n, 'ACL policies and client tokens are not mimicked (only management tokens)')
                         for n in list(range(262, 283)) + [290, 294, 295, 296, 297, 298, 299]))
NOT_MIMICKED.update({
    '291': 'raft_protocol = 3 is not mimicked: autopilot health is always the raft protocol 2 error',
})
# Recorded in a passing state the double leaves faster than 1.1.0 did (its
# tasks start within a moment): the shape is compared without waiting for
# the recorded state.
TRANSIENT = {
    '044': 'the allocations were still pending',
}
# Lists whose length depends on where and when 1.1.0 placed earlier
# allocations (canaries, migrations, garbage collection the double does not
# reproduce): every element must still have a recorded shape.
HISTORY = {
    '154': 'allocations of the node made ineligible (the recorded node had also run canaries)',
    '166': 'allocations of the drained node',
    '196': 'every allocation of the cluster so far',
}
# In those lists, fields that exist or are null depending on what happened to
# each allocation (healthy before it was stopped, migrated, placed past a
# filtering constraint) are not compared.
HISTORY_FIELDS = ('DeploymentStatus', 'ConstraintFiltered', 'NextAllocation', 'PreviousAllocation',
                  'DesiredTransition', 'DesiredDescription')
PHASES = [('cluster', 0, 219), ('acl', 250, 399)]
ROLES = {4646: 'leader', 5646: 'follower', 6646: 'other'}


def recordings():
    api = os.path.join(shared_dir_1x(), 'transcripts', 'api')
    if not os.path.isdir(api):
        return []
    out = []
    for fn in sorted(os.listdir(api)):
        if fn.endswith('.json'):
            with open(os.path.join(api, fn)) as f:
                out.append((fn, json.load(f)))
    return out


def shape_diff(rec, got, path='$', parent=''):
    """test_replay.shape_diff with this file's FREE_FORM and NULLABLE."""
    tr, tg = jtype(rec), jtype(got)
    key = path.rsplit('.', 1)[-1]
    if tr != tg:
        if 'null' in (tr, tg) and key in NULLABLE:
            return []
        return ['%s: recorded %s, double %s' % (path, tr, tg)]
    if tr == 'object':
        free = key in FREE_FORM or ('%s@%s' % (key, parent)) in FREE_FORM
        diffs = []
        if not free:
            for k in sorted(set(rec) - set(got)):
                diffs.append('%s.%s: missing in double' % (path, k))
            for k in sorted(set(got) - set(rec)):
                diffs.append('%s.%s: not in recording' % (path, k))
        for k in sorted(set(rec) & set(got)):
            diffs += shape_diff(rec[k], got[k], '%s.%s' % (path, k), key)
        return diffs
    if tr == 'array':
        if bool(rec) != bool(got):
            return ['%s: recorded %d items, double %d' % (path, len(rec), len(got))]
        diffs = []
        for i, item in enumerate(got):
            tries = [shape_diff(r, item, '%s[%d]' % (path, i), parent) for r in rec]
            diffs += min(tries, key=len)
        return diffs
    return []


@pytest.fixture(scope='module')
def scenario(tmp_path_factory):
    require_1x()
    recs = recordings()
    if not recs:
        pytest.fail('recorded Nomad 1.1.0 transcripts missing from tests/recordings')
    work = str(tmp_path_factory.mktemp('replay110'))
    cfgdir = os.path.join(shared_dir_1x(), 'transcripts', 'configs', 'agents')
    agents = {}
    ports_map = {}
    for name, base in (('nomad1', 4646), ('nomad2', 5646), ('nomad3', 6646), ('acl1', 7646)):
        agents[name] = Agent(name, work, free_ports(3))
        for i in range(3):
            ports_map[base + i] = [agents[name].http, agents[name].rpc, agents[name].serf][i]
    files = {'nomad1': 'server-client-nomad1.hcl', 'nomad2': 'server-client-nomad2.hcl',
             'nomad3': 'server-client-nomad3.hcl', 'acl1': 'acl-server-client.hcl'}
    for name, fn in files.items():
        with open(os.path.join(cfgdir, fn)) as f:
            agents[name].write(config_for(f.read(), agents[name], ports_map))
    with open(os.path.join(shared_dir_1x(), 'transcripts', 'configs', 'jobs-json', 'httpecho-count3.json')) as f:
        count3 = json.load(f)
    state = {'agents': agents, 'recs': recs, 'tr': Translator(), 'roles': {}, 'count3': count3}
    yield state
    for a in agents.values():
        a.stop()
    leaked = clean_up(work)
    assert not leaked, 'left behind by the agents (processes as (pid, ppid, cwd, argv)): %r' % leaked


def prepare_phase(scn, phase):
    ag = scn['agents']
    if phase == 'cluster':
        servers = [ag[n] for n in ('nomad1', 'nomad2', 'nomad3')]
        for a in servers:
            a.start(env=ONE_X_ENV)
        leader = wait_until(lambda: leader_of(servers[0]), 40, what='cluster leader')
        wait_until(lambda: len(ready_nodes(servers[0])) == 3, 40, what='3 ready nodes')
        lead = next(a for a in servers if leader == '127.0.0.1:%d' % a.rpc)
        others = [a for a in servers if a is not lead]
        scn['roles'] = {4646: lead, 5646: others[0], 6646: others[1]}
    elif phase == 'acl':
        for n in ('nomad1', 'nomad2', 'nomad3'):
            ag[n].stop()
        ag['acl1'].start(env=ONE_X_ENV)
        wait_until(lambda: ag['acl1'].get('/v1/status/leader')[0] == 200, 20, what='acl leader')
        scn['roles'] = {7646: ag['acl1']}


def before(scn, fn):
    """Steps the recorder took between exchanges (outside the recorded HTTP calls)."""
    lead = scn['roles'].get(4646)
    num = fn[:3]
    if num == '151':
        # The spread job was placed on every node before one was made ineligible (api/154).
        wait_until(lambda: len([a for a in lead.get('/v1/job/sleeper-spread/allocations')[2]
                                if a['ClientStatus'] == 'running']) == 3, 30, what='sleeper-spread on 3 nodes')
    if num == '162':
        # Only httpecho ran when the node was drained: the spread jobs were
        # stopped (api/166 lists theirs as "not needed due to job update").
        for job in ('sleeper-spread', 'sleeper-spread-b'):
            assert http('DELETE', lead.addr + '/v1/job/%s' % job)[0] == 200
        # "httpecho (count 3) re-registered" before the drain.
        st, _h, _b = http('POST', lead.addr + '/v1/jobs', {'Job': scn['count3'].get('Job', scn['count3'])})
        assert st == 200
        wait_until(lambda: len([a for a in lead.get('/v1/job/httpecho/allocations')[2]
                                if a['ClientStatus'] == 'running']) == 3, 30, what='httpecho running 3')
    if num == '180':
        # The jobs of section E were purged before section F.
        for job in ('sleeper-spread', 'sleeper-spread-b'):
            assert http('DELETE', lead.addr + '/v1/job/%s?purge=true' % job)[0] == 200
    if num == '165':
        # "once the drain finished by itself"
        nid = scn['tr'].ids.get('fa3cc417-bf22-eae3-dc87-30275cecf508')
        wait_until(lambda: lead.get('/v1/node/%s' % nid)[2].get('Drain') is False, 30, what='drain complete')


def send(scn, rec, agent):
    req = rec['request']
    tr = scn['tr']
    path = tr.text(req['path'])
    query = dict(req.get('query') or {})
    if 'index' in query:
        query['index'] = str(tr.index(int(query['index'])))
    for k, v in query.items():
        if isinstance(v, str) and '<SecretID from 251-acl-bootstrap>' in v:
            query[k] = v.replace('<SecretID from 251-acl-bootstrap>', scn.get('secret', ''))
    qs = '&'.join(k if v is None else '%s=%s' % (k, v) for k, v in query.items())
    headers = {}
    for k, v in (req.get('headers') or {}).items():
        headers[k] = v.replace('<SecretID from 251-acl-bootstrap>', scn.get('secret', ''))
    body = req.get('body')
    if isinstance(body, dict):
        body = json.loads(json.dumps(body))
        if isinstance(body.get('JobModifyIndex'), int) and body['JobModifyIndex'] and scn.get('jmi'):
            # Relative to the job's latest JobModifyIndex, so that a stale
            # index stays stale: the double numbers its writes differently.
            rec_jmi, got_jmi = scn['jmi']
            body['JobModifyIndex'] = got_jmi + (body['JobModifyIndex'] - rec_jmi)
    url = agent.addr + path + ('?' + qs if qs else '')
    return http(req['method'], url, body, headers, timeout=70)


@pytest.mark.parametrize('fn', [fn for fn, _r in recordings()] or ['none'])
def test_replay_110(scenario, fn):
    scn = scenario
    if fn[:3] in NOT_MIMICKED:
        pytest.skip('not mimicked: %s' % NOT_MIMICKED[fn[:3]])
    rec = dict(scn['recs'])[fn]
    num = int(fn[:3])
    phase = next(p for p, lo, hi in PHASES if lo <= num <= hi)
    if scn.get('phase') != phase:
        prepare_phase(scn, phase)
        scn['phase'] = phase
    before(scn, fn)
    agent = scn['roles'][int(rec['request']['agent'].rsplit(':', 1)[1])]
    req = rec['request']
    resp = rec['response']
    tr = scn['tr']
    settle_problem = None
    if req['method'] == 'GET' and resp['status'] == 200 and fn[:3] not in TRANSIENT:
        want = settle_signature(resp['body'])
        deadline = time.monotonic() + 20
        while True:
            got = send(scn, rec, agent)
            if got[0] == 200 and settle_signature(got[2]) == want:
                break
            if got[0] == 200 and fn[:3] in HISTORY:
                break
            if time.monotonic() > deadline:
                settle_problem = 'never reached the recorded state %r (double: %r)' % (
                    want, settle_signature(got[2]) if got[0] == 200 else got[0])
                break
            time.sleep(0.3)
    else:
        got = send(scn, rec, agent)
    status, headers, body = got
    if fn.startswith('251') and status == 200:
        scn['secret'] = body['SecretID']
    tr.learn(resp['body'], body)
    if isinstance(resp['body'], dict) and isinstance(body, dict) and isinstance(body.get('JobModifyIndex'), int) \
            and isinstance(resp['body'].get('JobModifyIndex'), int) and 'EvalID' in body:
        scn['jmi'] = (resp['body']['JobModifyIndex'], body['JobModifyIndex'])
    for h in ('X-Nomad-Index',):
        if h in resp['headers'] and h in headers:
            tr.indexes.setdefault(int(resp['headers'][h]), int(headers[h]))
    problems = [settle_problem] if settle_problem else []
    if status != resp['status']:
        problems.append('status: recorded %s, double %s (%r)' % (resp['status'], status, body))
    rec_ct = resp['headers'].get('Content-Type', '')
    if rec_ct.split(';')[0] != headers.get('Content-Type', '').split(';')[0]:
        problems.append('Content-Type: recorded %r, double %r' % (rec_ct, headers.get('Content-Type')))
    for h in ('X-Nomad-Index', 'X-Nomad-Knownleader', 'X-Nomad-Lastcontact'):
        if (h in resp['headers']) != (h in headers):
            problems.append('header %s: recorded %s, double %s' % (h, h in resp['headers'], h in headers))
    if not problems:
        if isinstance(resp['body'], str):
            want = re.sub(r'\d+', 'N', tr.text(resp['body']))
            if want != re.sub(r'\d+', 'N', body if isinstance(body, str) else json.dumps(body)):
                problems.append('body: recorded %r, double %r' % (resp['body'], body))
        else:
            diffs = shape_diff(resp['body'], body)
            if fn[:3] in HISTORY:
                diffs = [d for d in diffs if not re.search(r'\.(%s)[:.]' % '|'.join(HISTORY_FIELDS), d)]
            problems += diffs
    if problems and os.environ.get('REPLAY_DUMP'):
        with open(os.path.join(os.environ['REPLAY_DUMP'], fn), 'w') as f:
            json.dump(body, f, indent=1, sort_keys=True)
    assert not problems, '%s %s %s:\n  %s' % (fn, req['method'], req['path'], '\n  '.join(problems[:40]))
