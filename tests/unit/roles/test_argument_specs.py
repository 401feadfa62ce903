# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' argument specs: shared options declared once, and none drifting
from the defaults they describe."""

import os

import pytest
import yaml

from tests.support import role_specs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PUBLIC = ('nomad_server', 'nomad_client')
# Defaults that are derived or take over a whole file; documented in docs/roles.md, not options.
UNDECLARED = {'nomad_api_scheme', 'nomad_server_settings', 'nomad_client_settings'}


def load(role, name):
    with open(os.path.join(ROOT, 'roles', role, name)) as handle:
        return yaml.safe_load(handle)


def specs(role):
    return load(role, 'meta/argument_specs.yml')['argument_specs']


def test_each_option_has_one_owner():
    shared = set(specs('nomad_agent')['main']['options'])
    server, client = (set(specs(role)['part']['options']) for role in PUBLIC)
    assert server and client
    assert not server & shared, 'owned by nomad_server and by nomad_agent: %s' % sorted(server & shared)
    assert not client & shared, 'owned by nomad_client and by nomad_agent: %s' % sorted(client & shared)
    assert not server & client


@pytest.mark.parametrize('role', PUBLIC)
def test_a_public_role_documents_everything_a_user_can_set(role):
    """Its own options (the part's) and a current copy of the shared ones, nothing else."""
    spec = specs(role)
    shared = specs('nomad_agent')['main']['options']
    assert spec['main']['options'] == dict(spec['part']['options'], **shared)
    assert role_specs.with_copy(role_specs.read(role), role_specs.shared_options()) == role_specs.read(role), (
        'the copy of the shared options is stale: run python tests/support/role_specs.py')


def test_every_default_is_documented_by_a_public_role():
    documented = set()
    for role in PUBLIC:
        documented |= set(specs(role)['main']['options'])
    for role in ('nomad_agent',) + PUBLIC:
        undocumented = set(load(role, 'defaults/main.yml')) - UNDECLARED - documented
        assert not undocumented, '%s defaults no public role documents: %s' % (role, sorted(undocumented))


def test_the_copy_is_rewritten_where_it_is_stale(tmp_path, monkeypatch):
    """The tool behind the copies: a stale copy is found, rewritten, and then current."""
    for role in ('nomad_agent',) + PUBLIC:
        (tmp_path / 'roles' / role / 'meta').mkdir(parents=True)
        (tmp_path / 'roles' / role / 'meta' / 'argument_specs.yml').write_text(role_specs.read(role))
    monkeypatch.setattr(role_specs, 'ROOT', str(tmp_path))
    agent = tmp_path / 'roles' / 'nomad_agent' / 'meta' / 'argument_specs.yml'
    agent.write_text(agent.read_text().replace('default: dc1', 'default: home'))
    assert role_specs.main(['--check']) == 1
    assert role_specs.main([]) == 0
    assert role_specs.main(['--check']) == 0
    for role in PUBLIC:
        assert 'default: home' in role_specs.read(role)


@pytest.mark.parametrize('role', ('nomad_agent',) + PUBLIC)
def test_every_default_is_declared_with_its_value(role):
    options = specs(role)['main']['options']
    defaults = load(role, 'defaults/main.yml')
    assert set(defaults) - UNDECLARED <= set(options), 'defaults without a spec: %s' % sorted(
        set(defaults) - UNDECLARED - set(options))
    for name, value in defaults.items():
        if name in options and 'default' in options[name] and '{{' not in str(value):
            assert options[name]['default'] == value, name


def test_readiness_options_are_the_walks():
    agent = specs('nomad_agent')
    for name, option in agent['readiness']['options'].items():
        assert option['type'] == agent['main']['options'][name]['type'], name
