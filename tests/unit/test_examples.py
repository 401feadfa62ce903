# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/: the seed's job byte for byte, its 1.x form as Nomad 1.1.0 reads
that, and every example a job its Nomad release takes (the 1.6 form as a
real 1.6.5 answered for it: the test fails when the file and the recording
part)."""

import glob
import json
import os

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import parse_jobspec
from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import parse_hcl2_jobspec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, 'tests', 'recordings', 'nomad-0.9.1')
SHARED_1_1 = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0')
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, 'examples', '*.nomad')))


def test_httpecho_is_the_seeds_job_unchanged():
    seed = os.path.join(SHARED, 'httpecho.nomad')
    if not os.path.exists(seed):
        pytest.fail('recorded Nomad 0.9.1 facts missing from tests/recordings at %s' % SHARED)
    with open(seed, 'rb') as a, open(os.path.join(ROOT, 'examples', 'httpecho.nomad'), 'rb') as b:
        assert b.read() == a.read()
    with open(os.path.join(SHARED, 'httpecho.json')) as handle:
        recorded = json.load(handle)['Job']
    with open(os.path.join(ROOT, 'examples', 'httpecho.nomad')) as handle:
        assert parse_jobspec(handle.read(), 'httpecho.nomad') == recorded


def test_the_1x_form_is_what_1_1_0_made_of_the_same_job():
    reference = os.path.join(SHARED_1_1, 'jobspec-reference', 'httpecho-1x.json')
    if not os.path.exists(reference):
        pytest.fail('recorded Nomad 1.1.0 facts missing from tests/recordings at %s' % SHARED_1_1)
    with open(reference) as handle:
        recorded = json.load(handle)['Job']
    # The recorded file also registers a Consul service, which the post's cluster has no Consul for.
    recorded['TaskGroups'][0]['Services'] = None
    with open(os.path.join(ROOT, 'examples', 'httpecho-1x.nomad')) as handle:
        assert parse_hcl2_jobspec(handle.read(), 'httpecho-1x.nomad') == recorded


@pytest.mark.parametrize('path', EXAMPLES, ids=os.path.basename)
def test_every_example_parses(path):
    with open(path) as handle:
        text = handle.read()
    if '-16' in path:
        # Only a 1.6+ agent reads it: what the real 1.6.5 made of it (tests/real/record_jobs_parse.py).
        with open(os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'jobs_parse.json')) as handle:
            answers = [ex for ex in json.load(handle)['exchanges']
                       if ex['file'] == 'examples/' + os.path.basename(path) and ex['request']['JobHCL'] == text]
        assert answers and all(ex['status'] == 200 for ex in answers)
        job = [ex['body'] for ex in answers if ex['request'].get('Variables') == '{"count": 3}'][0]
        assert job['NodePool'] == 'default' and job['TaskGroups'][0]['Count'] == 3
    elif '-1x' in path:
        job = parse_hcl2_jobspec(text, os.path.basename(path), {'count': 3, 'text': 'hi'})
        assert job['TaskGroups'][0]['Count'] == 3
    else:
        job = parse_jobspec(text, os.path.basename(path))
    assert job['ID'] == 'httpecho'
