# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_agent_config from Nomad 1.3 on: the installed binary judges the
staged directory, and settings a release removed are refused by name.

A fake binary stands in for Nomad: it answers `version`, and for `config
validate DIR` records what it was shown and answers in 1.6.5's words (see
tests/integration/test_nomad_agent_config_binary.py for the real one)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible.module_utils import basic

from ansible_collections.nomadops.nomad.plugins.modules import nomad_agent_config
from nomad_replay import module_args

FAKE = r'''#!%(python)s
import json, os, stat, sys
args = sys.argv[1:]
if args == ['version']:
    print('Nomad v%(version)s')
    print('Revision a7cfff37')
    sys.exit(0)
assert args[:2] == ['config', 'validate'] and len(args) == 3, args
staged = args[2]
seen = {'dir': staged, 'mode': stat.S_IMODE(os.stat(staged).st_mode), 'files': {}}
for name in sorted(os.listdir(staged)):
    with open(os.path.join(staged, name)) as handle:
        seen['files'][name] = handle.read()
with open(%(log)r, 'a') as log:
    log.write(json.dumps(seen) + '\n')
for name, text in sorted(seen['files'].items()):
    if 'bogus' in text:
        sys.stderr.write('1 error occurred:\n\t* Error loading configuration from %%s: Error loading %%s: '
                         'client unexpected keys bogus\n\n\n' %% (staged, os.path.join(staged, name)))
        sys.exit(1)
if not any('enabled = true' in text for text in seen['files'].values()):
    sys.stderr.write('Must specify either server, client or dev mode for the agent.\nConfiguration is invalid\n')
    sys.exit(1)
sys.stderr.write('WARNING: mTLS is not configured - Nomad is not secure without mTLS!\n')
print('Configuration is valid!')
'''


class Exit(Exception):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    warnings = []

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise Exit(dict(kwargs, warnings=warnings))

    def fail_json(self, **kwargs):
        raise Exit(dict(kwargs, failed=True, warnings=warnings))

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, text: warnings.append(text))


@pytest.fixture
def nomad(tmp_path):
    """A fake Nomad 1.6.5 binary; ``nomad.shown`` lists what each validation was shown."""
    class Fake(object):
        path = str(tmp_path / 'bin' / 'nomad')
        log = str(tmp_path / 'validate.log')

        def install(self, version='1.6.5'):
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, 'w') as handle:
                handle.write(FAKE % dict(python=sys.executable, version=version, log=self.log))
            os.chmod(self.path, 0o755)
            return self

        @property
        def shown(self):
            if not os.path.exists(self.log):
                return []
            with open(self.log) as handle:
                return [json.loads(line) for line in handle]

    return Fake().install()


def run(args, check_mode=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=False)
    with module_args(args):
        try:
            nomad_agent_config.main()
        except Exit as exc:
            return exc.args[0]
    raise AssertionError('the module neither exited nor failed')


def conf_dir(tmp_path, **files):
    path = tmp_path / 'nomad.d'
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return str(path)


CLIENT = {'client': {'enabled': True}}
NOMAD = {'datacenter': 'home', 'data_dir': '/opt/nomad'}


def test_the_binary_sees_the_directory_as_it_will_be_in_a_private_place(tmp_path, nomad):
    real = conf_dir(tmp_path, **{'nomad.hcl': 'old = 1\n', 'extra.hcl': 'user = 1\n', 'server.hcl': 'x = 1\n',
                                 'notes.txt': 'not config\n'})
    result = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path,
                      files={'nomad.hcl': NOMAD, 'client.hcl': CLIENT}, absent=['server.hcl']))
    assert not result.get('failed'), result
    assert result['validated_by'] == 'binary' and result['warnings'] == []
    [shown] = nomad.shown
    assert sorted(shown['files']) == ['client.hcl', 'extra.hcl', 'nomad.hcl']
    assert shown['files']['extra.hcl'] == 'user = 1\n' and 'data_dir = "/opt/nomad"' in shown['files']['nomad.hcl']
    assert shown['mode'] == 0o700 and not shown['dir'].startswith(real)
    assert not os.path.exists(shown['dir'])
    assert sorted(os.listdir(real)) == ['client.hcl', 'extra.hcl', 'nomad.hcl', 'notes.txt']


def test_a_refusal_writes_and_removes_nothing_and_speaks_of_the_real_files(tmp_path, nomad):
    real = conf_dir(tmp_path, **{'nomad.hcl': 'old = 1\n', 'server.hcl': 'server { enabled = true }\n'})
    result = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path, absent=['server.hcl'],
                      files={'nomad.hcl': NOMAD, 'client.hcl': {'client': {'enabled': True, 'bogus': 1}}}))
    assert result['failed']
    assert result['msg'] == (
        'Nomad 1.6.5 refuses %s as it would be (%s config validate): 1 error occurred:\n'
        '* Error loading configuration from %s: Error loading %s/client.hcl: client unexpected keys bogus (line 3)'
        % (real, nomad.path, real, real))
    assert sorted(os.listdir(real)) == ['nomad.hcl', 'server.hcl']
    assert (tmp_path / 'nomad.d' / 'nomad.hcl').read_text() == 'old = 1\n'
    assert not os.path.exists(nomad.shown[0]['dir'])


def test_nomads_reasons_without_its_warnings(tmp_path, nomad):
    real = conf_dir(tmp_path)
    result = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path, files={'nomad.hcl': NOMAD}))
    assert result['msg'].endswith('config validate): Must specify either server, client or dev mode for the '
                                  'agent.\nConfiguration is invalid')
    assert os.listdir(real) == []


def test_check_mode_asks_the_binary_too(tmp_path, nomad):
    real = conf_dir(tmp_path)
    bad = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path,
                   files={'client.hcl': {'client': {'enabled': True, 'bogus': 1}}}), check_mode=True)
    assert bad['failed'] and 'client unexpected keys bogus' in bad['msg']
    good = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path, files={'client.hcl': CLIENT}),
               check_mode=True)
    assert good['changed'] is True and good['validated_by'] == 'binary'
    assert len(nomad.shown) == 2 and os.listdir(real) == []


def test_a_file_given_by_path_is_judged_with_its_directory(tmp_path, nomad):
    real = conf_dir(tmp_path, **{'client.hcl': 'client { enabled = true }\n'})
    result = run(dict(path=os.path.join(real, 'gossip.hcl'), settings={'server': {'encrypt': 'k'}},
                      nomad_version='1.6.5', binary=nomad.path))
    assert result['changed'] and result['validated_by'] == 'binary'
    assert sorted(nomad.shown[0]['files']) == ['client.hcl', 'gossip.hcl']


def test_no_binary_yet_means_no_binary_check_and_a_warning(tmp_path, nomad):
    real = conf_dir(tmp_path)
    missing = str(tmp_path / 'nowhere' / 'nomad')
    result = run(dict(dir=real, nomad_version='1.6.5', binary=missing, files={'client.hcl': CLIENT}),
                 check_mode=True)
    assert not result.get('failed') and result['validated_by'] == 'syntax'
    assert result['warnings'] == ['%s is not there yet, so Nomad 1.6.5 did not validate %s; its keys were only '
                                  'parsed back' % (missing, real)]


def test_another_release_of_the_binary_does_not_judge(tmp_path, nomad):
    nomad.install(version='1.5.0')
    real = conf_dir(tmp_path)
    result = run(dict(dir=real, nomad_version='1.6.5', binary=nomad.path, files={'client.hcl': CLIENT}))
    assert result['validated_by'] == 'syntax' and nomad.shown == []
    assert result['warnings'] == ['%s is Nomad v1.5.0, not Nomad 1.6.5, so it did not validate %s; its keys were '
                                  'only parsed back' % (nomad.path, real)]


@pytest.mark.parametrize('version, validate, judge', [('1.2.9', True, 'syntax'), ('1.1.0', True, 'schema'),
                                                      ('1.6.5', False, 'none')])
def test_the_binary_judges_only_from_1_3_and_when_validating(tmp_path, nomad, version, validate, judge):
    result = run(dict(dir=conf_dir(tmp_path), nomad_version=version, binary=nomad.path, validate=validate,
                      files={'nomad.hcl': NOMAD, 'client.hcl': CLIENT}))
    assert not result.get('failed'), result
    assert result['validated_by'] == judge and nomad.shown == []


@pytest.mark.parametrize('settings, key, line, release', [
    ({'tls': {'http': True, 'tls_prefer_server_cipher_suites': True}}, 'tls.tls_prefer_server_cipher_suites', 5,
     '1.9.0'),
    ({'vault': {'enabled': True, 'token': 's.secret'}}, 'vault.token', 5, '1.10.0'),
    ({'plugin': {'raw_exec': {'config': {'enabled': True, 'no_cgroups': True}}}},
     'plugin.raw_exec.config.no_cgroups', 6, '1.8.0'),
])
def test_a_removed_setting_is_refused_by_name_before_anything_is_written(tmp_path, nomad, settings, key, line,
                                                                         release):
    real = conf_dir(tmp_path)
    result = run(dict(dir=real, nomad_version='1.10.0', binary=nomad.path, header='managed\nhere',
                      files={'nomad.hcl': NOMAD, 'extra.hcl': settings}))
    path = os.path.join(real, 'extra.hcl')
    assert result['failed']
    assert result['msg'].startswith('Invalid Nomad agent configuration for %s: %s line %d: %s was removed in Nomad '
                                    '%s, so Nomad 1.10.0 refuses it; use instead: ' % (path, path, line, key, release))
    assert 's.secret' not in result['msg']
    assert os.listdir(real) == [] and nomad.shown == []


def test_a_removed_setting_is_fine_before_its_release(tmp_path, nomad):
    result = run(dict(dir=conf_dir(tmp_path), nomad_version='1.6.5', binary=nomad.path,
                      files={'nomad.hcl': NOMAD, 'client.hcl': CLIENT,
                             'tls.hcl': {'tls': {'tls_prefer_server_cipher_suites': True}}}))
    assert not result.get('failed'), result
    assert stat.S_IMODE(os.stat(os.path.join(str(tmp_path / 'nomad.d'), 'tls.hcl')).st_mode) == 0o600
