# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/: the seed's job byte for byte, and every example a job Nomad 0.9.1 takes."""

import glob
import json
import os

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import parse_jobspec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('NOMAD_SHARED_DIR') or os.path.join(ROOT, '..', 'shared', 'nomad-0.9.1')
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, 'examples', '*.nomad')))


def test_httpecho_is_the_seeds_job_unchanged():
    seed = os.path.join(SHARED, 'httpecho.nomad')
    if not os.path.exists(seed):
        pytest.skip('recorded Nomad 0.9.1 facts not present at %s' % SHARED)
    with open(seed, 'rb') as a, open(os.path.join(ROOT, 'examples', 'httpecho.nomad'), 'rb') as b:
        assert b.read() == a.read()
    with open(os.path.join(SHARED, 'httpecho.json')) as handle:
        recorded = json.load(handle)['Job']
    with open(os.path.join(ROOT, 'examples', 'httpecho.nomad')) as handle:
        assert parse_jobspec(handle.read(), 'httpecho.nomad') == recorded


@pytest.mark.parametrize('path', EXAMPLES, ids=os.path.basename)
def test_every_example_parses(path):
    with open(path) as handle:
        job = parse_jobspec(handle.read(), os.path.basename(path))
    assert job['ID'] == 'httpecho'
