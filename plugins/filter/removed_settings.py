# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.removed_settings`` filter; documented in removed_settings.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.nomadops.nomad.plugins.module_utils.versions import (
    parse_version,
    removed_setting_message,
    removed_settings as _removed,
)


def removed_settings(sources, version):
    """One message per setting in ``sources`` (variable name -> agent settings)
    that ``version`` no longer accepts; a key met twice is named once, under
    the first variable that holds it."""
    try:
        parse_version(version)
    except ValueError:
        # Preflight says that nomad_version is wrong; one message is enough.
        return []
    messages, seen = [], set()
    for name, settings in (sources or {}).items():
        if not isinstance(settings, dict):
            continue
        for key, release, instead in _removed(settings, version):
            if key not in seen:
                seen.add(key)
                messages.append(removed_setting_message(key, release, instead, to_native(version), name) + '.')
    return messages


class FilterModule(object):

    def filters(self):
        return {'removed_settings': removed_settings}
