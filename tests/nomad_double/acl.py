# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACL policies, tokens, roles and what they allow, as recorded from real
Nomad 0.9.1, 1.1.0 and 1.6.5 (tests/recordings/nomad-*/acl/, made by
tests/real/record_acl.py).

Roles, token expiry, a supplied bootstrap secret and variables are 1.6's only.
"""

import base64
import fnmatch
import hashlib
import json
import re

from . import jobs as jobsmod
from . import hclparse
from .util import IS_1X, IS_16, new_id, rfc3339

POLICY_NAME_RE = re.compile(r'^[a-zA-Z0-9-]{1,128}$')
NAMESPACE_RE = re.compile(r'^[a-zA-Z0-9\-*]{1,128}$')
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')

_CAPS_09 = ('deny', 'list-jobs', 'read-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs',
            'sentinel-override')
_CAPS_1X = _CAPS_09 + ('alloc-exec', 'alloc-node-exec', 'alloc-lifecycle', 'csi-register-plugin', 'csi-write-volume',
                       'csi-read-volume', 'csi-list-volume', 'csi-mount-volume', 'list-scaling-policies',
                       'read-scaling-policy', 'read-job-scaling', 'scale-job', 'submit-recommendation')
CAPABILITIES = _CAPS_1X + ('parse-job',) if IS_16 else _CAPS_1X if IS_1X else _CAPS_09
POLICIES = ('deny', 'read', 'write', 'scale') if IS_1X else ('deny', 'read', 'write')
# acl.expandNamespacePolicy, cut to what the double's endpoints ask for.
_READ = ('list-jobs', 'read-job', 'parse-job')
_EXPANDED = {'deny': ('deny',), 'read': _READ,
             'write': _READ + ('submit-job', 'dispatch-job', 'read-logs', 'read-fs', 'alloc-exec', 'alloc-lifecycle',
                               'scale-job'),
             'scale': ('list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job')}
# Variables a namespace policy grants on every path (1.4+).
_VARIABLES = {'read': ('read', 'list'), 'write': ('read', 'list', 'write', 'destroy')}
# The status of a refused write, by release (recorded): a policy 0.9.1 500,
# 1.1.0 404, 1.6.5 400; a token 0.9.1 500, 1.x 400; an update of a token that
# does not exist 0.9.1 500, 1.1.0 404, 1.6.5 400.
POLICY_ERROR_STATUS = 400 if IS_16 else 404 if IS_1X else 500
TOKEN_ERROR_STATUS = 400 if IS_1X else 500
MISSING_TOKEN_STATUS = 400 if IS_16 else 404 if IS_1X else 500


class ACLError(Exception):
    def __init__(self, status, message):
        super(ACLError, self).__init__(message)
        self.status = status
        self.message = message


def _go_strings(values):
    if values is None:
        return '[]string(nil)'
    return '[]string{%s}' % ', '.join(json.dumps(v) for v in values)


def _go_namespace(ns):
    text = '&acl.NamespacePolicy{Name:%s, Policy:%s, Capabilities:%s' % (
        json.dumps(ns['Name']), json.dumps(ns['Policy']), _go_strings(ns['Capabilities']))
    if IS_16:
        text += ', Variables:(*acl.VariablesPolicy)(nil)'
    return text + '}'


def _lower(body):
    """A block's attributes by lower-case name (Go's HCL decoding ignores case)."""
    return {k.lower(): v for k, v in body.items()} if isinstance(body, dict) else {}


def _labelled(value):
    """(label, body) of each block under one keyword: ``namespace "x" {}``
    comes from pyhcl as {"x": {...}}, an unlabelled ``namespace {}`` as its
    attributes, which are not all blocks."""
    out = []
    for obj in value if isinstance(value, list) else [value]:
        if not isinstance(obj, dict):
            continue
        if obj and all(isinstance(v, dict) for v in obj.values()) and 'variables' not in _lower(obj):
            out.extend(obj.items())
        else:
            out.append(('', obj))
    return out


def parse_rules(rules):
    """acl.Parse: the rules as {'namespaces': [...], 'agent': ..., ...}; ACLError with Nomad's words."""
    parsed = {'namespaces': [], 'agent': None, 'node': None, 'operator': None, 'quota': None, 'plugin': None}
    if not rules:
        return parsed
    try:
        doc = hclparse.loads(rules)
    except hclparse.SyntaxErr as e:
        raise ValueError('Failed to parse ACL Policy: %s' % e.positioned())
    found = False
    for keyword, value in doc.items():
        kind = keyword.lower()
        if kind == 'namespace':
            for label, body in _labelled(value):
                found = True
                attrs = _lower(body)
                caps = attrs.get('capabilities')
                ns = {'Name': label, 'Policy': attrs.get('policy') or '', 'Capabilities': caps, 'Variables': None}
                if not label and not IS_16:
                    # 1.1.0 stores such a rule (recorded): it grants nothing the double checks.
                    ns['Name'] = ''
                elif not NAMESPACE_RE.match(label):
                    raise ValueError('Invalid namespace name: %s' % _go_namespace(ns))
                if ns['Policy'] and ns['Policy'] not in POLICIES:
                    raise ValueError('Invalid namespace policy: %s' % _go_namespace(ns))
                for cap in caps or []:
                    if cap not in CAPABILITIES:
                        raise ValueError("Invalid namespace capability '%s': %s" % (cap, _go_namespace(ns)))
                if 'variables' in attrs and IS_16:
                    paths = []
                    for vars_body in attrs['variables'] if isinstance(attrs['variables'], list) else [
                            attrs['variables']]:
                        for spec, inner in _labelled(_lower(vars_body).get('path') or {}):
                            if spec:
                                paths.append({'PathSpec': spec,
                                              'Capabilities': _lower(inner).get('capabilities') or []})
                    ns['Variables'] = {'Paths': paths}
                parsed['namespaces'].append(ns)
        elif kind in ('agent', 'node', 'operator', 'quota', 'plugin'):
            found = True
            bodies = value if isinstance(value, list) else [value]
            policy = ''
            for body in bodies:
                policy = _lower(body).get('policy', policy)
            allowed = ('deny', 'read', 'list') if kind == 'plugin' else ('deny', 'read', 'write')
            if policy not in allowed:
                raise ValueError('Invalid %s policy: &acl.%sPolicy{Policy:%s}'
                                 % (kind, kind.capitalize(), json.dumps(policy)))
            parsed[kind] = policy
        elif kind in ('host_volume', 'node_pool'):
            found = True
    if not found:
        raise ValueError('Invalid policy: %s' % rules)
    return parsed


def rules_json(rules, parsed):
    return {'Agent': _simple(parsed['agent']), 'HostVolumes': None, 'Namespaces': parsed['namespaces'] or None,
            'Node': _simple(parsed['node']), 'NodePools': None, 'Operator': _simple(parsed['operator']),
            'Plugin': _simple(parsed['plugin']), 'Quota': _simple(parsed['quota']), 'Raw': rules}


def _simple(policy):
    return {'Policy': policy} if policy is not None else None


def _hash(*parts):
    h = hashlib.blake2b(digest_size=32)
    for part in parts:
        h.update(json.dumps(part, sort_keys=True).encode())
    return base64.b64encode(h.digest()).decode()


def policy_errors(body, path_name):
    """ACL.UpsertPolicies' checks of one policy; the HTTP layer's name check first."""
    name = body.get('Name') if isinstance(body.get('Name'), str) else ''
    if path_name is not None and name != path_name:
        raise ACLError(400, 'ACL policy name does not match request path')
    errs = []
    if not POLICY_NAME_RE.match(name):
        errs.append("invalid name '%s'" % name)
    try:
        parsed = parse_rules(body.get('Rules') or '')
    except ValueError as e:
        errs.append('failed to parse rules: %s' % e)
        parsed = None
    if len(body.get('Description') or '') > 256:
        errs.append('description longer than 256')
    if errs:
        raise ACLError(POLICY_ERROR_STATUS, 'policy 0 invalid: %s' % jobsmod.multierror(errs))
    return parsed


def make_policy(body, parsed, current, idx):
    rules = body.get('Rules') or ''
    out = {'CreateIndex': current['CreateIndex'] if current else idx, 'Description': body.get('Description') or '',
           'Hash': _hash(body.get('Name'), body.get('Description') or '', rules), 'ModifyIndex': idx,
           'Name': body['Name'], 'Rules': rules, 'RulesJSON': rules_json(rules, parsed)}
    if IS_16:
        out['JobACL'] = None
    return out


def policy_stub(policy):
    return dict((k, policy[k]) for k in ('CreateIndex', 'Description', 'Hash', 'ModifyIndex', 'Name'))


# ---------------------------------------------------------------- tokens

def token_errors(body, roles_by_name, roles_by_id, current=None):
    """ACL.UpsertTokens: the checks of one token, in Nomad's order and words."""
    kind = body.get('Type')
    policies = body.get('Policies') or []
    roles = body.get('Roles') or [] if IS_16 else []
    errs = []
    if kind == 'client':
        if not policies and not roles:
            errs.append('client token missing policies or roles' if IS_16 else 'client token missing policies')
    elif kind == 'management':
        if policies or roles:
            errs.append('management token cannot be associated with policies or roles' if IS_16
                        else 'management token cannot be associated with policies')
    else:
        errs.append('token type must be client or management')
    if current is not None and bool(current.get('Global')) != bool(body.get('Global')):
        if not IS_16:
            raise ACLError(TOKEN_ERROR_STATUS, 'cannot toggle global mode of %s' % current['AccessorID'])
        errs.append('cannot toggle global mode')
    ttl = None
    if IS_16 and body.get('ExpirationTTL'):
        ttl = parse_ttl(body['ExpirationTTL'])
        if current is not None and ttl != parse_ttl(current.get('ExpirationTTL') or '0s'):
            errs.append('cannot update expiration TTL')
        elif current is None and ttl < 60:
            errs.append('expiration time cannot be less than 1m0s in the future (was %s)' % body['ExpirationTTL'])
    if errs:
        raise ACLError(TOKEN_ERROR_STATUS, 'token 0 invalid: %s' % jobsmod.multierror(errs))
    resolved = []
    for role in roles:
        found = roles_by_id.get(role.get('ID')) if role.get('ID') else roles_by_name.get(role.get('Name'))
        if found is None:
            raise ACLError(400, 'cannot find role %s' % (role.get('ID') or role.get('Name')))
        resolved.append({'ID': found['ID'], 'Name': found['Name']})
    return resolved, ttl


def parse_ttl(text):
    total = 0.0
    for number, unit in re.findall(r'(\d+(?:\.\d+)?)(h|ms|m|s)', text or ''):
        total += float(number) * {'h': 3600, 'm': 60, 's': 1, 'ms': 0.001}[unit]
    return total


def go_duration(seconds):
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return '%dh%dm%ds' % (hours, minutes, secs)
    if minutes:
        return '%dm%ds' % (minutes, secs)
    return '%ds' % secs


def make_token(body, roles, ttl, current, idx, secret=None):
    policies = list(body.get('Policies') or []) if body.get('Type') == 'client' else None
    tok = {'AccessorID': current['AccessorID'] if current else new_id(),
           'CreateIndex': current['CreateIndex'] if current else idx,
           'CreateTime': current['CreateTime'] if current else rfc3339(),
           'Global': bool(body.get('Global')), 'ModifyIndex': idx, 'Name': body.get('Name') or '',
           'Policies': policies or (None if not IS_16 or body.get('Type') == 'management' else []),
           'SecretID': current['SecretID'] if current else (secret or new_id()), 'Type': body.get('Type')}
    if IS_16:
        tok['Roles'] = roles or None
        if current is not None:
            tok['ExpirationTTL'] = current.get('ExpirationTTL', '')
            tok['ExpirationTime'] = current.get('ExpirationTime')
        elif ttl:
            import time
            tok['ExpirationTTL'] = go_duration(ttl)
            tok['ExpirationTime'] = rfc3339(time.time() + ttl)
        else:
            tok['ExpirationTTL'] = ''
            tok['ExpirationTime'] = None
    tok['Hash'] = _hash(tok['Name'], tok['Type'], tok['Policies'], tok['Global'], tok.get('Roles'))
    return tok


def token_stub(tok):
    out = dict((k, v) for k, v in tok.items() if k != 'SecretID')
    out.pop('ExpirationTTL', None)
    return out


# ---------------------------------------------------------------- what a token may do

def policies_of(state, tok):
    """The parsed policies a token carries (None: anonymous, the anonymous policy)."""
    acl = state['acl']
    names = list((tok or {}).get('Policies') or []) if tok is not None else ['anonymous']
    for role in (tok or {}).get('Roles') or []:
        found = acl.get('roles', {}).get(role['ID'])
        if found:
            names.extend(p['Name'] for p in found.get('Policies') or [])
    out = []
    for name in names:
        policy = acl.get('policies', {}).get(name)
        if policy is not None:
            out.append(policy['RulesJSON'])
    return out


def _namespace_rule(rules, namespace):
    exact = [ns for ns in rules.get('Namespaces') or [] if ns['Name'] == namespace]
    if exact:
        return exact
    return [ns for ns in rules.get('Namespaces') or [] if ns['Name'] and fnmatch.fnmatchcase(namespace, ns['Name'])]


def allows(state, tok, namespace, capability):
    """Whether the token has a namespace capability there (management: always)."""
    if tok is not None and tok.get('Type') == 'management':
        return True
    granted = set()
    for rules in policies_of(state, tok):
        for ns in _namespace_rule(rules, namespace):
            granted.update(_EXPANDED.get(ns['Policy'], ()))
            granted.update(ns['Capabilities'] or ())
    return capability in granted and 'deny' not in granted


def allows_simple(state, tok, kind, need):
    """agent / node / operator read or write."""
    if tok is not None and tok.get('Type') == 'management':
        return True
    levels = {'deny': -1, 'read': 1, 'list': 1, 'write': 2}
    best = 0
    for rules in policies_of(state, tok):
        simple = rules.get(kind.capitalize())
        if simple:
            if simple['Policy'] == 'deny':
                return False
            best = max(best, levels.get(simple['Policy'], 0))
    return best >= levels[need]


def allows_variable(state, tok, namespace, path, capability):
    if tok is not None and tok.get('Type') == 'management':
        return True
    granted = set()
    for rules in policies_of(state, tok):
        for ns in _namespace_rule(rules, namespace):
            granted.update(_VARIABLES.get(ns['Policy'], ()))
            for spec in ((ns.get('Variables') or {}).get('Paths') or []):
                if fnmatch.fnmatchcase(path, spec['PathSpec']):
                    granted.update(spec['Capabilities'] or ())
    return capability in granted and 'deny' not in granted


# ---------------------------------------------------------------- roles (1.4+)

def role_errors(body, policies, by_name, current_id=None):
    name = body.get('Name') if isinstance(body.get('Name'), str) else ''
    errs = []
    if not POLICY_NAME_RE.match(name):
        errs.append("invalid name '%s'" % name)
    if not body.get('Policies'):
        errs.append('at least one policy should be specified')
    if errs:
        raise ACLError(400, 'role 0 invalid: %s' % jobsmod.multierror(errs))
    for policy in body['Policies']:
        if policy.get('Name') not in policies:
            raise ACLError(400, 'cannot find policy %s' % policy.get('Name'))
    existing = by_name.get(name)
    if existing is not None and existing['ID'] != current_id:
        raise ACLError(400, 'role with name %s already exists' % name)


def make_role(body, current, idx):
    policies = [{'Name': p['Name']} for p in body['Policies']]
    desc = body.get('Description') or ''
    return {'CreateIndex': current['CreateIndex'] if current else idx, 'Description': desc,
            'Hash': _hash(body['Name'], desc, policies), 'ID': current['ID'] if current else new_id(),
            'ModifyIndex': idx, 'Name': body['Name'], 'Policies': policies}


def role_unchanged(current, body):
    """1.6.5 writes nothing (the index stays) when a role is upserted as it is (recorded)."""
    return (current['Name'] == body.get('Name') and current['Description'] == (body.get('Description') or '')
            and current['Policies'] == [{'Name': p['Name']} for p in body.get('Policies') or []])


def bootstrap_secret_valid(secret):
    return bool(UUID_RE.match(secret or ''))
