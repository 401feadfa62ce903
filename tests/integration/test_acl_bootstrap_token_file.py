# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_acl_bootstrap's controller side: token_file is read, written 0600,
replaced when stale, and left alone in check mode. Runs the real ansible CLI
against recorded Nomad 0.9.1 answers served on 127.0.0.1."""

import copy
import json
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit'))

from nomad_replay import ReplayServer, exchange, recorded  # noqa: E402  pylint: disable=wrong-import-position


def bootstrap(address, token_file, check=False, tmpdir=None):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='json',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    env.pop('NOMAD_TOKEN', None)
    if tmpdir:
        env['TMPDIR'] = tmpdir
    cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible'), 'localhost', '-i', 'localhost,',
           '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable,
           '-m', 'nomadops.nomad.nomad_acl_bootstrap',
           '-a', json.dumps({'address': address, 'token_file': token_file})]
    if check:
        cmd.append('--check')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=False)
    out = proc.stdout.decode()
    result = json.loads(out[out.index('{'):])['plays'][0]['tasks'][0]['hosts']['localhost']
    return proc.returncode, result, out + proc.stderr.decode()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_check_mode_neither_bootstraps_nor_writes(tmp_path):
    token_file = tmp_path / 'secrets' / 'acl-token'
    with ReplayServer([recorded('151-acl-bootstrap')]) as srv:
        rc, result, out = bootstrap(srv.address, str(token_file), check=True)
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert rc == 0, out
    assert result['changed'] is True and result['token_file_changed'] is False
    assert posts == [] and not token_file.exists()


def test_stale_stored_token_is_replaced_after_a_fresh_bootstrap(tmp_path):
    boot = recorded('151-acl-bootstrap')
    token_file = tmp_path / 'acl-token'
    token_file.write_text('00000000-1111-2222-3333-444444444444\n')
    os.chmod(str(token_file), 0o644)
    unknown = exchange('GET', '/v1/acl/token/self', status=403, body='ACL token not found')
    with ReplayServer([unknown, boot]) as srv:
        rc, result, out = bootstrap(srv.address, str(token_file))
        sent = srv.calls('GET', '/v1/acl/token/self')[0]['headers']['X-Nomad-Token']
    assert rc == 0, out
    assert sent == '00000000-1111-2222-3333-444444444444'
    assert result['changed'] is True
    assert token_file.read_text().strip() == boot['response']['body']['SecretID']
    assert mode(str(token_file)) == 0o600
    assert boot['response']['body']['SecretID'] not in out


def test_valid_stored_token_with_loose_mode_is_tightened_only(tmp_path):
    token = recorded('151-acl-bootstrap')['response']['body']['SecretID']
    token_file = tmp_path / 'acl-token'
    token_file.write_text(token + '\n')
    os.chmod(str(token_file), 0o644)
    token_self = copy.deepcopy(recorded('160-acl-token-self'))
    token_self['response']['body']['SecretID'] = token
    with ReplayServer([token_self]) as srv:
        rc, result, out = bootstrap(srv.address, str(token_file))
        posts = srv.calls('POST', '/v1/acl/bootstrap')
    assert rc == 0, out
    assert posts == []
    # The result carries the token, so it is censored; changed stays visible.
    assert result['changed'] is True and 'censored' in result
    assert mode(str(token_file)) == 0o600 and token_file.read_text().strip() == token
    assert token not in out


def test_bootstrapped_elsewhere_without_a_token_is_unchanged_and_writes_nothing(tmp_path):
    token_file = tmp_path / 'acl-token'
    with ReplayServer([recorded('152-acl-bootstrap-again')]) as srv:
        rc, result, out = bootstrap(srv.address, str(token_file))
    assert rc == 0, out
    assert result['changed'] is False and result['bootstrapped'] is False
    assert 'token_file_changed' in result and result['token_file_changed'] is False
    assert not token_file.exists()


def test_a_token_file_that_cannot_be_written_fails_and_says_where_the_token_was_kept(tmp_path):
    # Nothing can be created in /proc, even by root; reading the file there finds none.
    token_file = '/proc/nomadops-acl-token'
    boot = recorded('151-acl-bootstrap')
    secret = boot['response']['body']['SecretID']
    with ReplayServer([boot]) as srv:
        rc, result, out = bootstrap(srv.address, token_file, tmpdir=str(tmp_path))
    assert rc != 0
    kept = result['token_kept_in']
    assert os.path.dirname(kept) == str(tmp_path)
    assert open(kept).read().strip() == secret and mode(kept) == 0o600
    # Shown, not censored: the failure names both files, and the token is nowhere in the output.
    assert token_file in result['msg'] and kept in result['msg'] and 'will not do it again' in result['msg']
    assert secret not in out
