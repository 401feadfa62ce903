# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the double into one executable file that behaves as ``nomad``.

    python tests/nomad_double/build.py OUT [--version 0.9.0|1.1.0]

OUT is a Python zipapp (``#!/usr/bin/env python3``, mode 0755) bundling the
double and the HCL1 parser it reads agent configs and ACL policies with
(pyhcl, pure Python, taken from the Python that runs the build), so it runs
on a host that has nothing but python3. Nothing of the collection is in it.
The version also picks the behaviour: any version from 1.0 on gets the
Nomad 1.1.0 personality, anything else 0.9.1's (see util.IS_1X).
"""
import argparse
import json
import os
import shutil
import tempfile
import zipapp

try:
    import hcl
except ImportError:
    raise SystemExit('building the Nomad test double needs pyhcl (pip install -r requirements-dev.txt)')

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAIN = 'import sys\nfrom nomad_double.cli import main\nsys.exit(main())\n'


def build(out, version=None):
    """Write the executable to ``out``; ``version`` is what it reports, and
    from 1.0 on also makes it behave as Nomad 1.1.0."""
    stage = tempfile.mkdtemp(prefix='nomad-double-')
    try:
        pkg = os.path.join(stage, 'nomad_double')
        os.makedirs(pkg)
        for name in sorted(os.listdir(HERE)):
            if name.endswith('.py') and name not in ('build.py', 'extract_templates.py', 'extract_parses.py',
                                                     '__main__.py') \
                    or (name.startswith(('templates', 'parses')) and name.endswith('.json')):
                shutil.copy2(os.path.join(HERE, name), pkg)
        recordings = os.path.join(ROOT, 'tests', 'recordings')
        if os.path.isdir(recordings):
            # What real releases answered, for the personalities that replay it (util.recording).
            # Not what the tests compare against (transcripts, parser corpora): the double never reads those.
            shutil.copytree(recordings, os.path.join(pkg, 'recordings'),
                            ignore=shutil.ignore_patterns('transcripts', 'jobspec', 'jobspec-reference',
                                                          'jobspec-api-parse', '*.md'))
        # pyhcl (import name hcl) and the ply it carries inside it.
        shutil.copytree(os.path.dirname(hcl.__file__), os.path.join(stage, 'hcl'),
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc', 'parsetab*'))
        with open(os.path.join(stage, '__main__.py'), 'w') as f:
            f.write(MAIN)
        if version:
            with open(os.path.join(pkg, 'build_info.json'), 'w') as f:
                # The revision follows from the version (util.KNOWN_REVISIONS).
                json.dump({'version': version}, f)
        tmp = out + '.tmp'
        zipapp.create_archive(stage, tmp, interpreter='/usr/bin/env python3', compressed=True)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(stage)
    return out


def main():
    parser = argparse.ArgumentParser(description='Build the Nomad test double into one executable file.')
    parser.add_argument('out', help='path of the executable to write')
    parser.add_argument('--version', help='version it reports (default 0.9.1); from 1.0 on it behaves as Nomad 1.1.0, '
                        'below as 0.9.1')
    args = parser.parse_args()
    print(build(args.out, args.version))


if __name__ == '__main__':
    main()
