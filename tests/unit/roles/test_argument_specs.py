# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' argument specs: shared options declared once, and none drifting
from the defaults they describe."""

import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PUBLIC = ('nomad_server', 'nomad_client')
# Defaults that are derived or take over a whole file; documented in docs/roles.md, not options.
UNDECLARED = {'nomad_api_scheme', 'nomad_server_settings', 'nomad_client_settings'}


def load(role, name):
    with open(os.path.join(ROOT, 'roles', role, name)) as handle:
        return yaml.safe_load(handle)


def specs(role):
    return load(role, 'meta/argument_specs.yml')['argument_specs']


def test_shared_options_are_declared_once():
    shared = set(specs('nomad_agent')['main']['options'])
    server, client = (set(specs(role)['main']['options']) for role in PUBLIC)
    assert server and client
    assert not server & shared, 'declared in nomad_server and in nomad_agent: %s' % sorted(server & shared)
    assert not client & shared, 'declared in nomad_client and in nomad_agent: %s' % sorted(client & shared)
    assert not server & client


@pytest.mark.parametrize('role', PUBLIC)
def test_the_part_validates_what_main_does(role):
    spec = specs(role)
    assert spec['part']['options'] == spec['main']['options']


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
