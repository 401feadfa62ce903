# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: build the tarball, install it into an empty
collections path, and use it from a directory outside the checkout.

    python tests/artifact/check.py [--keep]

1. ``ansible-galaxy collection build``; the tarball must hold every module,
   role and plugin directory, and nothing of tests/, bench/, molecule/,
   caches or a collection installed by a lint run.
2. ``ansible-galaxy collection install`` into an empty directory, the only
   entry of ANSIBLE_COLLECTIONS_PATH (the system paths are not scanned).
3. From an empty directory elsewhere: ``ansible-doc`` for every module, role
   and filter, then ``tests/artifact/playbook.yml`` (FQCNs only) against the
   Nomad test double started as a process on loopback.

Prints the tarball's size and file count; exits non-zero with the reason on
the first thing that does not work.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from tests.support.agent_teardown import teardown  # noqa: E402  pylint: disable=wrong-import-position
from tests.support.ports import free_ports  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
NAMESPACE, NAME = 'nomadops', 'nomad'
# Top-level entries a tarball must never hold: the build_ignore list of galaxy.yml, checked.
FORBIDDEN = ('tests/', 'bench/', 'molecule/', 'collections/', '.ansible/', '.cache/', '.venv/', '.git/',
             '.pytest_cache/', 'Makefile')

AGENT_HCL = '''name       = "artifact"
datacenter = "dc1"
data_dir   = "{data_dir}"
bind_addr  = "127.0.0.1"

ports {{
  http = {http}
  rpc  = {rpc}
  serf = {serf}
}}

advertise {{
  http = "127.0.0.1"
  rpc  = "127.0.0.1"
  serf = "127.0.0.1"
}}

server {{
  enabled          = true
  bootstrap_expect = 1
}}

client {{
  enabled           = true
  servers           = ["127.0.0.1:{rpc}"]
  network_interface = "lo"
}}

plugin "raw_exec" {{
  config {{
    enabled = true
  }}
}}
'''


class Failure(Exception):
    pass


def run(argv, cwd, env=None):
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise Failure('%s exited %d in %s:\n%s%s' % (' '.join(argv), proc.returncode, cwd, proc.stdout, proc.stderr))
    return proc.stdout


def source_names(kind):
    """What the checkout holds: module files, filter docs, role directories."""
    if kind == 'module':
        d = os.path.join(ROOT, 'plugins', 'modules')
        return sorted(n[:-3] for n in os.listdir(d) if n.endswith('.py') and n != '__init__.py')
    if kind == 'filter':
        d = os.path.join(ROOT, 'plugins', 'filter')
        return sorted(n[:-4] for n in os.listdir(d) if n.endswith('.yml'))
    d = os.path.join(ROOT, 'roles')
    return sorted(n for n in os.listdir(d) if os.path.isdir(os.path.join(d, n)))


def build(work):
    dist = os.path.join(work, 'dist')
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', dist, ROOT], cwd=ROOT)
    tarballs = [n for n in os.listdir(dist) if n.endswith('.tar.gz')]
    if len(tarballs) != 1:
        raise Failure('expected one tarball in %s, found %s' % (dist, tarballs))
    tarball = os.path.join(dist, tarballs[0])
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    stray = sorted(n for n in names if n.startswith(FORBIDDEN) or n in ('tests', 'bench', 'molecule', 'collections'))
    if stray:
        raise Failure('the tarball holds what galaxy.yml build_ignore should keep out: %s%s'
                      % (', '.join(stray[:10]), ' ...' if len(stray) > 10 else ''))
    for module in source_names('module'):
        if 'plugins/modules/%s.py' % module not in names:
            raise Failure('the tarball lacks plugins/modules/%s.py' % module)
    for role in source_names('role'):
        if 'roles/%s/meta/argument_specs.yml' % role not in names:
            raise Failure('the tarball lacks roles/%s/meta/argument_specs.yml' % role)
    print('tarball %s: %d bytes, %d entries' % (tarballs[0], os.path.getsize(tarball), len(names)), flush=True)
    return tarball


def install(tarball, outside, env):
    """Into the empty path, from outside: the checkout's own collections/ must not count as installed."""
    path = env['ANSIBLE_COLLECTIONS_PATH']
    os.makedirs(path)
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', path, tarball], outside, env)
    installed = os.path.join(path, 'ansible_collections', NAMESPACE, NAME)
    if not os.path.isfile(os.path.join(installed, 'MANIFEST.json')):
        raise Failure('nothing installed at %s' % installed)
    return path


def outside_env(collections):
    env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='false',
               ANSIBLE_LOCAL_TEMP=os.path.join(os.path.dirname(collections), 'ansible-tmp'),
               PATH=BIN + os.pathsep + env.get('PATH', ''))
    return env


def docs(outside, env):
    """ansible-doc of every module, filter and role of the checkout, as installed."""
    doc = os.path.join(BIN, 'ansible-doc')
    for kind in ('module', 'filter', 'role'):
        names = ['%s.%s.%s' % (NAMESPACE, NAME, n) for n in source_names(kind)]
        out = json.loads(run([doc, '-t', kind, '--json'] + names, outside, env))
        for name in names:
            entry = out.get(name) or {}
            # Roles document each entry point; plugins have one 'doc'.
            ok = entry.get('entry_points', {}).get('main') if kind == 'role' else entry.get('doc')
            if not ok:
                raise Failure('ansible-doc -t %s %s gave no documentation' % (kind, name))
        print('ansible-doc: %d %ss documented' % (len(names), kind), flush=True)


def http_ok(address, path):
    try:
        with urllib.request.urlopen(address + path, timeout=2) as resp:
            return json.loads(resp.read().decode('utf-8'))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def start_double(work):
    """The test double, built into one executable and started as a process."""
    nomad = os.path.join(work, 'nomad')
    run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), nomad], cwd=ROOT)
    agent_dir = os.path.join(work, 'agent')
    os.makedirs(os.path.join(agent_dir, 'data'))
    http, rpc, serf = free_ports(3)
    cfg = os.path.join(agent_dir, 'agent.hcl')
    with open(cfg, 'w') as f:
        f.write(AGENT_HCL.format(data_dir=os.path.join(agent_dir, 'data'), http=http, rpc=rpc, serf=serf))
    with open(os.path.join(agent_dir, 'agent.log'), 'wb') as log:
        proc = subprocess.Popen([nomad, 'agent', '-config', cfg], cwd=agent_dir, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    address = 'http://127.0.0.1:%d' % http
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if http_ok(address, '/v1/status/leader'):
            return proc, address, agent_dir
        time.sleep(0.2)
    with open(os.path.join(agent_dir, 'agent.log'), 'rb') as f:
        log = f.read()[-3000:].decode('utf-8', 'replace')
    teardown(agent_dir, procs=[proc], addresses=[address])
    raise Failure('the test double did not answer on %s:\n%s' % (address, log))


def playbook(outside, env, address):
    for name in ('playbook.yml', 'sleeper.nomad'):
        shutil.copy(os.path.join(HERE, name), outside)
    out = run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', 'playbook.yml',
               '-e', 'nomad_address=%s' % address, '-e', 'ansible_python_interpreter=%s' % sys.executable],
              outside, env)
    recap = [line for line in out.splitlines() if line.startswith('localhost')]
    print('playbook: %s' % (recap[-1].strip() if recap else out[-500:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--keep', action='store_true', help='keep the working directory')
    args = parser.parse_args()
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix='nomadops-artifact-')
    try:
        tarball = build(work)
        outside = os.path.join(work, 'outside')
        os.makedirs(outside)
        env = outside_env(os.path.join(work, 'collections'))
        install(tarball, outside, env)
        docs(outside, env)
        proc, address, agent_dir = start_double(work)
        try:
            playbook(outside, env, address)
        finally:
            report = teardown(agent_dir, procs=[proc], addresses=[address], remove=[os.path.join(agent_dir, 'data')])
            if report.forced():
                print('left behind by the double (cleaned up): %s' % ', '.join(report.forced()))
    except Failure as e:
        sys.stderr.write('artifact check failed: %s\n' % e)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print('artifact check passed in %.0f s%s' % (time.monotonic() - started, ' (kept %s)' % work if args.keep else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
