# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's job canonicalization, validation and plan diffs against recordings."""

import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from nomad_double import jobs  # noqa: E402  pylint: disable=wrong-import-position

SHARED = os.path.join(ROOT, 'tests', 'recordings', 'nomad-0.9.1')
TRANSCRIPTS = os.path.join(SHARED, 'transcripts')


def _load(*parts):
    path = os.path.join(TRANSCRIPTS, *parts)
    if not os.path.exists(path):
        pytest.fail('recorded Nomad 0.9.1 transcripts missing from tests/recordings')
    with open(path) as f:
        return json.load(f)


def _api(prefix):
    api = os.path.join(TRANSCRIPTS, 'api')
    if not os.path.isdir(api):
        pytest.fail('recorded Nomad 0.9.1 transcripts missing from tests/recordings')
    fn = next(f for f in os.listdir(api) if f.startswith(prefix))
    return _load('api', fn)


@pytest.mark.parametrize('name, stored', [('httpecho', '031-'), ('batchtrue', '094-'), ('periodic', '098-'),
                                          ('httpecho-deploy', '110-'), ('unplaceable', '053-')])
def test_canonicalize_matches_the_stored_job(name, stored):
    got = jobs.canonicalize(_load('configs', 'jobs-json', name + '.json'))
    want = _api(stored)['response']['body']
    for key in jobs.SERVER_FIELDS:
        got.pop(key, None)
        want.pop(key, None)
    assert got == want


def test_validate_messages_match_the_recorded_ones():
    body = _api('024-')['response']['body']
    job = jobs.canonicalize(_load('configs', 'jobs-json', 'invalid.json'))
    errs = jobs.validate(job)
    assert errs == body['ValidationErrors']
    assert jobs.multierror(errs) == body['Error']
    bad_type = _api('068-')
    job = jobs.canonicalize(bad_type['request']['body']['Job'])
    assert 'rpc error: ' + jobs.multierror(jobs.validate(job)) == bad_type['response']['body']


def test_decode_type_errors_match_go():
    rec = _api('061-')
    with pytest.raises(jobs.RequestError) as exc:
        jobs.check_types(rec['request']['body']['Job'])
    assert str(exc.value) == rec['response']['body']


def test_plan_diff_none_and_edited():
    stored = jobs.canonicalize(_load('configs', 'jobs-json', 'httpecho.json'))
    same = jobs.job_diff(stored, jobs.canonicalize(_load('configs', 'jobs-json', 'httpecho.json')),
                         {'web': {'Ignore': 2}})
    assert same == _api('040-')['response']['body']['Diff']
    count3 = jobs.canonicalize(_load('configs', 'jobs-json', 'httpecho-count3.json'))
    edited = jobs.job_diff(stored, count3, {'web': {'Place': 1, 'InPlaceUpdate': 2}})
    assert edited == _api('041-')['response']['body']['Diff']


def test_plan_diff_added_lists_the_same_fields():
    new = jobs.canonicalize(_load('configs', 'jobs-json', 'httpecho.json'))
    got = jobs.job_diff(None, new, {'web': {'Place': 2}})
    want = _api('026-')['response']['body']['Diff']
    assert got['Type'] == want['Type'] == 'Added'
    assert [f['Name'] for f in got['Fields']] == [f['Name'] for f in want['Fields']]
    assert got['TaskGroups'][0]['Updates'] == want['TaskGroups'][0]['Updates']
    assert sorted(o['Name'] for o in got['TaskGroups'][0]['Objects']) == \
        sorted(o['Name'] for o in want['TaskGroups'][0]['Objects'])
