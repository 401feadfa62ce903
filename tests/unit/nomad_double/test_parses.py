# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's job parsing is recorded behaviour, not the collection's parsers."""

import ast
import glob
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from nomad_double import extract_parses, util  # noqa: E402  pylint: disable=wrong-import-position

DOUBLE = os.path.join(ROOT, 'tests', 'nomad_double')
RECORDINGS = os.path.join(ROOT, 'tests', 'recordings')


def _committed(name):
    with open(os.path.join(DOUBLE, name), encoding='utf-8') as f:
        return json.load(f)


@pytest.mark.parametrize('version, extract', [('0.9.1', extract_parses.parses_091),
                                              ('1.1.0', extract_parses.parses_110)])
def test_the_tables_are_what_the_recordings_say(version, extract):
    # Stale tables would answer with what no recording says.
    assert _committed('parses-%s.json' % version) == extract(), \
        'tests/nomad_double/parses-%s.json is not what tests/recordings say: run tests/nomad_double/extract_parses.py' \
        % version


def test_the_double_imports_no_job_parser_of_the_collection():
    imported = []
    for path in glob.glob(os.path.join(DOUBLE, '*.py')):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = ['%s.%s' % (node.module or '', a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            imported += ['%s: %s' % (os.path.basename(path), n) for n in names
                         if 'jobspec' in n or 'plugin_utils' in n or 'hcl2' in n]
    assert not imported


def test_a_recorded_text_gives_what_nomad_091_gave():
    with open(os.path.join(RECORDINGS, 'nomad-0.9.1', 'httpecho.nomad'), encoding='utf-8') as f:
        text = f.read()
    with open(os.path.join(RECORDINGS, 'nomad-0.9.1', 'httpecho.json'), encoding='utf-8') as f:
        want = json.load(f)['Job']
    parsed = util.recorded_parse(text, 'hcl1')
    assert parsed['Job'] == want and parsed['Canonicalized'] is False
    # Canonicalizing is the double's own work when only the parse was recorded.
    assert util.recorded_parse(text, 'hcl1', canonicalize=True)['Canonicalized'] is False


def test_a_recorded_refusal_is_nomads_own_words():
    with open(os.path.join(RECORDINGS, 'nomad-0.9.1', 'transcripts', 'api', '069-jobs-parse-bad-field.json'),
              encoding='utf-8') as f:
        exchange = json.load(f)
    parsed = util.recorded_parse(exchange['request']['body']['JobHCL'], 'hcl1')
    assert parsed == {'Status': 400, 'Error': exchange['response']['body'], 'Canonicalized': False}


def test_an_unrecorded_text_is_refused_saying_so():
    with pytest.raises(util.NoRecordedParse) as caught:
        util.recorded_parse('job "never-recorded" {}\n', 'hcl1')
    assert 'no recording of Nomad 0.9.1 parsing this job text' in str(caught.value)
    assert 'extract_parses.py' in str(caught.value)
