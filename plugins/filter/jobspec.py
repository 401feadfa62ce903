# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.jobspec`` filter; documented in jobspec.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.six import binary_type, string_types


def jobspec(text, filename=None, dialect='hcl1', vars=None, base_dir=None):  # pylint: disable=redefined-builtin
    """HCL job file text to the API job dict, as Nomad 0.9.1 (hcl1) or 1.1.0 (hcl2) reads it."""
    if isinstance(text, binary_type):
        text = to_text(text, errors='surrogate_or_strict')
    if not isinstance(text, string_types):
        raise AnsibleFilterError('jobspec expects the text of a job file, got %s' % type(text).__name__)
    if filename is not None and not isinstance(filename, string_types):
        raise AnsibleFilterError('jobspec: filename must be a string, got %s' % type(filename).__name__)
    if dialect not in ('hcl1', 'hcl2'):
        raise AnsibleFilterError('jobspec: dialect must be hcl1 or hcl2, got %r' % (dialect,))
    if vars is not None and (dialect != 'hcl2' or not isinstance(vars, dict)):
        raise AnsibleFilterError('jobspec: vars must be a dict, and are for dialect=hcl2 only')
    if base_dir is not None and (dialect != 'hcl2' or not isinstance(base_dir, string_types)):
        raise AnsibleFilterError('jobspec: base_dir must be a string, and is for dialect=hcl2 only')
    # Imported here, not when the file loads: Ansible loads every filter file
    # in every worker that templates anything, and the parsers (python-hcl2
    # and lark among them) would cost each task on each host about a tenth of
    # a second, whether or not it uses this filter.
    from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError, parse_jobspec
    from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import parse_hcl2_jobspec

    try:
        if dialect == 'hcl2':
            return parse_hcl2_jobspec(to_text(text), filename=filename, variables=vars,
                                      base_dir=to_text(base_dir) if base_dir is not None else None)
        return parse_jobspec(to_text(text), filename=filename)
    except JobspecError as exc:
        raise AnsibleFilterError('jobspec: cannot parse the job: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'jobspec': jobspec}
