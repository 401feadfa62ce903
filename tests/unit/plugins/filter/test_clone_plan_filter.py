# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The clone repair decision: which hosts get fresh client state, which keeper restarts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.clone_plan import clone_plan

A, B = '36492a80-8800-926a-6578-939ad5aa1188', 'cbf7908f-800b-95b3-8852-2b3a2f476899'
S1, S2 = 'digest-of-secret-1', 'digest-of-secret-2'


def plan(**hosts):
    """hosts: name=(node_id, secret, active), in play order."""
    return clone_plan([dict(host=h, node_id=v[0], secret=v[1], active=v[2]) for h, v in hosts.items()])


def test_distinct_ids_need_nothing():
    assert plan(h1=(A, S1, True), h2=(B, S2, True), h3=(None, None, False)) == {'repair': [], 'restart': []}


def test_hosts_without_an_id_are_never_grouped():
    assert plan(h1=(None, None, False), h2=('', '', False)) == {'repair': [], 'restart': []}


def test_full_clone_keeps_the_first_and_restarts_it_when_running():
    assert plan(h1=(A, S1, True), h2=(A, S1, True), h3=(A, S1, False)) == {'repair': ['h2', 'h3'], 'restart': ['h1']}


def test_full_clone_before_first_start_restarts_nothing():
    assert plan(h1=(A, S1, False), h2=(A, S1, False), h3=(B, S2, False)) == {'repair': ['h2'], 'restart': []}


def test_id_only_clone_repairs_every_member():
    assert plan(h1=(A, S1, True), h2=(A, S2, True), h3=(B, S2, True)) == {'repair': ['h1', 'h2'], 'restart': []}


def test_results_follow_play_order_across_groups():
    got = plan(h1=(B, S2, True), h2=(A, S1, True), h3=(B, S2, False), h4=(A, S1, False))
    assert got == {'repair': ['h3', 'h4'], 'restart': ['h1', 'h2']}


@pytest.mark.parametrize('bad', ['nomad1', [{'node_id': A}], ['nomad1']])
def test_bad_input_is_named(bad):
    with pytest.raises(AnsibleFilterError, match='clone_plan'):
        clone_plan(bad)
