# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of jobspec.parse_jobspec with a real Nomad 0.9.1.

References come from ``nomad job run -output`` (shared ``jobspec-reference/``)
and from ``POST /v1/jobs/parse`` with ``Canonicalize=false`` (the transcripts'
``configs/jobs-json/``). They are not canonicalized: unset fields are null.

Comparison rule: both sides go through ``strip_empty``, which drops ``None``,
``""``, ``[]`` and ``{}`` recursively (and a dict left empty by that), keeps
``0`` and ``False`` and keeps list positions. The shared corpus is also
compared without that rule (``test_shared_valid_jobs_match_exactly``): our
output has every field of the API job, null where unset, as Nomad writes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import (
    JobspecError,
    parse_duration,
    parse_jobspec,
    strip_empty,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SHARED = os.environ.get('NOMAD_SHARED_DIR') or os.path.join(ROOT, '..', 'shared', 'nomad-0.9.1')
FIXTURES = os.path.join(HERE, 'fixtures', 'jobspec')

needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED), reason='recorded Nomad 0.9.1 facts not present')


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def _shared_names(suffix):
    return sorted(os.path.basename(p)[:-len(suffix)]
                  for p in glob.glob(os.path.join(SHARED, 'jobspec-reference', '*' + suffix)))


VALID = _shared_names('.json') if os.path.isdir(SHARED) else []
INVALID = _shared_names('.error.txt') if os.path.isdir(SHARED) else []


def _reference(path):
    data = json.loads(_read(path))
    return data['Job'] if 'Job' in data else data


@needs_shared
def test_shared_corpus_has_the_expected_size():
    assert len(VALID) == 21
    assert len(INVALID) == 9


@needs_shared
@pytest.mark.parametrize('name', VALID or ['none'])
def test_shared_valid_jobs_match_reference(name):
    job = parse_jobspec(_read(os.path.join(SHARED, 'jobspec', name + '.hcl')), name + '.hcl')
    want = _reference(os.path.join(SHARED, 'jobspec-reference', name + '.json'))
    assert strip_empty(job) == strip_empty(want)


@needs_shared
@pytest.mark.parametrize('name', VALID or ['none'])
def test_shared_valid_jobs_match_exactly(name):
    job = parse_jobspec(_read(os.path.join(SHARED, 'jobspec', name + '.hcl')), name + '.hcl')
    assert job == _reference(os.path.join(SHARED, 'jobspec-reference', name + '.json'))


@needs_shared
def test_httpecho_matches_reference():
    job = parse_jobspec(_read(os.path.join(SHARED, 'httpecho.nomad')), 'httpecho.nomad')
    want = _reference(os.path.join(SHARED, 'httpecho.json'))
    assert strip_empty(job) == strip_empty(want)
    assert job == want


def _transcript_pairs():
    jobs = os.path.join(SHARED, 'transcripts', 'configs', 'jobs')
    out = []
    for path in sorted(glob.glob(os.path.join(jobs, '*.nomad'))):
        ref = os.path.join(SHARED, 'transcripts', 'configs', 'jobs-json', os.path.basename(path)[:-6] + '.json')
        if os.path.exists(ref):
            out.append(os.path.basename(path))
    return out


@needs_shared
@pytest.mark.parametrize('name', (_transcript_pairs() if os.path.isdir(SHARED) else []) or ['none'])
def test_transcript_jobs_match_jobs_parse(name):
    base = os.path.join(SHARED, 'transcripts', 'configs')
    job = parse_jobspec(_read(os.path.join(base, 'jobs', name)), name)
    want = _reference(os.path.join(base, 'jobs-json', name[:-6] + '.json'))
    assert strip_empty(job) == strip_empty(want)
    assert job == want


# What each of Nomad's recorded errors says, and what ours must say too.
EXPECTED_ERRORS = {
    'bad-artifact': ["group 'binsl'", "task 'binstore'", 'artifact', 'invalid key: bad'],
    'bad-ports': ["group 'binsl'", "task 'binstore'", 'resources, network',
                  'Port label does not conform to naming requirements ^[a-zA-Z0-9_]+$'],
    'basic_wrong_key': ["group 'binsl'", "task 'binstore'", "service 'foo'", 'check', 'invalid key: nterval'],
    'multi-network': ["group 'binsl'", "task 'binstore'", "only one 'network' resource allowed"],
    'multi-resource': ["group 'binsl'", 'ephemeral_disk', "only one 'ephemeral_disk' block allowed"],
    'multi-vault': ['error parsing', 'object expected closing RBRACE got: EOF'],
    'overlapping-ports': ["group 'binsl'", "task 'binstore'", 'resources, network',
                          'found a port label collision: http'],
    'service-check-bad-header-2': ["group 'group'", "task 'task'", "service ''", 'check',
                                   'header -> "Authorization" expected a string but found int'],
    'service-check-bad-header': ["group 'group'", "task 'task'", "service ''", 'check',
                                 'header -> "Authorization" expected a []string but found string'],
}


@needs_shared
@pytest.mark.parametrize('name', INVALID or ['none'])
def test_shared_invalid_jobs_are_rejected_like_nomad(name):
    nomad_says = _read(os.path.join(SHARED, 'jobspec-reference', name + '.error.txt'))
    with pytest.raises(JobspecError) as caught:
        parse_jobspec(_read(os.path.join(SHARED, 'jobspec', name + '.hcl')), name + '.hcl')
    message = str(caught.value)
    assert name + '.hcl' in message
    for fragment in EXPECTED_ERRORS[name]:
        assert fragment in message
    # The core of Nomad's wording is ours too.
    assert EXPECTED_ERRORS[name][-1] in nomad_says
    if name != 'multi-vault':
        assert caught.value.line is not None


@needs_shared
def test_transcript_syntax_error_is_rejected():
    path = os.path.join(SHARED, 'transcripts', 'configs', 'jobs', 'broken.nomad')
    with pytest.raises(JobspecError) as caught:
        parse_jobspec(_read(path), 'broken.nomad')
    assert 'error parsing' in str(caught.value)
    assert caught.value.line == 3


@pytest.mark.parametrize('text,expected', [
    ('10s', 10 * 10 ** 9), ('1h30m', 5400 * 10 ** 9), ('1.5s', 1500000000), ('300ms', 300000000),
    ('-2m', -120 * 10 ** 9), ('0', 0), ('1us', 1000), ('1\u00b5s', 1000), ('.5h', 1800 * 10 ** 9),
    ('2h45m30.5s', (2 * 3600 + 45 * 60 + 30) * 10 ** 9 + 500000000),
])
def test_parse_duration_follows_go(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize('text,message', [
    ('10', 'time: missing unit in duration "10"'),
    ('10x', 'time: unknown unit "x" in duration "10x"'),
    ('', 'time: invalid duration ""'),
    ('s', 'time: invalid duration "s"'),
    ('1.s.', 'time: invalid duration "1.s."'),
])
def test_parse_duration_rejects_like_go(text, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message
