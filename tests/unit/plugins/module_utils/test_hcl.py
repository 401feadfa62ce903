# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os

import pytest

from tests.support.recordings import needs_nomad_source, nomad_source_dir
from ansible_collections.nomadops.nomad.plugins.module_utils import hcl


def test_hcl1_dialect_quoted_keys_trailing_commas_maps_and_heredocs():
    text = '''
job "x" {
  env {
    "SPARK_PUBLIC_DNS" = "${attr.unique.network.ip-address}",
    PLAIN = true,
  }
  config {
    port_map = { http = 5678 }
    args = ["-c", "echo \\"hi\\"",]
  }
  template {
    data = <<EOH
line one
  line two
EOH
  }
  inline = <<-EOT
    indented
      more
    EOT
  mode = 0755
  hex = 0x1F
  ratio = -1.5e3
}
'''
    job = hcl.loads(text)['job'][0]['x'][0]
    assert job['env'] == [{'SPARK_PUBLIC_DNS': '${attr.unique.network.ip-address}', 'PLAIN': True}]
    assert job['config'] == [{'port_map': [{'http': 5678}], 'args': ['-c', 'echo "hi"']}]
    assert job['template'] == [{'data': 'line one\n  line two\n'}]
    assert job['inline'] == 'indented\n  more\n'
    assert (job['mode'], job['hex'], job['ratio']) == (0o755, 31, -1500.0)


def test_interpolation_keeps_quotes_and_escapes_raw():
    assert hcl.loads('a = "${lookup(x, "k")}\\n"') == {'a': '${lookup(x, "k")}\n'}


def test_positions_and_filter_follow_hcl_v1():
    tree = hcl.parse('job "web" {\n  group "g" {\n    count = 2\n  }\n  GROUP "h" {}\n}\n', 'web.nomad')
    job = tree.filter('job')
    assert [i.key_names for i in job] == [['web']]
    body = job.items[0].val.list
    groups = body.filter('group')
    # hcl v1 matches keys without regard to case
    assert [(i.key_names, i.line, i.column) for i in groups] == [(['g'], 2, 3), (['h'], 5, 3)]
    count = groups.items[0].val.list.filter('count').items[0]
    assert (count.assign, count.val.value, count.val.line) == (True, 2, 3)


@pytest.mark.parametrize('text, message, line', [
    ('a = "unterminated\n', 'literal not terminated', 1),
    ('server {\n  enabled = true\n', 'object expected closing RBRACE got: EOF', None),
    ('job "x" {\n  datacenters = ["home"\n}\n', 'expected comma or list end, got: RBRACE', 3),
    ('a b = 1\n', 'nested object expected: LBRACE got: ASSIGN', 1),
    ('x = 1\ny = @\n', "illegal char '@'", 2),
    ('t = <<EOF\nnever closed\n', 'heredoc not terminated', 1),
    ('v = foo\n', 'Unknown token', 1),
])
def test_syntax_errors_name_file_and_line(text, message, line):
    with pytest.raises(hcl.HCLError) as err:
        hcl.loads(text, 'bad.hcl')
    assert message in str(err.value)
    assert 'bad.hcl' in str(err.value)
    assert err.value.line == line


def test_unclosed_block_names_where_it_opened():
    with pytest.raises(hcl.HCLError) as err:
        hcl.loads('ports {}\nserver {\n  enabled = true\n', 'server.hcl')
    assert 'line 2, column 8' in str(err.value)


def test_dumps_renders_agent_config_that_parses_back():
    settings = {
        'datacenter': 'home',
        'data_dir': '/opt/nomad',
        'server': {'enabled': True, 'bootstrap_expect': 3,
                   'server_join': {'retry_join': ['10.0.0.1:4648', '10.0.0.2:4648']}},
        'client': {'enabled': True, 'options': {'driver.raw_exec.enable': '1'},
                   'meta': {'rack': 'r1', 'has space': 'yes'}},
        'plugin': {'raw_exec': {'config': {'enabled': True}}, 'docker': {'config': {'volumes': {'enabled': False}}}},
        'telemetry': [{'collection_interval': '1s'}],
        'ratio': 0.5,
        'unset': None,
    }
    text = hcl.dumps(settings, header='managed by nomadops')
    assert text.startswith('# managed by nomadops\n')
    assert 'plugin "raw_exec" {' in text
    assert '"has space" = "yes"' in text
    assert 'unset' not in text
    assert hcl.loads(text) == hcl.normalize(settings)


def test_dumps_refuses_values_hcl_cannot_hold():
    with pytest.raises(TypeError) as err:
        hcl.dumps({'client': {'meta': {'when': object()}}})
    assert 'client.meta.when' in str(err.value)


@needs_nomad_source('jobspec')
@needs_nomad_source('agent-config')
def test_every_file_nomad_parsed_is_accepted_by_the_parser():
    files = glob.glob(os.path.join(nomad_source_dir('jobspec'), '*.hcl')) + glob.glob(
        os.path.join(nomad_source_dir('agent-config'), '*.hcl'))
    assert len(files) >= 30
    rejected_by_syntax = {'multi-vault.hcl'}
    for path in files:
        with open(path) as f:
            text = f.read()
        if os.path.basename(path) in rejected_by_syntax:
            with pytest.raises(hcl.HCLError):
                hcl.loads(text, path)
        else:
            assert hcl.loads(text, path), path
