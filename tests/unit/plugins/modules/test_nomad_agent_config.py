# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_agent_config: render, check, write only on change, never leave a bad file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import loads
from ansible_collections.nomadops.nomad.plugins.modules import nomad_agent_config
from nomad_replay import module_args
from tests.support.recordings import needs_nomad_source, nomad_source_dir

SERVER = {
    'server': {
        'enabled': True,
        'bootstrap_expect': 3,
        'server_join': {'retry_join': ['10.0.0.1:4648', '10.0.0.2:4648', '10.0.0.3:4648']},
    },
}


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def _exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ExitJson(kwargs)


def _fail_json(self, **kwargs):
    kwargs['failed'] = True
    raise FailJson(kwargs)


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)


def run(args, check_mode=False, diff=False):
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    with module_args(args):
        return _call_main()


def _call_main():
    try:
        nomad_agent_config.main()
    except ExitJson as exc:
        return exc.args[0]
    except FailJson as exc:
        return exc.args[0]
    raise AssertionError('the module neither exited nor failed')


def test_new_file_is_written_with_header_and_parses_back(tmp_path):
    path = str(tmp_path / 'server.hcl')
    result = run(dict(path=path, settings=SERVER, header='Ansible managed\nsecond line'))
    assert result['changed'] is True
    with open(path) as handle:
        text = handle.read()
    assert text.startswith('# Ansible managed\n# second line\n')
    decoded = loads(text, path)
    assert decoded['server'][0]['bootstrap_expect'] == 3
    assert decoded['server'][0]['server_join'][0]['retry_join'] == SERVER['server']['server_join']['retry_join']
    # A config may hold secrets: a new file is private unless asked otherwise.
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_second_run_is_unchanged_and_does_not_rewrite(tmp_path):
    path = str(tmp_path / 'server.hcl')
    run(dict(path=path, settings=SERVER, mode='0640'))
    inode = os.stat(path).st_ino
    result = run(dict(path=path, settings=SERVER, mode='0640'))
    assert result['changed'] is False
    assert result['content_changed'] is False
    assert os.stat(path).st_ino == inode


def test_mode_change_alone_is_a_change(tmp_path):
    path = str(tmp_path / 'nomad.hcl')
    run(dict(path=path, settings={'datacenter': 'home'}, mode='0640'))
    result = run(dict(path=path, settings={'datacenter': 'home'}, mode='0644'))
    assert result['changed'] is True
    assert result['content_changed'] is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644


def test_existing_mode_is_kept_when_content_changes(tmp_path):
    path = str(tmp_path / 'nomad.hcl')
    run(dict(path=path, settings={'datacenter': 'home'}, mode='0644'))
    result = run(dict(path=path, settings={'datacenter': 'away'}))
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert loads(open(path).read())['datacenter'] == 'away'


def test_check_mode_reports_change_and_writes_nothing(tmp_path):
    path = str(tmp_path / 'server.hcl')
    result = run(dict(path=path, settings=SERVER), check_mode=True)
    assert result['changed'] is True
    assert not os.path.exists(path)
    run(dict(path=path, settings=SERVER))
    before = open(path).read()
    changed = dict(SERVER, server=dict(SERVER['server'], bootstrap_expect=5))
    result = run(dict(path=path, settings=changed), check_mode=True)
    assert result['changed'] is True
    assert open(path).read() == before


def test_diff_shows_before_and_after_text(tmp_path):
    path = str(tmp_path / 'nomad.hcl')
    run(dict(path=path, settings={'datacenter': 'home', 'data_dir': '/opt/nomad'}))
    result = run(dict(path=path, settings={'datacenter': 'away', 'data_dir': '/opt/nomad'}), diff=True)
    assert 'datacenter = "home"' in result['diff']['before']
    assert 'datacenter = "away"' in result['diff']['after']
    assert result['diff']['after_header'] == path


def test_unknown_key_fails_naming_file_and_key_and_keeps_old_file(tmp_path):
    path = str(tmp_path / 'server.hcl')
    run(dict(path=path, settings=SERVER))
    before = open(path).read()
    bad = {'server': {'enabled': True, 'bootstrap_expectt': 3}}
    result = run(dict(path=path, settings=bad))
    assert result['failed'] is True
    assert path in result['msg']
    assert 'bootstrap_expectt' in result['msg']
    assert 'server' in result['msg']
    assert open(path).read() == before
    # No temporary file is left beside it either.
    assert sorted(os.listdir(str(tmp_path))) == ['server.hcl']


def test_unknown_key_in_client_block_is_refused(tmp_path):
    path = str(tmp_path / 'client.hcl')
    result = run(dict(path=path, settings={'client': {'enabled': True, 'network_interfac': 'eth0'}}))
    assert result['failed'] is True
    assert 'network_interfac' in result['msg']
    assert not os.path.exists(path)


def test_validate_false_writes_keys_nomad_0_9_1_does_not_know(tmp_path):
    path = str(tmp_path / 'future.hcl')
    result = run(dict(path=path, settings={'server': {'raft_multiplier': 2}}, validate=False))
    assert result['changed'] is True
    assert 'raft_multiplier = 2' in open(path).read()


def test_plugin_block_is_labelled_and_accepted(tmp_path):
    path = str(tmp_path / 'plugins.hcl')
    result = run(dict(path=path, settings={'plugin': {'raw_exec': {'config': {'enabled': True}}}}))
    assert result['changed'] is True, result
    text = open(path).read()
    assert 'plugin "raw_exec" {' in text
    assert loads(text)['plugin'] == [{'raw_exec': [{'config': [{'enabled': True}]}]}]


def test_value_that_cannot_be_rendered_fails_naming_the_file(tmp_path):
    path = str(tmp_path / 'nomad.hcl')
    # HCL1 has no null: a null inside a list cannot be written.
    result = run(dict(path=path, settings={'datacenter': 'home', 'meta': {'tags': ['a', None]}}))
    assert result['failed'] is True
    assert path in result['msg']
    assert not os.path.exists(path)


def test_a_missing_directory_is_created_like_dir_mode_does(tmp_path):
    path = str(tmp_path / 'nowhere' / 'nomad.hcl')
    result = run(dict(path=path, settings={'datacenter': 'home'}))
    assert not result.get('failed') and result['changed'] is True
    assert oct(os.stat(str(tmp_path / 'nowhere')).st_mode & 0o777) == '0o755'
    assert 'datacenter = "home"' in open(path).read()


def test_a_path_under_a_file_fails_clearly(tmp_path):
    (tmp_path / 'file').write_text('')
    path = str(tmp_path / 'file' / 'sub' / 'nomad.hcl')
    result = run(dict(path=path, settings={'datacenter': 'home'}))
    assert result['failed'] is True
    assert result['msg'] == "Failed to read %s: [Errno 20] Not a directory: '%s'" % (path, path)


@needs_nomad_source('agent-config')
def test_nomads_agent_config_sample_round_trips(tmp_path):
    """Nomad's own agent-config test sample, decoded, renders back to an accepted file."""
    sample = os.path.join(nomad_source_dir('agent-config'), 'basic.hcl')
    settings = loads(open(sample).read(), sample)
    path = str(tmp_path / 'basic.hcl')
    # A parser sample: its docker plugin config (foo = "bar") is one the
    # driver refuses when the agent loads it, so the module refuses it too.
    result = run(dict(path=path, settings=settings))
    assert result['failed'] is True
    assert 'plugin "docker" (driver): failed to parse config' in result['msg'] and 'invalid key: foo' in result['msg']
    assert not os.path.exists(path)
    settings['plugin'] = [p for p in settings['plugin'] if 'docker' not in p]
    result = run(dict(path=path, settings=settings))
    assert result.get('failed') is not True, result.get('msg')
    assert loads(open(path).read(), path) == settings


# ---- dir + files: all of a host's files in one call -------------------------

CLIENT = {'client': {'enabled': True, 'servers': ['10.0.0.1:4647']}}
BASE = {'datacenter': 'home', 'data_dir': '/opt/nomad'}


def test_directory_is_created_and_every_file_written(tmp_path):
    conf = tmp_path / 'nomad.d'
    result = run(dict(dir=str(conf), files={'nomad.hcl': BASE, 'server.hcl': SERVER, 'client.hcl': CLIENT},
                      mode='0640'))
    assert result['changed'] is True
    assert sorted(result['changed_files']) == ['client.hcl', 'nomad.hcl', 'server.hcl']
    assert stat.S_IMODE(os.stat(str(conf)).st_mode) == 0o755
    for name in ('nomad.hcl', 'server.hcl', 'client.hcl'):
        assert stat.S_IMODE(os.stat(str(conf / name)).st_mode) == 0o640
    assert loads((conf / 'client.hcl').read_text(), 'client.hcl')['client'][0]['servers'] == ['10.0.0.1:4647']


def test_directory_second_run_changes_nothing(tmp_path):
    args = dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'server.hcl': SERVER}, absent=['client.hcl'],
                mode='0640')
    run(args)
    result = run(args)
    assert result['changed'] is False
    assert result['changed_files'] == []


def test_one_bad_file_leaves_every_file_as_it_was(tmp_path):
    run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'server.hcl': SERVER}, mode='0640'))
    before = dict((n, (tmp_path / n).read_text()) for n in ('nomad.hcl', 'server.hcl'))
    bad = {'server': dict(SERVER['server'], bootstrap_expectt=3)}
    result = run(dict(dir=str(tmp_path), files={'nomad.hcl': dict(BASE, datacenter='other'), 'server.hcl': bad},
                      absent=['nomad.hcl.bak'], mode='0640'))
    assert result['failed'] is True
    assert 'server.hcl' in result['msg'] and 'bootstrap_expectt' in result['msg']
    # nomad.hcl sorts first and was valid, but nothing is written until every file passed.
    assert dict((n, (tmp_path / n).read_text()) for n in ('nomad.hcl', 'server.hcl')) == before


def test_absent_files_are_removed_and_shown_in_the_diff(tmp_path):
    run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'server.hcl': SERVER, 'client.hcl': CLIENT}, mode='0640'))
    result = run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'client.hcl': CLIENT},
                      absent=['server.hcl', 'gossip.hcl'], mode='0640'), diff=True)
    assert result['changed'] is True
    assert result['changed_files'] == ['server.hcl']
    assert not (tmp_path / 'server.hcl').exists()
    assert [d['before_header'] for d in result['diff']] == [str(tmp_path / 'server.hcl')]
    assert 'bootstrap_expect' in result['diff'][0]['before'] and result['diff'][0]['after'] == ''


def test_directory_check_mode_writes_and_removes_nothing(tmp_path):
    conf = tmp_path / 'nomad.d'
    result = run(dict(dir=str(conf), files={'nomad.hcl': BASE, 'client.hcl': CLIENT}, mode='0640'), check_mode=True,
                 diff=True)
    assert result['changed'] is True
    assert not conf.exists()
    assert result['diff'][1]['before'] == '' and 'datacenter' in result['diff'][1]['after']
    run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'server.hcl': SERVER, 'client.hcl': CLIENT}, mode='0640'))
    result = run(dict(dir=str(tmp_path), files={}, absent=['server.hcl']), check_mode=True)
    assert result['changed'] is True and (tmp_path / 'server.hcl').exists()


@pytest.mark.parametrize('args, words', [
    (dict(files={'server.hcl': SERVER}, absent=['server.hcl']), 'server.hcl named both in files and in absent'),
    (dict(files={'../server.hcl': SERVER}), "invalid file name '../server.hcl'"),
    (dict(files={'server.hcl': 'enabled = true'}), 'expected a dict'),
])
def test_bad_directory_arguments_are_named(tmp_path, args, words):
    result = run(dict(args, dir=str(tmp_path)))
    assert result['failed'] is True
    assert words in result['msg']
    assert os.listdir(str(tmp_path)) == []


def test_path_and_dir_together_are_refused(tmp_path):
    result = run(dict(path=str(tmp_path / 'a.hcl'), settings=SERVER, dir=str(tmp_path), files={}))
    assert result['failed'] is True and 'mutually exclusive' in result['msg']


# ---- nomad_version picks the schema ------------------------------------------

NEW_KEYS = {'client': {'enabled': True, 'reservable_cores': '0-1', 'cni_path': '/opt/cni/bin'}}


def test_keys_new_in_1_1_are_refused_for_0_9_1_in_its_words(tmp_path):
    path = str(tmp_path / 'client.hcl')
    result = run(dict(path=path, settings=NEW_KEYS))
    assert result['failed'] is True and 'client -> invalid key: reservable_cores' in result['msg']
    assert not os.path.exists(path)


def test_keys_new_in_1_1_pass_for_1_1_and_typos_get_1_1s_words(tmp_path):
    path = str(tmp_path / 'client.hcl')
    result = run(dict(path=path, settings=NEW_KEYS, nomad_version='1.1.0'))
    assert result.get('failed') is not True, result.get('msg')
    result = run(dict(path=path, settings={'client': {'enabled': True, 'reservable_core': '0-1'}},
                      nomad_version='1.1.0'))
    assert result['failed'] is True and 'client unexpected keys reservable_core' in result['msg']
    assert 'line 3' in result['msg'] and path in result['msg']


def test_a_release_the_collection_does_not_know_refuses_no_key(tmp_path):
    path = str(tmp_path / 'client.hcl')
    settings = {'client': {'enabled': True, 'a_key_from_the_future': True}}
    result = run(dict(path=path, settings=settings, nomad_version='1.9.0'))
    assert result.get('failed') is not True, result.get('msg')
    assert loads(open(path).read(), path) == {'client': [{'enabled': True, 'a_key_from_the_future': True}]}


def test_nomad_version_must_be_a_release(tmp_path):
    result = run(dict(path=str(tmp_path / 'x.hcl'), settings={'datacenter': 'home'}, nomad_version='latest'))
    assert result['failed'] is True and result['msg'].startswith('nomad_version: not a Nomad release version')


# ---- the directory as a whole: what `nomad agent` checks before it starts ---------

def test_a_directory_nomad_would_not_start_with_is_refused_and_left_alone(tmp_path):
    run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'server.hcl': SERVER}, mode='0640'))
    before = dict((n, (tmp_path / n).read_text()) for n in ('nomad.hcl', 'server.hcl'))
    # Leaving the servers' group without joining the clients' leaves an agent that is neither.
    result = run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE}, absent=['server.hcl']))
    assert result['failed'] is True
    assert result['msg'] == ('Nomad would refuse to start with %s as it would be: Must specify either server, '
                             'client or dev mode for the agent. (server.enabled)' % tmp_path)
    assert dict((n, (tmp_path / n).read_text()) for n in ('nomad.hcl', 'server.hcl')) == before


def test_files_not_managed_here_count_too(tmp_path):
    (tmp_path / 'zz-local.hcl').write_text('data_dir = "var/nomad"\n')
    result = run(dict(dir=str(tmp_path), files={'nomad.hcl': BASE, 'client.hcl': CLIENT}))
    assert result['failed'] is True
    assert 'data-dir must be given as an absolute path: got var/nomad (data_dir)' in result['msg']
    assert not (tmp_path / 'nomad.hcl').exists()
