# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record what a real Nomad answers on its ACL policy, token, role and
variable API, with ACLs enabled.

    python3 tests/real/record_acl.py BINARY [--out DIR]

Starts ``BINARY agent -dev`` on 127.0.0.1 only (free ports, ``acl { enabled
= true }``), bootstraps it (on 1.4 and newer with a BootstrapSecret of its
own), walks the policy and token endpoints, a client token's rights on jobs
(submit in namespace ``web`` and refused in ``default`` from 1.0; read only,
and a refused submit, on 0.9), and from 1.4 the role and variable endpoints.
Writes one JSON file per exchange into DIR (default
tests/recordings/nomad-VERSION/acl/) and stops the agent.

Each file holds ``{"title", "request": {"method", "path", "query", "body",
"token"}, "response": {"status", "headers", "body"}}``, the transcript format
of tests/unit/nomad_replay.py; ``token`` names which token the request
carried (``management``, ``client``, ``none``...), never its secret. Secrets
and accessor IDs in bodies are replaced by such names too (``<secret:client>``),
so that a replay can tell them apart and nothing looks like a live credential.
Date headers are dropped; the agent's self-report is cut down to its version.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.real.dev_agent import DevAgent, call  # noqa: E402  (needs ROOT on the path)

# A fixed, made-up secret: what the operator would supply from a vault.
BOOTSTRAP_SECRET = '2b778dd9-f5f1-6f29-b4b4-9a5fa948757a'

CONFIG = '''name = "rec1"
acl {
  enabled = true
}
'''

WEB_SUBMIT = '''namespace "web" {
  capabilities = ["submit-job", "read-job", "list-jobs"]
}
'''
READ_ONLY = '''namespace "default" {
  capabilities = ["read-job", "list-jobs"]
}
'''
BAD_CAPABILITY = '''namespace "web" {
  capabilities = ["submit-jobs"]
}
'''
NO_LABEL = '''namespace {
  policy = "read"
}
'''
BAD_POLICY = '''namespace "web" {
  policy = "rw"
}
'''
BAD_SYNTAX = '''namespace "web" {
  policy = "read"
'''
NODE_READ = '''node {
  policy = "read"
}
'''


def job(namespace):
    return {'Job': {'ID': 'acl-probe', 'Name': 'acl-probe', 'Type': 'batch', 'Namespace': namespace,
                    'Datacenters': ['dc1'],
                    'TaskGroups': [{'Name': 'g', 'Count': 1, 'Tasks': [
                        {'Name': 't', 'Driver': 'raw_exec', 'Config': {'command': '/bin/true'},
                         'Resources': {'CPU': 20, 'MemoryMB': 16}}]}]}}


class Recorder(object):
    def __init__(self, address, out):
        self.address = address
        self.out = out
        self.count = 0
        self.tokens = {'none': None}   # label -> secret
        self.names = {}                # secret or accessor -> placeholder

    def learn(self, label, token):
        """Remember a token the agent made, so that its secret and accessor
        are written as names."""
        self.tokens[label] = token['SecretID']
        self.names[token['SecretID']] = '<secret:%s>' % label
        self.names[token['AccessorID']] = '<accessor:%s>' % label

    def scrub(self, value):
        if isinstance(value, dict):
            return dict((k, self.scrub(v)) for k, v in value.items())
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, str):
            for real, name in self.names.items():
                value = value.replace(real, name)
        return value

    def record(self, name, method, path, body=None, token='management', trim=None):
        status, headers, payload = call(self.address, method, path, body, self.tokens.get(token))
        if isinstance(payload, dict) and payload.get('SecretID') and payload['SecretID'] not in self.names:
            # A token this step made that the walk does not use again: named after the step.
            self.learn(name, payload)
        raw_payload = payload
        shown = payload
        if trim is not None and status < 300:
            shown, note = trim(payload)
        # Names are put in at flush, once the caller has named what this step made.
        entry = {'title': '%s %s' % (method, path),
                 'request': {'method': method, 'path': path.split('?', 1)[0],
                             'query': dict(urllib.parse.parse_qsl(path.split('?', 1)[1])) if '?' in path else {},
                             'body': body, 'token': token},
                 'response': {'status': status, 'headers': headers, 'body': shown}}
        if trim is not None and status < 300:
            entry['trimmed'] = note
            entry['response']['headers'].pop('Content-Length', None)
        self.count += 1
        self.pending = (entry, '%03d-%s.json' % (self.count, name))
        return status, raw_payload

    def flush(self):
        entry, name = self.pending
        entry = self.scrub(entry)
        with open(os.path.join(self.out, name), 'w') as f:
            json.dump(entry, f, indent=2, sort_keys=True)
            f.write('\n')

    def __call__(self, *args, **kwargs):
        status, payload = self.record(*args, **kwargs)
        self.flush()
        return status, payload


def trim_self(body):
    return ({'config': {'Version': body['config']['Version']}},
            'only config.Version is kept: the rest describes the recording machine')


def walk(rec, version):
    v14 = version >= (1, 4)
    v10 = version >= (1, 0)

    # -- bootstrap -------------------------------------------------------
    if v14:
        rec('bootstrap-bad-secret', 'POST', '/v1/acl/bootstrap', {'BootstrapSecret': 'not-a-uuid'}, token='none')
        status, boot = rec.record('bootstrap-with-secret', 'POST', '/v1/acl/bootstrap',
                                  {'BootstrapSecret': BOOTSTRAP_SECRET}, token='none')
    else:
        status, boot = rec.record('bootstrap', 'POST', '/v1/acl/bootstrap', token='none')
    rec.learn('management', boot)
    rec.flush()
    rec('bootstrap-again', 'POST', '/v1/acl/bootstrap', token='none')
    rec('agent-self', 'GET', '/v1/agent/self', trim=trim_self)

    # -- policies ----------------------------------------------------------
    rec('policies-empty', 'GET', '/v1/acl/policies')
    rec('policy-get-missing', 'GET', '/v1/acl/policy/web-submit')
    rec('policy-create-no-token', 'POST', '/v1/acl/policy/web-submit',
        {'Name': 'web-submit', 'Rules': WEB_SUBMIT}, token='none')
    rec('policy-create', 'POST', '/v1/acl/policy/web-submit',
        {'Name': 'web-submit', 'Description': 'Submit jobs in web', 'Rules': WEB_SUBMIT})
    rec('policy-get', 'GET', '/v1/acl/policy/web-submit')
    rec('policy-write-same', 'POST', '/v1/acl/policy/web-submit',
        {'Name': 'web-submit', 'Description': 'Submit jobs in web', 'Rules': WEB_SUBMIT})
    rec('policy-get-after-same', 'GET', '/v1/acl/policy/web-submit')
    rec('policy-create-read-only', 'POST', '/v1/acl/policy/read-only',
        {'Name': 'read-only', 'Description': '', 'Rules': READ_ONLY})
    rec('policy-create-node-read', 'PUT', '/v1/acl/policy/node-read', {'Name': 'node-read', 'Rules': NODE_READ})
    rec('policy-create-bad-capability', 'POST', '/v1/acl/policy/bad', {'Name': 'bad', 'Rules': BAD_CAPABILITY})
    rec('policy-create-no-label', 'POST', '/v1/acl/policy/bad', {'Name': 'bad', 'Rules': NO_LABEL})
    rec('policy-create-bad-policy', 'POST', '/v1/acl/policy/bad', {'Name': 'bad', 'Rules': BAD_POLICY})
    rec('policy-create-bad-syntax', 'POST', '/v1/acl/policy/bad', {'Name': 'bad', 'Rules': BAD_SYNTAX})
    rec('policy-create-empty-rules', 'POST', '/v1/acl/policy/bad', {'Name': 'bad', 'Rules': ''})
    rec('policy-create-name-mismatch', 'POST', '/v1/acl/policy/bad', {'Name': 'other', 'Rules': NODE_READ})
    rec('policy-create-bad-name', 'POST', '/v1/acl/policy/bad%20name', {'Name': 'bad name', 'Rules': NODE_READ})
    rec('policy-create-long-description', 'POST', '/v1/acl/policy/bad',
        {'Name': 'bad', 'Description': 'x' * 257, 'Rules': NODE_READ})
    rec('policies', 'GET', '/v1/acl/policies')
    rec('policy-delete', 'DELETE', '/v1/acl/policy/node-read')
    rec('policy-get-deleted', 'GET', '/v1/acl/policy/node-read')
    rec('policy-delete-missing', 'DELETE', '/v1/acl/policy/node-read')

    # -- tokens ------------------------------------------------------------
    policy = 'web-submit' if v10 else 'read-only'
    rec('token-create-no-policy', 'POST', '/v1/acl/token', {'Name': 'ci', 'Type': 'client'})
    rec('token-create-unknown-policy', 'POST', '/v1/acl/token',
        {'Name': 'ci', 'Type': 'client', 'Policies': ['nope']})
    rec('token-create-management-with-policy', 'POST', '/v1/acl/token',
        {'Name': 'ops', 'Type': 'management', 'Policies': [policy]})
    rec('token-create-bad-type', 'POST', '/v1/acl/token', {'Name': 'ci', 'Type': 'admin', 'Policies': [policy]})
    status, tok = rec.record('token-create', 'POST', '/v1/acl/token',
                             {'Name': 'ci', 'Type': 'client', 'Policies': [policy], 'Global': False})
    rec.learn('client', tok)
    rec.flush()
    accessor = tok['AccessorID']
    rec('token-get', 'GET', '/v1/acl/token/%s' % accessor)
    rec('token-get-by-client', 'GET', '/v1/acl/token/%s' % accessor, token='client')
    rec('token-self-client', 'GET', '/v1/acl/token/self', token='client')
    rec('token-update-policies', 'POST', '/v1/acl/token/%s' % accessor,
        {'AccessorID': accessor, 'Name': 'ci', 'Type': 'client', 'Policies': [policy, 'read-only']})
    rec('token-get-updated', 'GET', '/v1/acl/token/%s' % accessor)
    rec('token-update-same', 'POST', '/v1/acl/token/%s' % accessor,
        {'AccessorID': accessor, 'Name': 'ci', 'Type': 'client', 'Policies': [policy, 'read-only']})
    rec('token-update-global', 'POST', '/v1/acl/token/%s' % accessor,
        {'AccessorID': accessor, 'Name': 'ci', 'Type': 'client', 'Policies': [policy], 'Global': True})
    rec('token-update-type', 'POST', '/v1/acl/token/%s' % accessor,
        {'AccessorID': accessor, 'Name': 'ci', 'Type': 'management'})
    rec('token-update-back', 'POST', '/v1/acl/token/%s' % accessor,
        {'AccessorID': accessor, 'Name': 'ci', 'Type': 'client', 'Policies': [policy]})
    rec('token-update-missing', 'POST', '/v1/acl/token/00000000-0000-0000-0000-000000000000',
        {'AccessorID': '00000000-0000-0000-0000-000000000000', 'Name': 'x', 'Type': 'client',
         'Policies': [policy]})
    rec('token-get-missing', 'GET', '/v1/acl/token/00000000-0000-0000-0000-000000000000')
    rec('token-get-not-uuid', 'GET', '/v1/acl/token/ci')
    status, same_name = rec.record('token-create-same-name', 'POST', '/v1/acl/token',
                                   {'Name': 'ci', 'Type': 'client', 'Policies': [policy]})
    rec.learn('client2', same_name)
    rec.flush()
    rec('tokens', 'GET', '/v1/acl/tokens')
    rec('tokens-by-client', 'GET', '/v1/acl/tokens', token='client')
    rec('token-delete-second', 'DELETE', '/v1/acl/token/%s' % same_name['AccessorID'])
    rec('token-self-deleted', 'GET', '/v1/acl/token/self', token='client2')

    # -- what the client token may do --------------------------------------
    if v10:
        rec('namespace-web', 'POST', '/v1/namespace/web', {'Name': 'web', 'Description': 'Web jobs'})
        rec('job-submit-web', 'POST', '/v1/jobs?namespace=web', job('web'), token='client')
        rec('job-submit-default', 'POST', '/v1/jobs', job('default'), token='client')
        rec('job-submit-default-explicit', 'POST', '/v1/jobs?namespace=default', job('default'), token='client')
        rec('jobs-web', 'GET', '/v1/jobs?namespace=web', token='client')
        rec('jobs-default', 'GET', '/v1/jobs', token='client')
        rec('job-submit-anonymous', 'POST', '/v1/jobs?namespace=web', job('web'), token='none')
        rec('job-stop-web', 'DELETE', '/v1/job/acl-probe?namespace=web&purge=true', token='client')
    else:
        rec('job-submit-management', 'POST', '/v1/jobs', job('default'))
        rec('jobs-read-only', 'GET', '/v1/jobs', token='client')
        rec('job-get-read-only', 'GET', '/v1/job/acl-probe', token='client')
        rec('job-submit-read-only', 'POST', '/v1/jobs', job('default'), token='client')
        rec('job-stop-read-only', 'DELETE', '/v1/job/acl-probe', token='client')
        rec('job-stop-management', 'DELETE', '/v1/job/acl-probe?purge=true')
    rec('jobs-anonymous', 'GET', '/v1/jobs', token='none')
    rec('policy-create-anonymous', 'POST', '/v1/acl/policy/anonymous',
        {'Name': 'anonymous', 'Description': 'Anonymous', 'Rules': READ_ONLY})
    rec('jobs-anonymous-with-policy', 'GET', '/v1/jobs', token='none')
    rec('policy-delete-anonymous', 'DELETE', '/v1/acl/policy/anonymous')

    if v14:
        walk_roles(rec, accessor)
        walk_variables(rec)

    rec('token-delete', 'DELETE', '/v1/acl/token/%s' % accessor)
    rec('token-get-deleted', 'GET', '/v1/acl/token/%s' % accessor)
    rec('token-delete-missing', 'DELETE', '/v1/acl/token/%s' % accessor)


def walk_roles(rec, accessor):
    rec('roles-empty', 'GET', '/v1/acl/roles')
    rec('role-get-by-name-missing', 'GET', '/v1/acl/role/name/deployers')
    rec('role-create-unknown-policy', 'POST', '/v1/acl/role',
        {'Name': 'deployers', 'Policies': [{'Name': 'nope'}]})
    rec('role-create-no-policy', 'POST', '/v1/acl/role', {'Name': 'deployers'})
    rec('role-create-bad-name', 'POST', '/v1/acl/role', {'Name': 'bad name', 'Policies': [{'Name': 'web-submit'}]})
    status, role = rec('role-create', 'POST', '/v1/acl/role',
                       {'Name': 'deployers', 'Description': 'Deploy web', 'Policies': [{'Name': 'web-submit'}]})
    role_id = role['ID']
    rec('role-create-duplicate', 'POST', '/v1/acl/role', {'Name': 'deployers', 'Policies': [{'Name': 'web-submit'}]})
    rec('role-get-by-name', 'GET', '/v1/acl/role/name/deployers')
    rec('role-get', 'GET', '/v1/acl/role/%s' % role_id)
    rec('role-update', 'POST', '/v1/acl/role/%s' % role_id,
        {'ID': role_id, 'Name': 'deployers', 'Description': 'Deploy and read',
         'Policies': [{'Name': 'web-submit'}, {'Name': 'read-only'}]})
    rec('role-update-same', 'POST', '/v1/acl/role/%s' % role_id,
        {'ID': role_id, 'Name': 'deployers', 'Description': 'Deploy and read',
         'Policies': [{'Name': 'web-submit'}, {'Name': 'read-only'}]})
    rec('role-update-no-id', 'POST', '/v1/acl/role/%s' % role_id,
        {'Name': 'deployers', 'Policies': [{'Name': 'web-submit'}]})
    rec('roles', 'GET', '/v1/acl/roles')
    status, tok = rec.record('token-create-with-role', 'POST', '/v1/acl/token',
                             {'Name': 'deployer', 'Type': 'client', 'Roles': [{'Name': 'deployers'}],
                              'ExpirationTTL': '1h'})
    rec.learn('role-token', tok)
    rec.flush()
    rec('token-get-with-role', 'GET', '/v1/acl/token/%s' % tok['AccessorID'])
    rec('token-update-roles', 'POST', '/v1/acl/token/%s' % tok['AccessorID'],
        {'AccessorID': tok['AccessorID'], 'Name': 'deployer', 'Type': 'client',
         'Roles': [{'ID': role_id}], 'Policies': ['read-only'], 'ExpirationTTL': '1h'})
    rec('token-update-expiration', 'POST', '/v1/acl/token/%s' % tok['AccessorID'],
        {'AccessorID': tok['AccessorID'], 'Name': 'deployer', 'Type': 'client',
         'Roles': [{'ID': role_id}], 'ExpirationTTL': '2h'})
    rec('token-create-unknown-role', 'POST', '/v1/acl/token',
        {'Name': 'x', 'Type': 'client', 'Roles': [{'Name': 'nope'}]})
    rec('token-create-short-ttl', 'POST', '/v1/acl/token',
        {'Name': 'x', 'Type': 'client', 'Policies': ['read-only'], 'ExpirationTTL': '1s'})
    rec('job-submit-web-role', 'POST', '/v1/jobs?namespace=web', job('web'), token='role-token')
    rec('job-stop-web-role', 'DELETE', '/v1/job/acl-probe?namespace=web&purge=true', token='role-token')
    rec('role-delete-in-use-policy', 'DELETE', '/v1/acl/policy/read-only')
    rec('role-get-after-policy-delete', 'GET', '/v1/acl/role/%s' % role_id)
    rec('token-delete-role-token', 'DELETE', '/v1/acl/token/%s' % tok['AccessorID'])
    rec('role-delete', 'DELETE', '/v1/acl/role/%s' % role_id)
    rec('role-get-deleted', 'GET', '/v1/acl/role/%s' % role_id)
    rec('role-delete-missing', 'DELETE', '/v1/acl/role/%s' % role_id)
    rec('policy-recreate-read-only', 'POST', '/v1/acl/policy/read-only',
        {'Name': 'read-only', 'Description': '', 'Rules': READ_ONLY})


def walk_variables(rec):
    path = 'nomad/jobs/httpecho'
    rec('var-get-missing', 'GET', '/v1/var/%s' % path)
    rec('var-create-no-token', 'PUT', '/v1/var/%s?cas=0' % path,
        {'Path': path, 'Items': {'greeting': 'hello'}}, token='none')
    status, created = rec('var-create', 'PUT', '/v1/var/%s?cas=0' % path,
                          {'Namespace': 'default', 'Path': path, 'Items': {'greeting': 'hello', 'port': '8080'}})
    rec('var-create-again-cas0', 'PUT', '/v1/var/%s?cas=0' % path,
        {'Namespace': 'default', 'Path': path, 'Items': {'greeting': 'hi'}})
    status, got = rec('var-get', 'GET', '/v1/var/%s' % path)
    index = got['ModifyIndex']
    rec('var-update-stale', 'PUT', '/v1/var/%s?cas=%d' % (path, index - 1),
        {'Namespace': 'default', 'Path': path, 'Items': {'greeting': 'hi'}})
    rec('var-update', 'PUT', '/v1/var/%s?cas=%d' % (path, index),
        {'Namespace': 'default', 'Path': path, 'Items': {'greeting': 'hi', 'port': '8080'}})
    status, got = rec('var-get-updated', 'GET', '/v1/var/%s' % path)
    rec('var-update-same', 'PUT', '/v1/var/%s?cas=%d' % (path, got['ModifyIndex']),
        {'Namespace': 'default', 'Path': path, 'Items': {'greeting': 'hi', 'port': '8080'}})
    rec('var-get-after-same', 'GET', '/v1/var/%s' % path)
    rec('var-no-cas', 'PUT', '/v1/var/other',
        {'Namespace': 'default', 'Path': 'other', 'Items': {'a': '1'}})
    rec('var-empty-items', 'PUT', '/v1/var/empty?cas=0', {'Namespace': 'default', 'Path': 'empty', 'Items': {}})
    rec('var-bad-path', 'PUT', '/v1/var/bad%20path?cas=0',
        {'Namespace': 'default', 'Path': 'bad path', 'Items': {'a': '1'}})
    rec('var-path-mismatch', 'PUT', '/v1/var/one?cas=0', {'Namespace': 'default', 'Path': 'two', 'Items': {'a': '1'}})
    rec('var-non-string-item', 'PUT', '/v1/var/num?cas=0', {'Namespace': 'default', 'Path': 'num', 'Items': {'a': 1}})
    rec('var-web', 'PUT', '/v1/var/app/config?namespace=web&cas=0',
        {'Namespace': 'web', 'Path': 'app/config', 'Items': {'a': '1'}})
    rec('var-web-client', 'GET', '/v1/var/app/config?namespace=web', token='client')
    rec('vars', 'GET', '/v1/vars')
    rec('vars-prefix', 'GET', '/v1/vars?prefix=nomad/')
    rec('vars-all-namespaces', 'GET', '/v1/vars?namespace=*')
    status, got = rec('var-get-before-delete', 'GET', '/v1/var/%s' % path)
    rec('var-delete-stale', 'DELETE', '/v1/var/%s?cas=%d' % (path, got['ModifyIndex'] - 1))
    rec('var-delete', 'DELETE', '/v1/var/%s?cas=%d' % (path, got['ModifyIndex']))
    rec('var-get-deleted', 'GET', '/v1/var/%s' % path)
    rec('var-delete-missing', 'DELETE', '/v1/var/%s?cas=0' % path)
    rec('var-delete-missing-no-cas', 'DELETE', '/v1/var/%s' % path)
    rec('var-delete-other', 'DELETE', '/v1/var/other')
    rec('var-delete-web', 'DELETE', '/v1/var/app/config?namespace=web')


def binary_version(binary):
    out = subprocess.run([binary, 'version'], capture_output=True, text=True, check=True).stdout
    match = re.search(r'Nomad v(\d+)\.(\d+)\.(\d+)', out)
    if not match:
        raise SystemExit('%s version said: %s' % (binary, out))
    return tuple(int(x) for x in match.groups())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('binary', help='a Nomad binary')
    parser.add_argument('--out', help='directory for the JSON files (emptied first); '
                                      'default tests/recordings/nomad-VERSION/acl')
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    version = binary_version(binary)
    out = args.out or os.path.join(ROOT, 'tests', 'recordings', 'nomad-%d.%d.%d' % version, 'acl')
    with DevAgent(binary, CONFIG) as agent:
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.makedirs(out)
        rec = Recorder(agent.address, out)
        walk(rec, version[:2])
        print('%d exchanges written to %s' % (rec.count, out))


if __name__ == '__main__':
    main()
