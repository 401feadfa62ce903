# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double takes nothing from the collection: it would otherwise agree
with the collection's parsers and schemas by construction."""

import os
import re
import subprocess
import sys
import zipfile

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLE = os.path.join(TESTS, 'nomad_double')


def test_no_module_of_the_double_imports_the_collection():
    found = []
    for name in sorted(os.listdir(DOUBLE)):
        if name.endswith('.py'):
            with open(os.path.join(DOUBLE, name)) as f:
                for number, line in enumerate(f, 1):
                    if re.search(r'ansible_collections|module_utils|plugin_utils', line):
                        found.append('%s:%d: %s' % (name, number, line.strip()))
    assert found == []


def test_the_build_bundles_pyhcl_and_nothing_of_the_collection(tmp_path):
    out = str(tmp_path / 'nomad')
    subprocess.run([sys.executable, os.path.join(DOUBLE, 'build.py'), out], check=True, capture_output=True)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert 'hcl/__init__.py' in names and 'hcl/ply/yacc.py' in names
    assert [n for n in names if n.startswith('ansible_collections/') or '/module_utils/' in n] == []
