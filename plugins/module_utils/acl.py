# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ACL policy rules as each release judges them, checked before anything
is sent: Nomad answers a bad policy with a Go struct dump (and 1.1.0 with a
404), where a module can name the rule and its line.

Standard library only: this ships to managed hosts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nomadops.nomad.plugins.module_utils import hcl
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import parse_version

# acl.validNamespace, the same in every release: a glob may stand for many.
_NAMESPACE = re.compile(r'^[a-zA-Z0-9\-*]{1,128}$')
# structs.validPolicyName (policies and, from 1.4, roles).
VALID_NAME = re.compile(r'^[a-zA-Z0-9-]{1,128}$')

_CAPABILITIES_09 = ('deny', 'list-jobs', 'read-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs',
                    'sentinel-override')
_CAPABILITIES_1X = _CAPABILITIES_09 + (
    'alloc-exec', 'alloc-node-exec', 'alloc-lifecycle', 'csi-register-plugin', 'csi-write-volume',
    'csi-read-volume', 'csi-list-volume', 'csi-mount-volume', 'list-scaling-policies', 'read-scaling-policy',
    'read-job-scaling', 'scale-job', 'submit-recommendation')
# (first release, namespace capabilities, namespace policies) by release, newest last.
_RULES = (
    ((0, 0, 0), _CAPABILITIES_09, ('deny', 'read', 'write')),
    ((1, 0, 0), _CAPABILITIES_1X, ('deny', 'read', 'write', 'scale')),
    ((1, 6, 0), _CAPABILITIES_1X + ('parse-job',), ('deny', 'read', 'write', 'scale')),
)
# Blocks holding a single `policy`; Nomad accepts these words for them.
_SIMPLE_BLOCKS = ('agent', 'node', 'operator', 'quota')
_SIMPLE_POLICIES = ('deny', 'read', 'write')
# 1.6's decoder no longer takes a namespace block without a label.
NAMESPACE_LABEL_REQUIRED_FROM = (1, 6, 0)


def _rules_for(version):
    parsed = parse_version(version)
    chosen = _RULES[0]
    for entry in _RULES:
        if parsed >= entry[0]:
            chosen = entry
    return parsed, chosen[1], chosen[2]


def _body(item):
    """A block's attributes as {name: (value, line)}; the last one wins, as in hcl v1."""
    out = {}
    if isinstance(item.val, hcl.ObjectType):
        for inner in item.val.list.items:
            if len(inner.keys) == 1:
                out[inner.key_names[0].lower()] = (hcl.decode(inner.val), inner.line)
    return out


def rules_problems(rules, version, where='rules'):
    """Why Nomad ``version`` would refuse these policy rules, as a list of
    texts, each naming ``where`` and the line; [] when it would take them."""
    if not rules:
        return []
    parsed, capabilities, policies = _rules_for(version)
    try:
        tree = hcl.parse(rules, where)
    except hcl.HCLError as e:
        return ['%s: Failed to parse ACL Policy: %s' % (where, str(e).split(': ', 1)[-1])]
    problems = []
    known = 0
    for item in tree.items:
        names = item.key_names
        kind = names[0].lower()
        if kind == 'namespace':
            known += 1
            label = names[1] if len(names) > 1 else ''
            body = _body(item)
            if not label and parsed >= NAMESPACE_LABEL_REQUIRED_FROM:
                problems.append('%s line %d: Invalid namespace name: a namespace rule needs a label, '
                                'e.g. namespace "default" { ... } (Nomad %s refuses one without)'
                                % (where, item.line, version))
            elif label and not _NAMESPACE.match(label):
                problems.append('%s line %d: Invalid namespace name %r' % (where, item.line, label))
            policy, line = body.get('policy', ('', item.line))
            if policy and policy not in policies:
                problems.append('%s line %d: Invalid namespace policy %r for namespace %r; Nomad %s takes one of %s'
                                % (where, line, policy, label, version, ', '.join(policies)))
            caps, line = body.get('capabilities', ([], item.line))
            for cap in caps if isinstance(caps, list) else [caps]:
                if cap not in capabilities:
                    problems.append("%s line %d: Invalid namespace capability '%s' for namespace %r; Nomad %s "
                                    'takes one of %s' % (where, line, cap, label, version, ', '.join(capabilities)))
        elif kind in _SIMPLE_BLOCKS:
            known += 1
            policy, line = _body(item).get('policy', ('', item.line))
            if policy not in _SIMPLE_POLICIES:
                problems.append('%s line %d: Invalid %s policy %r; Nomad takes one of %s'
                                % (where, line, kind, policy, ', '.join(_SIMPLE_POLICIES)))
        else:
            # host_volume, plugin, node_pool...: Nomad judges those itself.
            known += 1
    if not known:
        problems.append('%s: Invalid policy: no rule in it (namespace, node, agent, operator, ...)' % where)
    return problems


def token_view(body):
    """What a token is, as the modules compare and return it; never its secret."""
    if not body:
        return None
    view = {
        'accessor_id': body.get('AccessorID'),
        'name': body.get('Name') or '',
        'type': body.get('Type'),
        'policies': sorted(body.get('Policies') or []),
        'global': bool(body.get('Global')),
    }
    if 'Roles' in body:
        view['roles'] = sorted(r.get('Name') or r.get('ID') for r in body.get('Roles') or [])
        view['expiration_time'] = body.get('ExpirationTime')
    return view
