# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""versions: the one place that says what differs between Nomad releases."""

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils import versions


@pytest.mark.parametrize('text, parsed', [('0.9.1', (0, 9, 1)), ('v1.1.0', (1, 1, 0)), ('1.0.0-beta3', (1, 0, 0)),
                                          ('1.6.2+ent', (1, 6, 2))])
def test_versions_parse(text, parsed):
    assert versions.parse_version(text) == parsed


@pytest.mark.parametrize('text', ['latest', '1.1', '', '1.1.0.0'])
def test_what_is_not_a_release_version_is_refused_by_name(text):
    with pytest.raises(ValueError, match='not a Nomad release version'):
        versions.parse_version(text)


@pytest.mark.parametrize('version, schema', [('0.9.0', '0.9.1'), ('0.9.1', '0.9.1'), ('0.9.7', None), ('0.8.7', None),
                                             ('1.0.4', '1.1'), ('1.1.0', '1.1'), ('1.1.18', '1.1'), ('1.2.0', None)])
def test_agent_schemas_only_where_the_collection_knows_the_keys(version, schema):
    assert versions.agent_schema(version) == schema


def test_job_dialect_and_namespaces_follow_1_0():
    assert [versions.job_dialect(v) for v in ('0.9.1', '0.12.9', '1.0.0', '1.1.0')] == ['hcl1', 'hcl1', 'hcl2', 'hcl2']
    assert not versions.has_open_source_namespaces('0.9.1')
    assert versions.has_open_source_namespaces('1.0.0')


@pytest.mark.parametrize('installed, target', [('0.9.1', '0.9.1'), ('0.9.1', '0.9.7'), ('0.9.7', '0.10.9'),
                                               ('0.12.12', '1.0.18'), ('1.0.18', '1.1.0')])
def test_one_point_release_at_a_time_is_fine(installed, target):
    assert versions.upgrade_problem(installed, target) is None


@pytest.mark.parametrize('installed, target, through', [('0.9.1', '0.11.0', '0.10.x'), ('0.11.8', '1.0.0', '0.12.x'),
                                                        ('0.12.0', '1.1.0', '1.0.x'), ('0.9.1', '1.1.0', '0.10.x')])
def test_skipping_a_point_release_names_the_one_to_go_through(installed, target, through):
    problem = versions.upgrade_problem(installed, target)
    assert problem.endswith('so go through %s first' % through)
    assert problem.startswith('Nomad %s is installed and %s was asked for' % (installed, target))


def test_downgrades_only_when_allowed():
    assert 'does not support downgrading' in versions.upgrade_problem('0.9.7', '0.9.1')
    assert versions.upgrade_problem('0.9.7', '0.9.1', allow_downgrade=True) is None
