# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nomad`` command line of the double (the subset the collection uses)."""

import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from .util import IS_1X, REVISION, VERSION, NoRecordedParse, recorded_parse

USAGE = 'Usage: nomad [-version] [-help] [-autocomplete-(un)install] <command> [args]\n'
# command/job_run.go's enforceIndexRegex.  It needs "(" right before
# "Enforcing": only an error from the leader itself, without "rpc error: ",
# gets the short message.
ENFORCE_INDEX_RE = re.compile(r'\((Enforcing job modify index.*)\)')


class HTTPError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body
        super(HTTPError, self).__init__('Unexpected response code: %d (%s)' % (status, body))


class Conn(object):
    def __init__(self, opts):
        self.address = (opts.get('address') or os.environ.get('NOMAD_ADDR') or 'http://127.0.0.1:4646').rstrip('/')
        self.token = opts.get('token') or os.environ.get('NOMAD_TOKEN') or ''
        # -namespace/NOMAD_NAMESPACE go on every request as ?namespace= (1.x only here).
        self.namespace = (opts.get('namespace') or os.environ.get('NOMAD_NAMESPACE') or '') if IS_1X else ''
        self.ctx = None
        if self.address.startswith('https'):
            ca = opts.get('ca-cert') or os.environ.get('NOMAD_CACERT')
            self.ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
            cert = opts.get('client-cert') or os.environ.get('NOMAD_CLIENT_CERT')
            key = opts.get('client-key') or os.environ.get('NOMAD_CLIENT_KEY')
            if cert and key:
                self.ctx.load_cert_chain(cert, key)
            if opts.get('tls-skip-verify') or os.environ.get('NOMAD_SKIP_VERIFY'):
                self.ctx.check_hostname = False
                self.ctx.verify_mode = ssl.CERT_NONE

    def call(self, method, path, body=None, query=None):
        url = self.address + path
        if self.namespace:
            query = dict(query or {}, namespace=self.namespace)
        if query:
            url += '?' + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if self.token:
            req.add_header('X-Nomad-Token', self.token)
        try:
            with urllib.request.urlopen(req, timeout=70, context=self.ctx) as r:
                return json.loads(r.read().decode() or 'null'), int(r.headers.get('X-Nomad-Index') or 0)
        except urllib.error.HTTPError as e:
            raise HTTPError(e.code, e.read().decode(errors='replace'))
        except urllib.error.URLError as e:
            raise ConnError('Get "%s": %s' % (url, _reason(e)))


def _reason(e):
    r = e.reason
    if isinstance(r, ConnectionRefusedError):
        host = urllib.parse.urlsplit(e.filename or '').netloc if hasattr(e, 'filename') else ''
        return 'dial tcp %s: connect: connection refused' % host
    return str(r)


class ConnError(Exception):
    pass


def parse_flags(args, bool_flags=(), value_flags=()):
    opts = {}
    rest = []
    i = 0
    common = ('address', 'token', 'region', 'namespace', 'ca-cert', 'client-cert', 'client-key', 'ca-path')
    while i < len(args):
        a = args[i]
        if a.startswith('-') and len(a) > 1 and not rest:
            name, eq, val = a.lstrip('-').partition('=')
            if name in bool_flags or name == 'tls-skip-verify':
                opts[name] = val.lower() not in ('false', '0') if eq else True
            elif name in value_flags or name in common:
                if not eq:
                    i += 1
                    val = args[i] if i < len(args) else ''
                opts[name] = val
            else:
                raise SystemExit(_err('flag provided but not defined: -%s' % name))
        else:
            rest.append(a)
        i += 1
    return opts, rest


def _err(msg, code=1):
    sys.stderr.write(msg + '\n')
    return code


def out(text=''):
    sys.stdout.write(text + '\n')


def table(rows):
    """columnize as the Nomad CLI does (two spaces between columns)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out('  '.join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())


def ago(ns):
    secs = max(0, int(time.time() - ns / 1e9))
    if secs < 60:
        return '%ds ago' % secs
    if secs < 3600:
        return '%dm%ds ago' % (secs // 60, secs % 60)
    return '%dh%dm ago' % (secs // 3600, (secs % 3600) // 60)


def fmt_time(ns):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ns / 1e9))


# ------------------------------------------------------------------ commands
def cmd_version(_args):
    out('Nomad v%s (%s)' % (VERSION, REVISION))
    return 0


def cmd_agent(args):
    from .agent import run
    paths = []
    i = 0
    while i < len(args):
        a = args[i]
        name, eq, val = a.lstrip('-').partition('=')
        if name == 'config':
            if not eq:
                i += 1
                val = args[i] if i < len(args) else ''
            paths.append(val)
        elif name in ('dev',):
            return _err('==> the test double does not support -dev')
        i += 1
    return run(paths)


def cmd_server_members(args):
    opts, _unused = parse_flags(args, bool_flags=('detailed',))
    c = Conn(opts)
    try:
        body, _unused = c.call('GET', '/v1/agent/members')
        leader = None
        try:
            leader, _unused = c.call('GET', '/v1/status/leader')
        except HTTPError:
            leader = None
    except HTTPError as e:
        return _err('Error querying servers: %s' % e)
    except ConnError as e:
        return _err('Error querying servers: %s' % e)
    rows = [['Name', 'Address', 'Port', 'Status', 'Leader', 'Protocol', 'Build', 'Datacenter', 'Region']]
    for m in sorted(body['Members'], key=lambda m: m['Name']):
        t = m['Tags']
        is_leader = leader == '%s:%s' % (t.get('rpc_addr'), t.get('port'))
        rows.append([m['Name'], m['Addr'], str(m['Port']), m['Status'], str(is_leader).lower(), t.get('vsn', '1') and '2',
                     t.get('build', ''), t.get('dc', ''), t.get('region', '')])
    table(rows)
    return 0


def cmd_node_status(args):
    opts, rest = parse_flags(args, bool_flags=('verbose', 'self', 'json', 'short', 'allocs', 'stats'))
    c = Conn(opts)
    try:
        nodes, _unused = c.call('GET', '/v1/nodes')
    except (HTTPError, ConnError) as e:
        return _err('Error querying node status: %s' % e)
    if not rest and not opts.get('self'):
        if not nodes:
            out('No nodes registered')
            return 0
        v = opts.get('verbose')
        head = ['ID', 'DC', 'Name', 'Class']
        if v:
            head += ['Address', 'Version']
        head += ['Drain', 'Eligibility', 'Status']
        rows = [head]
        for n in nodes:
            r = [n['ID'] if v else n['ID'][:8], n['Datacenter'], n['Name'], n['NodeClass'] or '<none>']
            if v:
                r += [n['Address'], n['Version']]
            r += [str(n['Drain']).lower(), n['SchedulingEligibility'], n['Status']]
            rows.append(r)
        table(rows)
        return 0
    if opts.get('self'):
        try:
            me, _unused = c.call('GET', '/v1/agent/self')
        except (HTTPError, ConnError) as e:
            return _err('Error querying agent info: %s' % e)
        prefix = me['stats'].get('client', {}).get('node_id', '')
    else:
        prefix = rest[0]
    matches = [n for n in nodes if n['ID'].startswith(prefix)]
    if not matches:
        return _err('No node(s) with prefix "%s" found' % prefix)
    node, _unused = c.call('GET', '/v1/node/%s' % matches[0]['ID'])
    drivers = ','.join(sorted(k for k, d in node['Drivers'].items() if d.get('Detected')))
    rows = [('ID', node['ID'] if opts.get('verbose') else node['ID'][:8]), ('Name', node['Name']),
            ('Class', node['NodeClass'] or '<none>'), ('DC', node['Datacenter']), ('Drain', str(node['Drain']).lower()),
            ('Eligibility', node['SchedulingEligibility']), ('Status', node['Status']), ('Driver Status', drivers)]
    w = max(len(k) for k, _val in rows)
    for k, val in rows:
        out('%s = %s' % (k.ljust(w), val))
    return 0


def _job_summary_rows(summary):
    rows = [['Task Group', 'Queued', 'Starting', 'Running', 'Failed', 'Complete', 'Lost']]
    for tg, s in sorted(summary['Summary'].items()):
        rows.append([tg, str(s['Queued']), str(s['Starting']), str(s['Running']), str(s['Failed']),
                     str(s['Complete']), str(s['Lost'])])
    return rows


def cmd_job_status(args):
    opts, rest = parse_flags(args, bool_flags=('verbose', 'short', 'all-allocs', 'evals', 'json'))
    c = Conn(opts)
    try:
        jobs, _unused = c.call('GET', '/v1/jobs', query={'prefix': rest[0]} if rest else None)
    except (HTTPError, ConnError) as e:
        return _err('Error querying jobs: %s' % e)
    if not rest:
        if not jobs:
            out('No running jobs')
            return 0
        rows = [['ID', 'Type', 'Priority', 'Status', 'Submit Date']]
        for j in jobs:
            jtype = j['Type'] + ('/periodic' if j['Periodic'] else '') + ('/parameterized' if j['ParameterizedJob'] else '')
            rows.append([j['ID'], jtype, str(j['Priority']), j['Status'], fmt_time(j['SubmitTime'])])
        table(rows)
        return 0
    exact = [j for j in jobs if j['ID'] == rest[0]]
    if not jobs:
        return _err('No job(s) with prefix or id "%s" found' % rest[0])
    job_id = (exact or jobs)[0]['ID']
    q = urllib.parse.quote(job_id, safe='')
    job, _unused = c.call('GET', '/v1/job/%s' % q)
    summary, _unused = c.call('GET', '/v1/job/%s/summary' % q)
    allocs, _unused = c.call('GET', '/v1/job/%s/allocations' % q)
    status = job['Status'] + (' (stopped)' if job['Stop'] else '')
    rows = [('ID', job['ID']), ('Name', job['Name']), ('Submit Date', fmt_time(job['SubmitTime'])),
            ('Type', job['Type']), ('Priority', str(job['Priority'])), ('Datacenters', ','.join(job['Datacenters'])),
            ('Status', status), ('Periodic', str(bool(job.get('Periodic'))).lower()),
            ('Parameterized', str(bool(job.get('ParameterizedJob'))).lower())]
    if IS_1X:
        rows.insert(6, ('Namespace', job['Namespace']))
    w = max(len(k) for k, _val in rows)
    for k, val in rows:
        out('%s = %s' % (k.ljust(w), val))
    out()
    out('Summary')
    table(_job_summary_rows(summary))
    if IS_1X:
        _latest_deployment(c, q)
    evals, _unused = c.call('GET', '/v1/job/%s/evaluations' % q)
    blocked = [e for e in evals if e['Status'] == 'blocked']
    failed = sorted((e for e in evals if e.get('FailedTGAllocs')), key=lambda e: e['CreateIndex'])
    if blocked and failed:
        out()
        out('Placement Failure')
        for tg, m in sorted(failed[-1]['FailedTGAllocs'].items()):
            out('Task Group "%s":' % tg)
            for line in _failure_lines(m, '  '):
                out(line)
    out()
    out('Allocations')
    if not allocs:
        out('No allocations placed')
        return 0
    rows = [['ID', 'Node ID', 'Task Group', 'Version', 'Desired', 'Status', 'Created', 'Modified']]
    for a in sorted(allocs, key=lambda a: -a['CreateIndex']):
        rows.append([a['ID'][:8], a['NodeID'][:8], a['TaskGroup'], str(a['JobVersion']), a['DesiredStatus'],
                     a['ClientStatus'], ago(a['CreateTime']), ago(a['ModifyTime'])])
    table(rows)
    return 0


def _latest_deployment(c, q):
    """1.1.0's job status shows the latest deployment (cli/11)."""
    d, _unused = c.call('GET', '/v1/job/%s/deployment' % q)
    if not d:
        return
    out()
    out('Latest Deployment')
    for k, val in (('ID', d['ID'][:8]), ('Status', d['Status']), ('Description', d['StatusDescription'])):
        out('%s = %s' % (k.ljust(11), val))
    out()
    out('Deployed')
    rows = [['Task Group', 'Desired', 'Placed', 'Healthy', 'Unhealthy', 'Progress Deadline']]
    for tg, t in sorted(d['TaskGroups'].items()):
        rows.append([tg, str(t['DesiredTotal']), str(t['PlacedAllocs']), str(t['HealthyAllocs']),
                     str(t['UnhealthyAllocs']), t['RequireProgressBy'][:19] + 'Z'])
    table(rows)


def _load_job(path):
    if not os.path.exists(path):
        raise CLIError('Error getting job struct: Error getting jobfile from "%s": source path error: stat %s: '
                       'no such file or directory' % (path, os.path.abspath(path)))
    with open(path) as f:
        text = f.read()
    stripped = text.lstrip()
    if stripped.startswith('{'):
        data = json.loads(text)
        return data.get('Job', data)
    # The CLI parses the file itself: HCL1 in 0.9.1, HCL2 in 1.1.0, as recorded.
    try:
        parsed = recorded_parse(text, 'hcl2' if IS_1X else 'hcl1')
    except NoRecordedParse as e:
        raise CLIError('Error getting job struct: Error parsing job file from %s: %s' % (path, e))
    if 'Error' in parsed:
        msg = parsed['Error']
        if msg.startswith("error parsing 'job': "):
            msg = msg[len("error parsing 'job': "):]
        raise CLIError('Error getting job struct: Error parsing job file from %s: %s' % (path, msg))
    return parsed['Job']


class CLIError(Exception):
    pass


def _monitor(c, eval_id, detach):
    if detach:
        out('Job registration successful')
        out('Evaluation ID: %s' % eval_id)
        return 0
    out('==> Monitoring evaluation "%s"' % eval_id[:8])
    seen = set()
    status = 'pending'
    ev = None
    deadline = time.time() + 300
    while time.time() < deadline:
        ev, _unused = c.call('GET', '/v1/evaluation/%s' % eval_id)
        if ev['Status'] != 'pending' or status != 'pending':
            break
        time.sleep(0.2)
    if ev is None:
        return 1
    if len(seen) == 0:
        out('    Evaluation triggered by job "%s"' % ev['JobID'])
    if IS_1X:
        out('==> Monitoring evaluation "%s"' % eval_id[:8])
        if ev.get('DeploymentID'):
            out('    Evaluation within deployment: "%s"' % ev['DeploymentID'][:8])
    allocs, _unused = c.call('GET', '/v1/evaluation/%s/allocations' % eval_id)
    for a in allocs:
        kind = 'created' if a['CreateIndex'] >= ev['CreateIndex'] else 'modified'
        out('    Allocation "%s" %s: node "%s", group "%s"' % (a['ID'][:8], kind, a['NodeID'][:8], a['TaskGroup']))
    out('    Evaluation status changed: "pending" -> "%s"' % ev['Status'])
    if ev.get('FailedTGAllocs'):
        out('==> Evaluation "%s" finished with status "%s" but failed to place all allocations:'
            % (eval_id[:8], ev['Status']))
        for tg, m in sorted(ev['FailedTGAllocs'].items()):
            n = m['CoalescedFailures'] + 1
            out('    Task Group "%s" (failed to place %d allocation%s):' % (tg, n, '' if n == 1 else 's'))
            for line in _failure_lines(m, '      '):
                out(line)
        if ev.get('BlockedEval'):
            out('    Evaluation "%s" waiting for additional capacity to place remainder' % ev['BlockedEval'][:8])
        return 2
    out('==> Evaluation "%s" finished with status "%s"' % (eval_id[:8], ev['Status']))
    return 0


def _failure_lines(m, indent):
    lines = []
    if m['NodesEvaluated'] == 0:
        lines.append('* No nodes were eligible for evaluation')
    for dc, cnt in sorted((m.get('NodesAvailable') or {}).items()):
        if cnt == 0:
            lines.append('* No nodes are available in datacenter "%s"' % dc)
    for cons, cnt in sorted((m.get('ConstraintFiltered') or {}).items()):
        if IS_1X:
            lines.append('* Constraint "%s": %d node%s excluded by filter' % (cons, cnt, '' if cnt == 1 else 's'))
        else:
            lines.append('* Constraint "%s" filtered %d node%s' % (cons, cnt, '' if cnt == 1 else 's'))
    for dim, cnt in sorted((m.get('DimensionExhausted') or {}).items()):
        lines.append('* Dimension "%s" exhausted on %d node%s' % (dim, cnt, '' if cnt == 1 else 's'))
    return [indent + x for x in lines]


def cmd_acl_bootstrap(args):
    opts, _rest = parse_flags(args)
    c = Conn(opts)
    try:
        tok, _unused = c.call('POST', '/v1/acl/bootstrap')
    except (HTTPError, ConnError) as e:
        return _err('Error bootstrapping: %s' % e)
    _print_token(tok)
    return 0


def cmd_acl_token_self(args):
    opts, _rest = parse_flags(args)
    c = Conn(opts)
    try:
        tok, _unused = c.call('GET', '/v1/acl/token/self')
    except (HTTPError, ConnError) as e:
        return _err('Error fetching self token: %s' % e)
    _print_token(tok)
    return 0


def _print_token(tok):
    created = tok['CreateTime'].replace('T', ' ').replace('Z', ' +0000 UTC')
    rows = [('Accessor ID', tok['AccessorID']), ('Secret ID', tok['SecretID']), ('Name', tok['Name']),
            ('Type', tok['Type']), ('Global', str(tok['Global']).lower()),
            ('Policies', ', '.join(tok['Policies']) if tok.get('Policies') else 'n/a'), ('Create Time', created),
            ('Create Index', str(tok['CreateIndex'])), ('Modify Index', str(tok['ModifyIndex']))]
    w = max(len(k) for k, _val in rows)
    for k, val in rows:
        out('%s = %s' % (k.ljust(w), val))


MARK = {'Added': '+', 'Deleted': '-', 'Edited': '+/-', 'None': ''}
UPDATE_ORDER = ('create', 'destroy', 'migrate', 'in-place update', 'create/destroy update', 'canary', 'ignore')


def _diff_lines(obj, indent):
    lines = []
    for f in obj.get('Fields') or []:
        mark = MARK[f['Type']]
        if f['Type'] == 'Edited':
            val = '"%s" => "%s"' % (f['Old'], f['New'])
        else:
            val = '"%s"' % (f['New'] if f['Type'] == 'Added' else f['Old'])
        ann = ' (%s)' % ', '.join(f['Annotations']) if f.get('Annotations') else ''
        lines.append('%s%s %s: %s%s' % (indent, mark, f['Name'], val, ann))
    for o in obj.get('Objects') or []:
        lines.append('%s%s %s {' % (indent, MARK[o['Type']], o['Name']))
        lines += _diff_lines(o, indent + '  ')
        lines.append('%s  }' % indent)
    return lines


def cmd_job_plan(args):
    opts, rest = parse_flags(args, bool_flags=('diff', 'verbose', 'policy-override'))
    if len(rest) != 1:
        return _err('This command takes one argument: <path>')
    try:
        job = _load_job(rest[0])
    except CLIError as e:
        sys.stderr.write(str(e) + '\n')
        return 255
    c = Conn(opts)
    try:
        plan, _unused = c.call('POST', '/v1/job/%s/plan' % urllib.parse.quote(job['ID'], safe=''),
                               {'Job': job, 'Diff': True})
    except (HTTPError, ConnError) as e:
        sys.stderr.write('Error during plan: %s\n' % e)
        return 255
    diff = plan['Diff']
    mark = MARK[diff['Type']]
    out(('%s Job: "%s"' % (mark, diff['ID'])).strip())
    for line in _diff_lines(diff, ''):
        out(line)
    for tg in diff.get('TaskGroups') or []:
        ups = tg.get('Updates') or {}
        counts = ', '.join('%d %s' % (ups[k], k) for k in UPDATE_ORDER if ups.get(k))
        out(('%s Task Group: "%s"%s' % (MARK[tg['Type']], tg['Name'], ' (%s)' % counts if counts else '')).strip())
        for line in _diff_lines(tg, '  '):
            out(line)
        for t in tg.get('Tasks') or []:
            tmark = MARK[t['Type']]
            ann = ' (%s)' % ', '.join(t['Annotations']) if t.get('Annotations') else ''
            if tg['Type'] == 'None':
                out('  Task: "%s"' % t['Name'])
            else:
                # An unchanged task under a changed group keeps the column of the marks.
                out('  %s Task: "%s"%s' % (tmark or '   ', t['Name'], ann))
            for line in _diff_lines(t, '    '):
                out(line)
    out()
    out('Scheduler dry-run:')
    if plan.get('FailedTGAllocs'):
        out('- WARNING: Failed to place all allocations.')
        for tg, m in sorted(plan['FailedTGAllocs'].items()):
            n = m['CoalescedFailures'] + 1
            out('  Task Group "%s" (failed to place %d allocation%s):' % (tg, n, '' if n == 1 else 's'))
            for line in _failure_lines(m, '    '):
                out(line)
    else:
        out('- All tasks successfully allocated.')
    out()
    idx = plan['JobModifyIndex']
    out('Job Modify Index: %d' % idx)
    out('To submit the job with version verification run:')
    out()
    out('nomad job run -check-index %d %s' % (idx, rest[0]))
    out()
    out('When running the job with the check-index flag, the job will only be run if the')
    out('server side version matches the job modify index returned. If the index has')
    out('changed, another user has modified the job and the plan\'s results are')
    out('potentially invalid.')
    return 0 if diff['Type'] == 'None' else 1


def cmd_config_validate(args):
    """``nomad config validate PATH...`` (1.3 and later): the double's own
    loading and start-up checks, in the words Nomad 1.6.5 prints around them."""
    from .agentcfg import StartupError, load, startup_problem
    if not args:
        return _err('Must specify at least one config file or directory')
    try:
        cfg, _files = load(args)
    except StartupError as e:
        return _err('1 error occurred:\n\t* %s\n\n' % e)
    problem = startup_problem(cfg)
    tls = cfg.get('tls') or {}
    tls = tls[-1] if isinstance(tls, list) and tls else tls
    # 1.6.5 warns about mTLS right after its server-or-client check.
    if problem != 'Must specify either server, client or dev mode for the agent.' and not (
            isinstance(tls, dict) and tls.get('http') in (True, 'true') and tls.get('rpc') in (True, 'true')):
        sys.stderr.write('WARNING: mTLS is not configured - Nomad is not secure without mTLS!\n')
    if problem:
        return _err('%s\nConfiguration is invalid' % problem)
    out('Configuration is valid!')
    return 0


def cmd_operator_keygen(_args):
    import base64
    out(base64.b64encode(os.urandom(16)).decode())
    return 0


def cmd_job_run(args):
    opts, rest = parse_flags(args, bool_flags=('detach', 'verbose', 'output', 'policy-override'),
                             value_flags=('check-index', 'vault-token'))
    if len(rest) != 1:
        return _err('This command takes one argument: <path>')
    try:
        job = _load_job(rest[0])
    except CLIError as e:
        return _err(str(e))
    if opts.get('output'):
        out(json.dumps({'Job': job}, indent=4, sort_keys=True))
        return 0
    c = Conn(opts)
    body = {'Job': job}
    if 'check-index' in opts:
        body['EnforceIndex'] = True
        body['JobModifyIndex'] = int(opts['check-index'])
    try:
        resp, _unused = c.call('POST', '/v1/jobs', body)
    except (HTTPError, ConnError) as e:
        m = ENFORCE_INDEX_RE.search(str(e))
        if m:
            _err(m.group(1))
            return _err('Job not updated')
        return _err('Error submitting job: %s' % e)
    if not resp.get('EvalID'):
        out('Job registration successful')
        return 0
    try:
        return _monitor(c, resp['EvalID'], opts.get('detach'))
    except (HTTPError, ConnError) as e:
        return _err('Error monitoring evaluation: %s' % e)


def cmd_job_stop(args):
    opts, rest = parse_flags(args, bool_flags=('detach', 'purge', 'yes', 'verbose', 'global'))
    if len(rest) != 1:
        return _err('This command takes one argument: <job>')
    c = Conn(opts)
    try:
        jobs, _unused = c.call('GET', '/v1/jobs', query={'prefix': rest[0]})
    except (HTTPError, ConnError) as e:
        return _err('Error finding jobs with prefix: %s' % e)
    if not jobs:
        return _err('No job(s) with prefix or id "%s" found' % rest[0])
    exact = [j for j in jobs if j['ID'] == rest[0]]
    job_id = (exact or jobs)[0]['ID']
    query = {'purge': 'true'} if opts.get('purge') else None
    try:
        resp, _unused = c.call('DELETE', '/v1/job/%s' % urllib.parse.quote(job_id, safe=''), query=query)
    except (HTTPError, ConnError) as e:
        return _err('Error deregistering job: %s' % e)
    if not resp.get('EvalID'):
        return 0
    return _monitor(c, resp['EvalID'], opts.get('detach'))


def cmd_namespace_list(args):
    opts, _rest = parse_flags(args, bool_flags=('json',))
    c = Conn(opts)
    try:
        nss, _unused = c.call('GET', '/v1/namespaces')
    except (HTTPError, ConnError) as e:
        return _err('Error retrieving namespaces: %s' % e)
    if not nss:
        out('No namespaces found')
        return 0
    table([['Name', 'Description']] + [[n['Name'], n['Description']] for n in nss])
    return 0


def cmd_namespace_apply(args):
    opts, rest = parse_flags(args, value_flags=('description', 'quota'))
    if len(rest) != 1:
        return _err('This command takes one argument: <namespace>')
    c = Conn(opts)
    body = {'Name': rest[0], 'Description': opts.get('description', '')}
    try:
        c.call('POST', '/v1/namespace', body)
    except (HTTPError, ConnError) as e:
        return _err('Error applying namespace specification: %s' % e)
    out('Successfully applied namespace "%s"!' % rest[0])
    return 0


def cmd_namespace_status(args):
    opts, rest = parse_flags(args, bool_flags=('json',))
    if len(rest) != 1:
        return _err('This command takes one argument: <namespace>')
    c = Conn(opts)
    try:
        ns, _unused = c.call('GET', '/v1/namespace/%s' % urllib.parse.quote(rest[0], safe=''))
    except (HTTPError, ConnError) as e:
        return _err('Error looking up namespace: %s' % e)
    for k, val in (('Name', ns['Name']), ('Description', ns['Description']), ('Quota', ns['Quota'] or '<none>')):
        out('%s = %s' % (k.ljust(11), val))
    return 0


def cmd_namespace_delete(args):
    opts, rest = parse_flags(args)
    if len(rest) != 1:
        return _err('This command takes one argument: <namespace>')
    c = Conn(opts)
    try:
        c.call('DELETE', '/v1/namespace/%s' % urllib.parse.quote(rest[0], safe=''))
    except (HTTPError, ConnError) as e:
        return _err('Error deleting namespace: %s' % e)
    out('Successfully deleted namespace "%s"!' % rest[0])
    return 0


COMMANDS = {
    ('version',): cmd_version,
    ('agent',): cmd_agent,
    ('server', 'members'): cmd_server_members,
    ('server-members',): cmd_server_members,
    ('node', 'status'): cmd_node_status,
    ('node-status',): cmd_node_status,
    ('job', 'status'): cmd_job_status,
    ('status',): cmd_job_status,
    ('job', 'plan'): cmd_job_plan,
    ('plan',): cmd_job_plan,
    ('job', 'run'): cmd_job_run,
    ('run',): cmd_job_run,
    ('job', 'stop'): cmd_job_stop,
    ('stop',): cmd_job_stop,
    ('acl', 'bootstrap'): cmd_acl_bootstrap,
    ('acl', 'token', 'self'): cmd_acl_token_self,
    ('operator', 'keygen'): cmd_operator_keygen,
}


if tuple(int(x) for x in re.findall(r'\d+', VERSION)[:2]) >= (1, 3):
    COMMANDS[('config', 'validate')] = cmd_config_validate

if IS_1X:
    COMMANDS.update({('namespace', 'list'): cmd_namespace_list, ('namespace', 'apply'): cmd_namespace_apply,
                     ('namespace', 'status'): cmd_namespace_status, ('namespace', 'delete'): cmd_namespace_delete})


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ('-version', '--version', '-v'):
        return cmd_version([])
    for n in (3, 2, 1):
        key = tuple(argv[:n])
        if key in COMMANDS:
            try:
                return COMMANDS[key](argv[n:])
            except SystemExit as e:
                return e.code if isinstance(e.code, int) else 1
    sys.stderr.write(USAGE)
    return 127 if argv else 1
