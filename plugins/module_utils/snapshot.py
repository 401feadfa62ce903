# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nomad snapshot archives, checked the way `nomad operator snapshot inspect`
reads them: a gzipped tar of meta.json (the raft snapshot's metadata),
state.bin (the state store) and SHA256SUMS, whose sums must match. Standard
library only: it runs on the managed host and on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import tarfile
import zlib

MEMBERS = ('meta.json', 'state.bin', 'SHA256SUMS')


class SnapshotError(Exception):
    """The file is not a Nomad snapshot, or it is damaged."""


def inspect_snapshot(path):
    """Verify the archive at ``path``; return its metadata as
    ``dict(index, term, id, size, version)``. Raises SnapshotError."""
    sums = {}
    digests = {}
    meta = None
    try:
        with tarfile.open(path, mode='r:gz') as archive:
            for member in archive:
                if not member.isfile():
                    continue
                handle = archive.extractfile(member)
                digest = hashlib.sha256()
                data = b''
                while True:
                    chunk = handle.read(1 << 16)
                    if not chunk:
                        break
                    digest.update(chunk)
                    if member.name != 'state.bin':
                        data += chunk
                digests[member.name] = digest.hexdigest()
                if member.name == 'meta.json':
                    meta = json.loads(data.decode('utf-8'))
                elif member.name == 'SHA256SUMS':
                    for line in data.decode('utf-8').splitlines():
                        if line.strip():
                            value, name = line.split(None, 1)
                            sums[name.strip()] = value
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError, UnicodeDecodeError) as e:
        raise SnapshotError('%s is not a readable Nomad snapshot (a gzipped tar archive): %s' % (path, e))
    missing = [m for m in MEMBERS if m not in digests]
    if missing:
        raise SnapshotError('%s is not a Nomad snapshot: it has no %s' % (path, ' and no '.join(missing)))
    for name in ('meta.json', 'state.bin'):
        if sums.get(name) != digests[name]:
            raise SnapshotError('%s is damaged: the SHA-256 of %s is %s, SHA256SUMS says %s' % (
                path, name, digests[name], sums.get(name) or 'nothing'))
    if not isinstance(meta, dict) or not isinstance(meta.get('Index'), int):
        raise SnapshotError('%s is not a Nomad snapshot: meta.json has no raft index' % path)
    return dict(index=meta['Index'], term=meta.get('Term'), id=meta.get('ID'), size=meta.get('Size'),
                version=meta.get('Version'))


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b''):
            digest.update(chunk)
    return digest.hexdigest()
