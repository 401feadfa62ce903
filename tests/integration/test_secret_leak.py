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
