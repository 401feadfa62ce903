# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_install through the real ``ansible`` CLI, against mirrors this test
builds (signed with a key it generates) and serves itself on 127.0.0.1.

The installed "nomad" is a stand-in shell script that answers ``version``
the way Nomad 0.9.1 does; no Nomad binary is involved.
"""

import functools
import grp
import hashlib
import http.server
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import zipfile

import pytest

from tests.support.release_mirror import build_mirror, make_zip, sign, stop_agent, write_sums

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')

pytestmark = [
    pytest.mark.skipif(shutil.which('gpg') is None, reason='gpg is not installed'),
    pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python'),
]

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
STANDIN = '#!/bin/sh\n# stand-in for nomad {v}\nif [ "$1" = version ]; then echo "Nomad v{v} (0000000000000000000000000000000000000000)"; fi\n'


def sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# ------------------------------------------------------------------ mirrors

@pytest.fixture(scope='module')
def gpghome(tmp_path_factory):
    home = tmp_path_factory.mktemp('gpghome')
    yield str(home)
    stop_agent(str(home))


@pytest.fixture(scope='module')
def good_mirror(tmp_path_factory, gpghome):
    """A mirror holding stand-in builds of 0.9.0 and 0.9.1."""
    base = tmp_path_factory.mktemp('good')
    built = {}
    for version in ('0.9.0', '0.9.1'):
        binary = base / ('nomad-%s' % version)
        binary.write_text(STANDIN.format(v=version))
        binary.chmod(0o755)
        built[version] = build_mirror(str(binary), version, str(base / 'mirror'), gnupghome=gpghome)
    return built


@pytest.fixture
def mirror(tmp_path, good_mirror):
    """A private copy of the good mirror that a test may damage."""
    root = tmp_path / 'mirror'
    shutil.copytree(good_mirror['0.9.1'].root, str(root))
    return root


def version_dir(root, version='0.9.1'):
    return os.path.join(str(root), 'nomad', version)


class Server(object):
    """A static file server for one mirror directory, with a request log and faults."""

    def __init__(self, root):
        self.root = str(root)
        self.log = []
        self.faults = {}
        handler = functools.partial(_MirrorHandler, self)
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    def __init__(self, server_state, *args, **kwargs):
        self.state = server_state
        super(_MirrorHandler, self).__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 - the http.server API
        self.state.log.append(self.path)
        fault = self.state.faults.get(os.path.basename(self.path))
        path = os.path.normpath(os.path.join(self.state.root, self.path.lstrip('/')))
        if fault == '404' or not path.startswith(self.state.root) or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, 'rb') as handle:
            body = handle.read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if fault == 'truncate':
            self.wfile.write(body[:len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(root):
        server = Server(root)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


# ------------------------------------------------------------------ running the module

def make_env(tmp_path):
    """Environment for ansible: private temp dirs, so leftovers can be seen."""
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    environ = dict(os.environ)
    environ.update(
        TMPDIR=str(scratch),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-local'),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / 'ansible-remote'),
        ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
        ANSIBLE_STDOUT_CALLBACK='json',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
        ANSIBLE_LOCALHOST_WARNING='False',
    )
    environ.pop('NOMAD_RELEASES_URL', None)
    return environ


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


@pytest.fixture
def bindir(tmp_path):
    path = tmp_path / 'bin'
    path.mkdir()
    return path


def run(env, args, check=False, diff=False):
    cmd = [ANSIBLE, 'localhost', '-m', 'nomadops.nomad.nomad_install', '-a', json.dumps(args),
           '-e', 'ansible_python_interpreter=%s' % sys.executable]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=False)
    try:
        out = json.loads(proc.stdout.decode())
    except ValueError:
        raise AssertionError('ansible printed no JSON (rc %d):\n%s\n%s'
                             % (proc.returncode, proc.stdout.decode(), proc.stderr.decode()))
    return out['plays'][0]['tasks'][0]['hosts']['localhost']


def base_args(releases_url, bindir, mirror_root=None, **extra):
    args = dict(releases_url=releases_url, install_dir=str(bindir), owner=OWNER, group=GROUP)
    if mirror_root is not None:
        args['gpg_key'] = os.path.join(str(mirror_root), 'release-key.asc')
    args.update(extra)
    return args


def listing(path):
    return sorted(os.listdir(str(path)))


def installed_version(bindir):
    return subprocess.run([os.path.join(str(bindir), 'nomad'), 'version'], check=True,
                          stdout=subprocess.PIPE).stdout.decode().strip()


# ------------------------------------------------------------------ behaviour

def test_http_install_then_second_run_downloads_nothing(mirror, serve, env, bindir, good_mirror):
    server = serve(mirror)
    args = base_args(server.url, bindir, mirror)

    first = run(env, args)
    assert not first.get('failed'), first.get('msg')
    assert first['changed'] is True
    assert first['downloaded'] is True
    assert first['version'] == '0.9.1'
    assert first['previous_version'] is None
    assert first['path'] == str(bindir / 'nomad')
    assert first['url'] == server.url + '/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip'
    assert first['sha256'] == good_mirror['0.9.1'].binary_sha256 == sha256(str(bindir / 'nomad'))
    assert first['zip_sha256'] == good_mirror['0.9.1'].zip_sha256
    assert first['signed_by'] == good_mirror['0.9.1'].fingerprint
    assert installed_version(bindir).startswith('Nomad v0.9.1 ')
    assert stat.S_IMODE(os.stat(str(bindir / 'nomad')).st_mode) == 0o755
    assert server.log == ['/nomad/0.9.1/nomad_0.9.1_SHA256SUMS', '/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig',
                          '/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip']
    assert listing(bindir) == ['.nomad.install.json', 'nomad']

    server.log[:] = []
    second = run(env, args)
    assert second['changed'] is False
    assert second['downloaded'] is False
    assert second['previous_version'] == '0.9.1'
    assert second['sha256'] == first['sha256']
    assert second['zip_sha256'] == first['zip_sha256']
    assert server.log == []
    assert os.listdir(env['TMPDIR']) == []


def test_file_mirror_install_and_idempotence(mirror, env, bindir):
    args = base_args('file://%s' % mirror, bindir, mirror)
    first = run(env, args)
    assert first['changed'] is True, first.get('msg')
    assert installed_version(bindir).startswith('Nomad v0.9.1 ')
    second = run(env, args)
    assert (second['changed'], second['downloaded']) == (False, False)


def test_releases_url_falls_back_to_the_environment(mirror, env, bindir):
    env['NOMAD_RELEASES_URL'] = 'file://%s' % mirror
    args = base_args('unused', bindir, mirror)
    del args['releases_url']
    result = run(env, args)
    assert result['changed'] is True, result.get('msg')
    assert result['url'] == 'file://%s/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip' % mirror


def test_check_mode_writes_nothing(mirror, env, bindir):
    args = base_args('file://%s' % mirror, bindir, mirror)
    result = run(env, args, check=True)
    assert result['changed'] is True, result.get('msg')
    assert result['previous_version'] is None
    assert listing(bindir) == []
    assert os.listdir(env['TMPDIR']) == []

    run(env, dict(args, version='0.9.0'))
    before = sha256(str(bindir / 'nomad'))
    record = (bindir / '.nomad.install.json').read_text()
    result = run(env, args, check=True)
    assert result['changed'] is True
    assert result['previous_version'] == '0.9.0'
    assert sha256(str(bindir / 'nomad')) == before
    assert (bindir / '.nomad.install.json').read_text() == record
    assert installed_version(bindir).startswith('Nomad v0.9.0 ')


def test_diff_shows_versions_before_and_after(mirror, env, bindir, good_mirror):
    args = base_args('file://%s' % mirror, bindir, mirror)
    run(env, dict(args, version='0.9.0'))
    result = run(env, args, diff=True)
    assert result['changed'] is True
    assert result['previous_version'] == '0.9.0'
    assert result['diff']['before']['version'] == '0.9.0'
    assert result['diff']['after']['version'] == '0.9.1'
    assert result['diff']['before']['sha256'] == good_mirror['0.9.0'].binary_sha256
    assert result['diff']['after']['sha256'] == good_mirror['0.9.1'].binary_sha256
    assert installed_version(bindir).startswith('Nomad v0.9.1 ')


def test_mode_drift_is_fixed_without_download(mirror, serve, env, bindir):
    server = serve(mirror)
    args = base_args(server.url, bindir, mirror)
    run(env, args)
    os.chmod(str(bindir / 'nomad'), 0o700)
    server.log[:] = []
    result = run(env, args)
    assert (result['changed'], result['downloaded']) == (True, False)
    assert stat.S_IMODE(os.stat(str(bindir / 'nomad')).st_mode) == 0o755
    assert server.log == []


def test_replaced_binary_is_noticed_and_reinstalled(mirror, env, bindir, good_mirror):
    args = base_args('file://%s' % mirror, bindir, mirror)
    run(env, args)
    # Same version string, different content: only the recorded sha256 can tell.
    (bindir / 'nomad').write_text(STANDIN.format(v='0.9.1') + '# changed\n')
    result = run(env, args)
    assert (result['changed'], result['downloaded']) == (True, True)
    assert sha256(str(bindir / 'nomad')) == good_mirror['0.9.1'].binary_sha256


def test_hand_installed_identical_binary_is_adopted_unchanged(mirror, env, bindir, good_mirror):
    shutil.copy(os.path.join(str(good_mirror['0.9.1'].root), '..', 'nomad-0.9.1'), str(bindir / 'nomad'))
    os.chmod(str(bindir / 'nomad'), 0o755)
    args = base_args('file://%s' % mirror, bindir, mirror)
    result = run(env, args)
    assert (result['changed'], result['downloaded']) == (False, True), result.get('msg')
    assert listing(bindir) == ['.nomad.install.json', 'nomad']
    again = run(env, args)
    assert (again['changed'], again['downloaded']) == (False, False)


def test_new_style_signature_name_is_accepted(mirror, serve, env, bindir, gpghome, good_mirror):
    sums = os.path.join(version_dir(mirror), 'nomad_0.9.1_SHA256SUMS')
    os.unlink(sums + '.sig')
    sign(sums, gpghome, good_mirror['0.9.1'].fingerprint, suffix='.72D7468F.sig')
    server = serve(mirror)
    result = run(env, base_args(server.url, bindir, mirror))
    assert result['changed'] is True, result.get('msg')
    assert server.log[1:3] == ['/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig',
                               '/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.72D7468F.sig']


def test_gpg_key_as_text(mirror, env, bindir):
    args = base_args('file://%s' % mirror, bindir, None,
                     gpg_key=(mirror / 'release-key.asc').read_text())
    result = run(env, args)
    assert result['changed'] is True, result.get('msg')


def test_unsigned_mirror_installs_when_verification_is_off(mirror, env, bindir, good_mirror):
    os.unlink(os.path.join(version_dir(mirror), 'nomad_0.9.1_SHA256SUMS.sig'))
    args = base_args('file://%s' % mirror, bindir, None, verify_signature=False,
                     checksum='sha256:' + good_mirror['0.9.1'].zip_sha256)
    result = run(env, args)
    assert result['changed'] is True, result.get('msg')
    assert result['signed_by'] is None


# ------------------------------------------------------------------ faults
#
# Each fault starts from a working 0.9.0 install and asks for 0.9.1: the run
# must fail naming the URL or file and the cause, leave the 0.9.0 binary and
# its record exactly as they were, and leave no temp files anywhere.

def _tamper_zip(root, fingerprint, gpghome):
    path = os.path.join(version_dir(root), 'nomad_0.9.1_linux_amd64.zip')
    with open(path, 'r+b') as handle:
        handle.seek(-30, 2)
        byte = handle.read(1)
        handle.seek(-30, 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    return 'sha256 mismatch for {url}/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip'


def _tamper_sums(root, fingerprint, gpghome):
    path = os.path.join(version_dir(root), 'nomad_0.9.1_SHA256SUMS')
    with open(path, 'a') as handle:
        handle.write('0' * 64 + '  nomad_0.9.1_linux_arm64.zip\n')
    return ('Signature check of {url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS with '
            '{url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig failed: BAD signature')


def _remove_signature(root, fingerprint, gpghome):
    os.unlink(os.path.join(version_dir(root), 'nomad_0.9.1_SHA256SUMS.sig'))
    return ('Signature of {url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS is missing: tried '
            '{url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig ({missing}), '
            '{url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.72D7468F.sig ({missing})')


def _zip_without_nomad(root, fingerprint, gpghome):
    directory = version_dir(root)
    path = os.path.join(directory, 'nomad_0.9.1_linux_amd64.zip')
    other = os.path.join(str(root), 'other')
    with zipfile.ZipFile(path) as archive:
        with open(other, 'wb') as handle:
            handle.write(archive.read('nomad'))
    make_zip(other, path, entry='bin/nomad')
    os.unlink(other)
    sums = write_sums(directory, '0.9.1')
    sign(sums, gpghome, fingerprint)
    return '{url}/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip holds no nomad entry (entries: bin/nomad)'


def _not_a_zip(root, fingerprint, gpghome):
    directory = version_dir(root)
    with open(os.path.join(directory, 'nomad_0.9.1_linux_amd64.zip'), 'wb') as handle:
        handle.write(b'this is not a zip file\n')
    sign(write_sums(directory, '0.9.1'), gpghome, fingerprint)
    return 'Failed to read {url}/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip: File is not a zip file'


FAULTS = {
    'tampered zip': (_tamper_zip, {}),
    'tampered SHA256SUMS': (_tamper_sums, {}),
    'missing signature': (_remove_signature, {}),
    'zip without nomad': (_zip_without_nomad, {}),
    'not a zip': (_not_a_zip, {}),
    'unknown version': (None, {'version': '0.9.9'}),
    'signature by an untrusted key': (None, {'gpg_key': None}),
    'checksum pin mismatch': (None, {'checksum': 'sha256:' + 'ab' * 32}),
}
EXPECTED = {
    'unknown version': 'Failed to fetch {url}/nomad/0.9.9/nomad_0.9.9_SHA256SUMS: {missing}$',
    'signature by an untrusted key': ('{url}/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig failed: '
                                      'signed by key [0-9A-F]{{16}}, which is not in gpg_key'),
    'checksum pin mismatch': ('sha256 mismatch for {url}/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip: '
                              'downloaded [0-9a-f]{{64}}, checksum pins ' + 'ab' * 32),
}


def _assert_untouched(bindir, before, env):
    assert listing(bindir) == ['.nomad.install.json', 'nomad']
    assert sha256(str(bindir / 'nomad')) == before[0]
    assert (bindir / '.nomad.install.json').read_text() == before[1]
    assert installed_version(bindir).startswith('Nomad v0.9.0 ')
    assert os.listdir(env['TMPDIR']) == []


@pytest.fixture(scope='module')
def installed_090(tmp_path_factory, good_mirror):
    """An install_dir holding 0.9.0 as the module installed it, to copy from."""
    base = tmp_path_factory.mktemp('installed-0.9.0')
    template = base / 'bin'
    template.mkdir()
    root = good_mirror['0.9.0'].root
    result = run(make_env(base), base_args('file://%s' % root, template, root, version='0.9.0'))
    assert result['changed'] is True, result.get('msg')
    return template


def _install_090(bindir, template):
    for name in os.listdir(str(template)):
        shutil.copy2(str(template / name), str(bindir / name))
    return sha256(str(bindir / 'nomad')), (bindir / '.nomad.install.json').read_text()


# file:// covers every fault; http repeats those whose path through the
# download differs (status codes, streaming), to keep the run short.
HTTP_FAULTS = ('unknown version', 'missing signature', 'tampered zip', 'signature by an untrusted key')


@pytest.mark.parametrize('fault,scheme', [(f, 'file') for f in sorted(FAULTS)] + [(f, 'http') for f in HTTP_FAULTS])
def test_faults_fail_clearly_and_change_nothing(fault, scheme, mirror, serve, env, bindir, good_mirror, gpghome,
                                                installed_090):
    before = _install_090(bindir, installed_090)
    damage, extra = FAULTS[fault]
    expected = EXPECTED.get(fault)
    if damage is not None:
        expected = re.escape(damage(mirror, good_mirror['0.9.1'].fingerprint, gpghome)).replace(
            re.escape('{url}'), '{url}').replace(re.escape('{missing}'), '{missing}')
    url = serve(mirror).url if scheme == 'http' else 'file://%s' % mirror
    args = base_args(url, bindir, mirror, **extra)
    if args.get('gpg_key', '') is None:
        del args['gpg_key']  # the bundled HashiCorp key, which did not sign this mirror
    result = run(env, args)
    assert result.get('failed') is True, result
    missing = '404 Not Found' if scheme == 'http' else 'no such file'
    assert re.search(expected.format(url=re.escape(url), missing=missing), result['msg']), result['msg']
    assert result['msg'].startswith('Failed to install Nomad ')
    _assert_untouched(bindir, before, env)


def test_truncated_download(mirror, serve, env, bindir, installed_090):
    before = _install_090(bindir, installed_090)
    server = serve(mirror)
    server.faults['nomad_0.9.1_linux_amd64.zip'] = 'truncate'
    result = run(env, base_args(server.url, bindir, mirror))
    assert result.get('failed') is True
    size = os.path.getsize(os.path.join(version_dir(mirror), 'nomad_0.9.1_linux_amd64.zip'))
    assert ('Truncated download of %s/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip: got %d of %d bytes'
            % (server.url, size // 2, size)) in result['msg']
    _assert_untouched(bindir, before, env)


def test_unreachable_mirror(env, bindir, installed_090, mirror):
    before = _install_090(bindir, installed_090)
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = 'http://127.0.0.1:%d' % port
    result = run(env, base_args(url, bindir, mirror, timeout=5))
    assert result.get('failed') is True
    assert 'Failed to fetch %s/nomad/0.9.1/nomad_0.9.1_SHA256SUMS: mirror unreachable' % url in result['msg']
    _assert_untouched(bindir, before, env)


def test_missing_install_dir(mirror, env, tmp_path):
    missing = tmp_path / 'no' / 'such' / 'dir'
    result = run(env, base_args('file://%s' % mirror, missing, mirror))
    assert result.get('failed') is True
    assert result['msg'] == 'Failed to install Nomad 0.9.1: install_dir %s does not exist or is not a directory' % missing
    assert not (tmp_path / 'no').exists()


def test_bad_parameters_are_named(mirror, env, bindir):
    result = run(env, base_args('file://%s' % mirror, bindir, mirror, checksum='md5:abc'))
    assert "Invalid checksum 'md5:abc'" in result['msg']
    result = run(env, base_args('ftp://mirror', bindir, mirror))
    assert "Invalid releases_url 'ftp://mirror'" in result['msg']
    result = run(env, base_args('file://%s' % mirror, bindir, None, gpg_key=str(bindir / 'nope.asc')))
    assert 'Failed to read gpg_key file %s' % (bindir / 'nope.asc') in result['msg']
    assert listing(bindir) == []


def test_http_mirror_without_requests_names_the_missing_library(mirror, env, bindir, tmp_path):
    # A requests module that cannot be imported, ahead of the real one.
    shadow = tmp_path / 'no-requests'
    shadow.mkdir()
    (shadow / 'requests.py').write_text('raise ImportError("requests hidden for this test")\n')
    env['PYTHONPATH'] = str(shadow)
    result = run(env, base_args('http://127.0.0.1:9', bindir, mirror))
    assert result.get('failed') is True
    assert 'Failed to import the required Python library (requests)' in result['msg']
    assert listing(bindir) == []
    # file:// mirrors need no requests at all.
    result = run(env, base_args('file://%s' % mirror, bindir, mirror))
    assert result['changed'] is True, result.get('msg')


def test_plain_sig_by_an_untrusted_key_falls_back_to_the_new_style_name(mirror, serve, env, bindir, tmp_path):
    """As with 0.9.1 on the real site: .sig by the retired key, .72D7468F.sig by the current one."""
    from tests.support.release_mirror import generate_key
    home = str(tmp_path / 'second-key')
    try:
        fingerprint = generate_key(home, uid='Second Key <second@example.invalid>')
        sums = os.path.join(version_dir(mirror), 'nomad_0.9.1_SHA256SUMS')
        sign(sums, home, fingerprint, suffix='.72D7468F.sig')
        key = subprocess.run(['gpg', '--homedir', home, '--batch', '--armor', '--export', fingerprint],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode()
    finally:
        stop_agent(home)
    server = serve(mirror)
    result = run(env, base_args(server.url, bindir, None, gpg_key=key))
    assert result['changed'] is True, result.get('msg')
    assert result['signed_by'] == fingerprint
    assert server.log[1:3] == ['/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.sig',
                               '/nomad/0.9.1/nomad_0.9.1_SHA256SUMS.72D7468F.sig']


def test_broken_binary_in_place_is_replaced(mirror, env, bindir, good_mirror):
    # Not a script and not an ELF file: running it fails with "Exec format error".
    (bindir / 'nomad').write_bytes(b'\x00\x01garbage' * 100)
    os.chmod(str(bindir / 'nomad'), 0o755)
    result = run(env, base_args('file://%s' % mirror, bindir, mirror))
    assert result['changed'] is True, result.get('msg')
    assert result['previous_version'] is None
    assert sha256(str(bindir / 'nomad')) == good_mirror['0.9.1'].binary_sha256


def test_hanging_binary_in_place_is_replaced(mirror, env, bindir, good_mirror):
    # `nomad version` that never answers: the probe gives up and the install goes
    # on (without the probe's timeout, run() would time out first).
    (bindir / 'nomad').write_text('#!/bin/sh\nexec sleep 600\n')
    os.chmod(str(bindir / 'nomad'), 0o755)
    result = run(env, base_args('file://%s' % mirror, bindir, mirror))
    assert result['changed'] is True, result.get('msg')
    assert result['previous_version'] is None
    assert sha256(str(bindir / 'nomad')) == good_mirror['0.9.1'].binary_sha256


# ------------------------------------------------------------------ the package layout

UNIT = '[Unit]\nDescription=Nomad\n\n[Service]\nExecStart=/usr/local/bin/nomad agent -config /etc/nomad.d\n'


@pytest.fixture
def systemctl_log(tmp_path, env):
    """A stand-in systemctl first on PATH, logging its arguments."""
    fake = tmp_path / 'fakebin'
    fake.mkdir()
    log = tmp_path / 'systemctl.log'
    (fake / 'systemctl').write_text('#!/bin/sh\necho "$@" >> %s\n' % log)
    (fake / 'systemctl').chmod(0o755)
    env['PATH'] = '%s:%s' % (fake, env['PATH'])
    return log


@pytest.mark.skipif(os.getuid() != 0, reason='the unit is owned by root')
def test_data_dir_and_unit_are_laid_out_once(mirror, env, bindir, tmp_path, systemctl_log):
    data_dir, unit = tmp_path / 'opt' / 'nomad', tmp_path / 'nomad.service'
    args = base_args('file://%s' % mirror, bindir, mirror, data_dir=str(data_dir), systemd_unit=UNIT,
                     systemd_unit_path=str(unit))

    checked = run(env, args, check=True)
    assert (checked['changed'], checked['unit_changed']) == (True, True), checked.get('msg')
    assert not data_dir.exists() and not unit.exists() and not systemctl_log.exists()

    first = run(env, args)
    assert (first['changed'], first['unit_changed']) == (True, True), first.get('msg')
    assert stat.S_IMODE(os.stat(str(data_dir)).st_mode) == 0o700
    assert unit.read_text() == UNIT and stat.S_IMODE(os.stat(str(unit)).st_mode) == 0o644
    assert systemctl_log.read_text() == 'daemon-reload\n'

    second = run(env, args)
    assert (second['changed'], second['unit_changed']) == (False, False)
    assert systemctl_log.read_text() == 'daemon-reload\n'

    os.chmod(str(data_dir), 0o755)
    changed = run(env, dict(args, systemd_unit=UNIT + 'KillMode=process\n'), diff=True)
    assert (changed['changed'], changed['unit_changed']) == (True, True)
    assert stat.S_IMODE(os.stat(str(data_dir)).st_mode) == 0o700
    assert changed['diff'][1]['before'] == UNIT and changed['diff'][1]['after'].endswith('KillMode=process\n')
    assert systemctl_log.read_text() == 'daemon-reload\ndaemon-reload\n'


def test_data_dir_that_is_a_file_fails_before_anything_changes(mirror, env, bindir, tmp_path):
    (tmp_path / 'data').write_text('not a directory')
    result = run(env, base_args('file://%s' % mirror, bindir, mirror, data_dir=str(tmp_path / 'data')))
    assert result.get('failed') is True
    assert 'data_dir %s exists and is not a directory' % (tmp_path / 'data') in result['msg']
    assert listing(bindir) == []


def host_drift(env, args):
    """What nomad_host_info, given nomad_install's options, says the install would change."""
    cmd = [ANSIBLE, 'localhost', '-m', 'nomadops.nomad.nomad_host_info', '-a',
           json.dumps(dict(binary=os.path.join(args['install_dir'], 'nomad'), install=args)),
           '-e', 'ansible_python_interpreter=%s' % sys.executable]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                          check=False)
    result = json.loads(proc.stdout.decode())['plays'][0]['tasks'][0]['hosts']['localhost']
    assert not result.get('failed'), result.get('msg')
    return result['install_drift']


@pytest.mark.skipif(os.getuid() != 0, reason='the unit is owned by root')
def test_the_host_read_says_what_the_install_would_change(mirror, env, bindir, tmp_path, systemctl_log):
    data_dir, unit = tmp_path / 'opt' / 'nomad', tmp_path / 'nomad.service'
    args = base_args('file://%s' % mirror, bindir, mirror, data_dir=str(data_dir), systemd_unit=UNIT,
                     systemd_unit_path=str(unit))
    binary = os.path.join(str(bindir), 'nomad')

    def agree(args, *expected):
        drift = host_drift(env, args)
        assert drift == list(expected)
        # The roles skip the install where the host read found no drift: nomad_install must agree,
        # by changing something or by refusing.
        checked = run(env, args, check=True)
        assert (checked['changed'] or checked.get('failed', False)) is bool(drift), (drift, checked)
        return checked

    agree(args, '%s is not the verified Nomad 0.9.1' % binary, '%s is missing' % data_dir, '%s differs' % unit)
    assert run(env, args)['changed'] is True
    agree(args)

    os.chmod(binary, 0o700)
    agree(args, '%s is not %s:%s 0755' % (binary, OWNER, GROUP))
    os.chmod(binary, 0o755)
    os.chmod(str(data_dir), 0o755)
    agree(args, '%s is not %s:%s 0700' % (data_dir, OWNER, GROUP))
    os.chmod(str(data_dir), 0o700)
    agree(dict(args, systemd_unit=UNIT + 'KillMode=process\n'), '%s differs' % unit)
    agree(dict(args, version='0.9.0'), '%s is not the verified Nomad 0.9.0' % binary)
    pinned = agree(dict(args, checksum='sha256:' + '0' * 64), '%s is not the verified Nomad 0.9.1' % binary)
    assert pinned.get('failed') is True and 'checksum' in pinned['msg'].lower(), pinned
    with open(os.path.join(str(bindir), 'nomad'), 'a') as handle:
        handle.write('# changed by hand\n')
    agree(args, '%s is not the verified Nomad 0.9.1' % binary)


def test_the_host_read_names_an_install_option_it_does_not_know(env, bindir):
    cmd = [ANSIBLE, 'localhost', '-m', 'nomadops.nomad.nomad_host_info', '-a',
           json.dumps(dict(install=dict(version='0.9.1', instal_dir=str(bindir)))),
           '-e', 'ansible_python_interpreter=%s' % sys.executable]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, timeout=120, check=False)
    result = json.loads(proc.stdout.decode())['plays'][0]['tasks'][0]['hosts']['localhost']
    assert result.get('failed') is True and 'install: unknown option(s) instal_dir;' in result['msg']
