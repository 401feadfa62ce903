# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build a release mirror laid out exactly like releases.hashicorp.com.

::

    <out>/nomad/<version>/nomad_<version>_<os>_<arch>.zip     (one entry: nomad, mode 0755)
    <out>/nomad/<version>/nomad_<version>_SHA256SUMS           (<sha256>  <file name>, every zip there)
    <out>/nomad/<version>/nomad_<version>_SHA256SUMS.sig       (detached binary signature)
    <out>/release-key.asc                                      (the armored public key)

The signature is made by a throwaway key generated in a temporary GNUPGHOME,
so ``nomad_install`` can verify it with ``gpg_key=<out>/release-key.asc``.

Python::

    from tests.support.release_mirror import build_mirror
    mirror = build_mirror('/path/to/nomad', '0.9.1', out_dir)
    mirror.url            # file:///.../out  -> releases_url
    mirror.public_key     # armored key text -> gpg_key
    mirror.zip_sha256     # -> checksum="sha256:" + ...

Shell (prints the same fields as JSON)::

    python tests/support/release_mirror.py --binary PATH --version 0.9.1 --out DIR

Needs only the ``gpg`` command. The gpg-agent that key generation starts is
stopped before :func:`build_mirror` returns.
"""

from __future__ import absolute_import, division, print_function

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

__all__ = ['Mirror', 'build_mirror', 'generate_key', 'make_zip', 'sign', 'stop_agent', 'write_sums']

DEFAULT_UID = 'Nomad Test Release Signing <release-test@example.invalid>'
PUBLIC_KEY_NAME = 'release-key.asc'


class Mirror(object):
    """What :func:`build_mirror` made. All paths are absolute."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def as_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        return 'Mirror(%s)' % ', '.join('%s=%r' % item for item in sorted(self.__dict__.items()))


def _gpg(home, *args, **kwargs):
    cmd = ['gpg', '--homedir', home, '--batch', '--no-tty', '--quiet'] + list(args)
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs).stdout


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(65536), b''):
            digest.update(chunk)
    return digest.hexdigest()


def generate_key(home, uid=DEFAULT_UID, algo='ed25519'):
    """Create a passphrase-less signing key in ``home``; return its fingerprint.

    Reuses the first secret key already in ``home``.
    """
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o700)
    listing = _gpg(home, '--with-colons', '--list-secret-keys').decode()
    if 'sec:' not in listing:
        _gpg(home, '--passphrase', '', '--quick-gen-key', uid, algo, 'sign', 'never')
        listing = _gpg(home, '--with-colons', '--list-secret-keys').decode()
    for line in listing.splitlines():
        if line.startswith('fpr:'):
            return line.split(':')[9]
    raise RuntimeError('gpg made no secret key in %s' % home)


def stop_agent(home):
    """Stop the gpg-agent that gpg started for ``home`` (harmless if none runs)."""
    subprocess.run(['gpgconf', '--homedir', home, '--kill', 'gpg-agent'],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def sign(path, home, fingerprint=None, suffix='.sig'):
    """Write a detached binary signature of ``path`` to ``path + suffix``; return that path."""
    out = path + suffix
    args = ['--yes', '--pinentry-mode', 'loopback', '--passphrase', '']
    if fingerprint:
        args += ['--local-user', fingerprint]
    _gpg(home, *(args + ['--detach-sign', '--output', out, path]))
    return out


def make_zip(binary, zip_path, entry='nomad'):
    """Zip ``binary`` as ``entry`` with mode 0755 recorded, as HashiCorp's zips do."""
    info = zipfile.ZipInfo(entry, date_time=(2019, 5, 2, 0, 0, 0))
    info.create_system = 3  # unix, so external_attr's high half is a st_mode
    info.external_attr = (0o100755 & 0xFFFF) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, 'rb') as handle:
        data = handle.read()
    with zipfile.ZipFile(zip_path, 'w') as archive:
        archive.writestr(info, data)
    return zip_path


def write_sums(directory, version, product='nomad'):
    """(Re)write ``<product>_<version>_SHA256SUMS`` for every zip in ``directory``; return its path."""
    names = sorted(name for name in os.listdir(directory) if name.endswith('.zip'))
    path = os.path.join(directory, '%s_%s_SHA256SUMS' % (product, version))
    with open(path, 'w') as handle:
        for name in names:
            handle.write('%s  %s\n' % (_sha256(os.path.join(directory, name)), name))
    return path


def build_mirror(binary, version, out, os_name='linux', arch='amd64', gnupghome=None, sig_suffix='.sig'):
    """Build (or add a platform to) a release mirror in ``out``; return a :class:`Mirror`.

    ``gnupghome``: a directory holding the signing key, kept for later
    :func:`sign` calls (the caller then calls :func:`stop_agent`). When None,
    a temporary one is made and removed before returning.
    ``sig_suffix``: ``.sig`` or ``.72D7468F.sig``, the two names HashiCorp uses.
    """
    out = os.path.abspath(out)
    directory = os.path.join(out, 'nomad', version)
    os.makedirs(directory, exist_ok=True)
    zip_path = make_zip(binary, os.path.join(directory, 'nomad_%s_%s_%s.zip' % (version, os_name, arch)))
    sums_path = write_sums(directory, version)
    own_home = gnupghome is None
    home = tempfile.mkdtemp(prefix='mirror-gpg.') if own_home else os.path.abspath(gnupghome)
    try:
        fingerprint = generate_key(home)
        sig_path = sign(sums_path, home, fingerprint, suffix=sig_suffix)
        public_key = _gpg(home, '--armor', '--export', fingerprint).decode()
    finally:
        if own_home:
            stop_agent(home)
            shutil.rmtree(home, ignore_errors=True)
    key_path = os.path.join(out, PUBLIC_KEY_NAME)
    with open(key_path, 'w') as handle:
        handle.write(public_key)
    return Mirror(
        root=out,
        url='file://' + out,
        version=version,
        os=os_name,
        arch=arch,
        directory=directory,
        zip_path=zip_path,
        sums_path=sums_path,
        sig_path=sig_path,
        public_key_path=key_path,
        public_key=public_key,
        fingerprint=fingerprint,
        zip_sha256=_sha256(zip_path),
        binary_sha256=_sha256(binary),
        gnupghome=None if own_home else home,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--binary', required=True, help='the executable to publish as nomad')
    parser.add_argument('--version', required=True, help='release version, e.g. 0.9.1')
    parser.add_argument('--out', required=True, help='mirror root (created if missing)')
    parser.add_argument('--os', default='linux', dest='os_name')
    parser.add_argument('--arch', default='amd64')
    parser.add_argument('--sig-suffix', default='.sig', choices=['.sig', '.72D7468F.sig'])
    parser.add_argument('--gnupghome', help='keep the signing key here, so that several releases share it '
                                            '(the caller stops its gpg-agent)')
    args = parser.parse_args(argv)
    mirror = build_mirror(args.binary, args.version, args.out, os_name=args.os_name, arch=args.arch,
                          gnupghome=args.gnupghome, sig_suffix=args.sig_suffix)
    fields = mirror.as_dict()
    del fields['public_key']
    json.dump(fields, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
