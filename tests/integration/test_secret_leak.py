# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets never reach Ansible's output.

A real ansible-playbook run at -vvv (and --diff) makes a gossip key, a CA
and an agent certificate, bootstraps ACLs against recorded Nomad 0.9.1
answers served on 127.0.0.1, renders a config holding the key, and runs a
second time (which must verify the stored token instead of bootstrapping).
Then every byte of output is searched for the token, the key and the
private keys, in the forms they could leak in.
"""

import base64
import copy
import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit'))

from nomad_replay import ReplayServer, exchange, recorded  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = textwrap.dedent('''\
    - name: Secrets on the controller and a first bootstrap
      hosts: localhost
      connection: local
      gather_facts: false
      vars:
        secrets: "{{ lookup('env', 'LEAK_TEST_DIR') }}"
      tasks:
        - name: Gossip key
          nomadops.nomad.nomad_gossip_key:
            path: "{{ secrets }}/gossip.key"
          register: gossip

        - name: CA and agent certificate
          nomadops.nomad.nomad_tls_certificate:
            ca_cert: "{{ secrets }}/tls/ca.pem"
            ca_key: "{{ secrets }}/tls/ca-key.pem"
            cert: "{{ secrets }}/tls/agent.pem"
            key: "{{ secrets }}/tls/agent-key.pem"
            dns_names: [server.global.nomad, localhost]
            ip_addresses: [127.0.0.1]

        - name: Server config holding the key
          ansible.builtin.copy:
            content: |
              server {
                enabled = true
                encrypt = "{{ gossip.key }}"
              }
            dest: "{{ secrets }}/server.hcl"
            mode: "0640"
          no_log: true

        - name: Bootstrap ACLs
          nomadops.nomad.nomad_acl_bootstrap:
            address: "{{ lookup('env', 'LEAK_TEST_NOMAD') }}"
            token_file: "{{ secrets }}/acl-token"
          register: acl

        - name: Use the token the way later tasks do
          ansible.builtin.uri:
            url: "{{ lookup('env', 'LEAK_TEST_NOMAD') }}/v1/jobs"
            headers:
              X-Nomad-Token: "{{ acl.token }}"
          no_log: true
''')


def run_playbook(tmp_path, nomad_address):
    playbook = tmp_path / 'leak.yml'
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ,
               LEAK_TEST_DIR=str(tmp_path / 'secrets'),
               LEAK_TEST_NOMAD=nomad_address,
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    inventory = tmp_path / 'inventory'
    # Modules run with the interpreter running the tests, which has requests.
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run(
        [os.path.join(bindir, 'ansible-playbook'), '-vvv', '--diff', '-i', str(inventory), str(playbook)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def leak_forms(secret):
    """The secret as it could appear: raw, JSON-escaped, base64'd, repr'd."""
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}
    forms.add(base64.b64encode(secret.encode()).decode())
    return {f for f in forms if len(f) >= 16}


def private_key_body(path):
    lines = open(path).read().strip().splitlines()
    body = ''.join(lines[1:-1])
    return [body[i:i + 40] for i in range(0, len(body) - 40, 40)]


def assert_absent(output, secrets):
    for label, values in secrets.items():
        for value in values:
            assert value not in output, '%s leaked into the -vvv output' % label


def test_no_secret_in_verbose_output_across_bootstrap_and_rerun(tmp_path):
    boot = recorded('151-acl-bootstrap')
    token = boot['response']['body']['SecretID']
    jobs = exchange('GET', '/v1/jobs', body=[], index=10)

    with ReplayServer([boot, jobs]) as srv:
        rc, first = run_playbook(tmp_path, srv.address)
        assert rc == 0, first[-3000:]
        assert len(srv.calls('POST', '/v1/acl/bootstrap')) == 1
        assert srv.calls('GET', '/v1/jobs')[0]['headers']['X-Nomad-Token'] == token

    secrets_dir = tmp_path / 'secrets'
    gossip_key = (secrets_dir / 'gossip.key').read_text().strip()
    assert (secrets_dir / 'acl-token').read_text().strip() == token
    for name in ('gossip.key', 'acl-token', 'tls/ca-key.pem', 'tls/agent-key.pem'):
        assert stat.S_IMODE(os.stat(str(secrets_dir / name)).st_mode) == 0o600, name

    token_self = copy.deepcopy(recorded('160-acl-token-self'))
    token_self['response']['body']['SecretID'] = token
    with ReplayServer([token_self, recorded('153-acl-bootstrap-again-with-token'), jobs]) as srv:
        rc, second = run_playbook(tmp_path, srv.address)
        assert rc == 0, second[-3000:]
        # The stored token was verified; no second bootstrap was attempted.
        assert srv.calls('POST', '/v1/acl/bootstrap') == []
        assert srv.calls('GET', '/v1/acl/token/self')[0]['headers']['X-Nomad-Token'] == token
    assert 'changed=0' in second.splitlines()[-2] or 'changed=0' in second

    # The run must really have handled the secrets (not skipped them).
    assert 'Bootstrap ACLs' in first and 'censored' in first

    secrets = {
        'management token': leak_forms(token),
        'gossip key': leak_forms(gossip_key),
        'CA private key': private_key_body(str(secrets_dir / 'tls' / 'ca-key.pem')),
        'agent private key': private_key_body(str(secrets_dir / 'tls' / 'agent-key.pem')),
    }
    assert all(secrets.values())
    assert_absent(first, secrets)
    assert_absent(second, secrets)


def test_the_check_would_see_a_leak(tmp_path):
    """Guard against a test that cannot fail: the same search finds a secret
    that a careless task prints."""
    output = 'ok: [localhost] => {"key": "%s"}' % 'cg8StVXbQJ0gPvMd9o7yrg=='
    with pytest.raises(AssertionError):
        assert_absent(output, {'gossip key': leak_forms('cg8StVXbQJ0gPvMd9o7yrg==')})


ACCESS_PLAYBOOK = textwrap.dedent('''\
    - name: A client token and a variable, at -vvv with --diff
      hosts: localhost
      connection: local
      gather_facts: false
      module_defaults:
        group/nomadops.nomad.nomad:
          address: "{{ lookup('env', 'LEAK_TEST_NOMAD') }}"
          token: "{{ lookup('env', 'LEAK_TEST_MANAGEMENT') }}"
      tasks:
        - name: Client token
          nomadops.nomad.nomad_acl_token:
            name: ci
            policies: [web-submit]
            token_file: "{{ lookup('env', 'LEAK_TEST_DIR') }}/ci-token"
          register: ci

        - name: Variable
          nomadops.nomad.nomad_variable:
            path: nomad/jobs/httpecho
            items:
              db_password: "{{ lookup('env', 'LEAK_TEST_NEW_PASSWORD') }}"
              api_key: "{{ lookup('env', 'LEAK_TEST_API_KEY') }}"
''')


def recorded_16(name):
    found = [f for f in os.listdir(os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'acl'))
             if f.split('-', 1)[1] == name + '.json']
    assert len(found) == 1, name
    with open(os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'acl', found[0])) as f:
        return json.load(f)


def test_no_token_secret_or_variable_value_in_verbose_output(tmp_path):
    """A client token made (its secret exists only in this run's result and
    the token file) and a variable updated (old and new values, and one that
    stays) against recorded Nomad 1.6.5 answers: none of them in the output."""
    secret = '5f0c6a1e-7d3b-4c2a-9e8f-0a1b2c3d4e5f'
    management = '2b778dd9-f5f1-6f29-b4b4-9a5fa948757a'
    values = {'old password': 'old-password-4Rk9vQ2mZx7Lp3Tn', 'new password': 'new-password-8Hs2wE6yUc1Nb5Kd',
              'api key': 'api-key-that-stays-Gq7Jm3Xv9Pz2Wt'}
    created = copy.deepcopy(recorded_16('token-create'))
    created['response']['body'].update(SecretID=secret, AccessorID='0d9e1f2a-3b4c-5d6e-7f80-91a2b3c4d5e6')
    stored = copy.deepcopy(recorded_16('var-get'))
    stored['response']['body']['Items'] = {'db_password': values['old password'], 'api_key': values['api key'],
                                           'removed': values['old password'][::-1]}
    written = copy.deepcopy(recorded_16('var-update'))
    written['request']['path'] = stored['request']['path']
    exchanges = [recorded_16('agent-self'), exchange('GET', '/v1/acl/tokens', body=[], index=8), created, stored,
                 written]

    playbook = tmp_path / 'access.yml'
    playbook.write_text(ACCESS_PLAYBOOK)
    inventory = tmp_path / 'inventory'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    with ReplayServer(exchanges) as srv:
        env = dict(os.environ, LEAK_TEST_DIR=str(tmp_path / 'secrets'), LEAK_TEST_NOMAD=srv.address,
                   LEAK_TEST_MANAGEMENT=management, LEAK_TEST_NEW_PASSWORD=values['new password'],
                   LEAK_TEST_API_KEY=values['api key'], ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                   ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-vvv', '--diff', '-i',
             str(inventory), str(playbook)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
        output = proc.stdout.decode('utf-8', 'replace')
        assert proc.returncode == 0, output[-3000:]
        puts = srv.calls('PUT')
        assert len(srv.calls('POST', '/v1/acl/token')) == 1
    # The run really handled the secrets: the token was made and kept, the
    # variable written over the index it read, the diff shown.
    assert (tmp_path / 'secrets' / 'ci-token').read_text().strip() == secret
    assert [p['query'].get('cas') for p in puts] == [str(stored['response']['body']['ModifyIndex'])]
    assert puts[0]['body']['Items'] == {'db_password': values['new password'], 'api_key': values['api key']}
    assert 'db_password' in output and 'removed' in output

    secrets = {'client token': leak_forms(secret), 'management token': leak_forms(management)}
    for label, value in values.items():
        secrets[label] = leak_forms(value)
    secrets['removed value'] = leak_forms(values['old password'][::-1])
    assert_absent(output, secrets)
