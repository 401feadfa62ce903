# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.upgrade_problem`` filter; documented in upgrade_problem.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.module_utils.versions import upgrade_problem as _problem


def upgrade_problem(installed, target, allow_downgrade=False):
    """Why moving from the installed release to ``target`` must not happen; '' when it may (or nothing is installed)."""
    if not installed:
        return ''
    try:
        return _problem(installed, target, allow_downgrade) or ''
    except ValueError as exc:
        raise AnsibleFilterError('upgrade_problem: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'upgrade_problem': upgrade_problem}
