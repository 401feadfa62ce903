# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time nomadops.nomad.nomad_install from a local mirror, cold and warm.

cold: empty install_dir, so the run downloads, verifies and installs.
warm: the same task again; the install record proves the binary current, so
      nothing is downloaded.
Both go through the real ``ansible`` CLI, whose own start-up cost is printed
as the ``ansible ping`` baseline. The mirror holds a stand-in binary padded
with random bytes to about the size of the real nomad 0.9.1 build.

    python bench/install.py [--size-mb 50] [--repeat 3]
"""

import argparse
import functools
import grp
import http.server
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'collections'))

from tests.support.release_mirror import build_mirror  # noqa: E402

ANSIBLE = os.path.join(os.path.dirname(sys.executable), 'ansible')


def make_binary(path, size_mb):
    with open(path, 'wb') as handle:
        handle.write(b'#!/bin/sh\necho "Nomad v0.9.1 (bench)"\nexit 0\n')
        remaining = size_mb * 1024 * 1024
        while remaining > 0:
            chunk = min(remaining, 1024 * 1024)
            handle.write(os.urandom(chunk))
            remaining -= chunk
    os.chmod(path, 0o755)


def ansible(env, module, args):
    cmd = [ANSIBLE, 'localhost', '-m', module, '-e', 'ansible_python_interpreter=%s' % sys.executable]
    if args is not None:
        cmd += ['-a', json.dumps(args)]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    elapsed = time.monotonic() - start
    result = json.loads(proc.stdout.decode())['plays'][0]['tasks'][0]['hosts']['localhost']
    if result.get('failed'):
        raise SystemExit('%s failed: %s' % (module, result.get('msg')))
    return elapsed, result


def serve(directory):
    handler = functools.partial(_Quiet, directory=directory)
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def components(mirror, urls, work, repeat):
    """The cold path's steps in-process, without ansible's start-up."""
    from ansible_collections.nomadops.nomad.plugins.module_utils import release

    def timed(func):
        runs = []
        for _run in range(repeat):
            start = time.monotonic()
            func()
            runs.append(time.monotonic() - start)
        return statistics.median(runs)

    dest = os.path.join(work, 'zip')
    keys = release.dearmor(open(mirror.public_key_path).read())
    verifier = release.find_verifier()
    zip_name = os.path.basename(mirror.zip_path)
    steps = [
        ('fetch zip (file://)', lambda: release.fetch('%s/nomad/0.9.1/%s' % (mirror.url, zip_name), dest)),
        ('fetch zip (http://)', lambda: release.fetch('%s/nomad/0.9.1/%s' % (urls['http'], zip_name), dest)),
        ('sha256 of installed binary', lambda: release.sha256_file(dest)),
        ('signature check (%s)' % (verifier[0] if verifier else 'none'),
         lambda: release.verify_signature(mirror.sums_path, mirror.sig_path, keys, verifier)),
    ]
    print('  steps, in-process:')
    for name, func in steps:
        print('    %-26s %6.3f s' % (name, timed(func)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--size-mb', type=int, default=50, help='size of the stand-in binary (default 50)')
    parser.add_argument('--repeat', type=int, default=3, help='runs per figure; the median is printed')
    opts = parser.parse_args()

    work = tempfile.mkdtemp(prefix='bench-install.')
    httpd = None
    try:
        env = dict(os.environ, TMPDIR=work, ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='json',
                   ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
        binary = os.path.join(work, 'nomad')
        make_binary(binary, opts.size_mb)
        mirror = build_mirror(binary, '0.9.1', os.path.join(work, 'mirror'))
        httpd, thread = serve(mirror.root)
        urls = {'file': mirror.url, 'http': 'http://127.0.0.1:%d' % httpd.server_address[1]}
        owner = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name

        ping = statistics.median(ansible(env, 'ping', None)[0] for _run in range(opts.repeat))
        zip_mb = os.path.getsize(mirror.zip_path) / 1048576.0
        print('nomad_install bench: %d MB binary, %.1f MB zip, median of %d runs'
              % (opts.size_mb, zip_mb, opts.repeat))
        print('  %-28s %6.2f s' % ('ansible ping (baseline)', ping))
        for scheme, url in sorted(urls.items()):
            cold, warm = [], []
            for attempt in range(opts.repeat):
                target = os.path.join(work, 'bin-%s-%d' % (scheme, attempt))
                os.mkdir(target)
                args = dict(releases_url=url, install_dir=target, owner=owner, group=group,
                            gpg_key=mirror.public_key_path)
                elapsed, result = ansible(env, 'nomadops.nomad.nomad_install', args)
                assert result['changed'] and result['downloaded'], result
                cold.append(elapsed)
                elapsed, result = ansible(env, 'nomadops.nomad.nomad_install', args)
                assert not result['changed'] and not result['downloaded'], result
                warm.append(elapsed)
                shutil.rmtree(target)
            print('  %-28s %6.2f s' % ('cold install (%s://)' % scheme, statistics.median(cold)))
            print('  %-28s %6.2f s' % ('warm, unchanged (%s://)' % scheme, statistics.median(warm)))
        components(mirror, urls, work, opts.repeat)
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        httpd = None
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
