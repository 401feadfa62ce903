# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""snapshot.inspect_snapshot: the archive layout a real Nomad writes
(tests/recordings/nomad-*/deployments.json lists its members and meta.json),
its sums checked as `nomad operator snapshot inspect` checks them."""

import hashlib
import io
import json
import os
import tarfile

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils.snapshot import SnapshotError, inspect_snapshot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def recorded_archive(release):
    with open(os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % release, 'deployments.json')) as f:
        return next(e['archive'] for e in json.load(f)['exchanges'] if 'archive' in e)


def write(path, files, sums=None):
    if sums is None:
        sums = ''.join('%s  %s\n' % (hashlib.sha256(files[n]).hexdigest(), n) for n in ('meta.json', 'state.bin')
                       if n in files)
    files = dict(files, SHA256SUMS=sums.encode())
    with tarfile.open(str(path), mode='w:gz') as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.mark.parametrize('release', ['1.1.0', '1.6.5'])
def test_the_recorded_layout_is_read(tmp_path, release):
    recorded = recorded_archive(release)
    assert recorded['members'] == ['meta.json', 'state.bin', 'SHA256SUMS']
    meta = json.dumps(recorded['meta']).encode()
    path = write(tmp_path / 'ok.snap', {'meta.json': meta, 'state.bin': b'\x00' * 100})
    found = inspect_snapshot(path)
    assert found['index'] == recorded['meta']['Index'] and found['term'] == recorded['meta']['Term']


def test_a_changed_state_is_damage(tmp_path):
    meta = json.dumps(recorded_archive('1.1.0')['meta']).encode()
    good = hashlib.sha256(b'state').hexdigest()
    sums = '%s  meta.json\n%s  state.bin\n' % (hashlib.sha256(meta).hexdigest(), good)
    path = write(tmp_path / 'bad.snap', {'meta.json': meta, 'state.bin': b'other state'}, sums=sums)
    with pytest.raises(SnapshotError, match='is damaged: the SHA-256 of state.bin'):
        inspect_snapshot(path)


def test_not_gzip_and_missing_members(tmp_path):
    junk = tmp_path / 'junk.snap'
    junk.write_bytes(b'not a snapshot')
    with pytest.raises(SnapshotError, match='not a readable Nomad snapshot'):
        inspect_snapshot(str(junk))
    path = write(tmp_path / 'half.snap', {'meta.json': b'{"Index": 3}'})
    with pytest.raises(SnapshotError, match='it has no state.bin'):
        inspect_snapshot(path)
