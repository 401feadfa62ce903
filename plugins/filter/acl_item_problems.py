# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.acl_item_problems`` filter; documented in acl_item_problems.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six import string_types

STATES = ('present', 'absent')


def acl_item_problems(items, variable, required=(), one_of=()):
    """One message per item of ``variable`` that is not a dict, lacks a key
    of ``required``, has none of a group of ``one_of`` (while present), or
    names a state that is neither present nor absent."""
    if items in (None, ''):
        return []
    if not isinstance(items, list):
        return ['%s must be a list of dicts; got %s.' % (variable, type(items).__name__)]
    problems = []
    for index, item in enumerate(items):
        where = '%s[%d]' % (variable, index)
        if not isinstance(item, dict):
            problems.append('%s must be a dict; got %s.' % (where, type(item).__name__))
            continue
        if isinstance(item.get('name'), string_types) and item['name']:
            where = '%s[%d] (%s)' % (variable, index, item['name'])
        for key in required:
            if item.get(key) in (None, ''):
                problems.append('%s has no %s.' % (where, key))
        state = item.get('state', 'present')
        if state not in STATES:
            problems.append('%s has state %s; it must be present or absent.' % (where, state))
        for group in one_of:
            given = [key for key in group if item.get(key) not in (None, '')]
            if state == 'present' and not given:
                problems.append('%s needs one of %s.' % (where, ', '.join(group)))
            if len(given) > 1:
                problems.append('%s has %s; give only one.' % (where, ' and '.join(given)))
    return problems


class FilterModule(object):

    def filters(self):
        return {'acl_item_problems': acl_item_problems}
