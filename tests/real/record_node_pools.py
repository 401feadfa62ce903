# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record what a real Nomad (1.6 or newer) answers on its node pool API.

    python3 tests/real/record_node_pools.py BINARY [--out DIR]

Starts ``BINARY agent -dev`` on 127.0.0.1 only (free ports, its client in a
pool named by its own config), walks the node pool endpoints, the node
list and one node, writes one JSON file per exchange into DIR (default
tests/recordings/nomad-1.6.5/node_pools/) and stops the agent.

Each file holds ``{"title", "request": {"method", "path", "query", "body"},
"response": {"status", "headers", "body"}}`` (the transcript format of
tests/unit/nomad_replay.py). Answers that describe the machine (the agent's
config, a node's attributes and resources) are cut down to the fields the
collection reads; such a file says so in ``"trimmed"``. Date headers are
dropped.
"""

import argparse
import json
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.real.dev_agent import DevAgent, call  # noqa: E402  (needs ROOT on the path)

DEFAULT_OUT = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'node_pools')
CLIENT_POOL = 'edge'
NODE_FIELDS = ('ID', 'Name', 'Datacenter', 'NodeClass', 'NodePool', 'Status', 'SchedulingEligibility',
               'CreateIndex', 'ModifyIndex')

CONFIG = '''name = "rec1"
client {
  node_pool = "%s"
}
''' % CLIENT_POOL


class Recorder(object):
    def __init__(self, address, out):
        self.address = address
        self.out = out
        self.count = 0

    def record(self, name, method, path, body=None, trim=None):
        status, headers, payload = call(self.address, method, path, body)
        entry = {'title': '%s %s' % (method, path),
                 'request': {'method': method, 'path': path.split('?', 1)[0],
                             'query': dict(q.split('=', 1) for q in path.split('?', 1)[1].split('&'))
                             if '?' in path else {}, 'body': body},
                 'response': {'status': status, 'headers': headers, 'body': payload}}
        if trim is not None and status < 300:
            entry['response']['body'], entry['trimmed'] = trim(payload)
            entry['response']['headers'].pop('Content-Length', None)
        self.count += 1
        with open(os.path.join(self.out, '%02d-%s.json' % (self.count, name)), 'w') as f:
            json.dump(entry, f, indent=2, sort_keys=True)
            f.write('\n')
        return status, payload


def trim_self(body):
    return ({'config': {'Version': body['config']['Version']}},
            "only config.Version is kept: the rest describes the recording machine")


def trim_node(body):
    return (dict((k, body.get(k)) for k in NODE_FIELDS),
            'only %s are kept: the rest describes the recording machine' % ', '.join(NODE_FIELDS))


def trim_nodes(body):
    return ([dict((k, n.get(k)) for k in NODE_FIELDS) for n in body],
            'each node is cut down to %s: the rest describes the recording machine' % ', '.join(NODE_FIELDS))


def ready_nodes(address):
    """The node list once the agent's own client is a ready node."""
    dummy, dummy, nodes = call(address, 'GET', '/v1/nodes')
    if isinstance(nodes, list) and any(n.get('Status') == 'ready' for n in nodes):
        return nodes
    return None


def walk(rec, nodes):
    rec.record('agent-self', 'GET', '/v1/agent/self', trim=trim_self)
    rec.record('pools-list', 'GET', '/v1/node/pools')
    rec.record('pool-get-default', 'GET', '/v1/node/pool/default')
    rec.record('pool-get-all', 'GET', '/v1/node/pool/all')
    rec.record('pool-get-missing', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-create', 'PUT', '/v1/node/pools',
               {'Name': 'gpu', 'Description': 'Hosts with a GPU', 'Meta': {'team': 'ml'}})
    rec.record('pool-get', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-update', 'PUT', '/v1/node/pools',
               {'Name': 'gpu', 'Description': 'Hosts with two GPUs', 'Meta': {'team': 'ml', 'tier': '2'}})
    rec.record('pool-get-updated', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-upsert-same', 'POST', '/v1/node/pools',
               {'Name': 'gpu', 'Description': 'Hosts with two GPUs', 'Meta': {'team': 'ml', 'tier': '2'}})
    rec.record('pool-get-same', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-upsert-by-path', 'PUT', '/v1/node/pool/gpu',
               {'Name': 'gpu', 'Description': 'Hosts with two GPUs', 'Meta': None})
    rec.record('pool-get-no-meta', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-upsert-path-mismatch', 'PUT', '/v1/node/pool/gpu', {'Name': 'other'})
    rec.record('pool-upsert-invalid-name', 'PUT', '/v1/node/pools', {'Name': 'bad name!'})
    rec.record('pool-upsert-long-description', 'PUT', '/v1/node/pools', {'Name': 'gpu', 'Description': 'x' * 257})
    rec.record('pool-upsert-long-description-bytes', 'PUT', '/v1/node/pools',
               {'Name': 'gpu', 'Description': '\u00e9' * 129})
    rec.record('pool-upsert-meta-number', 'PUT', '/v1/node/pools', {'Name': 'gpu', 'Meta': {'n': 3}})
    rec.record('pool-upsert-meta-bool', 'PUT', '/v1/node/pools', {'Name': 'gpu', 'Meta': {'b': True}})
    rec.record('pool-upsert-empty-body', 'PUT', '/v1/node/pools')
    rec.record('pool-upsert-array', 'PUT', '/v1/node/pools', [])
    rec.record('pool-modify-default', 'PUT', '/v1/node/pools', {'Name': 'default', 'Description': 'Mine'})
    rec.record('pool-modify-default-unchanged', 'PUT', '/v1/node/pools',
               {'Name': 'default', 'Description': 'Default node pool.'})
    rec.record('pool-modify-all', 'PUT', '/v1/node/pools', {'Name': 'all', 'Description': 'Mine'})
    rec.record('pool-delete-default', 'DELETE', '/v1/node/pool/default')
    rec.record('pool-delete-all', 'DELETE', '/v1/node/pool/all')
    rec.record('pools-list-more', 'GET', '/v1/node/pools')
    rec.record('pool-delete', 'DELETE', '/v1/node/pool/gpu')
    rec.record('pool-get-after-delete', 'GET', '/v1/node/pool/gpu')
    rec.record('pool-delete-missing', 'DELETE', '/v1/node/pool/gpu')
    rec.record('nodes', 'GET', '/v1/nodes', trim=trim_nodes)
    rec.record('node', 'GET', '/v1/node/%s' % nodes[0]['ID'], trim=trim_node)
    rec.record('pool-get-client-pool', 'GET', '/v1/node/pool/%s' % CLIENT_POOL)
    rec.record('pool-delete-with-nodes', 'DELETE', '/v1/node/pool/%s' % CLIENT_POOL)
    rec.record('pool-nodes', 'GET', '/v1/node/pool/%s/nodes' % CLIENT_POOL, trim=trim_nodes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('binary', help='a Nomad 1.6 (or newer) binary')
    parser.add_argument('--out', default=DEFAULT_OUT, help='directory for the JSON files (emptied first)')
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    with DevAgent(binary, CONFIG) as agent:
        nodes = agent.wait_until(lambda: ready_nodes(agent.address), 'register its client as a ready node')
        if os.path.isdir(args.out):
            shutil.rmtree(args.out)
        os.makedirs(args.out)
        rec = Recorder(agent.address, args.out)
        walk(rec, nodes)
        print('%d exchanges written to %s' % (rec.count, args.out))


if __name__ == '__main__':
    main()
