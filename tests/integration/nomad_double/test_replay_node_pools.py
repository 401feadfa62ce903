# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay the node pool exchanges recorded from a real Nomad 1.6.5
(tests/recordings/nomad-1.6.5/node_pools/, tests/real/record_node_pools.py)
against the double's 1.6 personality, in order, on an agent set up as the
recorded one was (one server and client, its client in the pool ``edge``).

Compared: the status, the Content-Type, whether X-Nomad-Index is there, and
the body, with raft indexes and the node's ID left out (they depend on the
order of the double's own writes). Bodies the recording cut down are cut the
same way. With NOMAD_TEST_BINARY naming a real 1.6 the same replay checks
the recordings themselves.
"""

import glob
import json
import os

import pytest

from double_harness import ROOT, Agent, free_ports, http, wait_until

RECORDINGS = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'node_pools')
ENV = {'NOMAD_DOUBLE_VERSION': '1.6.5'}
INDEXES = ('CreateIndex', 'ModifyIndex')


def recordings():
    out = []
    for path in sorted(glob.glob(os.path.join(RECORDINGS, '*.json'))):
        with open(path) as f:
            out.append((os.path.basename(path), json.load(f)))
    return out


def config(agent):
    return '\n'.join([
        'name = "rec1"', 'data_dir = "%s"' % agent.data_dir, 'bind_addr = "127.0.0.1"',
        'disable_update_check = true',
        'ports {\n  http = %d\n  rpc = %d\n  serf = %d\n}' % (agent.http, agent.rpc, agent.serf),
        'advertise {\n  http = "127.0.0.1"\n  rpc = "127.0.0.1"\n  serf = "127.0.0.1"\n}',
        'server {\n  enabled = true\n  bootstrap_expect = 1\n}',
        'client {\n  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"\n'
        '  node_pool = "edge"\n}' % agent.rpc,
    ]) + '\n'


def normalized(body, node_ids):
    if isinstance(body, list):
        return [normalized(b, node_ids) for b in body]
    if isinstance(body, dict):
        return dict((k, '<index>' if k in INDEXES else normalized(v, node_ids)) for k, v in body.items())
    if isinstance(body, str) and body in node_ids:
        return '<node>'
    return body


def cut(body, recorded):
    """What record_node_pools.py kept of the same answer."""
    if isinstance(recorded, list):
        return [cut(b, recorded[0]) for b in body] if recorded else body
    if isinstance(recorded, dict) and isinstance(body, dict):
        return dict((k, cut(body.get(k), v)) for k, v in recorded.items())
    return body


@pytest.fixture
def agent(tmp_path):
    a = Agent('rec1', str(tmp_path), free_ports(3))
    a.write(config(a))
    a.start(env=ENV)
    try:
        def ready():
            status, dummy, nodes = a.get('/v1/nodes')
            return status == 200 and [n for n in nodes if n['Status'] == 'ready']
        yield a, wait_until(ready, timeout=60, what='a ready node')[0]['ID']
    finally:
        a.stop()


def test_the_double_answers_as_1_6_5_did(agent):
    agent, node_id = agent
    exchanges = recordings()
    assert len(exchanges) >= 30, 'recordings missing in %s' % RECORDINGS
    recorded_node = next(ex for name, ex in exchanges if name.endswith('-nodes.json'))['response']['body'][0]['ID']
    node_ids = {recorded_node, node_id}
    mismatches = []
    for name, ex in exchanges:
        req, want = ex['request'], ex['response']
        path = req['path'].replace(recorded_node, node_id)
        body = None if req['body'] is None else json.dumps(req['body'])
        status, headers, got = http(req['method'], agent.addr + path, body=body)
        if 'trimmed' in ex and status < 300:
            got = cut(got, want['body'])
        if got == '' and want['body'] == '':
            got = want['body']
        checks = [('status', status, want['status']),
                  ('Content-Type', headers.get('Content-Type'), want['headers'].get('Content-Type')),
                  ('X-Nomad-Index', 'X-Nomad-Index' in headers, 'X-Nomad-Index' in want['headers']),
                  ('body', normalized(got, node_ids), normalized(want['body'], node_ids))]
        if name.endswith('-agent-self.json'):
            checks = checks[:3] + [('version', got['config']['Version']['Version'], '1.6.5')]
        for what, have, expected in checks:
            if have != expected:
                mismatches.append('%s (%s %s) %s: %r, recorded %r' % (name, req['method'], path, what, have, expected))
    assert not mismatches, '\n'.join(mismatches)
