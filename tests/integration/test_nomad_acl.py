# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_acl_policy, nomad_acl_token, nomad_acl_role and nomad_variable
through the real ``ansible`` CLI, against one agent with ACLs enabled on
127.0.0.1: the test double as 0.9.1, 1.1.0 and 1.6.5, or only the real binary
that NOMAD_TEST_BINARY names.

Each module: check mode predicts changed and writes nothing, the real run
changes, a re-run changes nothing (the server's index stays), and an
independent reader (plain urllib with the management token) sees the result.
Then what a client token may do: submit-job in namespace web and Nomad's
403 in default (1.x); read-job only, and a refused submit, on 0.9.
"""

import contextlib
import importlib
import io
import json
import os
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from unittest import mock

import pytest

from tests.integration import nomad_agents
from tests.integration.nomad_agents import ANSIBLE, ROOT, Cluster, ansible

sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit'))
from nomad_replay import module_args  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

SUBMIT_WEB = 'namespace "web" {\n  capabilities = ["submit-job", "read-job", "list-jobs"]\n}\n'
READ_ONLY = 'namespace "default" {\n  capabilities = ["read-job", "list-jobs"]\n}\n'
DOUBLE_RELEASES = ('0.9.1', '1.1.0', '1.6.5')


def call(address, method, path, token=None, body=None):
    """An independent reader and writer: plain urllib, not the collection's client."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(address + path, data=data, method=method)
    if token:
        req.add_header('X-Nomad-Token', token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
            return resp.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class ACLCluster(Cluster):
    """One agent with ACLs on; bootstrapped once it has a leader, then ready
    when its node is (reading nodes needs the management token)."""

    management = None

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                break
            try:
                if self.management is None:
                    status, body = call(self.address, 'POST', '/v1/acl/bootstrap')
                    if status == 200:
                        self.management = body['SecretID']
                    last = body
                else:
                    status, nodes = call(self.address, 'GET', '/v1/nodes', self.management)
                    if status == 200 and [n for n in nodes if n.get('Status') == 'ready']:
                        return
                    last = nodes
            except (urllib.error.URLError, OSError, ValueError) as e:
                last = str(e)
            time.sleep(0.25)
        self.stop()
        pytest.fail('the ACL agent was not ready after %ss (%s):\n%s' % (timeout, last, self.log_tail()))


def releases():
    if os.environ.get('NOMAD_TEST_BINARY'):
        return ['real']
    return list(DOUBLE_RELEASES)


@pytest.fixture(scope='module', params=releases())
def agent(request, tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad-acl')
    if request.param == 'real':
        binary = nomad_agents.nomad_binary(str(work))
    else:
        binary = str(work / 'nomad')
        proc = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), binary,
                               '--version', request.param], cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.fail('building the test double failed: %s%s' % (proc.stdout, proc.stderr))
    config = nomad_agents.AGENT_HCL + 'acl {{\n  enabled = true\n}}\n'
    with mock.patch.object(nomad_agents, 'AGENT_HCL', config):
        c = ACLCluster(binary, work, size=1).start()
    status, me = call(c.address, 'GET', '/v1/agent/self', c.management)
    assert status == 200, me
    c.version = me['config']['Version']['Version']
    c.release = tuple(int(x) for x in c.version.split('.')[:3])
    yield c
    c.stop()


def run(agent, module, args, token=None, cli=False, check=False, diff=False):
    """Run a module as ``(rc, result)``: in this process (fast), or with
    ``cli`` through the real ``ansible`` CLI, which also runs the module's
    action plugin (token_file, rules_src, HCL2 evaluation, censoring)."""
    full = dict(address=agent.address, token=agent.management if token is None else token)
    full.update(args)
    if cli:
        return ansible(module, full, check=check, diff=diff)
    main = importlib.import_module('ansible_collections.%s' % module.replace('nomadops.nomad.',
                                                                             'nomadops.nomad.plugins.modules.')).main
    full['_ansible_check_mode'] = check
    full['_ansible_diff'] = diff
    out = io.StringIO()
    with module_args(full), contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit:
            pass
    result = json.loads(out.getvalue())
    return (1 if result.get('failed') else 0), result


def test_policy_check_create_rerun_update_delete(agent):
    mod = 'nomadops.nomad.nomad_acl_policy'
    want = dict(name='readers', description='Read jobs', rules=READ_ONLY)

    rc, res = run(agent, mod, want, check=True, diff=True)
    assert rc == 0 and res['changed'] is True, res
    assert res['diff']['after']['rules'] == READ_ONLY and res['diff']['before'] == {}
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[0] == 404

    rc, res = run(agent, mod, want)
    assert rc == 0 and res['changed'] is True, res
    status, stored = call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)
    assert status == 200 and (stored['Rules'], stored['Description']) == (READ_ONLY, 'Read jobs')

    # Nomad bumps the index on every write, so an unchanged index means nothing was sent.
    rc, res = run(agent, mod, want, diff=True)
    assert rc == 0 and res['changed'] is False, res
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[1]['ModifyIndex'] == \
        stored['ModifyIndex']
    rc, res = run(agent, mod, want, check=True)
    assert rc == 0 and res['changed'] is False, res

    more = READ_ONLY.replace('"list-jobs"', '"list-jobs", "read-logs"')
    rc, res = run(agent, mod, dict(want, rules=more), check=True, diff=True)
    assert rc == 0 and res['changed'] is True
    assert (res['diff']['before']['rules'], res['diff']['after']['rules']) == (READ_ONLY, more)
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[1]['Rules'] == READ_ONLY
    rc, res = run(agent, mod, dict(name='readers', rules=more))
    assert rc == 0 and res['changed'] is True and res['policy']['description'] == 'Read jobs'
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[1]['Rules'] == more

    rc, res = run(agent, mod, dict(name='readers', state='absent'), check=True)
    assert rc == 0 and res['changed'] is True
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[0] == 200
    rc, res = run(agent, mod, dict(name='readers', state='absent'))
    assert rc == 0 and res['changed'] is True and res['policy'] is None
    assert call(agent.address, 'GET', '/v1/acl/policy/readers', agent.management)[0] == 404
    rc, res = run(agent, mod, dict(name='readers', state='absent'))
    assert rc == 0 and res['changed'] is False


def test_rules_the_release_refuses_are_refused_before_sending(agent):
    mod = 'nomadops.nomad.nomad_acl_policy'
    rc, res = run(agent, mod, dict(name='bad', rules='# deploys\nnamespace "web" {\n  capabilities = ["submit-jobs"]\n}\n'))
    assert rc != 0
    assert "rules line 3: Invalid namespace capability 'submit-jobs'" in res['msg'], res
    assert call(agent.address, 'GET', '/v1/acl/policy/bad', agent.management)[0] == 404

    no_label = 'namespace {\n  policy = "read"\n}\n'
    rc, res = run(agent, mod, dict(name='bad', rules=no_label))
    if agent.release >= (1, 6, 0):
        assert rc != 0 and 'rules line 1: Invalid namespace name' in res['msg'], res
        assert call(agent.address, 'GET', '/v1/acl/policy/bad', agent.management)[0] == 404
    else:
        # Older releases take it, as recorded from a real 1.1.0.
        assert rc == 0 and res['changed'] is True, res
        assert run(agent, mod, dict(name='bad', state='absent'))[0] == 0

    # 0.9 has no scale policy; 1.x does.
    rc, res = run(agent, mod, dict(name='scalers', rules='namespace "default" {\n  policy = "scale"\n}\n'))
    if agent.release < (1, 0, 0):
        assert rc != 0 and "Invalid namespace policy 'scale'" in res['msg'], res
    else:
        assert rc == 0, res
        assert run(agent, mod, dict(name='scalers', state='absent'))[0] == 0


def token_self(agent, secret):
    return call(agent.address, 'GET', '/v1/acl/token/self', secret)


def test_token_create_rerun_update_rotate_delete(agent):
    mod = 'nomadops.nomad.nomad_acl_token'
    assert run(agent, 'nomadops.nomad.nomad_acl_policy', dict(name='readers', rules=READ_ONLY))[0] == 0
    assert run(agent, 'nomadops.nomad.nomad_acl_policy', dict(name='readers2', rules=READ_ONLY))[0] == 0
    want = dict(name='ci', policies=['readers'])

    rc, res = run(agent, mod, want, check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['secret_id'] is None, res
    assert res['diff']['after']['policies'] == ['readers']
    assert [t for t in call(agent.address, 'GET', '/v1/acl/tokens', agent.management)[1] if t['Name'] == 'ci'] == []

    # In-process, without the action plugin that censors it, the secret is in the result.
    rc, res = run(agent, mod, want)
    assert rc == 0 and res['changed'] is True
    secret = res['secret_id']
    status, me = token_self(agent, secret)
    assert status == 200 and (me['Name'], me['Type'], me['Policies']) == ('ci', 'client', ['readers'])
    accessor = me['AccessorID']
    assert res['acl_token']['accessor_id'] == accessor

    rc, res = run(agent, mod, want, diff=True)
    assert rc == 0 and res['changed'] is False, res
    assert res['acl_token']['accessor_id'] == accessor and res['secret_id'] is None
    assert token_self(agent, secret)[1]['ModifyIndex'] == me['ModifyIndex']
    rc, res = run(agent, mod, want, check=True)
    assert rc == 0 and res['changed'] is False, res

    # Policies change in place: same accessor, same secret.
    rc, res = run(agent, mod, dict(want, policies=['readers', 'readers2']), check=True, diff=True)
    assert rc == 0 and res['changed'] is True
    assert (res['diff']['before']['policies'], res['diff']['after']['policies']) == (['readers'],
                                                                                     ['readers', 'readers2'])
    assert token_self(agent, secret)[1]['Policies'] == ['readers']
    rc, res = run(agent, mod, dict(want, policies=['readers', 'readers2']))
    assert rc == 0 and res['changed'] is True and res['secret_id'] is None
    status, me = token_self(agent, secret)
    assert status == 200 and sorted(me['Policies']) == ['readers', 'readers2'] and me['AccessorID'] == accessor
    rc, res = run(agent, mod, dict(want, policies=['readers2', 'readers']))
    assert rc == 0 and res['changed'] is False

    rc, res = run(agent, mod, dict(want, policies=['readers'], **{'global': True}))
    assert rc != 0 and 'cannot change that on an existing token' in res['msg'], res

    # A second token of the same name: found by name is ambiguous now.
    status, other = call(agent.address, 'POST', '/v1/acl/token', agent.management,
                         dict(Name='ci', Type='client', Policies=['readers']))
    assert status == 200
    rc, res = run(agent, mod, want)
    assert rc != 0 and 'is carried by 2 tokens' in res['msg']
    assert res['accessor_ids'] == sorted([accessor, other['AccessorID']])
    assert accessor in res['msg'] and other['AccessorID'] in res['msg']
    rc, res = run(agent, mod, dict(accessor_id=other['AccessorID'], state='absent'))
    assert rc == 0 and res['changed'] is True

    # Rotation: a new secret and accessor, the old token gone.
    rc, res = run(agent, mod, dict(want, policies=['readers', 'readers2'], rotate=True), check=True)
    assert rc == 0 and res['changed'] is True and token_self(agent, secret)[0] == 200
    rc, res = run(agent, mod, dict(want, policies=['readers', 'readers2'], rotate=True))
    assert rc == 0 and res['changed'] is True
    new_secret = res['secret_id']
    assert new_secret and new_secret != secret
    status, me = token_self(agent, new_secret)
    assert status == 200 and me['AccessorID'] != accessor and sorted(me['Policies']) == ['readers', 'readers2']
    assert token_self(agent, secret)[0] in (403, 404)

    rc, res = run(agent, mod, dict(name='ci', state='absent'), check=True)
    assert rc == 0 and res['changed'] is True and token_self(agent, new_secret)[0] == 200
    rc, res = run(agent, mod, dict(name='ci', state='absent'))
    assert rc == 0 and res['changed'] is True
    assert token_self(agent, new_secret)[0] in (403, 404)
    rc, res = run(agent, mod, dict(name='ci', state='absent'))
    assert rc == 0 and res['changed'] is False


CLI_PLAY = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/nomadops.nomad.nomad:
      address: "{{ address }}"
      token: "{{ management }}"
  tasks:
    - name: policy from a file on the controller
      nomadops.nomad.nomad_acl_policy:
        name: from-file
        rules_src: "{{ dir }}/readers.hcl"
    - name: a bad policy file is named with its line
      nomadops.nomad.nomad_acl_policy:
        name: bad-file
        rules_src: "{{ dir }}/bad.hcl"
      ignore_errors: true
    - name: check mode
      nomadops.nomad.nomad_acl_token: {name: cli, policies: [from-file], token_file: "{{ dir }}/keep/cli-token"}
      check_mode: true
    - name: file after check mode
      ansible.builtin.stat: {path: "{{ dir }}/keep/cli-token"}
    - name: create
      nomadops.nomad.nomad_acl_token: {name: cli, policies: [from-file], token_file: "{{ dir }}/keep/cli-token"}
    - name: file after create
      ansible.builtin.slurp: {src: "{{ dir }}/keep/cli-token"}
      no_log: true
      register: first
    - name: again
      nomadops.nomad.nomad_acl_token: {name: cli, policies: [from-file], token_file: "{{ dir }}/keep/cli-token"}
    - name: rotate
      nomadops.nomad.nomad_acl_token:
        name: cli
        policies: [from-file]
        token_file: "{{ dir }}/keep/cli-token"
        rotate: true
"""


def test_token_file_censoring_and_rules_src_through_the_cli(agent, tmp_path):
    """The action plugins, in one ansible-playbook run (the CLI is slow to start)."""
    if agent.release < (1, 6, 0):
        pytest.skip('the controller side does not depend on the release; run once, on the newest')
    (tmp_path / 'readers.hcl').write_text(READ_ONLY)
    (tmp_path / 'bad.hcl').write_text('# deploys\nnamespace "web" {\n  capabilities = ["submit-jobs"]\n}\n')
    (tmp_path / 'play.yml').write_text(CLI_PLAY)
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    extra = dict(address=agent.address, management=agent.management, dir=str(tmp_path),
                 ansible_python_interpreter=sys.executable)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                           '-c', 'local', '-e', json.dumps(extra), str(tmp_path / 'play.yml')],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = dict((t['task']['name'], t['hosts']['localhost'])
                 for t in json.loads(proc.stdout[proc.stdout.index('{'):])['plays'][0]['tasks'])

    assert tasks['policy from a file on the controller']['changed'] is True
    assert call(agent.address, 'GET', '/v1/acl/policy/from-file', agent.management)[1]['Rules'] == READ_ONLY
    bad = tasks['a bad policy file is named with its line']
    assert bad['failed'] and "%s line 3: Invalid namespace capability 'submit-jobs'" % (tmp_path / 'bad.hcl') \
        in bad['msg']

    assert tasks['check mode']['changed'] is True and tasks['check mode']['token_file_changed'] is True
    assert tasks['file after check mode']['stat']['exists'] is False

    created = tasks['create']
    # The result carries the secret, so the whole of it is censored.
    assert created['changed'] is True and 'censored' in created and 'secret_id' not in created
    again = tasks['again']
    assert again['changed'] is False and again['token_file_changed'] is False and again['secret_id'] is None
    first_accessor = again['acl_token']['accessor_id']

    # The file now holds the rotated token's secret; the first token is gone.
    assert tasks['rotate']['changed'] is True and 'censored' in tasks['rotate']
    token_file = tmp_path / 'keep' / 'cli-token'
    secret = token_file.read_text().strip()
    assert stat.S_IMODE(os.stat(str(token_file)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(token_file.parent)).st_mode) == 0o700
    assert secret not in proc.stdout and secret not in proc.stderr
    status, me = token_self(agent, secret)
    assert status == 200 and me['Name'] == 'cli' and me['AccessorID'] != first_accessor
    assert call(agent.address, 'GET', '/v1/acl/token/%s' % first_accessor, agent.management)[0] == 404


JOB_API = {'ID': 'it-sleeper', 'Name': 'it-sleeper', 'Type': 'service', 'Datacenters': ['dc1'],
           'TaskGroups': [{'Name': 'main', 'Count': 1, 'Tasks': [
               {'Name': 'sleep', 'Driver': 'raw_exec', 'Config': {'command': '/bin/sleep', 'args': ['600']},
                'Resources': {'CPU': 20, 'MemoryMB': 16}}]}]}


def test_a_client_token_may_do_what_its_policy_says(agent):
    policy = 'nomadops.nomad.nomad_acl_policy'
    job = 'nomadops.nomad.nomad_job'
    if agent.release >= (1, 0, 0):
        assert run(agent, 'nomadops.nomad.nomad_namespace', dict(name='web'))[0] == 0
        assert run(agent, policy, dict(name='web-submit', rules=SUBMIT_WEB))[0] == 0
        rc, res = run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='deploy', policies=['web-submit']))
        assert rc == 0
        client = res['secret_id']
        # Waiting reads evaluations, allocations and deployments: read-job is enough.
        rc, res = run(agent, job, dict(job=JOB_API, namespace='web', wait_timeout=60), token=client)
        assert rc == 0 and res['changed'] is True, res
        status, jobs = call(agent.address, 'GET', '/v1/jobs?namespace=web', agent.management)
        assert [j['ID'] for j in jobs] == ['it-sleeper']
        rc, res = run(agent, job, dict(job=JOB_API, namespace='web', wait=False), token=client)
        assert rc == 0 and res['changed'] is False, res
        rc, res = run(agent, job, dict(job=JOB_API, wait=False), token=client)
        assert rc != 0 and 'HTTP 403' in res['msg'] and 'Permission denied' in res['msg'], res
        assert call(agent.address, 'GET', '/v1/jobs', agent.management)[1] == []
        rc, res = run(agent, job, dict(name='it-sleeper', namespace='web', state='absent', purge=True), token=client)
        assert rc == 0 and res['changed'] is True, res
    else:
        assert run(agent, policy, dict(name='read-only', rules=READ_ONLY))[0] == 0
        rc, res = run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='reader', policies=['read-only']))
        assert rc == 0
        client = res['secret_id']
        assert run(agent, job, dict(job=JOB_API, wait_timeout=60))[0] == 0
        rc, res = run(agent, 'nomadops.nomad.nomad_job_info', dict(name='it-sleeper'), token=client)
        assert rc == 0, res
        status, jobs = call(agent.address, 'GET', '/v1/jobs', client)
        assert status == 200 and [j['ID'] for j in jobs] == ['it-sleeper']
        more = dict(JOB_API, TaskGroups=[dict(JOB_API['TaskGroups'][0], Count=2)])
        rc, res = run(agent, job, dict(job=more, wait=False), token=client)
        assert rc != 0 and 'HTTP 403' in res['msg'] and 'Permission denied' in res['msg'], res
        assert call(agent.address, 'GET', '/v1/job/it-sleeper', agent.management)[1]['TaskGroups'][0]['Count'] == 1
        assert run(agent, job, dict(name='it-sleeper', state='absent', purge=True))[0] == 0


def test_roles(agent):
    mod = 'nomadops.nomad.nomad_acl_role'
    assert run(agent, 'nomadops.nomad.nomad_acl_policy', dict(name='readers', rules=READ_ONLY))[0] == 0
    want = dict(name='deployers', description='Deploy', policies=['readers'])
    if agent.release < (1, 4, 0):
        rc, res = run(agent, mod, want)
        assert rc != 0 and res['msg'] == 'ACL roles need Nomad 1.4 or newer; the agent at %s runs Nomad %s' % (
            agent.address, agent.version)
        rc, res = run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='x', roles=['deployers']))
        assert rc != 0 and 'roles needs Nomad 1.4 or newer' in res['msg'], res
        return
    rc, res = run(agent, mod, want, check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['role']['id'] is None
    assert call(agent.address, 'GET', '/v1/acl/role/name/deployers', agent.management)[0] == 404
    rc, res = run(agent, mod, want)
    assert rc == 0 and res['changed'] is True
    status, stored = call(agent.address, 'GET', '/v1/acl/role/name/deployers', agent.management)
    assert status == 200 and stored['Policies'] == [{'Name': 'readers'}] and stored['ID'] == res['role']['id']
    rc, res = run(agent, mod, want)
    assert rc == 0 and res['changed'] is False
    rc, res = run(agent, mod, dict(want, description='Deploy and read'), check=True)
    assert rc == 0 and res['changed'] is True
    rc, res = run(agent, mod, dict(want, description='Deploy and read'))
    assert rc == 0 and res['changed'] is True
    assert call(agent.address, 'GET', '/v1/acl/role/name/deployers', agent.management)[1]['Description'] == \
        'Deploy and read'

    rc, res = run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='by-role', roles=['deployers'],
                                                                expiration_ttl='1h'))
    assert rc == 0 and res['changed'] is True
    rc, res = run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='by-role', roles=['deployers'],
                                                                expiration_ttl='1h'))
    assert rc == 0 and res['changed'] is False and res['acl_token']['roles'] == ['deployers'], res
    assert run(agent, 'nomadops.nomad.nomad_acl_token', dict(name='by-role', state='absent'))[0] == 0

    rc, res = run(agent, mod, dict(name='deployers', state='absent'))
    assert rc == 0 and res['changed'] is True
    assert call(agent.address, 'GET', '/v1/acl/role/name/deployers', agent.management)[0] == 404
    rc, res = run(agent, mod, dict(name='deployers', state='absent'))
    assert rc == 0 and res['changed'] is False


def test_variables(agent):
    mod = 'nomadops.nomad.nomad_variable'
    path = 'nomad/jobs/it-sleeper'
    items = {'greeting': 'hello-from-a-variable', 'port': '8080'}
    if agent.release < (1, 4, 0):
        rc, res = run(agent, mod, dict(path=path, items=items))
        assert rc != 0 and res['msg'].startswith('Nomad Variables need Nomad 1.4 or newer'), res
        return
    rc, res = run(agent, mod, dict(path=path, items=items), check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['keys_added'] == ['greeting', 'port']
    assert res['diff']['after']['items'] == {'greeting': '<hidden>', 'port': '<hidden>'}
    assert call(agent.address, 'GET', '/v1/var/' + path, agent.management)[0] == 404

    rc, res = run(agent, mod, dict(path=path, items=items))
    assert rc == 0 and res['changed'] is True
    status, stored = call(agent.address, 'GET', '/v1/var/' + path, agent.management)
    assert status == 200 and stored['Items'] == items and res['variable']['modify_index'] == stored['ModifyIndex']

    rc, res = run(agent, mod, dict(path=path, items=items), diff=True)
    assert rc == 0 and res['changed'] is False
    assert call(agent.address, 'GET', '/v1/var/' + path, agent.management)[1]['ModifyIndex'] == stored['ModifyIndex']

    changed = dict(items, greeting='hello-again-from-a-variable')
    rc, res = run(agent, mod, dict(path=path, items=changed), check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['keys_changed'] == ['greeting']
    assert res['diff'] == {'before': {'path': path, 'namespace': 'default', 'items': {'greeting': '<hidden>'}},
                           'after': {'path': path, 'namespace': 'default', 'items': {'greeting': '<hidden>'}}}
    assert 'hello' not in json.dumps(res)
    rc, res = run(agent, mod, dict(path=path, items={'port': '8080'}))
    assert rc == 0 and res['changed'] is True and res['keys_removed'] == ['greeting']
    assert call(agent.address, 'GET', '/v1/var/' + path, agent.management)[1]['Items'] == {'port': '8080'}

    rc, res = run(agent, mod, dict(path=path, items={'port': 8080}))
    assert rc != 0 and 'items.port must be strings' in res['msg'], res

    rc, res = run(agent, mod, dict(path=path, state='absent'), check=True)
    assert rc == 0 and res['changed'] is True
    rc, res = run(agent, mod, dict(path=path, state='absent'))
    assert rc == 0 and res['changed'] is True
    assert call(agent.address, 'GET', '/v1/var/' + path, agent.management)[0] == 404
    rc, res = run(agent, mod, dict(path=path, state='absent'))
    assert rc == 0 and res['changed'] is False
