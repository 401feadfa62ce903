# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nomad release files: where they live, how to fetch them, how to trust them.

Everything here is pure except :func:`fetch` (the download) and
:func:`verify_signature` (which runs ``gpgv`` or ``gpg``). Failures raise
:class:`ReleaseError` subclasses whose message names the URL or file and the
cause; the module decides what a failure means and is the only caller of
``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
import traceback

from urllib.parse import unquote, urlsplit

from ansible_collections.nomadops.nomad.plugins.module_utils.versions import release_version, version_from_cli

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - exercised through the module's missing_required_lib path
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_RELEASES_URL = 'https://releases.hashicorp.com'
PRODUCT = 'nomad'
SUPPORTED_SCHEMES = ('http', 'https', 'file')

# The signature file names HashiCorp publishes, in the order they are tried:
# the plain .sig, then the one it has issued (for old releases too) since the
# April 2021 key rotation.
SIGNATURE_SUFFIXES = ('.sig', '.72D7468F.sig')

# SHA256SUMS and signatures are tiny; refusing anything larger keeps a hostile
# mirror from making us buffer a huge body in memory.
MAX_SMALL_FILE = 1024 * 1024
CHUNK = 64 * 1024

_SUMS_LINE_RE = re.compile(r'^([0-9a-fA-F]{64}) [ *]([^\s/\\]+)$')
_PIN_RE = re.compile(r'^sha256:([0-9a-fA-F]{64})$')

# platform.machine() spellings -> the arch names in HashiCorp's file names.
_ARCH_ALIASES = {
    'x86_64': 'amd64',
    'amd64': 'amd64',
    'aarch64': 'arm64',
    'arm64': 'arm64',
    'armv6l': 'arm',
    'armv7l': 'arm',
    'armv7': 'arm',
    'armv6': 'arm',
    'arm': 'arm',
}
SUPPORTED_ARCHES = ('amd64', 'arm64', 'arm')
SUPPORTED_OSES = ('linux',)


class ReleaseError(Exception):
    """A release could not be fetched or trusted. ``url`` names the file."""

    def __init__(self, message, url=None):
        super(ReleaseError, self).__init__(message)
        self.message = message
        self.url = url

    def __str__(self):
        return self.message


class InvalidInputError(ReleaseError):
    """A parameter cannot be used (version, os, arch, URL, checksum pin)."""


class DownloadError(ReleaseError):
    """The mirror could not be reached or answered with an error."""


class NotFoundError(DownloadError):
    """The mirror has no such file (HTTP 404, or no such local file).

    ``reason`` is the short cause, ``404 Not Found`` or ``no such file``.
    """

    def __init__(self, message, url=None, reason='404 Not Found'):
        super(NotFoundError, self).__init__(message, url=url)
        self.reason = reason


class TruncatedDownloadError(DownloadError):
    """Fewer bytes arrived than the server announced."""


class MissingLibraryError(ReleaseError):
    """An http(s) URL was given but the requests library is not installed."""


class SumsFormatError(ReleaseError):
    """A SHA256SUMS file has a line that is not ``<sha256>  <filename>``."""

    def __init__(self, message, url=None, line=None):
        super(SumsFormatError, self).__init__(message, url=url)
        self.line = line


class ChecksumError(ReleaseError):
    """A file's sha256 differs from SHA256SUMS or from the pin."""


class SignatureError(ReleaseError):
    """The signature of SHA256SUMS is missing, bad, or made by an unknown key."""


class VerifierUnavailableError(SignatureError):
    """Signature verification was requested but neither gpgv nor gpg exists."""


class KeyMaterialError(SignatureError):
    """The gpg_key text is not a usable OpenPGP public key."""


class ArchiveError(ReleaseError):
    """The zip is unreadable or holds no ``nomad`` entry."""


# ---------------------------------------------------------------- names & URLs

def detect_os(system=None):
    """Return HashiCorp's OS name for this host (``linux``)."""
    name = (system if system is not None else platform.system()).lower()
    if name not in SUPPORTED_OSES:
        raise InvalidInputError(
            "Cannot install Nomad on operating system '%s': supported are %s; set os explicitly"
            % (name, ', '.join(SUPPORTED_OSES)))
    return name


def detect_arch(machine=None):
    """Map ``platform.machine()`` (e.g. ``x86_64``, ``aarch64``, ``armv7l``) to amd64/arm64/arm."""
    raw = machine if machine is not None else platform.machine()
    arch = _ARCH_ALIASES.get(raw.lower())
    if arch is None:
        raise InvalidInputError(
            "Cannot map machine type '%s' to a Nomad release architecture (%s); set arch explicitly"
            % (raw, ', '.join(SUPPORTED_ARCHES)))
    return arch


def check_version(version):
    """Refuse version strings that could reshape the URL (``../``, ``?`` and the like)."""
    try:
        return release_version(version)
    except ValueError:
        raise InvalidInputError(
            "Invalid version '%s': expected MAJOR.MINOR.PATCH such as 0.9.1" % (version,))


class ReleaseURLs(object):
    """The URLs and file names of one release build."""

    def __init__(self, releases_url, version, os_name, arch):
        base = normalize_releases_url(releases_url)
        check_version(version)
        if os_name not in SUPPORTED_OSES:
            raise InvalidInputError("Invalid os '%s': supported are %s" % (os_name, ', '.join(SUPPORTED_OSES)))
        if arch not in SUPPORTED_ARCHES:
            raise InvalidInputError("Invalid arch '%s': supported are %s" % (arch, ', '.join(SUPPORTED_ARCHES)))
        self.base = base
        self.version = version
        self.os = os_name
        self.arch = arch
        self.directory = '%s/%s/%s' % (base, PRODUCT, version)
        self.zip_name = '%s_%s_%s_%s.zip' % (PRODUCT, version, os_name, arch)
        self.sums_name = '%s_%s_SHA256SUMS' % (PRODUCT, version)
        self.zip = '%s/%s' % (self.directory, self.zip_name)
        self.sums = '%s/%s' % (self.directory, self.sums_name)
        self.signatures = ['%s%s' % (self.sums, suffix) for suffix in SIGNATURE_SUFFIXES]

    @property
    def scheme(self):
        return urlsplit(self.base).scheme


def normalize_releases_url(releases_url):
    """Validate the mirror URL and strip trailing slashes."""
    if not releases_url:
        raise InvalidInputError('releases_url is empty')
    parts = urlsplit(releases_url)
    if parts.scheme not in SUPPORTED_SCHEMES:
        raise InvalidInputError(
            "Invalid releases_url '%s': the scheme must be one of %s"
            % (releases_url, ', '.join(SUPPORTED_SCHEMES)))
    if parts.scheme == 'file':
        if parts.netloc not in ('', 'localhost'):
            raise InvalidInputError(
                "Invalid releases_url '%s': a file:// URL must name a local directory (file:///path)"
                % releases_url)
    elif not parts.netloc:
        raise InvalidInputError("Invalid releases_url '%s': no host" % releases_url)
    if parts.query or parts.fragment:
        raise InvalidInputError("Invalid releases_url '%s': no query or fragment allowed" % releases_url)
    return releases_url.rstrip('/')


def release_urls(releases_url, version, os_name, arch):
    """Shortcut for :class:`ReleaseURLs`."""
    return ReleaseURLs(releases_url, version, os_name, arch)


# ------------------------------------------------------------ checksums & sums

def parse_checksum_pin(value):
    """Return the lower-case hex digest of a ``sha256:<hex>`` pin, or None when unset."""
    if value is None or value == '':
        return None
    match = _PIN_RE.match(value.strip())
    if not match:
        raise InvalidInputError(
            "Invalid checksum '%s': expected sha256:<64 hex digits>" % (value,))
    return match.group(1).lower()


def parse_sha256sums(text, filename='SHA256SUMS'):
    """Parse HashiCorp's SHA256SUMS (``<sha256>  <file name>`` per line).

    Strict on purpose: this text is what the signature vouches for, so any line
    we do not understand is an error rather than something to skip.
    Returns ``{file name: lower-case hex digest}``.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode('ascii')
        except UnicodeDecodeError as exc:
            raise SumsFormatError('%s is not a SHA256SUMS file: non-ASCII byte at offset %d'
                                  % (filename, exc.start), url=filename)
    lines = text.split('\n')
    # One final newline is the norm; an empty last element is not a line.
    if lines and lines[-1] == '':
        lines.pop()
    if not lines:
        raise SumsFormatError('%s is empty' % filename, url=filename)
    sums = {}
    for number, line in enumerate(lines, 1):
        if line.endswith('\r'):
            line = line[:-1]
        match = _SUMS_LINE_RE.match(line)
        if not match:
            raise SumsFormatError(
                "%s line %d: expected '<sha256>  <file name>', got %r" % (filename, number, line[:120]),
                url=filename, line=number)
        digest, name = match.group(1).lower(), match.group(2)
        if name in sums and sums[name] != digest:
            raise SumsFormatError(
                '%s line %d: %s is listed twice with different checksums' % (filename, number, name),
                url=filename, line=number)
        sums[name] = digest
    return sums


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def check_zip_checksum(actual, urls, sums, pin=None):
    """Compare the zip's digest with its SHA256SUMS line and with the pin."""
    expected = sums.get(urls.zip_name)
    if expected is None:
        raise ChecksumError(
            '%s has no line for %s (is %s/%s published?)' % (urls.sums, urls.zip_name, urls.os, urls.arch),
            url=urls.sums)
    if actual != expected:
        raise ChecksumError(
            'sha256 mismatch for %s: downloaded %s, %s says %s' % (urls.zip, actual, urls.sums_name, expected),
            url=urls.zip)
    if pin is not None and actual != pin:
        raise ChecksumError(
            'sha256 mismatch for %s: downloaded %s, checksum pins %s' % (urls.zip, actual, pin),
            url=urls.zip)
    return actual


def parse_nomad_version(output):
    """Version from ``nomad version`` output (``Nomad v0.9.1 (4b2b...)``), or None."""
    return version_from_cli(output)


# ------------------------------------------------------------------- download

def _local_path(url):
    return unquote(urlsplit(url).path)


def fetch(url, dest, timeout=30, validate_certs=True, max_size=None):
    """Copy ``url`` to the path ``dest``; return ``(size, sha256 hex)``.

    http(s) goes through requests with a timeout; ``file://`` is a plain read.
    A body shorter than the announced Content-Length is a
    :class:`TruncatedDownloadError`, never a silently short file.
    """
    scheme = urlsplit(url).scheme
    digest = hashlib.sha256()
    size = 0
    if scheme == 'file':
        path = _local_path(url)
        try:
            src = open(path, 'rb')
        except (IOError, OSError) as exc:
            if not os.path.exists(path):
                raise NotFoundError('Failed to fetch %s: no such file' % url, url=url, reason='no such file')
            raise DownloadError('Failed to fetch %s: %s' % (url, exc.strerror or exc), url=url)
        try:
            if os.path.isdir(path):
                raise NotFoundError('Failed to fetch %s: it is a directory' % url, url=url, reason='a directory')
            with src, open(dest, 'wb') as out:
                for chunk in iter(lambda: src.read(CHUNK), b''):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise DownloadError('Refusing %s: larger than %d bytes' % (url, max_size), url=url)
                    digest.update(chunk)
                    out.write(chunk)
        except (IOError, OSError) as exc:
            raise DownloadError('Failed to fetch %s: %s' % (url, getattr(exc, 'strerror', None) or exc), url=url)
        return size, digest.hexdigest()

    if scheme not in ('http', 'https'):
        raise InvalidInputError('Cannot fetch %s: unsupported URL scheme' % url, url=url)
    if not HAS_REQUESTS:
        raise MissingLibraryError('Cannot fetch %s: the requests library is not installed' % url, url=url)

    try:
        response = requests.get(url, stream=True, timeout=timeout, verify=validate_certs,
                                headers={'Accept-Encoding': 'identity'})
    except requests.exceptions.SSLError as exc:
        raise DownloadError('Failed to fetch %s: TLS error: %s' % (url, exc), url=url)
    except requests.exceptions.Timeout:
        raise DownloadError('Failed to fetch %s: no answer within %s seconds' % (url, timeout), url=url)
    except requests.exceptions.RequestException as exc:
        raise DownloadError('Failed to fetch %s: mirror unreachable: %s' % (url, _short(exc)), url=url)
    announced = None
    try:
        if response.status_code == 404:
            raise NotFoundError('Failed to fetch %s: 404 Not Found' % url, url=url)
        if response.status_code >= 400:
            raise DownloadError('Failed to fetch %s: HTTP %d %s' % (url, response.status_code, response.reason or ''),
                                url=url)
        announced = response.headers.get('Content-Length')
        try:
            announced = int(announced) if announced is not None else None
        except ValueError:
            announced = None
        if max_size is not None and announced is not None and announced > max_size:
            raise DownloadError('Refusing %s: %d bytes announced, limit %d' % (url, announced, max_size), url=url)
        with open(dest, 'wb') as out:
            # raw.stream with decode_content=False counts the bytes on the wire,
            # which is what Content-Length describes.
            for chunk in response.raw.stream(CHUNK, decode_content=False):
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise DownloadError('Refusing %s: larger than %d bytes' % (url, max_size), url=url)
                digest.update(chunk)
                out.write(chunk)
    except ReleaseError:
        raise
    except Exception as exc:  # urllib3's errors reach us unwrapped from raw.stream()
        if 'timed out' in str(exc):
            raise DownloadError('Failed to fetch %s: the download stalled for more than %s seconds'
                                % (url, timeout), url=url)
        if _looks_truncated(exc):
            raise TruncatedDownloadError(
                'Truncated download of %s: got %d of %s bytes' % (url, size, announced if announced is not None else '?'),
                url=url)
        raise DownloadError('Failed to fetch %s after %d bytes: %s' % (url, size, _short(exc)), url=url)
    finally:
        response.close()
    if announced is not None and size != announced:
        raise TruncatedDownloadError(
            'Truncated download of %s: got %d of %d bytes' % (url, size, announced), url=url)
    return size, digest.hexdigest()


def fetch_bytes(url, tmpdir, timeout=30, validate_certs=True):
    """Fetch a small file (SHA256SUMS, a signature) and return its bytes."""
    fd, path = tempfile.mkstemp(dir=tmpdir, prefix='fetch.')
    os.close(fd)
    try:
        fetch(url, path, timeout=timeout, validate_certs=validate_certs, max_size=MAX_SMALL_FILE)
        with open(path, 'rb') as handle:
            return handle.read()
    finally:
        os.unlink(path)


def _looks_truncated(exc):
    text = '%s %r' % (exc, exc)
    return any(word in text for word in ('IncompleteRead', 'Connection broken', 'ProtocolError', 'ended prematurely'))


def _short(exc):
    text = str(exc)
    return text if len(text) < 300 else text[:300] + '...'


# ------------------------------------------------------------------ signature

_ARMOR_BLOCK_RE = re.compile(
    r'-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(.*?)-----END PGP PUBLIC KEY BLOCK-----', re.S)


def _crc24(data):
    crc = 0xB704CE
    for byte in bytearray(data):
        crc ^= byte << 16
        for _bit in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(key_text, source='gpg_key'):
    """Turn one or more ASCII-armored public key blocks into binary key packets.

    Done here rather than with ``gpg --dearmor`` so that hosts need only
    ``gpgv``. Binary input (a keyring exported without --armor) is passed
    through. The armor checksum is verified so that a damaged paste fails here
    with a clear message instead of deep inside gpgv.
    """
    if isinstance(key_text, bytes):
        if key_text[:1] and bytearray(key_text[:1])[0] & 0x80:
            return key_text
        try:
            key_text = key_text.decode('ascii')
        except UnicodeDecodeError:
            raise KeyMaterialError('%s is neither an armored nor a binary OpenPGP public key' % source)
    blocks = _ARMOR_BLOCK_RE.findall(key_text)
    if not blocks:
        raise KeyMaterialError('%s holds no "-----BEGIN PGP PUBLIC KEY BLOCK-----" section' % source)
    packets = b''
    for index, block in enumerate(blocks, 1):
        lines = [line.strip() for line in block.replace('\r', '').split('\n')]
        # Armor headers ("Version: ...", "Comment: ...") end at the first blank line.
        if '' in lines:
            blank = lines.index('')
            if all(':' in line for line in lines[:blank]):
                lines = lines[blank + 1:]
        body, crc = [], None
        for line in lines:
            if not line:
                continue
            if line.startswith('=') and len(line) == 5:
                crc = line[1:]
                break
            body.append(line)
        try:
            data = base64.b64decode(''.join(body).encode('ascii'), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyMaterialError('%s: key block %d is not valid base64 (%s)' % (source, index, exc))
        if crc is not None:
            try:
                expected = int(binascii.hexlify(base64.b64decode(crc)), 16)
            except (binascii.Error, ValueError):
                raise KeyMaterialError('%s: key block %d has an unreadable armor checksum' % (source, index))
            if _crc24(data) != expected:
                raise KeyMaterialError('%s: key block %d is damaged (armor checksum mismatch)' % (source, index))
        if not data:
            raise KeyMaterialError('%s: key block %d is empty' % (source, index))
        packets += data
    return packets


def find_verifier(which=None):
    """Return ``('gpgv', path)``, ``('gpg', path)`` or None. ``which`` defaults to shutil.which."""
    which = which or shutil.which
    for name in ('gpgv', 'gpg'):
        path = which(name)
        if path:
            return name, path
    return None


def _status(lines, keyword):
    prefix = '[GNUPG:] %s' % keyword
    return [line[len('[GNUPG:] '):].split() for line in lines if line.startswith(prefix + ' ') or line == prefix]


def verify_signature(data_path, sig_path, keys, verifier, data_name=None, sig_name=None, timeout=60):
    """Check the detached signature ``sig_path`` of ``data_path`` against ``keys``.

    ``keys`` is binary key material (see :func:`dearmor`); ``verifier`` is what
    :func:`find_verifier` returned. Runs in a private temp home so the user's
    keyrings, options and agent never take part. Returns the fingerprint of
    the primary key that made the signature.
    """
    data_name = data_name or data_path
    sig_name = sig_name or sig_path
    if verifier is None:
        raise VerifierUnavailableError(
            'Cannot verify the signature %s: neither gpgv nor gpg is installed '
            '(install gpgv, or set verify_signature=false to trust the checksum alone)' % sig_name,
            url=sig_name)
    kind, binary = verifier
    home = tempfile.mkdtemp(prefix='nomad-gpg.')
    try:
        os.chmod(home, 0o700)
        keyring = os.path.join(home, 'keyring.gpg')
        with open(keyring, 'wb') as handle:
            handle.write(keys)
        if kind == 'gpgv':
            cmd = [binary, '--homedir', home, '--status-fd', '1', '--keyring', keyring, sig_path, data_path]
        else:
            cmd = [binary, '--homedir', home, '--batch', '--no-tty', '--no-autostart', '--no-default-keyring',
                   '--keyring', keyring, '--trust-model', 'always', '--status-fd', '1',
                   '--verify', sig_path, data_path]
        env = dict(os.environ, LC_ALL='C', GNUPGHOME=home)
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SignatureError('Failed to verify %s: %s did not finish within %s seconds'
                                 % (sig_name, kind, timeout), url=sig_name)
        except OSError as exc:
            raise VerifierUnavailableError('Cannot verify the signature %s: running %s failed: %s'
                                           % (sig_name, binary, exc), url=sig_name)
        status = out.decode('utf-8', 'replace').splitlines()
        errors = err.decode('utf-8', 'replace').strip()
        valid = _status(status, 'VALIDSIG')
        if proc.returncode == 0 and valid and not _status(status, 'REVKEYSIG'):
            # VALIDSIG's last field is the primary key's fingerprint.
            return valid[0][-1]
        if _status(status, 'BADSIG'):
            cause = 'BAD signature, the file changed after it was signed'
        elif _status(status, 'NO_PUBKEY') or _status(status, 'ERRSIG'):
            missing = _status(status, 'NO_PUBKEY') or _status(status, 'ERRSIG')
            cause = 'signed by key %s, which is not in gpg_key' % missing[0][1]
        elif _status(status, 'REVKEYSIG'):
            cause = 'signed by a revoked key'
        elif _status(status, 'NODATA'):
            cause = '%s is not an OpenPGP signature' % sig_name
        else:
            last = errors.splitlines()[-1] if errors else 'no valid signature'
            cause = '%s exited %d: %s' % (kind, proc.returncode, last)
        raise SignatureError('Signature check of %s with %s failed: %s' % (data_name, sig_name, cause),
                             url=sig_name)
    finally:
        shutil.rmtree(home, ignore_errors=True)
