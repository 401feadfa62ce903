# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record how a real Nomad agent (1.6 or newer) parses the job files the tests
send it, and how it keeps a job's submission, for the test double's 1.6
personality to replay.

    python tests/real/record_jobs_parse.py NOMAD_BINARY

It starts ``nomad agent -dev`` on 127.0.0.1 (ports below the ephemeral
range), sends every case of CASES to ``/v1/jobs/parse`` the way nomad_job
does (the file's text, the variables' values as a JSON var file), registers
one job with a Submission and reads it back, then stops the agent. The
exchanges go to ``tests/recordings/nomad-<version>/jobs_parse.json`` and
``submission.json``; what a server on raft protocol 3 says of itself and of
autopilot's view of it (the readiness gate's reads) to ``raft.json``.
"""

import json
import os
import sys
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.real.dev_agent import DevAgent  # noqa: E402  pylint: disable=wrong-import-position

# (job file, variables): each file with the values the tests give it.
CASES = (
    ('tests/integration/files/sleeper-16.nomad', {}),
    ('tests/integration/files/sleeper-16.nomad', {'count': 3}),
    ('tests/integration/files/sleeper-16.nomad', {'count': 1}),
    ('tests/integration/files/sleeper-16-typo.nomad', {}),
    ('tests/integration/files/sleeper-hcl2.nomad', {}),
    ('tests/integration/files/sleeper-hcl2.nomad', {'count': 3}),
    ('examples/httpecho-16.nomad', {}),
    ('examples/httpecho-16.nomad', {'count': 3}),
    # molecule/nomad16: the job in the scenario's pool, with the scenario's text.
    ('examples/httpecho-16.nomad', {'count': 3, 'pool': 'web', 'text': 'hello from 1.6'}),
    ('examples/httpecho-1x.nomad', {}),
    ('examples/httpecho-1x.nomad', {'count': 3}),
)


def variables_text(values):
    # The same text nomad_job sends: a JSON var file, keys sorted.
    return json.dumps(values, sort_keys=True) if values else ''


def call(address, method, path, body=None):
    data = json.dumps(body).encode('utf-8') if body is not None else None
    req = urllib.request.Request(address + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode('utf-8')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode('utf-8')


def gate_view(body):
    """What the readiness gate reads of /v1/agent/self; the rest (paths,
    addresses, the host's hardware) describes the recording machine."""
    return dict(config=dict(Version=body['config']['Version']), member=body.get('member'),
                stats=dict(raft=(body.get('stats') or {}).get('raft')))


def as_body(status, text):
    if status == 200:
        return json.loads(text)
    return text


def record(binary):
    with DevAgent(binary) as agent:
        address = agent.address
        version = json.loads(call(address, 'GET', '/v1/agent/self')[1])['config']['Version']['Version']
        parses = []
        for path, values in CASES:
            with open(os.path.join(ROOT, path)) as f:
                text = f.read()
            request = dict(JobHCL=text, Canonicalize=False)
            if values:
                request['Variables'] = variables_text(values)
            status, body = call(address, 'POST', '/v1/jobs/parse', request)
            parses.append(dict(file=path, request=request, status=status, body=as_body(status, body)))

        path, values = CASES[1]
        job = parses[1]['body']
        with open(os.path.join(ROOT, path)) as f:
            source = f.read()
        submission = dict(Source=source, Format='hcl2', VariableFlags={'count': '3'}, Variables='')
        status, register = call(address, 'POST', '/v1/jobs', dict(Job=job, Submission=submission))
        exchanges = [dict(request=dict(method='POST', path='/v1/jobs', body=dict(Job=job, Submission=submission)),
                          status=status, body=as_body(status, register))]
        raft = []
        for path in ('/v1/agent/self', '/v1/agent/members', '/v1/operator/raft/configuration',
                     '/v1/operator/autopilot/health'):
            status, body = call(address, 'GET', path)
            body = as_body(status, body)
            if path == '/v1/agent/self' and status == 200:
                body = gate_view(body)
            raft.append(dict(request=dict(method='GET', path=path), status=status, body=body))
        for query in ('?version=0', '?version=9'):
            status, body = call(address, 'GET', '/v1/job/%s/submission%s' % (job['ID'], query))
            exchanges.append(dict(request=dict(method='GET', path='/v1/job/%s/submission%s' % (job['ID'], query)),
                                  status=status, body=as_body(status, body)))

    out = os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % version)
    os.makedirs(out, exist_ok=True)
    for name, data in (('jobs_parse.json', parses), ('submission.json', exchanges), ('raft.json', raft)):
        with open(os.path.join(out, name), 'w') as f:
            json.dump(dict(nomad_version=version, exchanges=data), f, indent=1, sort_keys=True)
            f.write('\n')
    print('recorded %d parses, %d submission and %d raft exchanges from Nomad %s into %s'
          % (len(parses), len(exchanges), len(raft), version, os.path.relpath(out, ROOT)))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    record(sys.argv[1])
