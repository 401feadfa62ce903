# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""parse_hcl2_jobspec against a real Nomad 1.1.0, and against HCL2's rules.

The corpus tests use what Nomad 1.1.0 recorded (``tests/recordings/nomad-1.1.0``): ``nomad job run -output`` for the 30 accepted files,
the exact stderr for the 14 rejected ones, and ``POST /v1/jobs/parse`` for 13
files. The other tests use job files written here for what the corpus does
not cover; their expected values are worked out by hand from the rule cited
next to each (hclsyntax, go-cty 1.8 or Nomad 1.1.0's jobspec2), not taken
from the evaluator's output.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import uuid

import pytest

pytest.importorskip('hcl2')

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import JobspecError, strip_empty  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import parse_hcl2_jobspec  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
SHARED = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0')


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def _names(suffix):
    return sorted(os.path.basename(p)[:-len(suffix)]
                  for p in glob.glob(os.path.join(SHARED, 'jobspec-reference', '*' + suffix))
                  if not p.endswith('.hcl1' + suffix))


ACCEPTED = _names('.json')
REJECTED = _names('.error.txt')
API_PARSE = sorted(os.path.basename(p)[:-len('.hcl2.json')]
                   for p in glob.glob(os.path.join(SHARED, 'jobspec-api-parse', '*.hcl2.json')))


def _shared():
    if not os.path.isdir(SHARED):
        pytest.fail('recorded Nomad 1.1.0 facts missing from tests/recordings (%s)' % SHARED)


def _corpus_job(name):
    """The job file and its -var values, as the recording ran it."""
    text = _read(os.path.join(SHARED, 'jobspec', name + '.hcl'))
    vars_path = os.path.join(SHARED, 'jobspec', name + '.vars.json')
    variables = json.loads(_read(vars_path)) if os.path.exists(vars_path) else None
    return text, variables


def parse(text, **kwargs):
    return parse_hcl2_jobspec(text, 'test.hcl', **kwargs)


def reject(text, **kwargs):
    with pytest.raises(JobspecError) as info:
        parse(text, **kwargs)
    return info.value


# ---------------------------------------------------------------- the recorded corpus

def test_corpus_size():
    _shared()
    assert len(ACCEPTED) == 30
    assert len(REJECTED) == 14


@pytest.mark.parametrize('name', ACCEPTED or ['absent'])
def test_accepted_job_equals_nomad_output(name):
    _shared()
    text, variables = _corpus_job(name)
    want = json.loads(_read(os.path.join(SHARED, 'jobspec-reference', name + '.json')))['Job']
    assert parse_hcl2_jobspec(text, name + '.hcl', variables=variables) == want


# Where Nomad prints no position ("<nil>:" or ":0,0-0:"), the error still
# names the declaration it is about; an undeclared -var has none.
NO_POSITION_LINES = {
    'bad-duplicate-variable': 5,      # the second variable "dc" block
    'bad-unset-variable': 1,          # variable "image"
    'bad-var-type': 1,                # variable "count", whose type refused "three"
    'bad-undeclared-var-arg': None,
}


@pytest.mark.parametrize('name', REJECTED or ['absent'])
def test_rejected_job_gives_nomads_first_diagnostic(name):
    _shared()
    text, variables = _corpus_job(name)
    stderr = _read(os.path.join(SHARED, 'jobspec-reference', name + '.error.txt')).split('\n', 4)[4]
    first_line, rest = stderr.split('\n', 1)
    assert first_line.startswith('Error getting job struct: ')
    with pytest.raises(JobspecError) as info:
        parse_hcl2_jobspec(text, name + '.hcl', variables=variables)
    err = info.value
    # Our diagnostic is Nomad's first one, to the byte, and a whole one.
    assert rest.startswith(err.diagnostic)
    assert rest[len(err.diagnostic)] == '\n'
    summary = re.match(r'^(?:<nil>|:0,0-0|[^:]+:\d+,\d+-[\d,]+): ([^;]+);', rest).group(1)
    assert err.problem.startswith(summary + '; ')
    assert err.filename == name + '.hcl'
    where = re.match(r'^([^:]+):(\d+),(\d+)-', rest)
    if where:
        assert (err.line, err.column) == (int(where.group(2)), int(where.group(3)))
    else:
        assert err.line == NO_POSITION_LINES[name]


@pytest.mark.parametrize('name', API_PARSE or ['absent'])
def test_api_parse_agrees(name):
    """/v1/jobs/parse takes no variables: it is the file with its defaults."""
    _shared()
    exchange = json.loads(_read(os.path.join(SHARED, 'jobspec-api-parse', name + '.hcl2.json')))
    text = exchange['request']['body']['JobHCL']
    response = exchange['response']
    if response['status'] == 200:
        assert parse_hcl2_jobspec(text, 'input.hcl') == response['body']
    else:
        with pytest.raises(JobspecError) as info:
            parse_hcl2_jobspec(text, 'input.hcl')
        assert response['body'].strip().startswith(info.value.diagnostic)


# ---------------------------------------------------------------- variables

TYPED = '''
variable "dcs" {
  type    = list(string)
  default = ["dc1"]
}
variable "count" {
  type    = number
  default = 1
}
variable "debug" {
  type    = bool
  default = false
}
variable "labels" {
  type    = map(string)
  default = {}
}
variable "svc" {
  type    = object({ name = string, port = number })
  default = { name = "web", port = 80 }
}
variable "free" {}
job "vars" {
  datacenters = var.dcs
  meta {
    count  = var.count
    debug  = var.debug
    labels = jsonencode(var.labels)
    svc    = jsonencode(var.svc)
    free   = jsonencode(var.free)
  }
}
'''


def test_variables_given_as_python_values():
    job = parse(TYPED, variables={'dcs': ['east', 'west'], 'count': 3, 'debug': True,
                                  'labels': {'team': 'ops', 'tier': 2}, 'svc': {'name': 'api', 'port': '8080'},
                                  'free': [1, 'a']})
    # A list stays a list; values are converted to the declared types
    # (2 -> "2" for map(string), "8080" -> 8080 for the object's number).
    assert job['Datacenters'] == ['east', 'west']
    assert job['Meta'] == {'count': '3', 'debug': 'true', 'labels': '{"team":"ops","tier":"2"}',
                           'svc': '{"name":"api","port":8080}', 'free': '[1,"a"]'}


def test_variables_given_as_cli_strings():
    # The CLI's -var: literal text for string, number and undeclared-type
    # variables; an HCL expression for bool, list, map and object ones.
    job = parse(TYPED, variables={'dcs': '["a", "b"]', 'count': '4', 'debug': 'true',
                                  'labels': '{ x = "y" }', 'svc': '{ name = "n", port = 1 }', 'free': '[1]'})
    assert job['Datacenters'] == ['a', 'b']
    assert job['Meta'] == {'count': '4', 'debug': 'true', 'labels': '{"x":"y"}', 'svc': '{"name":"n","port":1}',
                           'free': '"[1]"'}


def test_untyped_variable_takes_the_type_of_its_default():
    # Without "type", the default's type is the variable's type: a number
    # takes "-var" text literally and converts it, a tuple of one string
    # only accepts a tuple of one string (cty's tuple conversion).
    text = 'variable "n" { default = 1 }\nvariable "l" { default = ["a"] }\njob "j" {\n  priority = var.n\n}\n'
    assert parse(text, variables={'n': '70'})['Priority'] == 70
    err = reject(text, variables={'l': '["a", "b"]'})
    assert err.problem == ("Invalid argument value for -var variable; The received arg value for l is not compatible "
                           "with the variable's type constraint: tuple required.")
    assert err.filename == '<value for var.l from arguments>'


def test_var_files_hcl_and_json_then_variables_win():
    files = [('one.hcl', 'count = 5\ndcs   = ["from-hcl"]\n'),
             ('two.json', '{"count": 6, "labels": {"k": true}}')]
    job = parse(TYPED, var_files=files, variables={'free': 'x'})
    assert job['Datacenters'] == ['from-hcl']
    # The later file wins; a JSON true becomes "true" in a map(string).
    assert job['Meta']['count'] == '6'
    assert job['Meta']['labels'] == '{"k":"true"}'
    job = parse(TYPED, var_files=files, variables={'free': 'x', 'count': '7'})
    assert job['Meta']['count'] == '7'


def test_var_file_errors_name_the_var_file():
    err = reject(TYPED, variables={'free': 1}, var_files=[('vals.hcl', 'count = 1\nnope  = 2\n')])
    assert err.problem.startswith('Undefined variable; A "nope" variable was set but was not found')
    assert (err.filename, err.line) == ('vals.hcl', 2)
    err = reject(TYPED, variables={'free': 1}, var_files=[('vals.hcl', 'count = "ten"\n')])
    assert err.problem == ("Invalid value for variable; The value for count is not compatible with the variable's "
                           "type constraint: a number is required.")
    assert (err.filename, err.line, err.column) == ('vals.hcl', 1, 9)
    err = reject(TYPED, variables={'free': 1}, var_files=[('vals.hcl', 'variable "count" {}\n')])
    assert err.problem.startswith('Variable declaration in a .var file;')
    err = reject(TYPED, variables={'free': 1}, var_files=[('vals.hcl', 'count = var.dcs\n')])
    assert err.problem == 'Variables not allowed; Variables may not be used here.'


def test_unset_and_undeclared_variables():
    err = reject(TYPED)
    assert err.problem.startswith('Unset variable "free"; A used variable must be set')
    assert err.line == 22
    err = reject(TYPED, variables={'free': 1, 'other': 2})
    assert err.problem.startswith('Undefined -var variable; A "other" variable was passed')
    assert (err.filename, err.line) == ('test.hcl', None)


def test_bad_cli_values():
    err = reject(TYPED, variables={'free': 1, 'debug': 'yes'})
    # "yes" parsed as an expression is a variable reference, and -var
    # values are evaluated without variables.
    assert err.problem == 'Variables not allowed; Variables may not be used here.'
    err = reject(TYPED, variables={'free': 1, 'count': 'many'})
    assert err.problem.endswith("type constraint: a number is required.")
    assert err.diagnostic.startswith(':0,0-0: Invalid argument value for -var variable;')
    err = reject(TYPED, variables={'free': 1, 'svc': '{ name = "x" }'})
    assert err.problem.endswith('attribute "port" is required.')


def test_validation_applies_to_the_value_in_use():
    text = '''variable "env" {
  default = "dev"
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "Must be dev or prod."
  }
}
job "j" {
  datacenters = [var.env]
}
'''
    assert parse(text, variables={'env': 'prod'})['Datacenters'] == ['prod']
    err = reject(text, variables={'env': 'qa'})
    # The -var value is a literal without a range; the rule is at 3,3-13.
    assert err.diagnostic == (':0,0-0: Invalid value for cmd variable; Must be dev or prod.\n\n'
                              'This was checked by the validation rule at test.hcl:3,3-13.')
    bad_rule = text.replace('contains(["dev", "prod"], var.env)', 'var.env != local.x')
    err = reject(bad_rule)
    assert err.problem.startswith('Invalid reference in variable validation;')
    assert (err.line, err.column) == (4, 32)


def test_variables_block_and_locals_in_any_order():
    text = '''variables {
  region = "eu"
}
locals {
  name = "${local.prefix}-${var.region}"
}
locals {
  prefix = upper("app")
}
job "j" {
  name   = local.name
  region = var.region
}
'''
    # A local that uses a later local is retried after it (evaluateLocalVariables).
    job = parse(text)
    assert (job['Name'], job['ID'], job['Region']) == ('APP-eu', 'j', 'eu')


def test_variable_declaration_errors():
    err = reject('variable "x" {\n  type = any\n}\njob "j" {}\n')
    assert err.problem == ('Invalid type specification; The keyword "any" cannot be used in this type specification: '
                           'an exact type is required.')
    err = reject('variable "x" {\n  default = upper("a")\n}\njob "j" {}\n')
    assert err.problem == 'Function calls not allowed; Functions may not be called here.'
    err = reject('variable "x" {\n  type    = number\n  default = "a"\n}\njob "j" {}\n')
    assert err.problem.startswith('Invalid default value for variable;')
    assert (err.line, err.column) == (3, 13)


# ---------------------------------------------------------------- expressions

def meta_of(text, **kwargs):
    return parse('job "j" {\n  meta {\n%s\n  }\n}\n' % text, **kwargs)['Meta']


def test_templates_heredocs_and_escapes():
    meta = meta_of('''    strip = "a  %{~ if true ~}  b  %{~ else ~} c %{~ endif ~}  z"
    esc   = "$${NOMAD_X} %%{ y } \\\\ \\"q\\" \\u00e9"
    flush = <<-EOT
      one ${1 + 1}
        two
      %{ for i, v in ["x", "y"] ~}
      ${i}${v}
      %{ endfor ~}
    EOT
    plain = <<EOT
  kept ${"as is"}
EOT''')
    # ~ trims the whitespace next to a directive; $${ and %%{ are literal.
    assert meta['strip'] == 'abz'
    assert meta['esc'] == '${NOMAD_X} %{ y } \\ "q" \u00e9'
    # <<- removes the smallest indentation (6 spaces) from every line.
    assert meta['flush'] == 'one 2\n  two\n0x\n1y\n'
    assert meta['plain'] == '  kept as is\n'


def test_for_expressions_splat_and_conditionals():
    meta = meta_of('''    list   = jsonencode([for i, s in ["a", "bb", "c"] : "${i}${s}" if length(s) == 1])
    object = jsonencode({for k, v in {b = 2, a = 1} : upper(k) => v * 10})
    group  = jsonencode({for s in ["ab", "ac", "b"] : substr(s, 0, 1) => s...})
    splat  = jsonencode([{n = 1}, {n = 2}][*].n)
    attrs  = jsonencode([{n = {m = 3}}].*.n.m)
    single = jsonencode("x"[*])
    empty  = jsonencode(null[*])
    cond   = true ? 1 : "x"
    index  = ["p", "q"][1]
    arith  = 7 / 2 + -7 % 3
    logic  = 1 < 2 && !false''')
    assert meta['list'] == '["0a","2c"]'
    # Objects are iterated in key order.
    assert meta['object'] == '{"A":10,"B":20}'
    assert meta['group'] == '{"a":["ab","ac"],"b":["b"]}'
    assert meta['splat'] == '[1,2]'
    assert meta['attrs'] == '[3]'
    # A splat on a single value makes a one-element list, on null an empty one.
    assert meta['single'] == '["x"]'
    assert meta['empty'] == '[]'
    # The results unify to string, so 1 becomes "1".
    assert meta['cond'] == '1'
    assert meta['index'] == 'q'
    # Division is not integer division; % keeps the dividend's sign.
    assert meta['arith'] == '2.5'
    assert meta['logic'] == 'true'


FUNCTIONS = [
    ('coalesce("", "x")', ''),               # 1.1.0: "" is not null
    ('coalesce(null, "x")', 'x'),
    ('reverse("abc")', 'cba'),               # Nomad maps reverse to the string function
    ('element(["a", "b", "c"], 4)', 'b'),    # wraps around
    ('join(",", keys({b = 1, a = 2}))', 'a,b'),
    ('join(",", values({b = 1, a = 2}))', '2,1'),
    ('format("%05.1f|%-3s|%x|%q|%v|%t", 3.14159, "a", 255, "q", [1], true)', '003.1|a  |ff|"q"|[1]|true'),
    ('format("%[2]s-%[1]s", "a", "b")', 'b-a'),
    ('join(";", formatlist("%s=%d", ["a", "b"], [1, 2]))', 'a=1;b=2'),
    ('regex_replace("abc-123", "([a-z]+)-(\\\\d+)", "$2:$1")', '123:abc'),
    ('title("hello-world foo_bar")', 'Hello-World Foo_bar'),
    ('substr("hello", -3, 2)', 'll'),
    ('substr("hello", 1, -1)', 'ello'),
    ('jsonencode(range(3))', '[0,1,2]'),
    ('jsonencode(range(5, 1, -2))', '[5,3]'),
    ('lookup({a = 1}, "b", "d")', 'd'),
    ('jsonencode(merge({a = 1, b = 2}, {b = 3}))', '{"a":1,"b":3}'),
    ('jsonencode({s = "<&>"})', '{"s":"\\u003c\\u0026\\u003e"}'),
    ('parseint("-1f", 16)', '-31'),
    ('max(1, 5.5, 3)', '5.5'),
    ('abs(-2)', '2'),
    ('ceil(1.2)', '2'),
    ('floor(-1.2)', '-2'),
    ('pow(2, 10)', '1024'),
    ('signum(-4)', '-1'),
    ('upper(trimspace("  x  "))', 'X'),
    ('trim("--x--", "-")', 'x'),
    ('trimprefix("nomad-job", "nomad-")', 'job'),
    ('trimsuffix("job.hcl", ".hcl")', 'job'),
    ('chomp("line\\n\\n")', 'line'),
    ('indent(2, "a\\nb")', 'a\n  b'),
    ('replace("a-b-c", "-", "")', 'abc'),
    ('join(",", split(",", "x,y"))', 'x,y'),
    ('join(",", sort(["b", "a"]))', 'a,b'),
    ('join(",", distinct(["a", "b", "a"]))', 'a,b'),
    ('join(",", compact(["a", "", "b"]))', 'a,b'),
    ('jsonencode(flatten([[1], [2, [3]]]))', '[1,2,3]'),
    ('jsonencode(chunklist([1, 2, 3], 2))', '[[1,2],[3]]'),
    ('jsonencode(slice(["a", "b", "c"], 1, 3))', '["b","c"]'),
    ('jsonencode(concat([1], [2, 3]))', '[1,2,3]'),
    ('jsonencode(coalescelist([], [1]))', '[1]'),
    ('jsonencode(setunion(["b"], ["a", "b"]))', '["a","b"]'),
    ('jsonencode(setintersection(["a", "b"], ["b", "c"]))', '["b"]'),
    ('jsonencode(setproduct(["a"], [1, 2]))', '[["a",1],["a",2]]'),
    ('jsonencode(zipmap(["a", "b"], [1, 2]))', '{"a":1,"b":2}'),
    ('index(["a", "b"], "b")', '1'),
    ('contains([1, 2], 2)', 'true'),
    ('length("héllo")', '5'),
    ('jsonencode(jsondecode("{\\"a\\": [1, 2.5]}"))', '{"a":[1,2.5]}'),
    ('jsonencode(csvdecode("a,b\\n1,2\\n"))', '[{"a":"1","b":"2"}]'),
    ('base64decode(base64encode("nomad"))', 'nomad'),
    ('urlencode("a b&c")', 'a+b%26c'),
    ('sha1("nomad")', hashlib.sha1(b'nomad').hexdigest()),
    ('md5("nomad")', hashlib.md5(b'nomad').hexdigest()),
    ('sha512("nomad")', hashlib.sha512(b'nomad').hexdigest()),
    ('cidrsubnet("10.0.0.0/16", 8, 2)', '10.0.2.0/24'),
    ('cidrhost("10.0.0.0/24", 5)', '10.0.0.5'),
    ('cidrnetmask("10.0.0.0/12")', '255.240.0.0'),
    ('join(",", cidrsubnets("10.0.0.0/8", 8, 4))', '10.0.0.0/16,10.16.0.0/12'),
    ('uuidv5("dns", "nomadproject.io")', str(uuid.uuid5(uuid.NAMESPACE_DNS, 'nomadproject.io'))),
    ('try(var.missing, "fallback")', 'fallback'),
    ('can(var.missing)', 'false'),
    ('jsonencode(convert(["a"], list(string)))', '["a"]'),
]


@pytest.mark.parametrize('expression, expected', FUNCTIONS)
def test_functions(expression, expected):
    assert meta_of('    v = %s' % expression)['v'] == expected


def test_functions_nomad_does_not_have():
    err = reject('job "j" {\n  region = regex("a", "b")\n}\n')
    assert err.problem.startswith('Call to unknown function; There is no function named "regex".')
    err = reject('job "j" {\n  region = file("x")\n}\n')
    assert err.problem == 'Error in function call; Call to function "file" failed: filesystem function disabled.'
    err = reject('job "j" {\n  region = lookup({}, "a")\n}\n')
    assert err.problem == ('Not enough function arguments; Function "lookup" expects 3 argument(s). Missing value '
                           'for "default".')
    err = reject('job "j" {\n  region = element([], -1)\n}\n')
    assert err.problem.endswith('cannot use element function with a negative index.')


def test_runtime_interpolations_stay_verbatim():
    job = parse('''job "j" {
  meta {
    spaced  = "${ NOMAD_ALLOC_ID }"
    bare    = node.unique.name
    index   = "${env["HOME"]}-x"
    inside  = upper(attr.os.name)
    escaped = "$${attr.kernel.name}"
  }
}
''')
    # jobspec2's UndefinedVariable: the reference's own text, wrapped in ${ }
    # when it was not already, spaces kept.
    assert job['Meta'] == {'spaced': '${ NOMAD_ALLOC_ID }', 'bare': '${node.unique.name}',
                           'index': '${env["HOME"]}-x', 'inside': '${ATTR.OS.NAME}', 'escaped': '${attr.kernel.name}'}


# ---------------------------------------------------------------- the job structure

def test_dynamic_blocks_with_iterator_nested_and_over_a_map():
    job = parse('''locals {
  sizes = { small = 1, big = 3 }
}
job "j" {
  dynamic "group" {
    for_each = local.sizes
    iterator = size
    labels   = ["g-${size.key}"]
    content {
      count = size.value
      task "t" {
        driver = "exec"
        dynamic "env" {
          for_each = [size.key]
          content {
            SIZE = env.value
          }
        }
        dynamic "template" {
          for_each = range(size.value)
          content {
            data = "${size.key}-${template.key}"
          }
        }
      }
    }
  }
}
''')
    groups = job['TaskGroups']
    # A map is iterated in key order: big before small.
    assert [(g['Name'], g['Count']) for g in groups] == [('g-big', 3), ('g-small', 1)]
    assert groups[0]['Tasks'][0]['Env'] == {'SIZE': 'big'}
    assert [t['EmbeddedTmpl'] for t in groups[0]['Tasks'][0]['Templates']] == ['big-0', 'big-1', 'big-2']


def test_task_config_keeps_nomads_block_shapes():
    job = parse('''job "j" {
  group "g" {
    task "t" {
      driver = "docker"
      config {
        image    = "x"
        port_map = { http = 80 }
        mounts   = [{ type = "bind" }]
        labels "a" "b" {
          on = true
        }
        ratio = 0.5
        big   = 10000000000
      }
    }
  }
}
''')
    # hclutil.BlocksAsAttrs: an object literal is wrapped in a list, a block
    # becomes a list of objects keyed by its labels; whole numbers are ints.
    assert job['TaskGroups'][0]['Tasks'][0]['Config'] == {
        'image': 'x', 'port_map': [{'http': 80}], 'mounts': [{'type': 'bind'}],
        'labels': [{'a': [{'b': [{'on': True}]}]}], 'ratio': 0.5, 'big': 10000000000}


def test_defaults_vault_inheritance_and_job_level_task():
    job = parse('''job "j" {
  vault {
    policies = ["job"]
  }
  periodic {
    cron = "@daily"
  }
  task "solo" {
    driver = "exec"
  }
  group "g" {
    vault {
      policies = ["group"]
      env      = false
    }
    network {
      port "a" { static = 8080 }
      port "b" {}
    }
    task "inherits" {
      driver = "exec"
      template {
        data = "x"
      }
      affinity {
        attribute = "a"
        weight    = 200
      }
      constraint {
        distinct_hosts = false
      }
      constraint {
        set_contains_any = "a,b"
      }
    }
    task "own" {
      driver = "exec"
      vault {
        policies = ["own"]
      }
    }
  }
}
''')
    assert job['Periodic']['SpecType'] == 'cron'
    solo, group = job['TaskGroups']
    # A task written in the job gets a group of its own, placed first.
    assert solo['Name'] == 'solo' and solo['Tasks'][0]['Vault']['Policies'] == ['job']
    inherits, own = group['Tasks']
    assert inherits['Vault'] == {'Policies': ['group'], 'Namespace': None, 'Env': False, 'ChangeMode': 'restart',
                                 'ChangeSignal': None}
    assert own['Vault']['Env'] is True
    template = inherits['Templates'][0]
    assert (template['ChangeMode'], template['Perms'], template['Splay']) == ('restart', '0644', 5000000000)
    network = group['Networks'][0]
    assert [p['Label'] for p in network['ReservedPorts']] == ['a']
    assert [p['Label'] for p in network['DynamicPorts']] == ['b']
    # int8(200) wraps to -56, as Go's conversion does.
    assert inherits['Affinities'][0]['Weight'] == -56
    # distinct_hosts = false keeps a plain "=" constraint; set_contains_any
    # is not an operand attribute of constraints in 1.1.0.
    assert [(c['Operand'], c['RTarget']) for c in inherits['Constraints']] == [('=', ''), ('=', '')]
    assert 'CSIPluginConfig' not in inherits


def test_scaling_policies():
    job = parse('''job "j" {
  group "g" {
    scaling {
      max = 3
    }
    task "t" {
      driver = "exec"
      scaling "cpu" {
        max = 500
        policy {
          check "c" {
            query = "q"
          }
        }
      }
    }
  }
}
''')
    group = job['TaskGroups'][0]
    assert (group['Scaling']['Type'], group['Scaling']['Max'], group['Scaling']['Min']) == ('horizontal', 3, None)
    policy = group['Tasks'][0]['ScalingPolicies'][0]
    assert policy['Type'] == 'vertical_cpu'
    assert policy['Policy'] == {'check': [{'c': [{'query': 'q'}]}]}
    err = reject('job "j" {\n  group "g" {\n    scaling {\n      min = 1\n    }\n  }\n}\n')
    assert err.problem == 'Missing required argument; The argument "max" is required, but no definition was found.'


STRUCTURE_ERRORS = [
    ('job "j" {\n  grup "g" {}\n}\n', 2, 3,
     'Unsupported block type; Blocks of type "grup" are not expected here. Did you mean "group"?'),
    ('job "j" {\n  regin = "x"\n}\n', 2, 3,
     'Unsupported argument; An argument named "regin" is not expected here. Did you mean "region"?'),
    ('job "j" {\n  group {}\n}\n', 2, 9, 'Missing name for group; All group blocks must have 1 labels (name).'),
    ('job "j" {\n  update {}\n  update {}\n}\n', 3, 3,
     'Duplicate update block; Only one update block is allowed. Another was defined at test.hcl:2,3-9.'),
    ('job "j" {\n  meta = { a = "1" }\n  meta {}\n}\n', 3, 3,
     'Duplicate meta block; meta may not be defined more than once. Another definition is defined at '
     'test.hcl:2,3-21.'),
    ('job "j" {\n  group "g" {\n    count = 1.5\n  }\n}\n', 3, 13,
     'Unsuitable value type; Unsuitable value: value must be a whole number, between -9223372036854775808 and '
     '9223372036854775807'),
    ('job "j" {\n  datacenters = "dc1"\n}\n', 2, 18, 'Unsuitable value type; Unsuitable value: list of string required'),
    ('job "j" {\n  affinity {\n    weight = "x"\n  }\n}\n', 3, 14,
     'Incorrect attribute value type; Inappropriate value for attribute "weight": a number is required.'),
    ('job "j" {\n  dynamic "group" {\n    for_each = 1\n    labels = ["a"]\n    content {}\n  }\n}\n', 3, 16,
     'Invalid dynamic for_each value; Cannot use a number value in for_each. An iterable collection is required.'),
    ('job "j" {\n  region = 1 ? "a" : "b"\n}\n', 2, 12,
     'Incorrect condition type; The condition expression must be of type bool.'),
    ('job "j" {\n  region = "a" + 1\n}\n', 2, 12,
     'Invalid operand; Unsuitable value for left operand: a number is required.'),
    ('job "j" {\n  a = 1 b = 2\n}\n', 2, 9, 'Missing newline after argument; An argument definition must end with a newline.'),
    ('job "j" {\n  region = "a\nb"\n}\n', 2, 13, 'Invalid multi-line string; Quoted strings may not be split over '
     'multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or '
     'use the "heredoc" multi-line template syntax.'),
    ('job "j" {}\njob "k" {}\n', 2, 1,
     'Duplicate job block; Only one block of type "job" is allowed. Previous definition was at test.hcl:1,1-8.'),
    ('variable "x" {}\n', None, None, 'Unset variable "x"; A used variable must be set or have a default value; see '
     'https://www.nomadproject.io/docs/job-specification/hcl2/variables for details.'),
    ('variable "x" { default = 1 }\n', None, None, 'Missing job block; A job block is required'),
]


@pytest.mark.parametrize('text, line, column, problem', STRUCTURE_ERRORS)
def test_structure_errors(text, line, column, problem):
    err = reject(text)
    assert err.problem == problem
    if line is not None:
        assert (err.filename, err.line, err.column) == ('test.hcl', line, column)


def test_input_types():
    job = parse_hcl2_jobspec(b'job "b" {}\n', None)
    assert (job['ID'], job['TaskGroups']) == ('b', None)
    with pytest.raises(JobspecError):
        parse_hcl2_jobspec(b'\xff', 'x.hcl')
    with pytest.raises(JobspecError):
        parse_hcl2_jobspec('job "b" {}', 'x.hcl', variables=['not', 'a', 'dict'])


def test_minimal_job_has_every_field():
    job = parse('job "m" {\n  datacenters = ["dc1"]\n}\n')
    # Every API field is present, null where unset, like the CLI's output.
    assert job['Dispatched'] is False and job['Multiregion'] is None and job['ConsulToken'] is None
    assert strip_empty(job) == {'ID': 'm', 'Name': 'm', 'Datacenters': ['dc1'], 'Dispatched': False}


# ---------------------------------------------------------------- Nomad 1.1.0's own jobspec2 tests
# The cases and expectations below are those of jobspec2/parse_test.go in
# Nomad v1.1.0 (hashicorp/nomad), restated in Python.

@pytest.mark.parametrize('value', [
    'plain',
    'foo-${BAR}',
    'foo-${attr.network.dev-us-east1-relay-vpc.external-ip.0}',
    '${env["BLAH"]}',
    '${mixed-indexing.0[3]["FOO"].5}',
    'with spaces ${   root.  field[  "FOO"].5  }',
])
def test_nomad_undefined_variables_are_left_intact(value):
    assert parse('job "example" {\n  region = "%s"\n}' % value)['Region'] == value


def test_nomad_unquoted_undefined_variable():
    assert parse('job "example" {\n  region = meta.mytest\n}')['Region'] == '${meta.mytest}'


def _task_with(snippet):
    return ('job "example" {\n  group "group" {\n    task "task" {\n      driver = "docker"\n      config {}\n\n      '
            + snippet + '\n    }\n  }\n}')


@pytest.mark.parametrize('snippet, expected', [
    ('', None),
    ('env {\n  key = "value"\n} ', {'key': 'value'}),
    ('env = {\n  "key.dot"                = "val1"\n  key_unquoted_without_dot = "val2"\n} ',
     {'key.dot': 'val1', 'key_unquoted_without_dot': 'val2'}),
    ('env = {\n  "key.dot" : "val1"\n  key_unquoted_without_dot : "val2"\n} ',
     {'key.dot': 'val1', 'key_unquoted_without_dot': 'val2'}),
    ('env = {}', {}),
    ('env = {for k in ["a", "b"]: k => "val-${k}" }', {'a': 'val-a', 'b': 'val-b'}),
])
def test_nomad_task_envs(snippet, expected):
    assert parse(_task_with(snippet))['TaskGroups'][0]['Tasks'][0]['Env'] == expected


@pytest.mark.parametrize('snippet, message', [
    ('env = {"a": "b"}\n      env {\n        c = "d"\n      }', 'Duplicate env block'),
    ('env = { key = local.undefined_local }', 'does not have an attribute named "undefined_local"'),
    ('env {\n  for k in ["a", "b"]: k => k\n}', 'Invalid block definition'),
    ('env = [ "a" ]', 'Unsuitable value: map of string required'),
])
def test_nomad_task_envs_invalid(snippet, message):
    assert message in reject(_task_with(snippet)).problem


def test_nomad_meta_alternatives():
    text = ''' job "example" {
  group "group" {
    task "task" {
      driver = "config"
      config {}

      meta {
        source = "task"
      }
    }

    meta {
      source = "group"

    }
  }

  meta {
    source = "job"
  }
}
'''
    as_block = parse(text)
    as_attr = parse(text.replace('meta {', 'meta = {'))
    assert as_block == as_attr
    assert as_block['Meta'] == {'source': 'job'}
    assert as_block['TaskGroups'][0]['Meta'] == {'source': 'group'}
    assert as_block['TaskGroups'][0]['Tasks'][0]['Meta'] == {'source': 'task'}


def test_nomad_parse_dynamic():
    job = parse('''
job "example" {

  dynamic "group" {
    for_each = [
      { name = "groupA", idx = 1 },
      { name = "groupB", idx = 2 },
      { name = "groupC", idx = 3 },
    ]
    labels   = [group.value.name]

    content {
      count = group.value.idx

      service {
        port = group.value.name
      }

      task "simple" {
        driver  = "raw_exec"
        config {
          command = group.value.name
        }
        meta {
          VERSION = group.value.idx
        }
        env {
          ID = format("id:%s", group.value.idx)
        }
        resources {
          cpu = group.value.idx
        }
      }
    }
  }
}
''')
    groups = job['TaskGroups']
    assert [g['Name'] for g in groups] == ['groupA', 'groupB', 'groupC']
    assert groups[0]['Tasks'][0]['Resources']['CPU'] == 1
    assert groups[0]['Services'][0]['PortLabel'] == 'groupA'
    assert groups[0]['Tasks'][0]['Config']['command'] == 'groupA'
    assert groups[0]['Tasks'][0]['Meta']['VERSION'] == '1'
    assert groups[0]['Tasks'][0]['Env']['ID'] == 'id:1'
    assert groups[1]['Tasks'][0]['Env']['ID'] == 'id:2'
    assert groups[2]['Tasks'][0]['Meta']['VERSION'] == '3'


LOOKUPS = '''
variable "env" {
  description = "target environment for the job"
}

locals {
  environments = {
    prod    = { count = 20, dcs = ["prod-dc1", "prod-dc2"] },
    staging = { count = 3, dcs = ["dc1"] },
  }

  env = lookup(local.environments, var.env, { count = 0, dcs = [] })
}

job "job-webserver" {
  datacenters = local.env.dcs
  group "group-webserver" {
    count = local.env.count

    task "server" {
      driver = "docker"

      config {
        image = "hashicorp/http-echo"
        args  = ["-text", "Hello from ${var.env}"]
      }
    }
  }
}
'''


@pytest.mark.parametrize('env, dcs, count', [('prod', ['prod-dc1', 'prod-dc2'], 20), ('staging', ['dc1'], 3),
                                             ('unknown', [], 0)])
def test_nomad_job_with_functions_and_lookups(env, dcs, count):
    job = parse(LOOKUPS, variables={'env': env})
    # Nomad's expected api.Job, with the Go zero values it implies (false, 0).
    assert strip_empty(job) == strip_empty({
        'ID': 'job-webserver', 'Name': 'job-webserver', 'Datacenters': dcs, 'Dispatched': False,
        'TaskGroups': [{'Name': 'group-webserver', 'Count': count, 'Tasks': [{
            'Name': 'server', 'Driver': 'docker', 'Leader': False, 'ShutdownDelay': 0,
            'Config': {'image': 'hashicorp/http-echo', 'args': ['-text', 'Hello from %s' % env]}}]}]})
    assert job['Datacenters'] == dcs


SCALING = '''
job "example" {
  group "g1" {
    scaling {
      max  = 40
      type = "horizontal"
    }

    task "t1" {
      scaling "cpu" {
        max = 20
      }
      scaling "mem" {
        max = 15
      }
    }
  }
}
'''


@pytest.mark.parametrize('old, new, message', [
    ('max  = 40', '#max  = 40', 'argument "max" is required'),
    ('type = "horizontal"', 'type = "invalid_type"', 'task group scaling policy had invalid type'),
    ('scaling "cpu"', 'scaling "not_cpu"', 'scaling policy name must be "cpu" or "mem"'),
    ('scaling "mem"', 'scaling "cpu"', 'Duplicate scaling "cpu" block'),
    ('max = 20', 'max  = 20\n        type = "invalid"', 'Invalid scaling policy type'),
])
def test_nomad_invalid_scaling_syntax(old, new, message):
    parse(SCALING)
    assert message in reject(SCALING.replace(old, new, 1)).problem


def test_nomad_variables_defaults_and_set():
    text = '''
variables {
  region_var = "default_region"
}

variable "dc_var" {
  default = "default_dc"
}

job "example" {
  datacenters = [var.dc_var]
  region      = var.region_var
}
'''
    job = parse(text)
    assert (job['Datacenters'], job['Region']) == (['default_dc'], 'default_region')
    job = parse(text, variables={'dc_var': 'set_dc', 'region_var': 'set_region'})
    assert (job['Datacenters'], job['Region']) == (['set_dc'], 'set_region')
    job = parse(text, var_files=[('vars.hcl', 'dc_var = "set_dc"\n\tregion_var = "set_region"')])
    assert (job['Datacenters'], job['Region']) == (['set_dc'], 'set_region')


def test_nomad_parse_service_check():
    job = parse(''' job "group_service_check_script" {
  group "group" {
    service {
      name = "foo-service"
      port = "http"
      check {
        name   = "check-name"
        type   = "http"
        method = "POST"
        body   = "{\\"check\\":\\"mem\\"}"
      }
    }
  }
}
''')
    assert strip_empty(job) == {
        'ID': 'group_service_check_script', 'Name': 'group_service_check_script', 'Dispatched': False,
        'TaskGroups': [{'Name': 'group', 'Services': [{
            'Name': 'foo-service', 'PortLabel': 'http', 'EnableTagOverride': False,
            'Checks': [{'Name': 'check-name', 'Type': 'http', 'Method': 'POST', 'Body': '{"check":"mem"}',
                        'Interval': 0, 'Timeout': 0, 'Expose': False, 'TLSSkipVerify': False, 'GRPCUseTLS': False,
                        'SuccessBeforePassing': 0, 'FailuresBeforeCritical': 0}]}]}]}
