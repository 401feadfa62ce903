# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""release.py: URLs, SHA256SUMS, checksum pins, downloads and signatures."""

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
import time

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils import release
from ansible_collections.nomadops.nomad.plugins.module_utils.hashicorp_keys import (
    DEFAULT_GPG_KEY,
    HASHICORP_2014_FINGERPRINT,
    HASHICORP_2014_KEY,
    HASHICORP_2021_FINGERPRINT,
    HASHICORP_2021_KEY,
)

HASHICORP_KEYS = HASHICORP_2021_KEY + HASHICORP_2014_KEY
from tests.support.release_mirror import build_mirror, sign, stop_agent, write_sums

HAVE_GPG = shutil.which('gpg') is not None
needs_gpg = pytest.mark.skipif(not HAVE_GPG, reason='gpg is not installed')


# ------------------------------------------------------------------ URLs

def test_urls_follow_the_release_site_layout():
    urls = release.release_urls('https://releases.hashicorp.com', '0.9.1', 'linux', 'amd64')
    assert urls.zip == 'https://releases.hashicorp.com/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip'
    assert urls.sums == 'https://releases.hashicorp.com/nomad/0.9.1/nomad_0.9.1_SHA256SUMS'
    assert urls.signatures == [
        'https://releases.hashicorp.com/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig',
        'https://releases.hashicorp.com/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.72D7468F.sig',
    ]
    assert urls.zip_name == 'nomad_0.9.1_linux_amd64.zip'
    assert urls.scheme == 'https'


def test_urls_strip_trailing_slashes_and_keep_file_paths():
    urls = release.release_urls('file:///srv/mirror//', '0.9.1', 'linux', 'arm64')
    assert urls.zip == 'file:///srv/mirror/nomad/0.9.1/nomad_0.9.1_linux_arm64.zip'
    assert urls.scheme == 'file'


@pytest.mark.parametrize('url', ['ftp://mirror/x', 'releases.hashicorp.com', 'file://otherhost/srv',
                                 'https://', 'https://h/x?a=b', ''])
def test_bad_releases_urls_are_refused(url):
    with pytest.raises(release.InvalidInputError):
        release.release_urls(url, '0.9.1', 'linux', 'amd64')


@pytest.mark.parametrize('version', ['../0.9.1', '0.9', '0.9.1/../x', 'v0.9.1', '0.9.1?x', ''])
def test_versions_that_could_reshape_the_url_are_refused(version):
    with pytest.raises(release.InvalidInputError, match='Invalid version'):
        release.release_urls('https://releases.hashicorp.com', version, 'linux', 'amd64')


def test_prerelease_versions_are_accepted():
    assert release.release_urls('https://r', '1.0.0-beta2', 'linux', 'amd64').zip.endswith(
        'nomad_1.0.0-beta2_linux_amd64.zip')


@pytest.mark.parametrize('machine,arch', [('x86_64', 'amd64'), ('aarch64', 'arm64'), ('armv7l', 'arm'),
                                          ('armv6l', 'arm'), ('AMD64', 'amd64')])
def test_arch_detection(machine, arch):
    assert release.detect_arch(machine) == arch


def test_unknown_arch_and_os_are_explained():
    with pytest.raises(release.InvalidInputError, match="machine type 'ppc64le'"):
        release.detect_arch('ppc64le')
    with pytest.raises(release.InvalidInputError, match="operating system 'darwin'"):
        release.detect_os('Darwin')
    assert release.detect_os('Linux') == 'linux'


# ---------------------------------------------------------- SHA256SUMS

SUMS = (
    'a' * 64 + '  nomad_0.9.1_linux_amd64.zip\n'
    + 'B' * 64 + '  nomad_0.9.1_linux_arm64.zip\n'
)


def test_sums_are_parsed_and_lower_cased():
    assert release.parse_sha256sums(SUMS, 'x') == {
        'nomad_0.9.1_linux_amd64.zip': 'a' * 64,
        'nomad_0.9.1_linux_arm64.zip': 'b' * 64,
    }


def test_sums_accept_binary_marker_and_bytes():
    assert release.parse_sha256sums(('c' * 64 + ' *f.zip\n').encode(), 'x') == {'f.zip': 'c' * 64}


@pytest.mark.parametrize('text,line', [
    ('a' * 63 + '  f.zip\n', 1),
    ('a' * 64 + '  f.zip\n' + 'a' * 64 + '\n', 2),
    ('a' * 64 + '  f.zip\n\n' + 'b' * 64 + '  g.zip\n', 2),
    ('a' * 64 + '  ../f.zip\n', 1),
    ('a' * 64 + '  f.zip trailing\n', 1),
    ('g' * 64 + '  f.zip\n', 1),
    ('a' * 64 + '  f.zip\n' + 'b' * 64 + '  f.zip\n', 2),
])
def test_malformed_sums_name_the_file_and_line(text, line):
    with pytest.raises(release.SumsFormatError) as info:
        release.parse_sha256sums(text, 'https://m/nomad_0.9.1_SHA256SUMS')
    assert info.value.line == line
    assert str(info.value).startswith('https://m/nomad_0.9.1_SHA256SUMS line %d:' % line)


def test_empty_and_binary_sums_are_errors():
    with pytest.raises(release.SumsFormatError, match='S is empty'):
        release.parse_sha256sums('', 'S')
    with pytest.raises(release.SumsFormatError, match='non-ASCII'):
        release.parse_sha256sums(b'\x89PNG\r\n', 'S')


# ---------------------------------------------------------- checksums

def test_checksum_pin_parsing():
    assert release.parse_checksum_pin(None) is None
    assert release.parse_checksum_pin('sha256:' + 'AB' * 32) == 'ab' * 32
    for bad in ('ab' * 32, 'sha256:' + 'ab' * 31, 'md5:' + 'ab' * 16, 'sha256:' + 'zz' * 32):
        with pytest.raises(release.InvalidInputError, match='Invalid checksum'):
            release.parse_checksum_pin(bad)


def test_zip_checksum_must_match_sums_and_pin():
    urls = release.release_urls('https://m', '0.9.1', 'linux', 'amd64')
    sums = release.parse_sha256sums(SUMS, urls.sums)
    assert release.check_zip_checksum('a' * 64, urls, sums) == 'a' * 64
    assert release.check_zip_checksum('a' * 64, urls, sums, pin='a' * 64) == 'a' * 64
    with pytest.raises(release.ChecksumError, match='sha256 mismatch for https://m/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip: '
                                                    'downloaded c+, nomad_0.9.1_SHA256SUMS says a+'):
        release.check_zip_checksum('c' * 64, urls, sums)
    with pytest.raises(release.ChecksumError, match='checksum pins d+'):
        release.check_zip_checksum('a' * 64, urls, sums, pin='d' * 64)
    arm = release.release_urls('https://m', '0.9.1', 'linux', 'arm')
    with pytest.raises(release.ChecksumError, match='has no line for nomad_0.9.1_linux_arm.zip'):
        release.check_zip_checksum('a' * 64, arm, sums)


def test_nomad_version_output_is_parsed():
    assert release.parse_nomad_version('Nomad v0.9.1 (4b2bdbd9ab68a27b10c2ee781cceaaf62e114399)\n') == '0.9.1'
    assert release.parse_nomad_version('Nomad v1.0.0-beta2 (x)') == '1.0.0-beta2'
    assert release.parse_nomad_version('Terraform v0.9.1') is None
    assert release.parse_nomad_version('') is None


# ---------------------------------------------------------- downloads

class _Handler(http.server.BaseHTTPRequestHandler):
    body = b'x' * 100000

    def do_GET(self):  # noqa: N802 - the http.server API
        if self.path == '/missing':
            self.send_error(404)
            return
        if self.path == '/error':
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(self.body)))
        self.end_headers()
        if self.path == '/stall':
            self.wfile.write(self.body[:1000])
            self.wfile.flush()
            time.sleep(3)
            return
        if self.path == '/short':
            self.wfile.write(self.body[:1000])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_http_fetch_reports_size_and_digest(server, tmp_path):
    size, digest = release.fetch(server + '/ok', str(tmp_path / 'f'), timeout=5)
    assert size == 100000
    assert digest == hashlib.sha256(_Handler.body).hexdigest()
    assert (tmp_path / 'f').read_bytes() == _Handler.body


def test_http_404_is_not_found(server, tmp_path):
    with pytest.raises(release.NotFoundError, match=r'/missing: 404 Not Found'):
        release.fetch(server + '/missing', str(tmp_path / 'f'), timeout=5)


def test_http_error_status_is_named(server, tmp_path):
    with pytest.raises(release.DownloadError, match=r'/error: HTTP 503'):
        release.fetch(server + '/error', str(tmp_path / 'f'), timeout=5)


def test_truncated_body_is_detected(server, tmp_path):
    with pytest.raises(release.TruncatedDownloadError, match=r'Truncated download of .*/short'):
        release.fetch(server + '/short', str(tmp_path / 'f'), timeout=5)


def test_stalled_body_times_out(server, tmp_path):
    with pytest.raises(release.DownloadError, match=r'/stall: the download stalled for more than 1 seconds'):
        release.fetch(server + '/stall', str(tmp_path / 'f'), timeout=1)


def test_unreachable_mirror_is_named(tmp_path):
    # Bind then close a port so nothing listens on it.
    import socket
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    url = 'http://127.0.0.1:%d/nomad' % port
    with pytest.raises(release.DownloadError, match='Failed to fetch %s: mirror unreachable' % url):
        release.fetch(url, str(tmp_path / 'f'), timeout=5)


def test_small_file_limit(server, tmp_path, monkeypatch):
    monkeypatch.setattr(release, 'MAX_SMALL_FILE', 10)
    with pytest.raises(release.DownloadError, match='Refusing'):
        release.fetch_bytes(server + '/ok', str(tmp_path))
    assert os.listdir(str(tmp_path)) == []


def test_file_urls(tmp_path):
    (tmp_path / 'a b').write_bytes(b'hello')
    size, digest = release.fetch('file://%s/a%%20b' % tmp_path, str(tmp_path / 'out'))
    assert (size, digest) == (5, hashlib.sha256(b'hello').hexdigest())
    with pytest.raises(release.NotFoundError, match='no such file'):
        release.fetch('file://%s/nope' % tmp_path, str(tmp_path / 'out'))


def test_http_without_requests_is_a_missing_library(monkeypatch, tmp_path):
    monkeypatch.setattr(release, 'HAS_REQUESTS', False)
    with pytest.raises(release.MissingLibraryError, match='requests'):
        release.fetch('https://releases.hashicorp.com/x', str(tmp_path / 'f'))


# ---------------------------------------------------------- keys

def _primary_fingerprints(armored, tmp_path):
    packets = release.dearmor(armored)
    assert packets[:1] in (b'\x99', b'\xc6')  # a public-key packet
    if not HAVE_GPG:
        pytest.skip('gpg is not installed')
    home = tmp_path / 'home'
    home.mkdir(mode=0o700, exist_ok=True)
    keyring = tmp_path / 'k.gpg'
    keyring.write_bytes(packets)
    out = subprocess.run(['gpg', '--homedir', str(home), '--with-colons', '--show-keys', str(keyring)],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()
    primaries, take = [], False
    for line in out.splitlines():
        if line.startswith('pub:'):
            take = True
        elif line.startswith('fpr:') and take:
            primaries.append(line.split(':')[9])
            take = False
        elif line.startswith('sub:'):
            take = False
    return primaries


def test_bundled_keys_have_hashicorps_published_fingerprints(tmp_path):
    assert _primary_fingerprints(HASHICORP_2021_KEY, tmp_path) == [HASHICORP_2021_FINGERPRINT]
    assert _primary_fingerprints(HASHICORP_2014_KEY, tmp_path) == [HASHICORP_2014_FINGERPRINT]


def test_only_the_current_key_is_trusted_by_default(tmp_path):
    # The 2014 key's private half was exposed (HCSEC-2021-12); trusting it by
    # default would let anyone holding it sign a SHA256SUMS we accept.
    assert _primary_fingerprints(DEFAULT_GPG_KEY, tmp_path) == ['C874011F0AB405110D02105534365D9472D7468F']


def test_damaged_armor_is_caught_by_its_checksum():
    lines = HASHICORP_KEYS.splitlines()
    lines[3] = lines[3][:10] + ('A' if lines[3][10] != 'A' else 'B') + lines[3][11:]
    with pytest.raises(release.KeyMaterialError, match='armor checksum mismatch'):
        release.dearmor('\n'.join(lines))


def test_text_without_a_key_block_is_refused():
    with pytest.raises(release.KeyMaterialError, match='no "-----BEGIN PGP PUBLIC KEY BLOCK-----"'):
        release.dearmor('just a path that does not exist', source='gpg_key')


# ---------------------------------------------------------- signatures

@pytest.fixture(scope='module')
def signed(tmp_path_factory):
    """A mirror signed by a throwaway key, plus that key's GNUPGHOME for re-signing."""
    if not HAVE_GPG:
        pytest.skip('gpg is not installed')
    root = tmp_path_factory.mktemp('mirror')
    binary = root / 'nomad-bin'
    binary.write_text('#!/bin/sh\necho "Nomad v0.9.1 (test)"\n')
    binary.chmod(0o755)
    home = tmp_path_factory.mktemp('gpghome')
    mirror = build_mirror(str(binary), '0.9.1', str(root / 'out'), gnupghome=str(home))
    yield mirror
    stop_agent(str(home))


VERIFIERS = [name for name in ('gpgv', 'gpg') if shutil.which(name)]


@pytest.mark.parametrize('kind', VERIFIERS)
def test_good_signature_returns_the_signer(signed, kind):
    keys = release.dearmor(signed.public_key)
    assert release.verify_signature(signed.sums_path, signed.sig_path, keys,
                                    (kind, shutil.which(kind))) == signed.fingerprint


@pytest.mark.parametrize('kind', VERIFIERS)
def test_signature_by_a_key_not_trusted_is_refused(signed, kind):
    with pytest.raises(release.SignatureError, match='signed by key [0-9A-F]{16}, which is not in gpg_key'):
        release.verify_signature(signed.sums_path, signed.sig_path, release.dearmor(HASHICORP_KEYS),
                                 (kind, shutil.which(kind)), data_name='SUMS', sig_name='SUMS.sig')


@pytest.mark.parametrize('kind', VERIFIERS)
def test_tampered_sums_fail_the_signature(signed, kind, tmp_path):
    tampered = tmp_path / 'SUMS'
    text = open(signed.sums_path).read()
    tampered.write_text(text.replace(text[0], '0' if text[0] != '0' else '1', 1))
    with pytest.raises(release.SignatureError, match='Signature check of SUMS with SUMS.sig failed: BAD signature'):
        release.verify_signature(str(tampered), signed.sig_path, release.dearmor(signed.public_key),
                                 (kind, shutil.which(kind)), data_name='SUMS', sig_name='SUMS.sig')


def test_garbage_signature_is_refused(signed):
    with pytest.raises(release.SignatureError, match='not an OpenPGP signature'):
        release.verify_signature(signed.sums_path, signed.sums_path, release.dearmor(signed.public_key),
                                 ('gpgv', shutil.which('gpgv') or shutil.which('gpg')),
                                 sig_name='SUMS.sig')


def test_resigned_sums_verify_again(signed, tmp_path):
    """A mirror operator who re-signs after changing SUMS is trusted again: the key is what matters."""
    directory = tmp_path / 'v'
    directory.mkdir()
    shutil.copy(signed.zip_path, str(directory))
    sums = write_sums(str(directory), '0.9.1')
    sig = sign(sums, signed.gnupghome, signed.fingerprint)
    verifier = release.find_verifier()
    assert release.verify_signature(sums, sig, release.dearmor(signed.public_key), verifier) == signed.fingerprint


def test_no_verifier_is_a_clear_error(signed):
    assert release.find_verifier(which=lambda name: None) is None
    with pytest.raises(release.VerifierUnavailableError, match='neither gpgv nor gpg is installed'):
        release.verify_signature(signed.sums_path, signed.sig_path, b'', None, sig_name='S.sig')


def test_gpg_is_the_fallback_when_gpgv_is_absent():
    found = release.find_verifier(which=lambda name: '/bin/' + name if name == 'gpg' else None)
    assert found == ('gpg', '/bin/gpg')
    assert release.find_verifier(which=lambda name: '/bin/' + name) == ('gpgv', '/bin/gpgv')


def test_verification_leaves_no_temp_dirs(signed, tmp_path, monkeypatch):
    monkeypatch.setattr(release.tempfile, 'tempdir', str(tmp_path))
    release.verify_signature(signed.sums_path, signed.sig_path, release.dearmor(signed.public_key),
                             release.find_verifier())
    with pytest.raises(release.SignatureError):
        release.verify_signature(signed.sums_path, signed.sig_path, release.dearmor(HASHICORP_KEYS),
                                 release.find_verifier())
    assert os.listdir(str(tmp_path)) == []


def _gpg(home, *args):
    return subprocess.run(['gpg', '--homedir', home, '--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback',
                           '--passphrase', ''] + list(args),
                          check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


@pytest.fixture
def gpg_home(tmp_path):
    home = tmp_path / 'home'
    home.mkdir(mode=0o700)
    yield str(home)
    stop_agent(str(home))


@needs_gpg
@pytest.mark.parametrize('kind', VERIFIERS)
def test_signature_made_before_the_key_expired_still_verifies(gpg_home, tmp_path, kind):
    """As gpg itself holds: old releases stay verifiable after their key expires."""
    data = tmp_path / 'SUMS'
    data.write_text('a' * 64 + '  f.zip\n')
    _gpg(gpg_home, '--faked-system-time', '20200101T000000', '--quick-gen-key', 'Old <old@example.invalid>',
         'ed25519', 'sign', '1y')
    _gpg(gpg_home, '--faked-system-time', '20200601T000000', '--detach-sign', '-o', str(data) + '.sig', str(data))
    keys = release.dearmor(_gpg(gpg_home, '--armor', '--export').decode())
    assert release.verify_signature(str(data), str(data) + '.sig', keys, (kind, shutil.which(kind)))


@needs_gpg
@pytest.mark.parametrize('kind', VERIFIERS)
def test_signature_by_a_revoked_key_is_refused(gpg_home, tmp_path, kind):
    data = tmp_path / 'SUMS'
    data.write_text('a' * 64 + '  f.zip\n')
    _gpg(gpg_home, '--quick-gen-key', 'Gone <gone@example.invalid>', 'ed25519', 'sign', 'never')
    _gpg(gpg_home, '--detach-sign', '-o', str(data) + '.sig', str(data))
    revocs = os.path.join(gpg_home, 'openpgp-revocs.d')
    with open(os.path.join(revocs, os.listdir(revocs)[0])) as handle:
        # gpg stores the certificate with its first line escaped against accidental import.
        certificate = handle.read().replace(':-----BEGIN', '-----BEGIN')
    cert_path = tmp_path / 'rev.asc'
    cert_path.write_text(certificate)
    _gpg(gpg_home, '--import', str(cert_path))
    keys = release.dearmor(_gpg(gpg_home, '--armor', '--export').decode())
    with pytest.raises(release.SignatureError, match='signed by a revoked key'):
        release.verify_signature(str(data), str(data) + '.sig', keys, (kind, shutil.which(kind)))
