# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP API of the double (``/v1/...``), as Nomad 0.9.1 answers it (or
1.1.0, in that personality).

Requests about cluster state run on the leader: a follower or a client-only
agent forwards the raw request over the rpc port, exactly once per hop.
"""

import copy
import json
import re
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from . import acl as aclmod
from . import jobs as jobsmod
from .server import APIError, alloc_public, alloc_stub, eval_public, jkey, job_key, owner_key, submission_key
from .util import (IS_1X, IS_16, ZERO_TIME, NoRecordedParse, RPCError, new_id, now_ns, recorded_parse, recording,
                   rpc_call, template)

MGMT = object()
LOCAL_PREFIXES = ('/v1/agent/', '/v1/status/', '/v1/regions', '/v1/jobs/parse', '/v1/validate/job')
NO_TOKEN = ('/v1/status/', '/v1/agent/health', '/v1/jobs/parse', '/v1/regions', '/v1/acl/bootstrap')


class Response(object):
    def __init__(self, status=200, body=None, index=None, kind='plain', raw=None, content_type=None):
        self.status = status
        self.body = body
        self.index = index
        self.kind = kind          # 'read' | 'write' | 'plain'
        self.raw = raw
        self.content_type = content_type
        self.known_leader = True
        self.last_contact = 0

    def encode(self):
        headers = []
        if getattr(self, 'raw_bytes', None) is not None:
            data = self.raw_bytes
        elif self.raw is not None:
            data = self.raw.encode()
        else:
            data = json.dumps(self.body).encode()
        if self.content_type is not None:
            ctype = self.content_type
        else:
            ctype = 'application/json' if self.status < 400 else 'text/plain; charset=utf-8'
        if ctype:
            headers.append(('Content-Type', ctype))
        if self.kind in ('read', 'write') and self.index is not None:
            headers.append(('X-Nomad-Index', str(self.index)))
        if self.kind == 'read':
            headers.append(('X-Nomad-Knownleader', 'true' if self.known_leader else 'false'))
            headers.append(('X-Nomad-Lastcontact', str(self.last_contact)))
        return self.status, headers, data

    def to_wire(self):
        status, headers, data = self.encode()
        return {'Status': status, 'Headers': headers, 'Body': data.decode()}


def error(status, message, kind='plain', index=None):
    r = Response(status, raw=message, kind=kind, index=index)
    return r


def empty_write(index):
    """1.1.0's answer to a namespace upsert or delete: no body, no Content-Type (api/183)."""
    return Response(200, raw='', index=index, kind='write', content_type='')


GO_BOOLS = {'1': True, 't': True, 'T': True, 'TRUE': True, 'true': True, 'True': True,
            '0': False, 'f': False, 'F': False, 'FALSE': False, 'false': False, 'False': False}


def query_bool(req, field):
    """1.1.0's parseBool: a value strconv.ParseBool refuses is a 500 (api/076);
    0.9.1 took anything but true as false."""
    value = req.query.get(field, '')
    if not IS_1X:
        return value in ('true', '1', 'True')
    if value == '':
        return False
    if value not in GO_BOOLS:
        raise APIError(500, 'Failed to parse value of %s (%s) as a bool: strconv.ParseBool: parsing %s: invalid '
                       'syntax' % (json.dumps(field), value, json.dumps(value)))
    return GO_BOOLS[value]


def parse_wait(text):
    if not text:
        return 300.0
    m = re.match(r'^(\d+(?:\.\d+)?)(ms|s|m|h)?$', text)
    if not m:
        return 300.0
    v = float(m.group(1))
    unit = m.group(2) or 's'
    v = v * {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600}[unit]
    return min(v, 600.0)


def go_json_error(text, exc):
    pos = getattr(exc, 'pos', 0) or 0
    ch = text[pos:pos + 1] if pos < len(text) else ''
    if not ch:
        return 'unexpected end of JSON input'
    return "invalid character '%s' looking for beginning of value" % ch


class Request(object):
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query            # dict of first values; flags map to ''
        self.headers = headers        # lower-case names
        self.body = body or ''
        # The bytes as sent, for the one binary body (a snapshot to restore).
        self.raw_body = self.body.encode('utf-8')

    @property
    def token(self):
        return self.headers.get('x-nomad-token', '')

    def json(self):
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError as e:
            raise APIError(400, go_json_error(self.body, e))

    def wire(self):
        return {'Method': self.method, 'Path': self.path, 'Query': self.query, 'Headers': self.headers,
                'Body': self.body}

    @classmethod
    def from_wire(cls, w):
        return cls(w['Method'], w['Path'], w['Query'], w['Headers'], w['Body'])


class API(object):
    """Dispatches requests for one agent."""

    def __init__(self, agent):
        self.agent = agent

    # -------------------------------------------------------------- entry points
    def handle(self, req, hops=0):
        """``hops``: how many agents passed the request on before this one."""
        try:
            return self._handle(req, hops)
        except APIError as e:
            # One "rpc error: " per hop, as each agent's connection pool adds
            # one to the error it got back over the rpc port.
            return error(e.status, 'rpc error: ' * hops + e.message if e.rpc else e.message)

    def _handle(self, req, hops):
        if req.path.startswith(LOCAL_PREFIXES):
            return self.local(req)
        if not IS_1X and (req.path == '/v1/namespaces' or req.path.startswith('/v1/namespace/')
                          or req.path == '/v1/namespace'):
            # 0.9.1's open source build answers these itself (compare-0.9.1/api/02-03).
            raise APIError(501, 'Nomad Enterprise only endpoint')
        server = self.agent.server
        stale = 'stale' in req.query
        if server is not None:
            if server.is_leader or (stale and req.method == 'GET'):
                resp = self.state(req)
                if not server.is_leader:
                    resp.known_leader = server.leader is not None
                    resp.last_contact = 9223372036854 if server.leader is None else \
                        int((time.monotonic() - server.last_contact) * 1000)
                return resp
            target = server.leader_rpc()
            if not target or hops > 1:
                return error(500, 'No cluster leader')
            return self.forward(target, req, hops)
        target = self.agent.client.pick_server() if self.agent.client else None
        if not target:
            return error(500, 'no servers known')
        return self.forward(target, req, hops)

    def forward(self, target, req, hops):
        try:
            w = rpc_call(target, 'HTTP.Forward', {'Request': req.wire(), 'Hops': hops + 1}, self.agent.rpc_tls,
                         timeout=620)
        except RPCError as e:
            if self.agent.client and not self.agent.server:
                self.agent.client.server_failed(target)
            return error(500, 'rpc error: failed to forward request: %s' % e.message)
        r = Response(w['Status'], raw=w['Body'])
        r.wire_headers = w['Headers']
        return r

    # -------------------------------------------------------------- ACL
    def acl(self, req, need=True, ns=None, cap=None, simple=None):
        """The request's token, or 403. Without ``cap`` or ``simple`` only a
        management token passes; with them, a client token (or anonymous,
        through the anonymous policy) whose policies grant the namespace
        capability ``cap`` in ``ns``, or ``simple`` = (kind, level), e.g.
        ('agent', 'read')."""
        if not self.agent.acl_enabled:
            return MGMT
        tok = self.agent.resolve_token(req.token)
        if not need:
            return tok
        if tok is not None and tok.get('Type') == 'management':
            return tok
        srv = self.agent.server
        if srv is not None and (cap is not None or simple is not None):
            with srv.lock:
                if cap is not None and aclmod.allows(srv.state, tok, ns or 'default', cap):
                    return tok
                if simple is not None and aclmod.allows_simple(srv.state, tok, *simple):
                    return tok
        raise APIError(403, 'Permission denied')

    # -------------------------------------------------------------- agent-local
    def local(self, req):
        p = req.path
        a = self.agent
        if p == '/v1/status/leader' or p == '/v1/status/peers':
            if req.method != 'GET':
                raise APIError(405, 'Invalid method')
            info = a.leader_info()
            if info is None:
                raise APIError(500, 'No cluster leader')
            return Response(200, info['leader'] if p.endswith('leader') else info['peers'])
        if p == '/v1/regions':
            return Response(200, [a.region])
        if p == '/v1/agent/health':
            body = {}
            ok = True
            if a.client is not None:
                body['client'] = {'message': 'ok', 'ok': True}
            if a.server is not None:
                if a.server.leader is None:
                    body['server'] = {'message': 'No cluster leader', 'ok': False}
                    ok = False
                else:
                    body['server'] = {'message': 'ok', 'ok': True}
            if not ok:
                return Response(500, raw=json.dumps(body), content_type='text/plain; charset=utf-8')
            return Response(200, body)
        if p == '/v1/agent/self':
            self.acl(req, simple=('agent', 'read'))
            return Response(200, a.self_info())
        if p == '/v1/agent/members':
            self.acl(req)
            if a.server is None:
                raise APIError(501, 'Not a server')
            return Response(200, a.members_info())
        if p.startswith('/v1/agent/keyring/'):
            if a.server is None:
                raise APIError(501, 'Invalid method')
            self.acl(req)
            op = p[len('/v1/agent/keyring/'):]
            if op not in ('list', 'install', 'use', 'remove'):
                raise APIError(404, 'resource not found')
            key = None if op == 'list' else (req.json() or {}).get('Key')
            return Response(200, a.server.keyring_query(op, key))
        if p == '/v1/agent/force-leave':
            if req.method not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            if a.server is None:
                raise APIError(501, 'Invalid method')
            self.acl(req)
            node = req.query.get('node')
            if not node:
                raise APIError(400, 'missing node to force leave')
            a.server.force_leave(node)
            return Response(200, None)
        if p == '/v1/agent/servers':
            self.acl(req)
            return Response(200, a.client.known_servers() if a.client else [])
        if p == '/v1/jobs/parse':
            if req.method not in ('POST', 'PUT'):
                raise APIError(405, 'Invalid method')
            return self.parse(req)
        if p == '/v1/validate/job':
            if req.method not in ('POST', 'PUT'):
                raise APIError(405, 'Invalid method')
            body = req.json()
            self.acl(req)
            if not body or not body.get('Job'):
                raise APIError(400, 'Job must be specified')
            job = jobsmod.canonicalize(body['Job'])
            errs = jobsmod.validate(job)
            return Response(200, {'DriverConfigValidated': True, 'Error': jobsmod.multierror(errs) if errs else '',
                                  'ValidationErrors': errs or None, 'Warnings': jobsmod.warnings(job)})
        raise APIError(404, 'Invalid URL path')

    def parse(self, req):
        body = req.json() or {}
        text = body.get('JobHCL')
        if not text:
            raise APIError(400, 'Job spec is empty' if IS_1X else 'Job HCL must be specified')
        if IS_16:
            return self.parse_as_recorded(body)
        # 0.9.1 reads HCL1 only (it ignores hclv1); 1.1.0 reads HCL2 unless asked for HCL1.
        dialect = 'hcl1' if not IS_1X or body.get('hclv1') else 'hcl2'
        try:
            parsed = recorded_parse(text, dialect, canonicalize=bool(body.get('Canonicalize')))
        except NoRecordedParse as e:
            raise APIError(500, str(e))
        if 'Error' in parsed:
            raise APIError(parsed['Status'], parsed['Error'])
        job = parsed['Job']
        if body.get('Canonicalize') and not parsed['Canonicalized']:
            job = jobsmod.canonicalize(job)
            job.update({'CreateIndex': 0, 'ModifyIndex': 0, 'JobModifyIndex': 0, 'Migrate': None,
                        'Reschedule': None, 'SubmitTime': None, 'Status': ''})
            if not IS_1X:
                # 1.1.0's Canonicalize fills Update (api/021); 0.9.1's left it unset.
                job['Update'] = None
            for tg in job.get('TaskGroups') or []:
                for task in tg.get('Tasks') or []:
                    # Canonicalize leaves these two unset; only the server fills them.
                    task['Resources']['DiskMB'] = task['Resources']['IOPS'] = None
        return Response(200, job)

    @staticmethod
    def parse_as_recorded(body):
        """1.6.5 parses HCL2 in its own language, which the double does not
        reimplement: it answers what the real agent answered to the same file
        and variables (tests/real/record_jobs_parse.py records them)."""
        try:
            variables = json.loads(body.get('Variables') or '{}')
        except ValueError:
            variables = None
        for exchange in recording('nomad-1.6.5/jobs_parse.json')['exchanges']:
            asked = exchange['request']
            if asked['JobHCL'] == body['JobHCL'] and json.loads(asked.get('Variables') or '{}') == variables \
                    and bool(asked.get('Canonicalize')) == bool(body.get('Canonicalize')):
                if exchange['status'] != 200:
                    raise APIError(exchange['status'], exchange['body'])
                return Response(200, copy.deepcopy(exchange['body']))
        raise APIError(400, 'Failed to parse job: the test double has no recording of Nomad 1.6.5 parsing this job '
                            'with these variables (add the case to tests/real/record_jobs_parse.py)')

    # -------------------------------------------------------------- state (leader)
    def state(self, req):
        s = self.agent.server
        p = req.path
        m = req.method
        q = req.query
        idx = int(q.get('index') or 0)
        wait = parse_wait(q.get('wait'))

        def read(compute, missing=None):
            body, index = s.wait_for(idx, wait, compute)
            if body is None and missing:
                return error(404, missing, kind='read', index=index)
            return Response(200, body, index=index, kind='read')

        ns = q.get('namespace') or 'default'

        def in_ns(obj):
            return ns == '*' or (obj.get('Namespace') or 'default') == ns

        if p == '/v1/jobs':
            if m == 'GET':
                self.acl(req, ns=ns, cap='list-jobs')
                prefix = q.get('prefix', '')
                return read(lambda: ([s.job_stub(j) for j in sorted(s.state['jobs'].values(),
                                                                    key=lambda j: (j['Namespace'], j['ID']))
                                      if j['ID'].startswith(prefix) and in_ns(j)],
                                     s.table_index('jobs', 'job_summary')))
            if m in ('PUT', 'POST'):
                return self.register(req, None)
            raise APIError(405, 'Invalid method')
        if p.startswith('/v1/job/'):
            return self.job_routes(req, read, ns)
        if p == '/v1/namespaces' or p == '/v1/namespace' or p.startswith('/v1/namespace/'):
            return self.namespaces(req, read)
        if p in ('/v1/evaluations', '/v1/allocations', '/v1/deployments'):
            self.acl(req, ns=ns, cap='read-job')
            if p == '/v1/evaluations':
                return read(lambda: ([eval_public(e) for e in self._sorted(s.state['evals']) if in_ns(e)],
                                     s.table_index('evals')))
            if p == '/v1/allocations':
                return read(lambda: ([alloc_stub(a) for a in self._sorted(s.state['allocs']) if in_ns(a)],
                                     s.table_index('allocs')))
            return read(lambda: ([d for d in self._sorted(s.state['deployments']) if in_ns(d)],
                                 s.table_index('deployment')))
        mm = re.match(r'^/v1/evaluation/([^/]+)(/allocations)?$', p)
        if mm:
            self.acl(req, ns=ns, cap='read-job')
            eid = mm.group(1)
            if mm.group(2):
                return read(lambda: ([alloc_stub(a) for a in self._sorted(s.state['allocs']) if a['EvalID'] == eid],
                                     s.table_index('allocs')))
            return read(lambda: self._one(s.state['evals'].get(eid), 'evals', eval_public), 'eval not found')
        mm = re.match(r'^/v1/allocation/([^/]+)$', p)
        if mm:
            self.acl(req, ns=ns, cap='read-job')
            aid = mm.group(1)
            return read(lambda: self._one(s.state['allocs'].get(aid), 'allocs', alloc_public), 'alloc not found')
        mm = re.match(r'^/v1/deployment/(promote|fail|pause|allocations)/([^/]+)$', p)
        if mm:
            return self.deployment_update(req, read, mm.group(1), mm.group(2))
        if p == '/v1/operator/snapshot':
            return self.snapshot(req)
        mm = re.match(r'^/v1/deployment/([^/]+)$', p)
        if mm:
            self.acl(req, ns=ns, cap='read-job')
            did = mm.group(1)
            return read(lambda: self._one(s.state['deployments'].get(did), 'deployment'), 'deployment not found')
        if IS_16 and (p == '/v1/node/pools' or p.startswith('/v1/node/pool/')):
            return self.node_pools(req, read)
        if p == '/v1/nodes':
            self.acl(req, simple=('node', 'read'))
            prefix = q.get('prefix', '')
            return read(lambda: ([self._node_stub(n) for n in self._sorted(s.state['nodes'])
                                  if n['ID'].startswith(prefix)], s.table_index('nodes')))
        mm = re.match(r'^/v1/node/([^/]+)(/allocations|/purge)?$', p)
        if mm:
            self.acl(req)
            nid = mm.group(1)
            if mm.group(2) == '/purge':
                if m not in ('PUT', 'POST'):
                    raise APIError(405, 'Invalid method')
                with s.cond:
                    index, evals = s.node_purge(nid)
                    s.wait_commit(index)
                    ev_idx = s.state['index']
                body = template('node_purge')
                body.update({'EvalCreateIndex': ev_idx if evals else 0, 'EvalIDs': evals or None, 'HeartbeatTTL': 0,
                             'Index': index, 'KnownLeader': False, 'LastContact': 0, 'LeaderRPCAddr': '',
                             'NodeModifyIndex': index, 'NumNodes': 0, 'Servers': None})
                return Response(200, body, index=index, kind='write')
            if mm.group(2):
                view = alloc_public if IS_1X else (lambda a: a)
                return read(lambda: ([view(a) for a in self._sorted(s.state['allocs']) if a['NodeID'] == nid],
                                     s.table_index('allocs')))
            return read(lambda: self._one(s.state['nodes'].get(nid), 'nodes', self._node_public), 'node not found')
        mm = re.match(r'^/v1/node/([^/]+)/(eligibility|drain)$', p)
        if mm:
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            return self.node_update(req, mm.group(1), mm.group(2))
        if p == '/v1/acl/bootstrap':
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            if not self.agent.acl_enabled:
                raise APIError(400, 'ACL support disabled')
            secret = None
            if IS_16:
                secret = (req.json() or {}).get('BootstrapSecret') or None
                if secret is not None and not aclmod.bootstrap_secret_valid(secret):
                    raise APIError(400, 'invalid acl token')
            with s.cond:
                tok, index = s.acl_bootstrap(secret)
                tok = copy.deepcopy(tok)
                s.wait_commit(index)
            return Response(200, tok, index=index, kind='write')
        if p == '/v1/acl/token/self':
            if not self.agent.acl_enabled:
                raise APIError(400, 'ACL support disabled')
            if req.token == '':
                raise APIError(500, 'acl token lookup failed: %s' % (
                    'missing secret id' if IS_1X else 'index error: UUID must be 36 characters'), rpc=True)
            with s.lock:
                try:
                    tok = copy.deepcopy(s.resolve_token(req.token))
                except APIError as e:
                    if e.status != 403:
                        raise
                    # Nomad looks the secret up itself here: an unknown one
                    # is 404 (recorded: token-self-deleted, 0.9.1 to 1.6.5),
                    # not the 403 of every other endpoint.
                    raise APIError(404, e.message)
            if tok is None:
                raise APIError(403, 'Permission denied')
            return Response(200, tok, index=s.table_index('acl_token'), kind='read')
        if p == '/v1/acl/tokens':
            self.acl(req)
            # Nomad lists them in its index's order: by accessor ID.
            return read(lambda: ([aclmod.token_stub(t) for _k, t in sorted(s.state['acl']['tokens'].items())],
                                 s.table_index('acl_token')))
        if p.startswith('/v1/acl/'):
            try:
                return self.acl_objects(req, read)
            except aclmod.ACLError as e:
                raise APIError(e.status, e.message, rpc=True)
        if IS_16 and (p == '/v1/vars' or p.startswith('/v1/var/')):
            return self.variables(req, read, ns)
        if p == '/v1/operator/raft/configuration':
            self.acl(req)
            return Response(200, self.agent.raft_configuration())
        if p == '/v1/operator/raft/peer':
            if req.method != 'DELETE':
                raise APIError(404, 'Invalid method')
            self.acl(req)
            return Response(200, self.remove_raft_peer(req.query))
        if IS_1X and p == '/v1/operator/autopilot/configuration' and m == 'GET':
            self.acl(req)
            # The defaults, as 1.1.0 answers them (api/014); they cannot be changed here.
            return Response(200, {'LastContactThreshold': '200ms', 'ServerStabilizationTime': '10s',
                                  'CleanupDeadServers': True, 'MaxTrailingLogs': 250, 'MinQuorum': 0,
                                  'EnableRedundancyZones': False, 'DisableUpgradeMigration': False,
                                  'EnableCustomUpgrades': False, 'CreateIndex': 1, 'ModifyIndex': 1})
        if IS_1X and p == '/v1/operator/scheduler/configuration' and m == 'GET':
            self.acl(req)
            return Response(200, {'Index': 1, 'KnownLeader': True, 'LastContact': 0, 'SchedulerConfig': {
                'CreateIndex': 1, 'MemoryOversubscriptionEnabled': False, 'ModifyIndex': 1,
                'PreemptionConfig': {'BatchSchedulerEnabled': False, 'ServiceSchedulerEnabled': False,
                                     'SystemSchedulerEnabled': True},
                'SchedulerAlgorithm': 'binpack'}}, index=1, kind='read')
        if p == '/v1/operator/autopilot/health':
            self.acl(req)
            if IS_16:
                health = self.agent.autopilot_health()
                # Nomad answers an unhealthy cluster with 429 and the same body.
                return Response(200 if health['Healthy'] else 429, health)
            raise APIError(500, 'all servers must have raft_protocol set to 3 or higher to use this endpoint',
                           rpc=True)
        raise APIError(404, 'Invalid URL path')

    def deployment_update(self, req, read, verb, did):
        """Promote, fail, pause and resume, as recorded (tests/recordings/nomad-*/deployments.json)."""
        s = self.agent.server
        self.acl(req)
        if verb == 'allocations':
            return read(lambda: ([alloc_stub(a) for a in self._sorted(s.state['allocs']) if a['DeploymentID'] == did],
                                 s.table_index('allocs')))
        if req.method not in ('PUT', 'POST'):
            raise APIError(405, 'Invalid method')
        body = req.json() or {}
        if verb == 'promote':
            out, index = s.deployment_promote(did, bool(body.get('All')), body.get('Groups'))
        elif verb == 'pause':
            out, index = s.deployment_pause(did, bool(body.get('Pause')))
        else:
            out, index = s.deployment_fail(did)
        return Response(200, out, index=index, kind='write')

    def snapshot(self, req):
        """1.x: the leader's state as a snapshot archive, and its restore."""
        s = self.agent.server
        if not IS_1X:
            raise APIError(404, 'Invalid URL path')
        self.acl(req)
        if req.method == 'GET':
            data, index = s.snapshot_save()
            r = Response(200, index=index, kind='write', content_type='application/x-gzip')
            r.raw_bytes = data
            return r
        if req.method not in ('PUT', 'POST'):
            raise APIError(405, 'Invalid method')
        s.snapshot_restore(req.raw_body)
        return Response(200, raw='', content_type='')

    def remove_raft_peer(self, query):
        # Nomad's words (command/agent/operator_endpoint.go, nomad/operator_endpoint.go).
        by_id, by_address = query.get('id'), query.get('address')
        if not by_id and not by_address:
            raise APIError(400, "Must specify either ?id with the server's ID or ?address with IP:port of peer "
                                "to remove")
        if by_id and by_address:
            raise APIError(400, 'Must specify only one of ?id or ?address')
        key, value = ('ID', by_id) if by_id else ('Address', by_address)
        for peer in self.agent.raft_configuration()['Servers']:
            if peer[key] == value:
                self.agent.server.remove_peer(peer['Node'])
                return None
        raise APIError(500, '%s %s was not found in the Raft configuration'
                       % ('id' if by_id else 'address', json.dumps(value)), rpc=True)

    def _sorted(self, table):
        return [v for _k, v in sorted(table.items(), key=lambda kv: kv[1].get('CreateIndex', 0))]

    def _one(self, obj, table, view=None):
        s = self.agent.server
        if obj is None:
            return None, s.table_index(table)
        obj = copy.deepcopy(obj)
        return (view(obj) if view else obj), obj.get('ModifyIndex', s.table_index(table))

    def _node_public(self, n):
        n = dict((k, v) for k, v in n.items() if not k.startswith('_'))
        n['SecretID'] = ''
        return n

    def _node_stub(self, n):
        st = template('node_stub')
        for k in st:
            if k in n:
                st[k] = copy.deepcopy(n[k])
        st['Address'] = n['HTTPAddr'].rsplit(':', 1)[0]
        st['Version'] = n['Attributes'].get('nomad.version', '0.9.1')
        if IS_16:
            st['NodePool'] = n.get('NodePool') or 'default'
        return st

    # -------------------------------------------------------------- jobs
    def job_routes(self, req, read, ns):
        s = self.agent.server
        rest = req.path[len('/v1/job/'):]
        sub = ''
        for suffix in ('/allocations', '/evaluations', '/summary', '/versions', '/deployments', '/deployment',
                       '/plan', '/periodic/force', '/evaluate', '/submission'):
            if rest.endswith(suffix):
                rest, sub = rest[:-len(suffix)], suffix
                break
        job_id = urllib.parse.unquote(rest)
        key = jkey(ns, job_id)
        m = req.method
        if sub == '':
            if m == 'GET':
                self.acl(req, ns=ns, cap='read-job')
                return read(lambda: self._one(s.state['jobs'].get(key), 'jobs'), 'job not found')
            if m in ('PUT', 'POST'):
                return self.register(req, job_id)
            if m == 'DELETE':
                self.acl(req, ns=ns, cap='submit-job')
                purge = query_bool(req, 'purge')
                body, index = s.deregister_job(job_id, purge, ns)
                return Response(200, body, index=index, kind='write')
            raise APIError(405, 'Invalid method')
        if sub == '/plan':
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            return self.plan(req, job_id)
        if sub == '/periodic/force':
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            self.acl(req)
            body, index = s.periodic_force(job_id, ns)
            return Response(200, body, index=index, kind='write')
        if sub == '/evaluate':
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            self.acl(req)
            with s.cond:
                job = s.state['jobs'].get(key)
                if not job:
                    raise APIError(500, 'job not found', rpc=True)
                ev = s._create_eval(job, 'job-register')
            return Response(200, {'EvalCreateIndex': ev['CreateIndex'], 'EvalID': ev['ID'], 'Index': ev['CreateIndex'],
                                  'JobModifyIndex': job['JobModifyIndex'], 'KnownLeader': False, 'LastContact': 0,
                                  'Warnings': ''}, index=ev['CreateIndex'], kind='write')
        if m != 'GET':
            raise APIError(405, 'Invalid method')
        self.acl(req, ns=ns, cap='read-job')
        if sub == '/allocations':
            def mine(a):
                if owner_key(a) != key:
                    return False
                if IS_1X and not query_bool(req, 'all'):
                    # Nomad lists the allocations of the job as registered
                    # now, not of an earlier job of the same ID that was
                    # purged (AllocsByJob, anyCreateIndex=false).
                    job = s.state['jobs'].get(key)
                    return job is None or a['Job'].get('CreateIndex') == job['CreateIndex']
                return True
            return read(lambda: ([alloc_stub(a) for a in self._sorted(s.state['allocs']) if mine(a)],
                                 s.table_index('allocs')))
        if sub == '/evaluations':
            return read(lambda: ([eval_public(e) for e in self._sorted(s.state['evals']) if owner_key(e) == key],
                                 s.table_index('evals')))
        if sub == '/summary':
            return read(lambda: (s.summary(key), s.table_index('job_summary')), 'job not found')
        if sub == '/submission' and IS_16:
            version = req.query.get('version')
            if version is None or not version.isdigit():
                raise APIError(400, 'must specify a valid job version')
            return read(lambda: (copy.deepcopy(s.state['submissions'].get(submission_key(key, int(version)))),
                                 s.table_index('jobs')), 'job source not found')
        if sub == '/versions':
            def versions():
                v = s.state['versions'].get(key)
                if not v:
                    return None, s.table_index('jobs')
                diffs = None
                if IS_1X and query_bool(req, 'diffs'):
                    # Each version against the one before it, newest first (api/063).
                    diffs = [jobsmod.job_diff(v[i + 1], v[i], {}, annotate=False) for i in range(len(v) - 1)]
                return ({'Diffs': diffs, 'Index': s.table_index('jobs'), 'KnownLeader': True, 'LastContact': 0,
                         'Versions': copy.deepcopy(v)}, s.table_index('jobs'))
            return read(versions, 'job versions not found')
        if sub == '/deployments':
            return read(lambda: ([d for d in self._sorted(s.state['deployments']) if owner_key(d) == key][::-1],
                                 s.table_index('deployment')))
        if sub == '/deployment':
            def latest():
                ds = [d for d in self._sorted(s.state['deployments']) if owner_key(d) == key]
                return (ds[-1] if ds else None), (s.table_index('deployment') if ds else 0)
            body, index = s.wait_for(int(req.query.get('index') or 0), parse_wait(req.query.get('wait')), latest)
            return Response(200, body, index=index, kind='read')
        raise APIError(404, 'Invalid URL path')

    def _job_from_body(self, req, job_id):
        body = req.json()
        if not isinstance(body, dict) or not body.get('Job'):
            raise APIError(400, 'Job must be specified')
        job = body['Job']
        try:
            jobsmod.check_types(job)
        except jobsmod.RequestError as e:
            raise APIError(400, str(e))
        if job_id is not None and job.get('ID') != job_id:
            raise APIError(400, 'Job ID does not match name')
        return body, job

    def register(self, req, job_id):
        s = self.agent.server
        body, job = self._job_from_body(req, job_id)
        self.acl(req, ns=job.get('Namespace') or 'default', cap='submit-job')
        # The job's own Namespace decides where it goes, not ?namespace=
        # (api/197-199): a job without one lands in default.
        out, index = s.register_job(job, bool(body.get('EnforceIndex')), int(body.get('JobModifyIndex') or 0))
        if IS_16 and isinstance(body.get('Submission'), dict) and out.get('JobModifyIndex'):
            s.keep_submission(job, body['Submission'])
        return Response(200, out, index=index, kind='write')

    # -------------------------------------------------------------- namespaces (1.x)
    def namespaces(self, req, read):
        s = self.agent.server
        p = req.path
        m = req.method
        if p == '/v1/namespaces':
            if m != 'GET':
                raise APIError(405, 'Invalid method')
            # Anonymous (ACL on, no token) may read no namespace: 200 [] (api/283).
            visible = self.acl(req, need=False) is not None
            return read(lambda: ([copy.deepcopy(n) for _k, n in sorted(s.state['namespaces'].items())]
                                 if visible else [], s.table_index('namespaces') or 1))
        name = urllib.parse.unquote(p[len('/v1/namespace/'):]) if p.startswith('/v1/namespace/') else None
        if m in ('PUT', 'POST'):
            body = req.json()
            self.acl(req)
            if not isinstance(body, dict):
                raise APIError(400, 'Namespace must be specified')
            if name is not None and not body.get('Name'):
                body = dict(body, Name=name)
            return empty_write(s.namespace_upsert(body))
        if name is None:
            raise APIError(405, 'Invalid method')
        if m == 'GET':
            self.acl(req)
            return read(lambda: (copy.deepcopy(s.state['namespaces'].get(name)),
                                 s.table_index('namespaces') or 1), 'Namespace not found')
        if m == 'DELETE':
            self.acl(req)
            return empty_write(s.namespace_delete(name))
        raise APIError(405, 'Invalid method')

    # -------------------------------------------------------------- ACL objects
    def acl_objects(self, req, read):
        """command/agent/acl_endpoint.go: policies, tokens by accessor, roles (1.6)."""
        s = self.agent.server
        p = req.path
        m = req.method
        acl = s._acl()
        if p == '/v1/acl/policies':
            self.acl(req)
            return read(lambda: ([aclmod.policy_stub(v) for _k, v in sorted(acl['policies'].items())],
                                 s.table_index('acl_policy') or 1))
        if p.startswith('/v1/acl/policy/'):
            name = urllib.parse.unquote(p[len('/v1/acl/policy/'):])
            self.acl(req)
            if m == 'GET':
                return read(lambda: (copy.deepcopy(acl['policies'].get(name)), s.table_index('acl_policy') or 1),
                            'ACL policy not found')
            if m in ('PUT', 'POST'):
                body = req.json()
                if not isinstance(body, dict):
                    raise APIError(400, 'Request decode failed')
                return empty_write(s.acl_policy_upsert(body, name))
            if m == 'DELETE':
                return empty_write(s.acl_policy_delete(name))
            raise APIError(405, 'Invalid method')
        if p == '/v1/acl/token':
            if m not in ('PUT', 'POST'):
                raise APIError(405, 'Invalid method')
            self.acl(req)
            tok, index = s.acl_token_upsert(req.json() or {})
            return Response(200, tok, index=index, kind='write')
        if p.startswith('/v1/acl/token/'):
            accessor = urllib.parse.unquote(p[len('/v1/acl/token/'):])
            if m == 'GET':
                caller = self.acl(req, need=False)
                if caller is not MGMT and (caller is None or (caller.get('Type') != 'management'
                                                              and caller.get('AccessorID') != accessor)):
                    raise APIError(403, 'Permission denied')
                if len(accessor) != 36:
                    raise APIError(500, 'acl token lookup failed: index error: UUID must be 36 characters', rpc=True)
                return read(lambda: (copy.deepcopy(acl['tokens'].get(accessor)), s.table_index('acl_token')),
                            'ACL token not found')
            self.acl(req)
            if m in ('PUT', 'POST'):
                tok, index = s.acl_token_upsert(req.json() or {}, accessor)
                return Response(200, tok, index=index, kind='write')
            if m == 'DELETE':
                return empty_write(s.acl_token_delete(accessor))
            raise APIError(405, 'Invalid method')
        if not IS_16:
            raise APIError(404, 'Invalid URL path')
        if p == '/v1/acl/roles':
            self.acl(req)
            return read(lambda: (self._sorted(acl['roles']), s.table_index('acl_role') or 1))
        if p == '/v1/acl/role' and m in ('PUT', 'POST'):
            self.acl(req)
            role, index = s.acl_role_upsert(req.json() or {})
            return Response(200, role, index=index, kind='write')
        if p.startswith('/v1/acl/role/name/'):
            self.acl(req)
            name = urllib.parse.unquote(p[len('/v1/acl/role/name/'):])
            return read(lambda: (copy.deepcopy(next((r for r in acl['roles'].values() if r['Name'] == name), None)),
                                 s.table_index('acl_role') or 1), 'ACL role not found')
        if p.startswith('/v1/acl/role/'):
            self.acl(req)
            role_id = urllib.parse.unquote(p[len('/v1/acl/role/'):])
            if m == 'GET':
                return read(lambda: (copy.deepcopy(acl['roles'].get(role_id)), s.table_index('acl_role') or 1),
                            'ACL role not found')
            if m in ('PUT', 'POST'):
                body = req.json() or {}
                if body.get('ID') != role_id:
                    raise APIError(400, 'ACL role ID does not match request path')
                role, index = s.acl_role_upsert(body, role_id)
                return Response(200, role, index=index, kind='write')
            if m == 'DELETE':
                return empty_write(s.acl_role_delete(role_id))
            raise APIError(405, 'Invalid method')
        raise APIError(404, 'Invalid URL path')

    # -------------------------------------------------------------- variables (1.6)
    def variables(self, req, read, ns):
        """command/agent/variable_endpoint.go: list, read, check-and-set write and delete."""
        s = self.agent.server
        m = req.method
        table = s.state.setdefault('variables', {})
        if req.path == '/v1/vars':
            self.acl(req)
            prefix = req.query.get('prefix', '')
            return read(lambda: ([dict((k, v) for k, v in var.items() if k != 'Items')
                                  for _k, var in sorted(table.items())
                                  if var['Path'].startswith(prefix) and ns in ('*', var['Namespace'])],
                                 s.table_index('variables') or 1))
        path = urllib.parse.unquote(req.path[len('/v1/var/'):])
        tok = self.acl(req, need=False)
        need = {'GET': 'read', 'PUT': 'write', 'POST': 'write', 'DELETE': 'destroy'}.get(m)
        if tok is not MGMT and not aclmod.allows_variable(s.state, tok, ns, path, need):
            raise APIError(403, 'Permission denied')
        cas = int(req.query['cas']) if 'cas' in req.query else None
        if m == 'GET':
            return read(lambda: (copy.deepcopy(table.get('%s\x00%s' % (ns, path))), s.table_index('variables') or 1),
                        'variable not found')
        if m in ('PUT', 'POST'):
            body = req.json() or {}
            items = body.get('Items')
            if not items:
                raise APIError(400, 'variable missing required Items object')
            if any(not isinstance(v, str) for v in items.values()):
                raise APIError(400, 'json: cannot unmarshal number into Go struct field VariableDecrypted.Items of '
                                    'type string')
            if not re.match(r'^[a-zA-Z0-9-_~/]{1,128}$', path):
                raise APIError(500, 'invalid path %s' % json.dumps(path))
            var, status = s.variable_upsert(ns, path, items, cas)
            return Response(status, var, index=(var or {}).get('ModifyIndex'), kind='write')
        if m == 'DELETE':
            var, status = s.variable_delete(ns, path, cas)
            if status == 409:
                return Response(409, var, index=(var or {}).get('ModifyIndex'), kind='write')
            return Response(204, raw='', index=s.table_index('variables'), kind='write', content_type='')
        raise APIError(405, 'Invalid method')

    # -------------------------------------------------------------- node pools (1.6)
    def node_pools(self, req, read):
        """command/agent/node_pool_endpoint.go: list, read, upsert (by /v1/node/pools or by name), delete."""
        s = self.agent.server
        p = req.path
        m = req.method
        self.acl(req)
        if p == '/v1/node/pools':
            if m == 'GET':
                return read(lambda: ([copy.deepcopy(v) for _k, v in sorted(s.state['node_pools'].items())],
                                     s.table_index('node_pools') or 1))
            if m in ('PUT', 'POST'):
                return self.node_pool_upsert(req, None)
            raise APIError(405, 'Invalid method')
        name = urllib.parse.unquote(p[len('/v1/node/pool/'):])
        if name.endswith('/nodes'):
            name = name[:-len('/nodes')]
            return read(lambda: ([self._node_stub(n) for n in self._sorted(s.state['nodes'])
                                  if name in ('all', n.get('NodePool'))], s.table_index('nodes')))
        if m == 'GET':
            return read(lambda: (copy.deepcopy(s.state['node_pools'].get(name)),
                                 s.table_index('node_pools') or 1), 'node pool not found')
        if m in ('PUT', 'POST'):
            return self.node_pool_upsert(req, name)
        if m == 'DELETE':
            return empty_write(s.node_pool_delete(name))
        raise APIError(405, 'Invalid method')

    def node_pool_upsert(self, req, name):
        body = req.json()
        if body is None:
            raise APIError(400, 'Request body is empty')
        if not isinstance(body, dict):
            raise APIError(400, 'json: cannot unmarshal %s into Go value of type structs.NodePool'
                           % ('array' if isinstance(body, list) else type(body).__name__))
        if name is not None and body.get('Name') != name:
            raise APIError(400, 'Node pool name does not match request path')
        meta = body.get('Meta')
        if isinstance(meta, dict):
            bad = [v for v in meta.values() if v is not None and not isinstance(v, str)]
            where = 'NodePool.Meta of type string'
        else:
            bad = [] if meta is None else [meta]
            where = 'NodePool.Meta of type map[string]string'
        if bad:
            # encoding/json's words (17-pool-upsert-meta-number), with its JSON type names.
            v = bad[0]
            kind = ('bool' if isinstance(v, bool) else 'number' if isinstance(v, (int, float))
                    else 'string' if isinstance(v, str) else 'array' if isinstance(v, list) else 'object')
            raise APIError(400, 'json: cannot unmarshal %s into Go struct field %s' % (kind, where))
        return empty_write(self.agent.server.node_pool_upsert(body))

    # -------------------------------------------------------------- node eligibility and drain
    def node_update(self, req, nid, what):
        s = self.agent.server
        if what == 'drain' and not req.body.strip() and IS_1X:
            # The pre-0.8 query form (?enable=true, no body) is gone in 1.1.0 (api/171).
            raise APIError(400, 'Request body is empty')
        body = req.json() or {}
        self.acl(req)
        if what == 'eligibility':
            out = s.node_eligibility(nid, body.get('Eligibility'))
        else:
            out = s.node_drain(nid, body.get('DrainSpec'), bool(body.get('MarkEligible')), body.get('Meta'))
        return Response(200, out, index=out['Index'], kind='write')

    def plan(self, req, job_id):
        s = self.agent.server
        body, job = self._job_from_body(req, job_id)
        self.acl(req, ns=job.get('Namespace') or 'default', cap='submit-job')
        with s.cond:
            want = jobsmod.canonicalize(job)
            errs = jobsmod.validate(want)
            if errs:
                raise APIError(500, jobsmod.multierror(errs), rpc=True)
            cur = s.state['jobs'].get(job_key(want))
            if cur is not None:
                want['Version'] = cur['Version'] if jobsmod.spec(cur) == jobsmod.spec(want) else cur['Version'] + 1
            result = s.reconcile(cur, job_key(want), commit=False, plan_job=want)
            created = None
            if result['failed']:
                ev = template('eval')
                ev.update({'ID': '', 'JobID': want['ID'], 'Status': 'blocked', 'TriggeredBy': 'queued-allocs',
                           'StatusDescription': 'created to place remaining allocations', 'CreateIndex': 0,
                           'ModifyIndex': 0, 'QueuedAllocations': None, 'FailedTGAllocs': None, 'SnapshotIndex': 0,
                           'JobModifyIndex': cur['JobModifyIndex'] if cur else 0, 'Type': want['Type'],
                           'Priority': want['Priority'],
                           'ClassEligibility': dict((n.get('ComputedClass', 'v1:0'), False)
                                                    for n in s.state['nodes'].values())})
                if IS_1X:
                    # 1.1.0 names the would-be blocked eval and its failures (api/084).
                    ev.update({'ID': new_id(), 'PreviousEval': new_id(), 'Namespace': want['Namespace'],
                               'DeploymentID': '', 'FailedTGAllocs': copy.deepcopy(result['failed']),
                               'JobModifyIndex': 0,
                               'CreateTime': now_ns(), 'ModifyTime': now_ns()})
                    ev = eval_public(ev)
                created = [ev]
            diff = jobsmod.job_diff(cur, want, result['updates']) if body.get('Diff') else None
            # 1.1.0 leaves it null for a job that is not periodic (api/040).
            next_launch = None if IS_1X else ZERO_TIME
            if (want.get('Periodic') or {}).get('Enabled'):
                next_launch = time.strftime('%Y-%m-%dT%H:%M:00Z', time.gmtime(time.time() + 60))
            out = {'Annotations': {'DesiredTGUpdates': result['updates'], 'PreemptedAllocs': None},
                   'CreatedEvals': created, 'Diff': diff, 'FailedTGAllocs': result['failed'] or None,
                   'Index': cur['JobModifyIndex'] if cur else 0,
                   'JobModifyIndex': cur['JobModifyIndex'] if cur else 0,
                   'NextPeriodicLaunch': next_launch, 'Warnings': jobsmod.warnings(want)}
            if (want.get('Periodic') or {}).get('Enabled'):
                out['Annotations']['DesiredTGUpdates'] = {}
        return Response(200, out, index=out['Index'], kind='write')


class Handler(BaseHTTPRequestHandler):
    """HTTP front of the API for one agent (set ``api`` on the server object)."""

    protocol_version = 'HTTP/1.1'
    server_version = 'nomad-double'

    def log_message(self, fmt, *args):  # the agent logs errors itself
        pass

    def _dispatch(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = {}
        for k, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=True):
            query.setdefault(k, v)
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = raw.decode('utf-8', errors='replace')
        headers = dict((k.lower(), v) for k, v in self.headers.items())
        req = Request(self.command, parsed.path, query, headers, body)
        if length:
            req.raw_body = raw
        api = self.server.api
        resp = api.handle(req)
        if resp.status >= 400 and getattr(api.agent, 'log_errors', True):
            api.agent.log('ERROR', 'http: request failed: method=%s path=%s error="%s" code=%d'
                          % (req.method, req.path, resp.raw if resp.raw is not None else '', resp.status))
        if hasattr(resp, 'wire_headers'):
            status, headers, data = resp.status, resp.wire_headers, resp.raw.encode()
        else:
            status, headers, data = resp.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Vary', 'Accept-Encoding')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _dispatch
