# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double takes nothing from the collection: it would otherwise agree
with the collection's parsers and schemas by construction."""

import base64
import os
import re
import subprocess
import sys
import zipfile

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLE = os.path.join(TESTS, 'nomad_double')
sys.path.insert(0, TESTS)

from nomad_double.agentcfg import gossip_key  # noqa: E402  pylint: disable=wrong-import-position


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


@pytest.mark.parametrize('key, error', [
    # What Go's encoding/base64 (StdEncoding, which Nomad decodes the key with) answers.
    ('not base64!', 'illegal base64 data at input byte 3'),
    ('abc', 'illegal base64 data at input byte 0'),
    ('abcde', 'illegal base64 data at input byte 4'),
    ('YWJj=', 'illegal base64 data at input byte 4'),
    ('YW=j', 'illegal base64 data at input byte 2'),
    ('YWJjZA', 'illegal base64 data at input byte 4'),
    ('YWJjZA=', 'illegal base64 data at input byte 7'),
    ('YWJjZA==\n', None),
    ('ab\ncd', None),
])
def test_the_gossip_key_is_decoded_as_go_does(key, error):
    if error is None:
        assert gossip_key(key) == base64.b64decode(key.replace('\n', ''))
    else:
        with pytest.raises(ValueError, match='^%s$' % error):
            gossip_key(key)
