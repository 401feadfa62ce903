# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Controller-side helpers for files that hold secrets.

Secrets are written so that no other user can ever read them, not even for
the instant between create and chmod: the file is opened with its final mode
and moved into place atomically, so a reader sees the old content or the
new, never half a key.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile


class SecretFileError(Exception):
    """A secret file or its directory cannot be read or written safely."""

    def __init__(self, path, message):
        super().__init__('%s: %s' % (path, message))
        self.path = path
        self.message = message


def expand(path):
    return os.path.abspath(os.path.expanduser(path))


def ensure_private_dir(path, mode=0o700):
    """Create ``path`` (and parents) with ``mode``; leave existing dirs alone.

    Existing directories keep their mode because a user may share one on
    purpose; only the files inside are our business.
    """
    try:
        os.makedirs(path, mode=mode, exist_ok=True)
    except OSError as exc:
        raise SecretFileError(path, 'cannot create directory: %s' % exc.strerror)


def read_text(path):
    """Return the file's text, or None when it does not exist."""
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read()
    except IOError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise SecretFileError(path, 'cannot read: %s' % exc.strerror)


def file_mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def write_private(path, data, mode=0o600):
    """Atomically replace ``path`` with ``data`` (str or bytes), mode ``mode``."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    directory = os.path.dirname(path) or '.'
    ensure_private_dir(directory)
    try:
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    except OSError as exc:
        raise SecretFileError(path, 'cannot write: %s' % exc.strerror)
    try:
        # mkstemp already creates 0600; fchmod makes a wider requested mode
        # (certificates) explicit without a window of wider access.
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SecretFileError(path, 'cannot write: %s' % exc.strerror)


def ensure_mode(path, mode):
    """chmod ``path`` to ``mode`` when it differs; return True on change."""
    current = file_mode(path)
    if current is None or current == mode:
        return False
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise SecretFileError(path, 'cannot chmod: %s' % exc.strerror)
    return True


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on the directory that holds ``path``.

    Ansible runs one worker process per host, so several hosts may ask for
    the same CA or key at the same moment; the lock makes exactly one of
    them create it and the others read what it wrote. Locking the directory
    rather than a side file leaves nothing behind.
    """
    directory = os.path.dirname(path) or '.'
    ensure_private_dir(directory)
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise SecretFileError(directory, 'cannot open directory for locking: %s' % exc.strerror)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
