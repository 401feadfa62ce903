# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a real Nomad's ``nomad job run -output`` makes of job files:
the references the parser tests compare against.

    python tests/real/record_jobspec.py NOMAD_BINARY [--out DIR] [--check]

The binary's version picks the corpus and the layout (see each directory's
README.md):

- 1.x: the job files of ``tests/recordings/nomad-1.1.0/jobspec/`` (written
  for this corpus), each with the ``-var`` values of its ``NAME.vars.json``
  passed in sorted key order; ``jobspec-reference/NAME.json`` is the CLI's
  ``{"Job": ...}`` re-serialized with sorted keys and a 2-space indent,
  ``NAME.error.txt`` a four-line header then the exact stderr; the files of
  HCL1 below are run again with ``-hcl1`` (``NAME.hcl1.json`` /
  ``NAME.hcl1.error.txt``).
- 0.9.x: this repository's own HCL1 job files (OWN_091, into
  ``own-jobspec-reference/``); with NOMAD_SOURCE_0_9_1 naming a checkout of
  Nomad at the binary's tag, also Nomad's own parser test files (its source,
  not in this repository: ``jobspec/test-fixtures/``, into
  ``jobspec-reference/``) and the seed's ``httpecho.nomad``. ``NAME.json`` as
  the CLI prints it (keys sorted, 2-space indent), ``NAME.error.txt`` its
  stderr.

Every command runs from a scratch copy laid out as the recordings directory
(``jobspec/NAME.hcl``, so messages name the same path), with a clean
environment. ``--check`` writes nothing and exits 1 on the first file whose
recording differs from what the binary says now.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDINGS = os.path.join(ROOT, 'tests', 'recordings')
# HCL1 runs of the 1.x corpus: what HCL2 rejects and HCL1 accepts, and the reverse.
HCL1_AGAIN = ('httpecho-0.9', 'httpecho-1x', 'bad-attribute-redefined', 'variables-typed', 'lenient-ports')
# This repository's HCL1 job files (names must stay unique by base name).
OWN_091 = ('tests/unit/plugins/module_utils/fixtures/jobspec/*.hcl', 'examples/httpecho-raw_exec.nomad',
           'tests/integration/files/sleeper.nomad', 'tests/integration/files/deploy.nomad')


def version_of(binary):
    out = subprocess.run([binary, 'version'], capture_output=True, text=True, check=True).stdout
    return re.search(r'Nomad v(\d+\.\d+\.\d+)', out).group(1)


def run(binary, args, cwd):
    env = {'PATH': '/usr/bin:/bin', 'HOME': cwd}
    proc = subprocess.run([binary] + args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def var_args(vars_path):
    if not os.path.exists(vars_path):
        return []
    with open(vars_path, encoding='utf-8') as f:
        values = json.load(f)
    out = []
    for name in sorted(values):
        out += ['-var', '%s=%s' % (name, values[name])]
    return out


def shown(args):
    # The header's command line, quoted as a shell would need it.
    return ' '.join(a if re.fullmatch(r'[\w./=:-]+', a) else "'%s'" % a for a in args)


def record_1x(binary, scratch):
    """{file name: text} for the 1.x corpus."""
    src = os.path.join(RECORDINGS, 'nomad-1.1.0', 'jobspec')
    shutil.copytree(src, os.path.join(scratch, 'jobspec'))
    out = {}
    for fn in sorted(os.listdir(src)):
        if not fn.endswith('.hcl'):
            continue
        name = fn[:-4]
        variables = var_args(os.path.join(src, name + '.vars.json'))
        for hcl1 in (False, True):
            if hcl1 and name not in HCL1_AGAIN:
                continue
            args = ['job', 'run', '-output'] + (['-hcl1'] if hcl1 else []) + variables + ['jobspec/' + fn]
            rc, stdout, stderr = run(binary, args, scratch)
            stem = name + ('.hcl1' if hcl1 else '')
            if rc == 0:
                out[stem + '.json'] = json.dumps(json.loads(stdout), sort_keys=True, indent=2)
            else:
                out[stem + '.error.txt'] = ('# command: nomad %s\n# exit code: %d\n# stdout: %s\n'
                                            '# stderr follows, byte for byte, after this line\n%s'
                                            % (shown(args), rc, stdout or '(empty)', stderr))
    return out


def record_09(binary, scratch):
    out = {}
    own = os.path.join(scratch, 'own')
    os.makedirs(own)
    inputs = []
    for pattern in OWN_091:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            shutil.copy(path, own)
            inputs.append(('own/' + os.path.basename(path), 'own-jobspec-reference/'))
    source = os.environ.get('NOMAD_SOURCE_0_9_1')
    fixtures = os.path.join(source or '', 'jobspec', 'test-fixtures')
    if source and os.path.isdir(fixtures):
        shutil.copytree(fixtures, os.path.join(scratch, 'jobspec'))
        shutil.copy(os.path.join(RECORDINGS, 'nomad-0.9.1', 'httpecho.nomad'), scratch)
        inputs += [('jobspec/' + fn, 'jobspec-reference/') for fn in sorted(os.listdir(fixtures)) if fn.endswith('.hcl')]
        inputs.append(('httpecho.nomad', ''))
    else:
        print('NOMAD_SOURCE_0_9_1 names no checkout of Nomad at v0.9.1: its own test files are left out')
    for path, prefix in inputs:
        name = os.path.splitext(os.path.basename(path))[0]
        rc, stdout, stderr = run(binary, ['job', 'run', '-output', path], scratch)
        key = prefix + name
        if rc == 0:
            out[key + '.json'] = json.dumps(json.loads(stdout), sort_keys=True, indent=2)
        else:
            out[key + '.error.txt'] = stderr
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('binary')
    parser.add_argument('--out', help='the recordings directory (default: tests/recordings/nomad-<corpus>)')
    parser.add_argument('--check', action='store_true', help='compare with the recordings, write nothing')
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    version = version_of(binary)
    one_x = not version.startswith('0.')
    out_dir = args.out or os.path.join(RECORDINGS, 'nomad-1.1.0' if one_x else 'nomad-0.9.1')
    scratch = tempfile.mkdtemp(prefix='record-jobspec-')
    try:
        files = record_1x(binary, scratch) if one_x else record_09(binary, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if one_x:
        files = {'jobspec-reference/' + k: v for k, v in files.items()}
    differ = 0
    for rel, text in sorted(files.items()):
        path = os.path.join(out_dir, rel)
        if args.check:
            try:
                with open(path, encoding='utf-8') as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            if not same:
                differ += 1
                print('differs: %s' % rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    print('Nomad %s: %d files %s %s' % (version, len(files), 'checked against' if args.check else 'written to', out_dir))
    if differ:
        print('%d differ' % differ)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
