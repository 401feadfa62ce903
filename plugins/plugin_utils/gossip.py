# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Gossip (serf) encryption keys, kept in one file on the controller."""

from __future__ import annotations

import base64
import binascii
import os

from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files

# `nomad operator keygen` in 0.9.1 makes 16 bytes; memberlist, which does the
# actual encryption, accepts AES-128/192/256 keys.
GENERATED_KEY_BYTES = 16
ACCEPTED_KEY_BYTES = (16, 24, 32)


class GossipKeyError(Exception):
    pass


def generate_key():
    return base64.b64encode(os.urandom(GENERATED_KEY_BYTES)).decode('ascii')


def validate_key(key, source):
    """Return ``key`` stripped, or raise naming ``source`` (never the key)."""
    text = (key or '').strip()
    if not text:
        raise GossipKeyError('gossip key from %s is empty' % source)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise GossipKeyError('gossip key from %s is not valid base64' % source)
    if len(raw) not in ACCEPTED_KEY_BYTES:
        raise GossipKeyError(
            'gossip key from %s decodes to %d bytes; Nomad needs 16, 24 or 32 '
            '(generate one with `nomad operator keygen`)' % (source, len(raw)))
    return text


def ensure_key(path, key=None, regenerate=False, check_mode=False, mode=0o600):
    """Make ``path`` hold a valid gossip key.

    ``key`` given: store that key. Otherwise keep the stored key, or generate
    one when there is none (or ``regenerate``). Returns ``(key, changed)``;
    in check mode a would-be generated key is returned as None.
    """
    path = secret_files.expand(path)
    with secret_files.locked(path):
        stored = secret_files.read_text(path)
        if key is not None:
            wanted = validate_key(key, 'the key parameter')
        elif stored is not None and not regenerate:
            wanted = validate_key(stored, path)
        else:
            wanted = None if check_mode else generate_key()

        content_changed = stored is None or wanted is None or stored.strip() != wanted
        mode_changed = not content_changed and secret_files.file_mode(path) != mode
        if check_mode:
            return wanted, content_changed or mode_changed
        if content_changed:
            secret_files.write_private(path, wanted + '\n', mode)
        elif mode_changed:
            secret_files.ensure_mode(path, mode)
        return wanted, content_changed or mode_changed
