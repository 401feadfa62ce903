# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""acl_item_problems: preflight's words for an item of nomad_acl_policies, _roles or _tokens."""

from ansible_collections.nomadops.nomad.plugins.filter.acl_item_problems import FilterModule, acl_item_problems


def test_registered_and_quiet_on_good_items():
    assert FilterModule().filters()['acl_item_problems'] is acl_item_problems
    good = [{'name': 'web-submit', 'rules': 'namespace "web" {}'}, {'name': 'old', 'state': 'absent'}]
    assert acl_item_problems(good, 'nomad_acl_policies', ['name'], [['rules', 'rules_src']]) == []
    assert acl_item_problems([], 'nomad_acl_tokens', ['name']) == []


def test_each_problem_names_the_variable_the_position_and_the_name():
    items = [{'rules': 'x'}, {'name': 'a'}, {'name': 'b', 'rules': 'x', 'rules_src': 'y'}, 'c',
             {'name': 'd', 'rules': 'x', 'state': 'gone'}]
    assert acl_item_problems(items, 'nomad_acl_policies', ['name'], [['rules', 'rules_src']]) == [
        'nomad_acl_policies[0] has no name.',
        'nomad_acl_policies[1] (a) needs one of rules, rules_src.',
        'nomad_acl_policies[2] (b) has rules and rules_src; give only one.',
        'nomad_acl_policies[3] must be a dict; got str.',
        'nomad_acl_policies[4] (d) has state gone; it must be present or absent.',
    ]
    assert acl_item_problems({'name': 'x'}, 'nomad_acl_roles') == [
        'nomad_acl_roles must be a list of dicts; got dict.']
