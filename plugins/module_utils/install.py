# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What nomad_install leaves on a host, and whether a host still holds it.

nomad_install takes its names, modes, version probe and install record from
here, and :func:`drift` asks, read only, whether it would change anything.
nomad_host_info answers that in the host read, so that a run with nothing to
install makes no install call; tests hold :func:`drift` to nomad_install's
own check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import re
import subprocess

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.nomadops.nomad.plugins.module_utils import release

# `nomad version` answers in milliseconds; a binary that takes longer is not
# one nomad_install placed.
VERSION_PROBE_SECONDS = 10

BINARY = 'nomad'
# The record of the last verified install. A dotfile next to the binary rather
# than a state directory, because it must follow install_dir and be writable
# by whoever may write the binary.
RECORD = '.nomad.install.json'
# The data directory holds the node secret ID and the raft log.
DATA_DIR_MODE = 0o700
UNIT_OWNER, UNIT_GROUP, UNIT_MODE = 'root', 'root', 0o644


# nomad_install's defaults for the options drift() compares.
DEFAULTS = dict(version='0.9.1', install_dir='/usr/local/bin', owner='root', group='root', mode='0755', checksum=None,
                os=None, arch=None, data_dir=None, systemd_unit=None,
                systemd_unit_path='/etc/systemd/system/nomad.service')


class InstallError(Exception):
    """A local step failed (paths, owners, files); the message names the file."""


def parse_mode(value):
    if isinstance(value, int):
        return value
    text = to_native(value).strip()
    if not re.match(r'^0?[0-7]{3,4}$', text):
        raise InstallError("Invalid mode '%s': expected an octal string such as '0755'" % text)
    return int(text, 8)


def resolve_owner(owner, group):
    try:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise InstallError("Invalid owner '%s': no such user" % owner)
    try:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        raise InstallError("Invalid group '%s': no such group" % group)
    return uid, gid


def installed_version(path):
    """The release ``path version`` reports, or None. A binary for another arch, a damaged file or one
    that hangs must not fail the caller: it is exactly what an install should replace. run_command
    cannot time out, hence subprocess."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return None
    try:
        proc = subprocess.run([path, 'version'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=VERSION_PROBE_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return release.parse_nomad_version(to_native(proc.stdout, errors='surrogate_or_strict'))


def read_record(path):
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (IOError, OSError, ValueError):
        # A missing or unreadable record only costs one download.
        return None
    return record if isinstance(record, dict) else None


def record_vouches(record, installed_sha, version_now, want):
    """True when the install record proves the installed binary is the one ``want`` asks for."""
    if not record or installed_sha is None:
        return False
    if version_now not in (None, want['version']):
        return False
    return (record.get('sha256') == installed_sha
            and record.get('version') == want['version']
            and record.get('os') == want['os']
            and record.get('arch') == want['arch']
            and (want['pin'] is None or record.get('zip_sha256') == want['pin']))


def wanted(params):
    """nomad_install's options as :func:`drift` compares them: os and arch detected when not given,
    the mode as a number, the checksum pin parsed."""
    return dict(version=params['version'], os=params.get('os') or release.detect_os(),
                arch=params.get('arch') or release.detect_arch(), install_dir=params['install_dir'],
                owner=params['owner'], group=params['group'], mode=parse_mode(params['mode']),
                pin=release.parse_checksum_pin(params.get('checksum')), data_dir=params.get('data_dir'),
                systemd_unit=params.get('systemd_unit'), systemd_unit_path=params['systemd_unit_path'])


def _attrs_differ(path, owner, group, mode):
    st = os.stat(path)
    uid, gid = resolve_owner(owner, group)
    return st.st_uid != uid or st.st_gid != gid or (st.st_mode & 0o7777) != mode


def drift(want, version_now=None):
    """What differs on this host from what nomad_install would leave for ``want`` (see :func:`wanted`),
    in words; empty when nothing does. ``version_now`` is what the binary reports, when the caller
    has asked it already."""
    path = os.path.join(want['install_dir'], BINARY)
    reasons = []
    installed_sha = release.sha256_file(path) if os.path.isfile(path) else None
    if version_now is None:
        version_now = installed_version(path)
    if not record_vouches(read_record(os.path.join(want['install_dir'], RECORD)), installed_sha, version_now, want):
        reasons.append('%s is not the verified Nomad %s' % (path, want['version']))
    elif _attrs_differ(path, want['owner'], want['group'], want['mode']):
        reasons.append('%s is not %s:%s %04o' % (path, want['owner'], want['group'], want['mode']))
    data_dir = want['data_dir']
    if data_dir and not os.path.isdir(data_dir):
        reasons.append('%s is missing' % data_dir)
    elif data_dir and _attrs_differ(data_dir, want['owner'], want['group'], DATA_DIR_MODE):
        reasons.append('%s is not %s:%s %04o' % (data_dir, want['owner'], want['group'], DATA_DIR_MODE))
    unit, unit_path = want['systemd_unit'], want['systemd_unit_path']
    if unit is not None:
        try:
            with open(unit_path) as handle:
                same = handle.read() == unit
        except (IOError, OSError):
            same = False
        if not same:
            reasons.append('%s differs' % unit_path)
        elif _attrs_differ(unit_path, UNIT_OWNER, UNIT_GROUP, UNIT_MODE):
            reasons.append('%s is not %s:%s %04o' % (unit_path, UNIT_OWNER, UNIT_GROUP, UNIT_MODE))
    return reasons
