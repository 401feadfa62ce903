# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A systemd unit's state, as the modules that read or start the agent's unit see it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def service_state(module, name):
    """``installed``, ``active`` and ``enabled`` of ``<name>.service``; all false without systemctl."""
    systemctl = module.get_bin_path('systemctl')
    state = dict(installed=False, active=False, enabled=False)
    if not systemctl:
        return state
    rc, out, dummy = module.run_command([systemctl, 'show', name + '.service',
                                         '--property=LoadState,ActiveState,UnitFileState'])
    if rc != 0:
        return state
    props = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    state['installed'] = props.get('LoadState') == 'loaded'
    state['active'] = props.get('ActiveState') in ('active', 'reloading')
    state['enabled'] = props.get('UnitFileState') in ('enabled', 'enabled-runtime', 'linked', 'alias')
    return state
