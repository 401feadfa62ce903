# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A systemd unit's state, as the modules that read or start the agent's unit see it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


def service_state(module, name):
    """``installed``, ``active`` and ``enabled`` of ``<name>.service``, all false without systemctl, and
    ``started_at``: when its main process started, in seconds since the epoch (null when it does not run), and
    ``unit_file``: the unit's file (null when systemd has none)."""
    systemctl = module.get_bin_path('systemctl')
    state = dict(installed=False, active=False, enabled=False, started_at=None, unit_file=None)
    if not systemctl:
        return state
    rc, out, dummy = module.run_command([systemctl, 'show', name + '.service',
                                         '--property=LoadState,ActiveState,UnitFileState,FragmentPath,'
                                         'ExecMainStartTimestampMonotonic'])
    if rc != 0:
        return state
    props = dict(line.split('=', 1) for line in out.splitlines() if '=' in line)
    state['installed'] = props.get('LoadState') == 'loaded'
    state['active'] = props.get('ActiveState') in ('active', 'reloading')
    state['enabled'] = props.get('UnitFileState') in ('enabled', 'enabled-runtime', 'linked', 'alias')
    state['unit_file'] = props.get('FragmentPath') or None
    # In microseconds on the monotonic clock: the wall-clock stamp systemctl
    # prints has whole seconds (before systemd 248), too coarse to tell a file
    # written just before a restart from one written just after it.
    started = props.get('ExecMainStartTimestampMonotonic', '0')
    if state['active'] and started.isdigit() and int(started) > 0:
        state['started_at'] = time.time() - time.monotonic() + int(started) / 1e6
    return state
