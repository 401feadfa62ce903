# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay the recorded Nomad 0.9.1 scenario against the double.

Each recorded request (``transcripts/api/*.json``) is sent to the double that
plays the recorded agent, in the recorded order, on 127.0.0.1 with distinct
random ports.  Recorded IDs, indexes and tokens in paths, queries and bodies
are translated to the double's own as they appear in earlier responses.

What is compared, for every exchange:
  * the status code;
  * the Content-Type (JSON vs text/plain errors) and the presence of the
    X-Nomad-Index / X-Nomad-Knownleader / X-Nomad-Lastcontact headers;
  * the body: text bodies must be equal after translating IDs and indexes;
    JSON bodies must have the same *shape* (see ``shape_diff``): the same keys
    in every object, and the same JSON type (string, number, bool, null,
    object, array) for every value, recursively.  Array elements are
    compared with the recorded array's first element, and an empty array only
    matches an empty array.  Objects whose keys are data rather than field
    names (FREE_FORM below: node attributes, driver maps, meta, per-group
    maps, event details, ...) only have their common keys compared.

GET requests are repeated for up to 20 s until the status fields
(``Status``, ``ClientStatus``, ``DesiredStatus``, whether ``DeploymentStatus``
is set) and list lengths agree with the recording, since the recording was
made once the cluster had settled; never reaching that state is a failure.
"""

import json
import os
import re
import threading
import time

import pytest

from double_harness import Agent, free_ports, http, leader_of, ready_nodes, shared_dir, wait_until

UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
FREE_FORM = {'Attributes', 'Drivers', 'Meta', 'Links', 'Config', 'Env', 'Details', 'QueuedAllocations',
             'DesiredTGUpdates', 'Summary', 'ConstraintFiltered', 'NodesAvailable', 'ClassEligibility', 'Scores',
             'Updates', 'Options', 'ChrootEnv', 'HTTPAPIResponseHeaders', 'ClassFiltered', 'ClassExhausted',
             'DimensionExhausted', 'QuotaExhausted', 'stats', 'client', 'nomad', 'raft', 'runtime', 'serf',
             'vault', 'TaskStates', 'TaskGroups@deployment', 'TaskResources', 'Tasks@AllocatedResources'}
# Values Nomad leaves null until something happens that the replay does not
# reproduce exactly; documented, with the reason, rather than hidden.
NULLABLE = {
    'ScoreMetaData': 'scoring details are only kept for some placements',
    'PlacedCanaries': 'no canaries',
    'Events': 'client-only agents in the recording had not yet produced events',
    'Devices': 'no devices',
    'Attributes': 'drivers the double does not offer (exec, java) are undetected and, like docker in the '
                  'recording, have no attributes',
}
# Exchanges the double answers differently from the recording, and why.
KNOWN_DIVERGENCES = {}
PHASES = [('cluster', 0, 119), ('clone', 120, 139), ('noleader', 140, 149), ('acl', 150, 199)]


def recordings():
    api = os.path.join(shared_dir(), 'transcripts', 'api')
    if not os.path.isdir(api):
        return []
    out = []
    for fn in sorted(os.listdir(api)):
        if fn.endswith('.json'):
            with open(os.path.join(api, fn)) as f:
                out.append((fn, json.load(f)))
    return out


def jtype(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'bool'
    if isinstance(v, (int, float)):
        return 'number'
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'array'
    return 'object'


def shape_diff(rec, got, path='$', parent=''):
    """Differences in shape between a recorded and a double's JSON value."""
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
            # Arrays may mix shapes (diff objects, events): an element must
            # match at least one recorded element.
            tries = [shape_diff(r, item, '%s[%d]' % (path, i), parent) for r in rec]
            best = min(tries, key=len)
            diffs += best
        return diffs
    return []


def settle_signature(body):
    def sig(o):
        if isinstance(o, dict):
            out = tuple((k, o.get(k)) for k in ('Status', 'ClientStatus', 'DesiredStatus') if k in o)
            if 'DeploymentStatus' in o:
                out += (('DeploymentStatus', o['DeploymentStatus'] is None),)
            return out
        return None
    if isinstance(body, list):
        return (len(body), sorted(str(sig(x)) for x in body))
    return sig(body)


class Translator(object):
    """Recorded IDs/indexes -> the double's, learned from paired responses."""

    def __init__(self):
        self.ids = {}
        self.indexes = {}

    def learn(self, rec, got):
        if isinstance(rec, str) and isinstance(got, str) and UUID.fullmatch(rec) and UUID.fullmatch(got):
            self.ids.setdefault(rec, got)
        elif isinstance(rec, dict) and isinstance(got, dict):
            for k in set(rec) & set(got):
                if k.endswith('Index') and isinstance(rec[k], int) and isinstance(got[k], int):
                    self.indexes.setdefault(rec[k], got[k])
                self.learn(rec[k], got[k])
        elif isinstance(rec, list) and isinstance(got, list):
            for a, b in self._pairs(rec, got):
                self.learn(a, b)

    @staticmethod
    def _pairs(rec, got):
        """Pair list items by Name when they have unique names (nodes, allocs), else by position."""
        def names(items):
            if all(isinstance(x, dict) and isinstance(x.get('Name'), str) for x in items):
                keys = [x['Name'] for x in items]
                if len(set(keys)) == len(keys):
                    return dict(zip(keys, items))
            return None
        nr, ng = names(rec), names(got)
        if nr is not None and ng is not None:
            return [(nr[k], ng[k]) for k in nr if k in ng]
        if len(rec) == len(got):
            return list(zip(rec, got))
        return []

    def text(self, s):
        return UUID.sub(lambda m: self.ids.get(m.group(0), m.group(0)), s)

    def index(self, n):
        if n in self.indexes:
            return self.indexes[n]
        lower = [k for k in self.indexes if k < n]
        if lower:
            k = max(lower)
            return self.indexes[k] + (n - k)
        return n


def config_for(recorded_hcl, agent, ports_map, extra_server=''):
    text = recorded_hcl.replace('<dir>', agent.dir)
    text = re.sub(r'data_dir\s*=\s*"[^"]*"', 'data_dir = "%s"' % agent.data_dir, text)
    for old, new in sorted(ports_map.items(), key=lambda kv: -len(str(kv[0]))):
        text = re.sub(r'\b%d\b' % old, str(new), text)
    if extra_server:
        text = text.replace('server {', 'server {\n  %s' % extra_server, 1)
    return text


@pytest.fixture(scope='module')
def scenario(tmp_path_factory):
    recs = recordings()
    if not recs:
        pytest.fail('recorded Nomad 0.9.1 transcripts missing from tests/recordings')
    work = str(tmp_path_factory.mktemp('replay'))
    cfgdir = os.path.join(shared_dir(), 'transcripts', 'configs', 'agents')
    names = {'nomad1': 4646, 'nomad2': 5646, 'nomad3': 6646, 'clone-a': 7646, 'clone-b': 8646, 'lonely': 9646,
             'acl1': 4646}
    agents = {}
    ports_map = {}
    for name in ('nomad1', 'nomad2', 'nomad3', 'lonely', 'acl1', 'clone-a', 'clone-b'):
        ports = free_ports(3)
        base = names[name]
        agents[name] = Agent(name, work, ports)
        if name not in ('acl1', 'clone-a', 'clone-b'):
            for i in range(3):
                ports_map[base + i] = ports[i]
    for name in ('clone-a', 'clone-b'):
        ports_map[names[name]] = agents[name].http
    files = {'nomad1': 'server-client-nomad1.hcl', 'nomad2': 'server-client-nomad2.hcl',
             'nomad3': 'server-client-nomad3.hcl', 'lonely': 'noleader-single-server-expect3.hcl',
             'acl1': 'acl-server-client.hcl', 'clone-a': 'client-only-clone-a.hcl', 'clone-b': 'client-only-clone-b.hcl'}
    fast = 'min_heartbeat_ttl = "1s"\n  heartbeat_grace = "1s"'
    for name, fn in files.items():
        with open(os.path.join(cfgdir, fn)) as f:
            text = f.read()
        pm = dict(ports_map)
        if name == 'acl1':
            a = agents['acl1']
            pm = {4646: a.http, 4647: a.rpc, 4648: a.serf}
            text = text.replace('advertise {', 'ports {\n  http = %d\n  rpc = %d\n  serf = %d\n}\n\nadvertise {'
                                % (a.http, a.rpc, a.serf), 1)
        elif name in ('clone-a', 'clone-b'):
            a = agents[name]
            text = text.replace('ports {\n  http = %d\n}' % names[name],
                                'ports {\n  http = %d\n  rpc = %d\n  serf = %d\n}' % (a.http, a.rpc, a.serf))
            pm = {4647: ports_map[4647]}
        agents[name].write(config_for(text, agents[name], pm, fast if name.startswith('nomad') else ''))
    state = {'agents': agents, 'ports_map': ports_map, 'recs': recs, 'tr': Translator(), 'results': {}}
    yield state
    for a in agents.values():
        a.stop()
    from double_harness import clean_up
    leaked = clean_up(work)
    assert not leaked, 'left behind by the agents (processes as (pid, ppid, cwd, argv)): %r' % leaked


def agent_for(scn, fn, rec):
    num = int(fn[:3])
    port = int(rec['request']['agent'].rsplit(':', 1)[1])
    if num >= 150:
        return scn['agents']['acl1']
    if num >= 140:
        return scn['agents']['lonely']
    return scn['agents'][{4646: 'nomad1', 5646: 'nomad2', 6646: 'nomad3', 7646: 'clone-a', 8646: 'clone-b'}[port]]


def send(scn, fn, rec, agent):
    req = rec['request']
    tr = scn['tr']
    path = tr.text(req['path'])
    query = dict(req.get('query') or {})
    for k, v in list(query.items()):
        if k == 'index':
            query[k] = str(tr.index(int(v)))
        elif k == 'token':
            query[k] = scn.get('secret', v)
    qs = '&'.join(k if v is None else '%s=%s' % (k, v) for k, v in query.items())
    headers = {}
    for k, v in (req.get('headers') or {}).items():
        if '<SecretID' in v:
            v = v.replace('<SecretID from 151-acl-bootstrap>', scn.get('secret', ''))
        headers[k] = v
    body = req.get('body')
    if isinstance(body, dict):
        body = json.loads(json.dumps(body))
        if 'JobModifyIndex' in body and isinstance(body['JobModifyIndex'], int) and body['JobModifyIndex']:
            body['JobModifyIndex'] = tr.index(body['JobModifyIndex'])
    url = agent.addr + path + ('?' + qs if qs else '')
    return http(req['method'], url, body, headers, timeout=70)


def prepare_phase(scn, phase):
    ag = scn['agents']
    if phase == 'cluster':
        for n in ('nomad1', 'nomad2', 'nomad3'):
            ag[n].start()
        leader = wait_until(lambda: leader_of(ag['nomad1']), 40, what='cluster leader')
        # The recording asked nomad1 while nomad3 led: its RPC errors came back
        # through a forward, with "rpc error: " in front.  Keep nomad1 a follower.
        if leader == '127.0.0.1:%d' % ag['nomad1'].rpc:
            ag['nomad1'].stop()
            wait_until(lambda: leader_of(ag['nomad2']) not in (None, leader), 40, what='another leader')
            ag['nomad1'].start()
            wait_until(lambda: leader_of(ag['nomad1']) not in (None, leader), 40, what='nomad1 back as a follower')
        wait_until(lambda: len(ready_nodes(ag['nomad1'])) == 3, 40, what='3 ready nodes')
    elif phase == 'clone':
        # Variant 1 of the recording: clone-b has clone-a's client-id only.
        ag['clone-a'].start()
        wait_until(lambda: len(ready_nodes(ag['nomad1'])) == 4, 30, what='clone-a ready')
        os.makedirs(os.path.join(ag['clone-b'].data_dir, 'client'), exist_ok=True)
        src = os.path.join(ag['clone-a'].data_dir, 'client', 'client-id')
        with open(src) as f:
            cid = f.read()
        with open(os.path.join(ag['clone-b'].data_dir, 'client', 'client-id'), 'w') as f:
            f.write(cid)
        ag['clone-b'].start()
        wait_until(lambda: 'node secret ID does not match' in ag['clone-b'].log(), 20, what='clone-b rejected')
    elif phase == 'noleader':
        ag['lonely'].start()
        wait_until(lambda: ag['lonely'].get('/v1/agent/health')[0] == 500, 20, what='lonely up')
    elif phase == 'acl':
        for n in ('nomad1', 'nomad2', 'nomad3', 'clone-a', 'clone-b', 'lonely'):
            ag[n].stop()
        ag['acl1'].start()
        wait_until(lambda: ag['acl1'].get('/v1/status/leader')[0] == 200, 20, what='acl leader')


def before(scn, fn):
    """Steps the recorder took between exchanges (outside the HTTP API)."""
    ag = scn['agents']
    num = fn[:3]
    if num == '124':
        # Variant 2: clone-b restarted with clone-a's client-id AND secret-id.
        ag['clone-b'].stop()
        with open(os.path.join(ag['clone-a'].data_dir, 'client', 'secret-id')) as f:
            sid = f.read()
        with open(os.path.join(ag['clone-b'].data_dir, 'client', 'secret-id'), 'w') as f:
            f.write(sid)
        ag['clone-b'].start()
        wait_until(lambda: any(n['Name'] == 'clone-b' for n in ready_nodes(ag['nomad1'])), 30, what='clone-b wins')
    if num == '126':
        job = {'ID': 'pinned', 'Name': 'pinned', 'Type': 'service', 'Datacenters': ['home'],
               'Constraints': [{'LTarget': '${node.unique.name}', 'Operand': '=', 'RTarget': 'clone-b'}],
               'TaskGroups': [{'Name': 'pinned', 'Count': 1, 'Tasks': [{
                   'Name': 'sleep', 'Driver': 'raw_exec', 'Config': {'command': 'sleep', 'args': ['300']}}]}]}
        st, _h, _b = http('POST', ag['nomad1'].addr + '/v1/jobs', {'Job': job})
        assert st == 200
    if num == '129':
        ag['clone-a'].stop()
        ag['clone-b'].stop()


@pytest.mark.parametrize('fn', [fn for fn, _r in recordings()] or ['none'])
def test_replay(scenario, fn):
    scn = scenario
    if fn in KNOWN_DIVERGENCES:
        pytest.xfail(KNOWN_DIVERGENCES[fn])
    rec = dict(scn['recs'])[fn]
    num = int(fn[:3])
    phase = next(p for p, lo, hi in PHASES if lo <= num <= hi)
    if scn.get('phase') != phase:
        prepare_phase(scn, phase)
        scn['phase'] = phase
    before(scn, fn)
    agent = agent_for(scn, fn, rec)
    req = rec['request']
    resp = rec['response']
    tr = scn['tr']
    settle_problem = None
    if fn.startswith('080'):
        got = blocking_woken_by_stop(scn, rec, agent)
    elif req['method'] == 'GET' and resp['status'] == 200:
        want = settle_signature(resp['body'])
        deadline = time.monotonic() + 20
        while True:
            got = send(scn, fn, rec, agent)
            if got[0] == 200 and settle_signature(got[2]) == want:
                break
            if time.monotonic() > deadline:
                settle_problem = 'never reached the recorded state %r (double: %r)' % (
                    want, settle_signature(got[2]) if got[0] == 200 else got[0])
                break
            time.sleep(0.3)
    else:
        got = send(scn, fn, rec, agent)
    status, headers, body = got
    scn['results'][fn] = got
    if fn.startswith('151') and status == 200:
        scn['secret'] = body['SecretID']
    tr.learn(resp['body'], body)
    for h in ('X-Nomad-Index', 'X-Nomad-Knownleader', 'X-Nomad-Lastcontact'):
        if h in resp['headers'] and h in headers:
            try:
                tr.indexes.setdefault(int(resp['headers'][h]), int(headers[h]))
            except ValueError:
                pass
    problems = [settle_problem] if settle_problem else []
    if status != resp['status']:
        problems.append('status: recorded %s, double %s (%r)' % (resp['status'], status, body))
    rec_ct = resp['headers'].get('Content-Type', '')
    if rec_ct.split(';')[0] != headers.get('Content-Type', '').split(';')[0]:
        problems.append('Content-Type: recorded %s, double %s' % (rec_ct, headers.get('Content-Type')))
    for h in ('X-Nomad-Index', 'X-Nomad-Knownleader', 'X-Nomad-Lastcontact'):
        if (h in resp['headers']) != (h in headers):
            problems.append('header %s: recorded %s, double %s' % (h, h in resp['headers'], h in headers))
    if not problems:
        if isinstance(resp['body'], str) and rec_ct.startswith('text/plain'):
            want = re.sub(r'\d+', 'N', tr.text(resp['body']))
            if want != re.sub(r'\d+', 'N', body if isinstance(body, str) else json.dumps(body)):
                problems.append('body: recorded %r, double %r' % (resp['body'], body))
        else:
            problems += shape_diff(resp['body'], body)
    assert not problems, '%s %s %s:\n  %s' % (fn, req['method'], req['path'], '\n  '.join(problems[:40]))


def blocking_woken_by_stop(scn, rec, agent):
    """080: a blocking query that the job stop (081) wakes early."""
    st, h, _b = agent.get('/v1/job/httpecho/allocations')
    index = int(h['X-Nomad-Index'])
    out = {}

    def query():
        out['r'] = http('GET', agent.addr + '/v1/job/httpecho/allocations?index=%d&wait=60s' % index, timeout=70)
    t = threading.Thread(target=query)
    t.start()
    time.sleep(1.0)
    scn['pre081'] = http('DELETE', agent.addr + '/v1/job/httpecho')
    t.join(70)
    return out['r']
