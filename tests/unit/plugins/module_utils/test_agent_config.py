# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""agent_config: Nomad 0.9.1's agent-config keys, messages, and directory loading."""

import glob
import json
import os
import re

import pytest

from tests.support.recordings import needs_nomad_source, nomad_source_dir
from ansible_collections.nomadops.nomad.plugins.module_utils import agent_config as ac
from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import loads

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def _err(text, filename='agent.hcl'):
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.validate(loads(text, filename), filename, text)
    return exc.value


def test_unknown_server_key_has_nomads_message_and_line():
    e = _err('server {\n  enabled = true\n  bootstrap_expectt = 3\n}\n')
    assert e.message == "error parsing 'config': 1 error(s) occurred:\n\n* server -> invalid key: bootstrap_expectt"
    assert (e.filename, e.line, e.key) == ('agent.hcl', 3, 'server.bootstrap_expectt')
    assert str(e).startswith('Error loading agent.hcl: error parsing')


def test_unknown_top_level_keys_are_all_listed():
    e = _err('nmae = "x"\ndatacentre = "y"\n')
    assert e.message == ("error parsing 'config': 2 error(s) occurred:\n\n* config: invalid key: nmae\n"
                         "* config: invalid key: datacentre")
    assert e.line == 1


def test_nested_server_join_and_client_reserved_prefixes():
    e = _err('server {\n  server_join {\n    retry_joins = ["a"]\n  }\n}\n')
    assert e.message.endswith('* server -> server_join-> invalid key: retry_joins')
    e = _err('client {\n  reserved {\n    cpus = 1\n  }\n}\n')
    assert e.message.endswith('* client -> reserved -> invalid key: cpus')


def test_blocks_are_checked_in_nomads_order():
    # ports is parsed before client, so its error wins.
    e = _err('client {\n  bogus = 1\n}\nports {\n  htp = 1\n}\n')
    assert e.message.endswith('* ports -> invalid key: htp')


def test_plugin_keys():
    e = _err('plugin "raw_exec" {\n  configg {\n    enabled = true\n  }\n}\n')
    assert e.message == ("error parsing 'config': plugin-> invalid keys in plugin config 1: "
                         "1 error(s) occurred:\n\n* invalid key: configg")


def test_docker_plugin_config_is_checked_against_the_drivers_spec():
    ok = ('plugin "docker" {\n  config {\n    allow_privileged = false\n    allow_caps = ["CHOWN"]\n'
          '    volumes {\n      enabled = true\n    }\n    gc {\n      image = true\n      image_delay = "3m"\n'
          '      container = true\n    }\n  }\n}\n')
    assert ac.check_plugin_configs(loads(ok, 'client.hcl'), 'client.hcl', ok)
    bad = ('client {\n  enabled = true\n}\nplugin "docker" {\n  config {\n    gc {\n      images = true\n'
           '    }\n  }\n}\n')
    # The config parser takes it (as it takes Nomad's own sample with foo = "bar"); the driver would not.
    assert ac.validate(loads(bad, 'client.hcl'), 'client.hcl', bad)
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.check_plugin_configs(loads(bad, 'client.hcl'), 'client.hcl', bad)
    e = exc.value
    assert e.message == ('plugin "docker" (driver): failed to parse config: 1 error(s) occurred:\n\n'
                         '* invalid key: images')
    assert (e.filename, e.line, e.key) == ('client.hcl', 7, 'plugin.docker.config.images')


def test_type_errors_like_mapstructure():
    e = _err('server {\n  bootstrap_expect = "three"\n}\n')
    assert "cannot parse 'bootstrap_expect' as int" in e.message


def test_valid_configs_pass():
    ok = ('name = "n1"\ndata_dir = "/opt/nomad"\nserver {\n  enabled = true\n  bootstrap_expect = 3\n'
          '  encrypt = "cg8StVXbQJ0gPvMd9o7yrg=="\n  server_join {\n    retry_join = ["10.0.0.1"]\n  }\n}\n'
          'client {\n  enabled = true\n  options {\n    "driver.raw_exec.enable" = "1"\n  }\n  meta {\n'
          '    rack = "r1"\n  }\n}\ntls {\n  http = true\n  rpc = true\n  verify_server_hostname = true\n}\n'
          'acl {\n  enabled = true\n}\n')
    assert ac.validate(loads(ok, 'x.hcl'), 'x.hcl', ok)


@needs_nomad_source('agent-config')
def test_nomads_own_samples():
    testdata = nomad_source_dir('agent-config')
    for name in ('basic.hcl', 'plugin.hcl', 'non-optional.hcl'):
        with open(os.path.join(testdata, name)) as f:
            text = f.read()
        assert ac.validate(loads(text, name), name, text)
    for name in ('basic.json', 'plugin.json'):
        with open(os.path.join(testdata, name)) as f:
            assert ac.validate(json.load(f), name)


def test_load_dir_reads_hcl_and_json_in_lexical_order_and_merges(tmp_path):
    (tmp_path / 'b.hcl').write_text('server {\n  retry_join = ["b"]\n}\nname = "from-b"\n')
    (tmp_path / 'a.json').write_text(json.dumps({'server': {'enabled': True, 'retry_join': ['a']}, 'name': 'from-a'}))
    (tmp_path / 'c.txt').write_text('ignored = true\n')
    (tmp_path / 'd.hcl~').write_text('ignored = true\n')
    cfg, files = ac.load(str(tmp_path), loads=loads)
    assert [os.path.basename(f) for f in files] == ['a.json', 'b.hcl']
    assert cfg['name'] == 'from-b'
    assert cfg['server'] == {'enabled': True, 'retry_join': ['a', 'b']}


def test_load_reports_the_failing_file(tmp_path):
    (tmp_path / 'a.hcl').write_text('server {\n  enabled = true\n}\n')
    (tmp_path / 'b.hcl').write_text('client {\n  network_interfac = "lo"\n}\n')
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.load(str(tmp_path), loads=loads)
    e = exc.value
    assert e.filename.endswith('b.hcl') and e.line == 2
    assert ac.nomad_load_error('cfg', e) == ("Error loading configuration from cfg: Error loading %s: error parsing "
                                             "'config': 1 error(s) occurred:\n\n* client -> invalid key: "
                                             "network_interfac" % e.filename)


def test_encrypt_key_and_durations():
    assert len(ac.check_encrypt_key('cg8StVXbQJ0gPvMd9o7yrg==')) == 16
    with pytest.raises(ValueError, match='illegal base64 data at input byte 3'):
        ac.check_encrypt_key('not base64')
    assert ac.parse_duration('1m30s') == 90 * 10 ** 9
    with pytest.raises(ValueError):
        ac.parse_duration('10x')


@pytest.mark.parametrize('config, message', [
    ({'data_dir': '/opt/nomad'}, 'Must specify either server, client or dev mode for the agent.'),
    ({'data_dir': 'relative/data', 'server': [{'enabled': True}]},
     'data-dir must be given as an absolute path: got relative/data'),
    ({'server': [{'enabled': True}]}, 'Must specify data directory'),
    ({'data_dir': '/d', 'server': {'enabled': True, 'encrypt': 'not base64'}},
     'Invalid encryption key: illegal base64 data at input byte 3'),
    ({'data_dir': '/d', 'client': [{'enabled': True, 'alloc_dir': 'alloc'}]},
     'alloc-dir must be given as an absolute path: got alloc'),
])
def test_check_merged_like_nomad_agent(config, message):
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.check_merged(config)
    assert exc.value.message == message


def test_check_merged_accepts_the_seed_config():
    assert ac.check_merged({'datacenter': 'home', 'data_dir': '/opt/nomad', 'server': {'enabled': True},
                            'client': {'enabled': True, 'servers': ['10.0.0.1:4647']}})


# ---- Nomad 1.1's schema, against what a real 1.1.0 said ----------------------

SHARED_1_1 = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0')
TRANSCRIPTS_1_1 = os.path.join(SHARED_1_1, 'transcripts')


def _recorded_1_1(pattern):
    found = sorted(glob.glob(os.path.join(TRANSCRIPTS_1_1, pattern)))
    # The placeholder has an id of its own: the tests name their cases by file.
    assert found, 'no Nomad 1.1.0 recordings match %s' % os.path.join(TRANSCRIPTS_1_1, pattern)
    return found


def _config_and_stderr(path):
    """The config file and the agent's stderr in one recorded CLI run."""
    text = open(path).read()
    name = re.search(r'# ---- config file (\S+) ----\n', text).group(1)
    config = text.split('# ---- config file %s ----\n' % name, 1)[1].split('\n# ---- ', 1)[0] + '\n'
    return name, config, text


@pytest.mark.parametrize('path', _recorded_1_1('cli/8[2-8]-agent-fail-*.txt'), ids=os.path.basename)
def test_1_1_refuses_what_1_1_0_refused_in_its_words(path):
    name, config, text = _config_and_stderr(path)
    stderr = text.split('# ---- stderr ----\n', 1)[1]
    said = re.search(r'Error loading %s: (.*)\n' % re.escape(name), stderr)
    if 'syntax' in name:
        with pytest.raises(Exception):
            loads(config, name)
        return
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.validate(loads(config, name), name, config, schema='1.1')
    assert exc.value.message == said.group(1)


@pytest.mark.parametrize('path', _recorded_1_1('new-config-keys/*.txt'), ids=os.path.basename)
def test_keys_new_in_1_x_pass_1_1_and_fail_0_9_1_as_each_release_did(path):
    name, config, text = _config_and_stderr(path)
    assert ac.validate(loads(config, name), name, config, schema='1.1')
    assert ac.validate(loads(config, name), name, config, schema=None)
    old = text.split('## Nomad v0.9.1:', 1)[1]
    if 'the config was REJECTED' in old:
        said = re.search(r'Error loading %s: (.*?)\n# ---- end' % re.escape(name), old, re.S).group(1)
        with pytest.raises(ac.AgentConfigError) as exc:
            ac.validate(loads(config, name), name, config)
        assert exc.value.message == said


# Top-level keys real 1.1.0 decoded without a word, though they belong in a
# block (its decoder's leftovers): the schema refuses them at the top, where
# Nomad would silently ignore them, so that a misplaced key is named.
TOP_LEVEL_LEFTOVERS_1_1 = ('chroot_env', 'datadog_tags', 'enabled_schedulers', 'meta', 'options', 'retry_join',
                           'server_join', 'servers', 'start_join', 'version')


@pytest.mark.parametrize('block', [name for name, dummy in ac.SCHEMA_1_1])
def test_1_1_takes_the_keys_real_1_1_0_took_in_each_block(block):
    keys = dict(ac.SCHEMA_1_1)[block]
    with open(os.path.join(SHARED_1_1, 'agent_config.json')) as f:
        recorded = json.load(f)['blocks'][block]
    assert not recorded['any_key']
    took = set(recorded['keys']) - set(TOP_LEVEL_LEFTOVERS_1_1 if block == '' else ())
    assert sorted(set(keys) - took) == [] and sorted(took - set(keys)) == []


def test_1_1_names_nested_blocks_innermost_first_and_lists_every_unknown_key():
    text = 'server {\n  server_join {\n    retry_joins = ["a"]\n    retry_maxx = 3\n  }\n}\n'
    with pytest.raises(ac.AgentConfigError) as exc:
        ac.validate(loads(text, 's.hcl'), 's.hcl', text, schema='1.1')
    assert exc.value.message == 'server_join.server unexpected keys retry_joins, retry_maxx'
    assert exc.value.line == 3


def test_a_release_without_a_known_schema_gets_no_key_check():
    text = 'server {\n  enabled = true\n  some_key_from_nomad_1_9 = true\n}\nbrand_new_block {\n  x = 1\n}\n'
    assert ac.validate(loads(text, 'x.hcl'), 'x.hcl', text, schema=None)
    with pytest.raises(ac.AgentConfigError):
        ac.validate(loads(text, 'x.hcl'), 'x.hcl', text, schema='1.1')
