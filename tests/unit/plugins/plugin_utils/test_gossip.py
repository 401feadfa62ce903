# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Gossip key file on the controller: generated once, kept, 0600, validated."""

import base64
import os
import stat
import threading

import pytest

from ansible_collections.nomadops.nomad.plugins.plugin_utils import gossip


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generated_key_is_16_random_bytes_base64():
    keys = {gossip.generate_key() for dummy in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(base64.b64decode(key, validate=True)) == 16


def test_first_run_creates_file_0600_in_private_dir(tmp_path):
    path = tmp_path / 'cluster' / 'gossip.key'
    key, changed = gossip.ensure_key(str(path))
    assert changed is True
    assert path.read_text().strip() == key
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert os.listdir(path.parent) == ['gossip.key']  # no temp or lock files left


def test_second_run_returns_the_same_key_unchanged(tmp_path):
    path = str(tmp_path / 'gossip.key')
    first = gossip.ensure_key(path)[0]
    second, changed = gossip.ensure_key(path)
    assert (second, changed) == (first, False)


def test_wrong_mode_is_repaired_without_changing_the_key(tmp_path):
    path = str(tmp_path / 'gossip.key')
    first = gossip.ensure_key(path)[0]
    os.chmod(path, 0o644)
    second, changed = gossip.ensure_key(path)
    assert changed is True and second == first and mode(path) == 0o600


def test_check_mode_writes_nothing(tmp_path):
    path = tmp_path / 'gossip.key'
    key, changed = gossip.ensure_key(str(path), check_mode=True)
    assert (key, changed) == (None, True)
    assert not path.exists()


def test_regenerate_replaces_the_key(tmp_path):
    path = str(tmp_path / 'gossip.key')
    first = gossip.ensure_key(path)[0]
    second, changed = gossip.ensure_key(path, regenerate=True)
    assert changed is True and second != first


def test_supplied_key_is_stored_and_then_unchanged(tmp_path):
    path = str(tmp_path / 'gossip.key')
    supplied = base64.b64encode(b'k' * 32).decode()
    assert gossip.ensure_key(path, key=supplied) == (supplied, True)
    assert gossip.ensure_key(path, key=supplied) == (supplied, False)


@pytest.mark.parametrize('bad, needle', [
    ('', 'is empty'),
    ('not base64!', 'not valid base64'),
    (base64.b64encode(b'x' * 10).decode(), 'decodes to 10 bytes'),
])
def test_bad_supplied_key_fails_without_echoing_it(tmp_path, bad, needle):
    path = tmp_path / 'gossip.key'
    with pytest.raises(gossip.GossipKeyError) as err:
        gossip.ensure_key(str(path), key=bad)
    assert needle in str(err.value)
    assert 'the key parameter' in str(err.value)
    if bad.strip():
        assert bad not in str(err.value)
    assert not path.exists()


def test_corrupt_stored_key_names_the_file_and_is_not_replaced(tmp_path):
    path = tmp_path / 'gossip.key'
    path.write_text('garbage\n')
    with pytest.raises(gossip.GossipKeyError) as err:
        gossip.ensure_key(str(path))
    assert str(path) in str(err.value)
    assert path.read_text() == 'garbage\n'


def test_concurrent_first_runs_agree_on_one_key(tmp_path):
    path = str(tmp_path / 'gossip.key')
    results = []

    def run():
        results.append(gossip.ensure_key(path)[0])

    threads = [threading.Thread(target=run) for dummy in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert open(path).read().strip() == results[0]
