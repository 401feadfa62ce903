# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.upgrade_problem``, ``cluster_upgrade_problems``,
``upgrade_notice`` and ``upgrade_migrates_state`` filters; each is documented in its own .yml next to
this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types

from ansible_collections.nomadops.nomad.plugins.module_utils.versions import (
    cluster_upgrade_problems as _cluster_problems,
    parse_version,
    migrates_state as _migrates,
    upgrade_notice as _notice,
    upgrade_problem as _problem,
)


def upgrade_problem(installed, target, allow_downgrade=False):
    """Why moving from the installed release to ``target`` must not happen; '' when it may (or nothing is installed)."""
    if not installed:
        return ''
    try:
        return _problem(installed, target, allow_downgrade) or ''
    except ValueError as exc:
        raise AnsibleFilterError('upgrade_problem: %s' % exc)


def _moves(name, value):
    """{host: (installed or None, target)} from a dict of two-item lists."""
    if not isinstance(value, dict):
        raise AnsibleFilterError('cluster_upgrade_problems: %s must be a dict of host: [installed, target], got %s'
                                 % (name, type(value).__name__))
    moves = {}
    for host, pair in value.items():
        if not is_sequence(pair) or len(pair) != 2 or not pair[1]:
            raise AnsibleFilterError('cluster_upgrade_problems: %s[%s] must be [installed, target] with a target, '
                                     'got %r' % (name, host, pair))
        moves[str(host)] = (pair[0] or None, str(pair[1]))
    return moves


def _grouped(problems, hosts):
    """'host: reason' texts, the hosts that share a reason named together, in first-seen order."""
    order, named = [], {}
    for text in problems:
        host, sep, reason = text.partition(': ')
        if not sep or host not in hosts:
            host, reason = None, text
        if reason not in named:
            order.append(reason)
            named[reason] = []
        if host is not None and host not in named[reason]:
            named[reason].append(host)
    return ['%s: %s' % (', '.join(named[reason]), reason) if named[reason] else reason for reason in order]


def cluster_upgrade_problems(servers, clients, allow_downgrade=False):
    """Every reason the cluster must not move as asked: each host's own move,
    then the order of servers and clients; [] when it may."""
    servers, clients = _moves('servers', servers), _moves('clients', clients)
    hosts = dict(servers, **clients)
    try:
        # A host in both groups moves once: judge its own move once.
        problems = ['%s: %s' % (host, upgrade_problem(installed, target, allow_downgrade))
                    for host, (installed, target) in sorted(hosts.items())
                    if upgrade_problem(installed, target, allow_downgrade)]
        problems += _cluster_problems(servers, clients)
    except ValueError as exc:
        raise AnsibleFilterError('cluster_upgrade_problems: %s' % exc)
    return _grouped(problems, hosts)


def upgrade_notice(installed, target):
    """What to know before the installed release (or the oldest of several) becomes ``target``; '' when nothing."""
    if is_sequence(installed) and not isinstance(installed, string_types):
        releases = [release for release in installed if release]
        try:
            # Every host goes to the same target, so what the oldest crosses
            # is everything any of them crosses.
            installed = min(releases, key=parse_version) if releases else None
        except ValueError as exc:
            raise AnsibleFilterError('upgrade_notice: %s' % exc)
    try:
        return _notice(installed or None, target)
    except ValueError as exc:
        raise AnsibleFilterError('upgrade_notice: %s' % exc)


def upgrade_migrates_state(installed, target):
    """Whether moving the installed release (or any of several) to ``target``
    rewrites the agents' state so that no older release can read it."""
    releases = installed if is_sequence(installed) and not isinstance(installed, string_types) else [installed]
    try:
        return any(_migrates(release, target) for release in releases if release)
    except ValueError as exc:
        raise AnsibleFilterError('upgrade_migrates_state: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {
            'upgrade_problem': upgrade_problem,
            'cluster_upgrade_problems': cluster_upgrade_problems,
            'upgrade_notice': upgrade_notice,
            'upgrade_migrates_state': upgrade_migrates_state,
        }
