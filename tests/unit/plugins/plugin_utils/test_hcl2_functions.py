# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""formatdate, timeadd, yamlencode, yamldecode and the filesystem functions.

The job files in ``fixtures/hcl2_functions`` were given to a real Nomad CLI
(``tests/real/record_hcl2_functions.py``; ``VERSION`` names the release,
1.1.0, built from its tag), run from that directory: ``NAME.json`` is what
``nomad job run -output`` printed, ``NAME.error.txt`` its stderr. The other
tests work expected values out of the rule cited next to each (go-cty's
datetime.go, Go 1.16's time package, go-cty-yaml's resolve.go and emitter,
go-cty-funcs' filesystem package, doublestar 1.1.5), not from the evaluator.
"""

from __future__ import annotations

import glob
import json
import os

import pytest

pytest.importorskip('hcl2')

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.plugin_utils import hcl2_eval as hx  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import parse_hcl2_jobspec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, 'fixtures', 'hcl2_functions')


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def _names(suffix):
    return sorted(os.path.basename(p)[:-len(suffix)] for p in glob.glob(os.path.join(FIXTURES, '*' + suffix)))


@pytest.fixture
def in_fixtures(monkeypatch):
    # As recorded: the CLI ran from the fixtures, its base directory ".", HOME there too.
    monkeypatch.chdir(FIXTURES)
    monkeypatch.setenv('HOME', FIXTURES)


def test_every_job_file_was_recorded():
    recorded = set(_names('.json')) | set(_names('.error.txt'))
    assert recorded == set(_names('.hcl'))
    assert len(recorded) >= 14


@pytest.mark.parametrize('name', _names('.json'))
def test_accepted_job_equals_nomad_output(name, in_fixtures):
    want = json.loads(_read(os.path.join(FIXTURES, name + '.json')))['Job']
    got = parse_hcl2_jobspec(_read(name + '.hcl'), name + '.hcl', base_dir='.')
    assert got['Meta'] == want['Meta']
    assert got == want


@pytest.mark.parametrize('name', _names('.error.txt'))
def test_rejected_job_gives_nomads_first_diagnostic(name, in_fixtures):
    stderr = _read(os.path.join(FIXTURES, name + '.error.txt'))
    header, first, _rest = stderr.split('\n', 2)
    assert header == 'Error getting job struct: Error parsing job file from %s.hcl:' % name
    with pytest.raises(JobspecError) as info:
        parse_hcl2_jobspec(_read(name + '.hcl'), name + '.hcl', base_dir='.')
    assert info.value.diagnostic == first


def test_base_dir_is_where_relative_paths_resolve(tmp_path):
    # go-cty-funcs joins a relative path to the base directory, then cleans it.
    (tmp_path / 'motd.txt').write_text('hi\n', encoding='utf-8')
    job = parse_hcl2_jobspec('job "j" {\n  meta {\n    m = file("motd.txt")\n    e = fileexists("./motd.txt")\n'
                             '    s = jsonencode(fileset(".", "*.txt"))\n  }\n}\n', 'j.hcl', base_dir=str(tmp_path))
    assert job['Meta'] == {'m': 'hi\n', 'e': 'true', 's': '["motd.txt"]'}
    with pytest.raises(JobspecError) as info:
        parse_hcl2_jobspec('job "j" {\n  meta {\n    m = file("nope.txt")\n  }\n}\n', 'j.hcl', base_dir=str(tmp_path))
    assert info.value.diagnostic == ('j.hcl:3,9-14: Error in function call; Call to function "file" failed: no file '
                                     'exists at %s/nope.txt.' % tmp_path)


@pytest.mark.parametrize('call', ['file("x")', 'fileexists("x")', 'fileset(".", "*")', 'abspath("x")',
                                  'basename("x")', 'dirname("x")', 'pathexpand("x")'])
def test_filesystem_functions_disabled_without_base_dir(call):
    # jobspec2's guardFS; Nomad's API parses with AllowFS false.
    with pytest.raises(JobspecError) as info:
        parse_hcl2_jobspec('job "j" {\n  region = %s\n}\n' % call, 'j.hcl')
    name = call.split('(')[0]
    assert info.value.problem == ('Error in function call; Call to function "%s" failed: filesystem function '
                                  'disabled.' % name)


def _value(expression, base_dir=None):
    return hx.parse_expression(expression, 'e.hcl').value_in(hx.Ctx({}, base_dir=base_dir))


def _error(expression, base_dir=None):
    with pytest.raises(hx.Diag) as info:
        _value(expression, base_dir)
    return info.value.detail


@pytest.mark.parametrize('expression, expected', [
    # go-cty datetime.go: H is the 12-hour clock (0 -> 12); AA/aa the marker.
    ('formatdate("H HH AA aa", "2021-06-01T00:07:00Z")', '12 12 AM am'),
    ('formatdate("H h A", "2021-06-01T12:00:00Z")', 'invalid'),
    # ZZZ is "UTC" for a zero offset, ZZZZ/ZZZZZ numeric; Z is "Z" for zero.
    ('formatdate("Z|ZZZ|ZZZZ|ZZZZZ", "2021-06-01T12:00:00+00:00")', 'Z|UTC|+0000|+00:00'),
    ('formatdate("Z|ZZZ", "2021-06-01T12:00:00-03:30")', '-03:30|-0330'),
    # Anything not a letter or a quote is literal; '' is a quote.
    ("formatdate(\"[DD/MM] ''\", \"2021-06-09T12:00:00Z\")", "[09/06] '"),
    # Time.Add keeps the fraction; RFC 3339 as Go formats it drops it.
    ('timeadd("2021-06-01T23:59:59.6Z", "0.5s")', '2021-06-02T00:00:00Z'),
    ('timeadd("2021-01-01T00:00:00Z", "-1ns")', '2020-12-31T23:59:59Z'),
    ('timeadd("2020-02-28T12:00:00+01:00", "24h")', '2020-02-29T12:00:00+01:00'),
    ('timeadd("2021-01-01T00:00:00Z", "1.5h30m")', '2021-01-01T02:00:00Z'),
    ('timeadd("2021-01-01T00:00:00Z", "+90\u00b5s")', '2021-01-01T00:00:00Z'),
])
def test_time_functions(expression, expected):
    if expected == 'invalid':
        assert 'must be "AA"' in _error(expression)
    else:
        assert _value(expression) == expected


@pytest.mark.parametrize('timestamp, message', [
    # go-cty's parseTimestamp rewording Go 1.16's time.ParseError.
    ('2021-06-01T08:05:09', 'end of string before UTC offset'),
    ('2021-06-01', "missing required time introducer 'T'"),
    ('2021', 'end of string where "-" is expected'),
    # The four characters taken for the year are gone from what is quoted.
    ('21-06-01T08:05:09Z', 'cannot use "6-01T08:05:09Z" as year'),
    ('2021-6-01T08:05:09Z', 'cannot use "6-01T08:05:09Z" as month'),
    ('2021-06-01T25:05:09Z', 'cannot use ":05:09Z" as hour'),
    ('2021-06-01T08:05:09Zjunk', 'cannot use "junk" as timestamp segment'),
    ('2021-06-01T08:05:09+0200', 'cannot use "+0200" as UTC offset'),
])
def test_formatdate_bad_timestamp(timestamp, message):
    detail = _error('formatdate("YYYY", "%s")' % timestamp)
    assert detail == 'Invalid value for "time" parameter: not a valid RFC3339 timestamp: %s.' % message


@pytest.mark.parametrize('duration, message', [
    # Go 1.16's time.ParseDuration.
    ('', 'time: invalid duration ""'),
    ('-', 'time: invalid duration "-"'),
    ('.s', 'time: invalid duration ".s"'),
    ('1h2', 'time: missing unit in duration "1h2"'),
    ('3 h', 'time: unknown unit " h" in duration "3 h"'),
    ('9999999999999999999ns', 'time: invalid duration "9999999999999999999ns"'),
])
def test_timeadd_bad_duration(duration, message):
    assert _error('timeadd("2021-01-01T00:00:00Z", "%s")' % duration) == \
        'Call to function "timeadd" failed: %s.' % message


@pytest.mark.parametrize('expression, expected', [
    # go-cty-yaml's emitter: strings double-quoted, "\n" ones literal with
    # a chomping indicator; a plain scalar at the root ends the stream with "...".
    ('yamlencode("")', '""\n'),
    ('yamlencode(true)', 'true\n...\n'),
    ('yamlencode([])', '[]\n'),
    ('yamlencode({})', '{}\n'),
    ('yamlencode(["b"])', '- "b"\n'),
    ('yamlencode("\\n")', '|2+\n\n'),
    ('yamlencode({a = {b = ["c", ["d"]]}})', '"a":\n  "b":\n  - "c"\n  - - "d"\n'),
    ('yamlencode([{a = 1, b = 2}])', '- "a": 1\n  "b": 2\n'),
    # A tab is not printable to libyaml, so no block style; escapes in hex.
    ('yamlencode("a\\tb\\nc")', '"a\\tb\\nc"\n'),
    ('yamlencode("\\u00e9\\u0085\\U0001F600")', '"\u00e9\\N\\U0001F600"\n'),
    ('yamlencode(100000000000000000000)', '100000000000000000000\n...\n'),
    ('yamlencode(convert(["b", "a", "b"], set(string)))', '- "a"\n- "b"\n'),
])
def test_yamlencode(expression, expected):
    assert _value(expression) == expected


@pytest.mark.parametrize('src, expected', [
    # go-cty-yaml's resolve.go (YAML 1.1 booleans, 1.2 numbers, no NaN).
    ('[Y, n, On, NULL, "", .5, -.inf, 1e3, +12, 0o10, "0x10"]',
     [True, False, True, None, '', hx.parse_number('0.5'), hx.parse_number('-1') * hx.Decimal('Infinity'), 1000, 12,
      8, '0x10']),
    ('!!str 12', '12'),
    ('!!binary aGk=', 'aGk='),
    ('2021-6-1t1:2:3.5+02:00', '2021-06-01T01:02:03+02:00'),
    ('"<<": {a: 1}\nb: 2', {'a': 1, 'b': 2}),
    ('a: &x [1]\nb: *x', {'a': [1], 'b': [1]}),
])
def test_yamldecode(src, expected):
    assert _value('yamldecode(%s)' % json.dumps(src)) == expected


@pytest.mark.parametrize('src, message', [
    ('.nan', 'floating point NaN is not supported'),
    ('!!int x', 'cannot parse \\"x\\" as tag:yaml.org,2002:int'),
    ('a: b\nc: *nope', 'on line 1, column 4: reference to undefined anchor \\"nope\\"'),
    ('a: b\nc: &x [*x]', 'on line 1, column 8: cannot refer to anchor \\"x\\" from inside its own definition'),
    ('a: b\n? [1]\n: 2', 'on line 1, column 3: only strings are allowed as mapping keys'),
    ('a: b\n<<: [1]', 'on line 1, column 1: cannot merge tuple into mapping'),
    # Quoting does not stop "<<" from being the merge key.
    ('"<<": 1', 'cannot merge number into mapping'),
])
def test_yamldecode_errors(src, message):
    detail = _error('yamldecode(%s)' % json.dumps(src))
    assert detail == 'Call to function "yamldecode" failed: %s.' % message.replace('\\"', '"')


def test_filesystem_path_functions(tmp_path, monkeypatch):
    # Go's filepath.Base, Dir and Clean; go-homedir takes HOME.
    monkeypatch.setenv('HOME', '/home/op')
    base = str(tmp_path)
    assert _value('basename("a/b//")', base) == 'b'
    assert _value('dirname("a//b/")', base) == 'a/b'
    assert _value('dirname("//x")', base) == '/'
    assert _value('pathexpand("~")', base) == '/home/op'
    assert _value('pathexpand("~/x/../y")', base) == '/home/op/y'
    assert _value('pathexpand("a/~")', base) == 'a/~'
    assert _value('abspath("/a/./b/..")', base) == '/a'
    assert _value('abspath("x/./y")', base) == base + '/x/y'


def test_fileset_patterns(tmp_path):
    # doublestar 1.1.5: "*" takes dot files too, "**" any depth (none
    # included), {a,b} alternatives; only regular files; paths relative
    # to the path argument, with forward slashes, sorted as a set.
    for rel in ('a.txt', '.hidden.txt', 'sub/b.txt', 'sub/deep/c.txt', 'sub/deep/d.md'):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('x', encoding='utf-8')
    base = str(tmp_path)
    assert _value('fileset(".", "*.txt")', base) == ['.hidden.txt', 'a.txt']
    assert _value('fileset(".", "**/*.txt")', base) == ['.hidden.txt', 'a.txt', 'sub/b.txt', 'sub/deep/c.txt']
    assert _value('fileset("sub", "**/*.{md,txt}")', base) == ['b.txt', 'deep/c.txt', 'deep/d.md']
    assert _value('fileset("sub", "*")', base) == ['b.txt']
    assert _value('fileset(".", "nope/*")', base) == []
    assert _error('fileset(".", "[")', base) == ('Call to function "fileset" failed: failed to glob pattern (%s/[): '
                                                 'syntax error in pattern.' % base)


def test_file_not_utf8(tmp_path):
    (tmp_path / 'bin').write_bytes(b'\xff\xfe')
    assert _error('file("bin")', str(tmp_path)) == (
        'Call to function "file" failed: contents of bin are not valid UTF-8; use the filebase64 function to obtain '
        'the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing '
        'results instead.')
