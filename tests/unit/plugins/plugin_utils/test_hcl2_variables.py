# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How job variables get their values on the controller: the CLI's -var
typing (jobspec2's expressionFromVariableDefinition: string, number and
untyped variables take the text literally, the others parse it as HCL),
NOMAD_VAR_* below var files below -var (collectInputVariableValues), and
values that Ansible hands over as subclasses of the plain types (2.19 tags
every templated value)."""

from __future__ import annotations

import pytest

pytest.importorskip('hcl2')

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import (  # noqa: E402
    hcl2_variable_values,
    nomad_var_env,
    parse_hcl2_jobspec,
)

JOB = '''
variable "count" {
  type    = number
  default = 2
}

variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}

variable "label" {}

variable "pool" {
  type    = string
  default = "default"
}

job "web" {
  datacenters = var.dcs
  node_pool   = var.pool

  group "g" {
    count = var.count

    task "t" {
      driver = "raw_exec"

      config {
        command = var.label
      }
    }
  }
}
'''


class TaggedInt(int):
    """Stands in for ansible-core 2.19's _AnsibleTaggedInt."""


class TaggedStr(str):
    """Stands in for ansible-core 2.19's _AnsibleTaggedStr."""


def test_only_the_values_given_are_returned_typed_as_the_cli_types_them():
    values = hcl2_variable_values(JOB, 'web.nomad', {'count': '4', 'dcs': '["a", "b"]', 'label': 'x'})
    assert values == {'count': 4, 'dcs': ['a', 'b'], 'label': 'x'}


def test_a_job_block_in_a_newer_language_does_not_stop_the_variables():
    # node_pool came in 1.6; the whole-file evaluation (1.1.0's language) refuses it.
    with pytest.raises(JobspecError, match='An argument named "node_pool" is not expected here'):
        parse_hcl2_jobspec(JOB, 'web.nomad', {'label': 'x'})
    assert hcl2_variable_values(JOB, 'web.nomad', {'label': 'x'}) == {'label': 'x'}


def test_environment_then_var_files_then_vars():
    env = {'count': '9', 'label': 'from-env', 'pool': 'from-env'}
    var_files = [('a.hcl', 'label = "from-file"\npool = "from-file"\n')]
    values = hcl2_variable_values(JOB, 'web.nomad', {'pool': 'from-vars'}, var_files, env)
    assert values == {'count': 9, 'label': 'from-file', 'pool': 'from-vars'}


def test_nomad_var_env_takes_the_prefixed_names_only():
    assert nomad_var_env({'NOMAD_VAR_count': '3', 'NOMAD_VAR_': 'x', 'NOMAD_ADDR': 'http://x', 'HOME': '/'}) \
        == {'count': '3'}


def test_an_environment_value_of_a_variable_no_file_declares_is_skipped_as_the_cli_skips_it():
    assert hcl2_variable_values(JOB, 'web.nomad', {'label': 'x'}, env={'nope': '1'}) == {'label': 'x'}


def test_a_bad_environment_value_is_named_as_the_cli_names_it():
    with pytest.raises(JobspecError) as err:
        hcl2_variable_values(JOB, 'web.nomad', {'label': 'x'}, env={'count': 'many'})
    assert "Invalid value for variable; The value for count is not compatible with the variable's type " \
           "constraint: a number is required." in str(err.value)


def test_tagged_values_from_ansible_are_the_plain_values():
    values = hcl2_variable_values(JOB, 'web.nomad', {'count': TaggedInt(5), 'label': TaggedStr('x'),
                                                     'dcs': [TaggedStr('a')]})
    assert values == {'count': 5, 'dcs': ['a'], 'label': 'x'}
    assert type(values['count']) is int and type(values['label']) is str  # pylint: disable=unidiomatic-typecheck
    # The same values through the whole-file evaluation.
    job = parse_hcl2_jobspec(JOB.replace('  node_pool   = var.pool\n', ''), 'web.nomad',
                             {'count': TaggedStr('5'), 'label': TaggedStr('x')})
    assert job['TaskGroups'][0]['Count'] == 5


def test_a_string_for_a_number_is_converted_and_a_bad_one_refused():
    assert hcl2_variable_values(JOB, 'web.nomad', {'count': '7', 'label': 'x'})['count'] == 7
    with pytest.raises(JobspecError, match='a number is required'):
        hcl2_variable_values(JOB, 'web.nomad', {'count': 'seven', 'label': 'x'})


def test_an_undefined_variable_is_an_error_as_with_hcl2_strict():
    with pytest.raises(JobspecError, match='A "nope" variable was passed in the command line but was not found'):
        hcl2_variable_values(JOB, 'web.nomad', {'nope': 1})


def test_the_submission_records_how_the_values_were_given():
    from ansible_collections.nomadops.nomad.plugins.action.nomad_job import resolve_hcl2_variables
    resolved = resolve_hcl2_variables(JOB, 'web.nomad', {'count': 3, 'label': 'x', 'dcs': ['a']},
                                      [('a.hcl', 'pool = "p"\n')], {'pool': 'env', 'nope': 'ignored'})
    assert resolved['values'] == {'count': 3, 'dcs': ['a'], 'label': 'x', 'pool': 'p'}
    # -var and NOMAD_VAR_* as text, the way `nomad job run` records them; var files as they were.
    assert resolved['flags'] == {'count': '3', 'label': 'x', 'dcs': '["a"]', 'pool': 'env'}
    assert resolved['files'] == 'pool = "p"\n'
    assert 'error' in resolve_hcl2_variables(JOB, 'web.nomad', {'count': 'x'}, [], {})
