# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance of jobspec.parse_jobspec with a real Nomad 0.9.1.

References come from ``nomad job run -output`` (``tests/recordings/nomad-0.9.1/
jobspec-reference/``, for Nomad's own parser test files, which are read from a
Nomad v0.9.1 source checkout: see tests/support/recordings.py)
and from ``POST /v1/jobs/parse`` with ``Canonicalize=false`` (the transcripts'
``configs/jobs-json/``). They are not canonicalized: unset fields are null.

Comparison rule: both sides go through ``strip_empty``, which drops ``None``,
``""``, ``[]`` and ``{}`` recursively (and a dict left empty by that), keeps
``0`` and ``False`` and keeps list positions. Nomad's corpus is also
compared without that rule (``test_shared_valid_jobs_match_exactly``): our
output has every field of the API job, null where unset, as Nomad writes it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest

from tests.support.recordings import needs_nomad_source, nomad_source_dir, recordings_dir
from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import (
    JobspecError,
    parse_duration,
    parse_jobspec,
    strip_empty,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SHARED = recordings_dir('0.9.1')
FIXTURES = os.path.join(HERE, 'fixtures', 'jobspec')
# Nomad's own parser test files (its source) are the input of the corpus tests.
NOMAD_JOBSPEC = nomad_source_dir('jobspec')
needs_nomad_jobspec = needs_nomad_source('jobspec')


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def _shared_names(suffix):
    return sorted(os.path.basename(p)[:-len(suffix)]
                  for p in glob.glob(os.path.join(SHARED, 'jobspec-reference', '*' + suffix)))


VALID = _shared_names('.json')
INVALID = _shared_names('.error.txt')


def _reference(path):
    data = json.loads(_read(path))
    return data['Job'] if 'Job' in data else data


def test_shared_corpus_has_the_expected_size():
    assert len(VALID) == 21
    assert len(INVALID) == 9


@needs_nomad_jobspec
@pytest.mark.parametrize('name', VALID)
def test_shared_valid_jobs_match_reference(name):
    job = parse_jobspec(_read(os.path.join(NOMAD_JOBSPEC or '', name + '.hcl')), name + '.hcl')
    want = _reference(os.path.join(SHARED, 'jobspec-reference', name + '.json'))
    assert strip_empty(job) == strip_empty(want)


@needs_nomad_jobspec
@pytest.mark.parametrize('name', VALID)
def test_shared_valid_jobs_match_exactly(name):
    job = parse_jobspec(_read(os.path.join(NOMAD_JOBSPEC or '', name + '.hcl')), name + '.hcl')
    assert job == _reference(os.path.join(SHARED, 'jobspec-reference', name + '.json'))


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


@pytest.mark.parametrize('name', _transcript_pairs())
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


@needs_nomad_jobspec
@pytest.mark.parametrize('name', INVALID)
def test_shared_invalid_jobs_are_rejected_like_nomad(name):
    nomad_says = _read(os.path.join(SHARED, 'jobspec-reference', name + '.error.txt'))
    with pytest.raises(JobspecError) as caught:
        parse_jobspec(_read(os.path.join(NOMAD_JOBSPEC or '', name + '.hcl')), name + '.hcl')
    message = str(caught.value)
    assert name + '.hcl' in message
    for fragment in EXPECTED_ERRORS[name]:
        assert fragment in message
    # The core of Nomad's wording is ours too.
    assert EXPECTED_ERRORS[name][-1] in nomad_says
    if name != 'multi-vault':
        assert caught.value.line is not None


def test_every_other_transcript_job_parses():
    # pinned.nomad has no recorded JSON; it must still parse, with its constraint
    path = os.path.join(SHARED, 'transcripts', 'configs', 'jobs', 'pinned.nomad')
    job = parse_jobspec(_read(path), 'pinned.nomad')
    assert job['Constraints'] == [{'LTarget': '${node.unique.id}', 'RTarget': '36492a80-8800-926a-6578-939ad5aa1188',
                                   'Operand': '='}]
    assert job['TaskGroups'][0]['Tasks'][0]['Config'] == {'command': '/bin/sleep', 'args': ['300']}


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


# ---------------------------------------------------------------- our own fixtures
# Job files for what the shared corpus lacks. Each .hcl says in its header
# which part of Nomad 0.9.1's parser its expected .json was derived from.
# The .json holds the job after strip_empty (the comparison rule above); a
# real 0.9.1 has since given the same (own-jobspec-reference/, below).

OWN = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(FIXTURES, '*.hcl')))


# What a real Nomad 0.9.1 made of this repository's own HCL1 job files
# (tests/real/record_jobspec.py): compared exactly, on every checkout.
OWN_REFERENCES = os.path.join(SHARED, 'own-jobspec-reference')
OWN_INPUTS = dict((os.path.splitext(os.path.basename(p))[0], p) for p in
                  glob.glob(os.path.join(FIXTURES, '*.hcl'))
                  + [os.path.join(ROOT, 'examples', 'httpecho-raw_exec.nomad'),
                     os.path.join(ROOT, 'tests', 'integration', 'files', 'sleeper.nomad'),
                     os.path.join(ROOT, 'tests', 'integration', 'files', 'deploy.nomad')])


def test_every_own_job_file_has_its_nomad_091_reference():
    recorded = sorted(p[:-len('.json')] for p in os.listdir(OWN_REFERENCES))
    assert recorded == sorted(OWN_INPUTS)


@pytest.mark.parametrize('name', sorted(OWN_INPUTS))
def test_own_job_files_match_nomad_091_exactly(name):
    job = parse_jobspec(_read(OWN_INPUTS[name]), os.path.basename(OWN_INPUTS[name]))
    assert job == _reference(os.path.join(OWN_REFERENCES, name + '.json'))


def test_own_fixtures_cover_the_blocks_the_corpus_misses():
    text = ''.join(_read(os.path.join(FIXTURES, name + '.hcl')) for name in OWN)
    for block in ('affinity', 'spread', 'device', 'canary', '<<EOH', '<<-EOT', 'header', 'check_restart',
                  'periodic', 'parameterized', 'dispatch_payload', 'vault', 'logs', 'ephemeral_disk', 'migrate',
                  'leader', 'shutdown_delay', 'kill_signal', 'user', 'template'):
        assert block in text, block


@pytest.mark.parametrize('name', OWN)
def test_own_fixtures_match_expected(name):
    job = parse_jobspec(_read(os.path.join(FIXTURES, name + '.hcl')), name + '.hcl')
    want = json.loads(_read(os.path.join(FIXTURES, name + '.json')))['Job']
    assert strip_empty(job) == want


@pytest.mark.parametrize('name', OWN)
def test_own_fixtures_have_every_api_field(name):
    # Like Nomad's output, unset fields are present and null.
    job = parse_jobspec(_read(os.path.join(FIXTURES, name + '.hcl')), name + '.hcl')
    assert 'Stop' in job and job['Stop'] is None
    for group in job['TaskGroups']:
        assert set(group) >= {'RestartPolicy', 'EphemeralDisk', 'Update', 'Migrate', 'Meta'}
        for task in group['Tasks']:
            assert set(task) >= {'KillTimeout', 'LogConfig', 'Vault', 'Templates', 'DispatchPayload'}


def _leaves(value, path=()):
    """(key path, scalar) pairs, ignoring whether a block came out as a dict
    or a list of dicts: the shape pyhcl and hcl v1 disagree on."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, path + (key,))
    elif isinstance(value, list):
        for inner in value:
            yield from _leaves(inner, path)
    elif not (isinstance(value, str) and '\n' in value):
        # pyhcl drops a heredoc's final newline; heredocs are tested on their own
        yield path, value


def _cross_check_files():
    files = [os.path.join(FIXTURES, name + '.hcl') for name in OWN]
    files.append(os.path.join(SHARED, 'httpecho.nomad'))
    if NOMAD_JOBSPEC:
        files += [os.path.join(NOMAD_JOBSPEC, name + '.hcl') for name in VALID]
    return files


@pytest.mark.parametrize('path', _cross_check_files(), ids=os.path.basename)
def test_syntax_layer_agrees_with_pyhcl(path):
    # pyhcl is an independent HCL1 reader: every key and value we read, it reads too.
    pyhcl = pytest.importorskip('hcl')
    from ansible_collections.nomadops.nomad.plugins.module_utils import hcl as ours
    text = _read(path)
    try:
        theirs = pyhcl.loads(text)
    except ValueError as exc:
        # pyhcl rejects lists mixing strings and numbers, which hcl v1 reads
        pytest.skip('pyhcl cannot read this file: %s' % exc)
    assert sorted(_leaves(ours.loads(text)), key=repr) == sorted(_leaves(theirs), key=repr)


# ---------------------------------------------------------------- rejections

INVALID_JOBS = [
    ('unknown key in update', 'job "j" {\n  update {\n    max_paralel = 2\n  }\n}\n',
     ('job, update -> invalid key: max_paralel', 3)),
    ('several unknown keys', 'job "j" {\n  group "g" {\n    task "t" {\n      drivr = "x"\n      nme = 1\n    }\n  }\n}\n',
     ("group 'g', task 't' -> invalid keys: drivr, nme", 4)),
    ('two logs blocks', 'job "j" {\n  task "t" {\n    logs {}\n    logs {}\n  }\n}\n',
     ('only one logs block is allowed in a Task. Number of logs block found: 2', 4)),
    ('two vault blocks in a group', 'job "j" {\n  group "g" {\n    vault {}\n    vault {}\n  }\n}\n',
     ("group 'g', vault -> only one 'vault' block allowed per task", 4)),
    ('two resources blocks', 'job "j" {\n  task "t" {\n    resources {}\n    resources {}\n  }\n}\n',
     ("task 't' -> only one 'resource' block allowed per task", 4)),
    ('two update blocks', 'job "j" {\n  update {}\n  update {}\n}\n',
     ("job, update -> only one 'update' block allowed", 3)),
    ('group defined twice', 'job "j" {\n  group "g" {}\n  group "g" {}\n}\n',
     ("group 'g' defined more than once", 3)),
    ('task defined twice', 'job "j" {\n  group "g" {\n    task "t" {}\n    task "t" {}\n  }\n}\n',
     ("group 'g' -> task 't' defined more than once", 4)),
    ('port label with a dash',
     'job "j" {\n  task "t" {\n    resources {\n      network {\n        port "my-port" {}\n      }\n    }\n  }\n}\n',
     ("task 't', resources, network, port 'my-port' -> " + 'Port label does not conform to naming requirements', 5)),
    ('unnamed port', 'job "j" {\n  task "t" {\n    resources {\n      network {\n        port {}\n      }\n    }\n  }\n}\n',
     ('ports must be named', 5)),
    ('network keys are mbits and port only',
     'job "j" {\n  task "t" {\n    resources {\n      network {\n        reserved_ports = [1]\n      }\n    }\n  }\n}\n',
     ("task 't', resources, network -> invalid key: reserved_ports", 5)),
    ('static port used by two tasks of a group',
     'job "j" {\n  group "g" {\n    task "a" {\n      resources {\n        network {\n          port "http" {\n'
     '            static = 8080\n          }\n        }\n      }\n    }\n    task "b" {\n      resources {\n'
     '        network {\n          port "web" {\n            static = "8080"\n          }\n        }\n      }\n'
     '    }\n  }\n}\n',
     ("group 'g', task 'b', resources, network, port 'web' -> Static port 8080 already reserved by a:http", 16)),
    ('bad duration', 'job "j" {\n  task "t" {\n    kill_timeout = "10 seconds"\n  }\n}\n',
     ("task 't' -> 'kill_timeout': time: unknown unit", 3)),
    ('duration without unit', 'job "j" {\n  group "g" {\n    restart {\n      delay = "15"\n    }\n  }\n}\n',
     ("group 'g', restart -> 'delay': time: missing unit in duration \"15\"", 4)),
    ('count not a number', 'job "j" {\n  group "g" {\n    count = "many"\n  }\n}\n',
     ("group 'g' -> cannot parse 'count' as int", 3)),
    ('datacenters not a list', 'job "j" {\n  datacenters = "dc1"\n}\n',
     ("job -> 'datacenters': source data must be an array or slice, got string", 2)),
    ('env value is a list', 'job "j" {\n  task "t" {\n    env {\n      A = ["x"]\n    }\n  }\n}\n',
     ("task 't', env -> 'A' expected type 'string', got unconvertible type '[]interface {}'", 4)),
    ('distinct_hosts not a bool', 'job "j" {\n  constraint {\n    distinct_hosts = "yes"\n  }\n}\n',
     ('distinct_hosts should be set to true or false; strconv.ParseBool: parsing "yes": invalid syntax', 3)),
    ('periodic enabled not a bool', 'job "j" {\n  periodic {\n    enabled = 2\n  }\n}\n',
     ("periodic.enabled should be set to true or false; 2 couldn't be converted to boolean value", 3)),
    ('weight out of int8 range', 'job "j" {\n  affinity {\n    weight = "200"\n  }\n}\n',
     ('value out of range', 3)),
    ('header values not strings',
     'job "j" {\n  task "t" {\n    service {\n      check {\n        header {\n          X = [true]\n        }\n'
     '      }\n    }\n  }\n}\n',
     ("service '', check -> header -> \"X\" expected a string but found bool", 5)),
    ('two check_restart blocks',
     'job "j" {\n  task "t" {\n    service {\n      name = "s"\n      check_restart {}\n      check_restart {}\n'
     '    }\n  }\n}\n',
     ("check_restart 's': cannot have more than 1 check_restart", 6)),
    ('device key', 'job "j" {\n  task "t" {\n    resources {\n      device "gpu" {\n        vendor = "x"\n      }\n'
     '    }\n  }\n}\n',
     ("resources, device 'gpu' -> invalid key: vendor", 5)),
    ('spread target twice',
     'job "j" {\n  spread {\n    target "a" {}\n    target "a" {}\n  }\n}\n',
     ("target 'a' defined more than once", 4)),
    ('labelled restart block', 'job "j" {\n  group "g" {\n    restart "x" {}\n  }\n}\n',
     ("'restart' block takes no label", 3)),
    ('no job', 'group "g" {}\n', ('invalid key: group', 1)),
    ('empty file', '', ("'job' stanza not found", None)),
    ('two jobs', 'job "a" {}\njob "b" {}\n', ("only one 'job' block allowed", 2)),
    ('job without a name', 'job {}\n', ("'job' block missing name", 1)),
    ('syntax error', 'job "j" {\n  count = \n}\n', ('error parsing: ', 3)),
]


@pytest.mark.parametrize('title,text,expected', INVALID_JOBS, ids=[case[0] for case in INVALID_JOBS])
def test_invalid_jobs_are_rejected_with_path_and_line(title, text, expected):
    fragment, line = expected
    with pytest.raises(JobspecError) as caught:
        parse_jobspec(text, 'job.nomad')
    message = str(caught.value)
    assert fragment in message
    assert caught.value.line == line
    assert 'job.nomad' in message
    if line is not None:
        assert 'line %d' % line in message


def test_error_without_filename_still_names_the_line():
    with pytest.raises(JobspecError) as caught:
        parse_jobspec('job "j" {\n  bogus = 1\n}\n')
    assert str(caught.value) == 'job -> invalid key: bogus (at line 2, column 3)'
    assert caught.value.path == ('job',)
    assert caught.value.problem == 'invalid key: bogus'


# ---------------------------------------------------------------- details of Nomad's decoding

def _task(text):
    return parse_jobspec('job "j" {\n  task "t" {\n%s\n  }\n}\n' % text)['TaskGroups'][0]['Tasks'][0]


def test_a_task_at_job_level_gets_a_group_of_its_own_and_groups_follow():
    job = parse_jobspec('job "j" {\n  group "g" { task "a" {} }\n  task "b" {}\n}\n')
    assert [g['Name'] for g in job['TaskGroups']] == ['b', 'g']
    assert job['TaskGroups'][0]['Count'] is None


def test_unlabelled_groups_and_tasks_are_ignored_as_nomad_does():
    job = parse_jobspec('job "j" {\n  group { count = 1 }\n  group "g" { task {} }\n}\n')
    assert [g['Name'] for g in job['TaskGroups']] == ['g']
    assert job['TaskGroups'][0]['Tasks'] is None
    # an unlabelled task at job level still makes Nomad allocate the (empty) list
    assert parse_jobspec('job "j" {\n  task {}\n}\n')['TaskGroups'] == []


def test_weak_string_conversions_match_go():
    env = _task('    env {\n      A = true\n      B = 1.0\n      C = 1e21\n      D = -0.25\n      E = 0x10\n    }')['Env']
    assert env == {'A': '1', 'B': '1', 'C': '1000000000000000000000', 'D': '-0.25', 'E': '16'}


def test_int_fields_truncate_floats_and_wrap_like_go():
    job = parse_jobspec('job "j" {\n  priority = 50.9\n  affinity {\n    weight = 200\n  }\n'
                        '  spread {\n    target "x" {\n      percent = 300\n    }\n  }\n}\n')
    assert job['Priority'] == 50
    assert job['Affinities'][0]['Weight'] == -56
    assert job['Spreads'][0]['SpreadTarget'][0]['Percent'] == 44


def test_name_inside_device_and_value_inside_spread_target_override_the_label():
    # mapstructure decodes the block after the label is set
    job = parse_jobspec('job "j" {\n  spread {\n    target "x" {\n      value = "y"\n    }\n  }\n'
                        '  task "t" {\n    resources {\n      device "gpu" {\n        name = "nvidia/gpu"\n'
                        '      }\n    }\n  }\n}\n')
    assert job['Spreads'][0]['SpreadTarget'][0]['Value'] == 'y'
    assert job['TaskGroups'][0]['Tasks'][0]['Resources']['Devices'][0]['Name'] == 'nvidia/gpu'


def test_port_labels_differ_by_case_only_collide():
    with pytest.raises(JobspecError) as caught:
        _task('    resources {\n      network {\n        port "db" {}\n        port "DB" {}\n      }\n    }')
    assert 'found a port label collision: DB' in str(caught.value)


def test_same_static_port_in_separate_job_level_tasks_is_fine():
    # each job-level task is a group of its own
    job = parse_jobspec('job "j" {\n  task "a" {\n    resources { network { port "p" { static = 80 } } }\n  }\n'
                        '  task "b" {\n    resources { network { port "p" { static = 80 } } }\n  }\n}\n')
    assert len(job['TaskGroups']) == 2


def test_empty_resources_and_options_blocks():
    task = _task('    resources {}\n    artifact {\n      source = "s"\n      options {}\n    }')
    assert task['Resources'] == {'CPU': None, 'MemoryMB': None, 'DiskMB': None, 'Networks': None, 'Devices': None,
                                 'IOPS': None}
    assert task['Artifacts'][0]['GetterOptions'] == {}


def test_bytes_input_and_result_is_json_serializable():
    job = parse_jobspec(b'job "j" {\n  task "t" {\n    kill_timeout = "1.5s"\n  }\n}\n')
    assert json.loads(json.dumps(job)) == job
    assert job['TaskGroups'][0]['Tasks'][0]['KillTimeout'] == 1500000000
