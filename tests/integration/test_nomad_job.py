# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_job through the real ``ansible`` CLI, against a Nomad agent on
127.0.0.1: the test double by default, a real Nomad 0.9.1 binary when
NOMAD_TEST_BINARY names one.

Order: check mode -> apply -> apply again (unchanged) -> independent read
-> absent with purge; then concurrent submits from three processes.
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.nomad_agents import ANSIBLE, ROOT, Cluster, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

JOB_FILE = 'tests/integration/files/sleeper.nomad'   # relative: resolved from the repo root like copy's src
JOB_ID = 'it-sleeper'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad')
    binary = nomad_binary(str(work))
    c = Cluster(binary, work, size=1).start()
    yield c
    c.purge_all()
    c.stop()


def job_args(cluster, **extra):
    args = dict(src=JOB_FILE, address=cluster.address, wait_timeout=60)
    args.update(extra)
    return args


def running(cluster, job_id):
    allocs = http_get(cluster.address, '/v1/job/%s/allocations' % job_id)
    return [a for a in allocs if a['DesiredStatus'] == 'run' and a['ClientStatus'] == 'running']


def test_flow_check_apply_idempotent_read_purge(cluster):
    # 1. check mode: the plan says it would be added, nothing is registered
    rc, res = ansible('nomadops.nomad.nomad_job', job_args(cluster), check=True, diff=True)
    assert rc == 0, res
    assert res['changed'] is True and res['diff_type'] == 'Added'
    assert res['diff']['before'] == {} and res['diff']['after']['ID'] == JOB_ID
    assert http_get(cluster.address, '/v1/jobs') == []

    # 2. apply: registered, evaluated, both allocations running
    rc, res = ansible('nomadops.nomad.nomad_job', job_args(cluster))
    assert rc == 0, res
    assert res['changed'] is True
    assert res['eval_id'] and res['version'] == 0
    assert len(res['allocations']) == 2
    assert {a['client_status'] for a in res['allocations']} == {'running'}
    assert all(a['node_name'] == 'it1' for a in res['allocations'])

    # 3. apply again: the plan says None, nothing is registered
    rc, again = ansible('nomadops.nomad.nomad_job', job_args(cluster), diff=True)
    assert rc == 0, again
    assert again['changed'] is False and again['diff_type'] == 'None'
    assert again['eval_id'] is None and again['version'] == 0

    # 4. independent reads: plain HTTP, and nomad_job_info
    job = http_get(cluster.address, '/v1/job/%s' % JOB_ID)
    assert job['Version'] == 0 and job['TaskGroups'][0]['Count'] == 2
    assert len(http_get(cluster.address, '/v1/job/%s/versions' % JOB_ID)['Versions']) == 1
    assert sorted(a['ID'] for a in running(cluster, JOB_ID)) == sorted(a['id'] for a in res['allocations'])
    rc, info = ansible('nomadops.nomad.nomad_job_info', dict(name=JOB_ID, address=cluster.address))
    assert rc == 0 and info['exists'] is True and info['version'] == 0
    assert len([a for a in info['allocations'] if a['client_status'] == 'running']) == 2

    # 5. absent with purge, checked first, then for real, then again
    purge = dict(name=JOB_ID, state='absent', purge=True, address=cluster.address)
    rc, res = ansible('nomadops.nomad.nomad_job', purge, check=True)
    assert rc == 0 and res['changed'] is True
    assert http_get(cluster.address, '/v1/job/%s' % JOB_ID)['ID'] == JOB_ID
    rc, res = ansible('nomadops.nomad.nomad_job', purge)
    assert rc == 0 and res['changed'] is True and res['eval_id']
    assert [j for j in http_get(cluster.address, '/v1/jobs') if j['ID'] == JOB_ID] == []
    rc, res = ansible('nomadops.nomad.nomad_job', purge)
    assert rc == 0 and res['changed'] is False


def test_changed_count_is_planned_then_applied(cluster, tmp_path):
    with open(os.path.join(ROOT, JOB_FILE)) as f:
        text = f.read()
    rc, res = ansible('nomadops.nomad.nomad_job', dict(content=text, address=cluster.address, wait_timeout=60))
    assert rc == 0, res
    bigger = tmp_path / 'bigger.nomad'
    bigger.write_text(text.replace('count = 2', 'count = 3'))
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=str(bigger), address=cluster.address), check=True, diff=True)
    assert rc == 0 and res['changed'] is True and res['diff_type'] == 'Edited'
    assert res['diff']['before']['TaskGroups'][0]['Count'] == 2
    assert res['diff']['after']['TaskGroups'][0]['Count'] == 3
    assert 'JobModifyIndex' not in res['diff']['before']
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=str(bigger), address=cluster.address, wait_timeout=60))
    assert rc == 0, res
    assert res['changed'] is True and res['version'] == 1
    assert len(running(cluster, JOB_ID)) == 3
    rc, dummy = ansible('nomadops.nomad.nomad_job', dict(name=JOB_ID, state='absent', purge=True,
                                                         address=cluster.address))
    assert rc == 0


def test_three_separate_runs_at_once_report_what_they_did(cluster, tmp_path):
    """Three separate ansible processes share no lock; EnforceIndex is their
    only guard, and Nomad 0.9.1 checks it before the raft write, so more than
    one may register. Whatever happens, each run must say so truthfully."""
    with open(os.path.join(ROOT, JOB_FILE)) as f:
        text = f.read().replace('it-sleeper', 'it-race').replace('count = 2', 'count = 1')
    src = tmp_path / 'race.nomad'
    src.write_text(text)
    args = dict(src=str(src), address=cluster.address, wait_timeout=60)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda i: ansible('nomadops.nomad.nomad_job', args), range(3)))
    assert [rc for rc, r in results] == [0, 0, 0], results
    changed = [r for rc, r in results if r['changed']]
    versions = http_get(cluster.address, '/v1/job/it-race/versions')['Versions']
    assert len(changed) >= 1
    assert sorted(v['Version'] for v in versions) == list(range(len(changed)))
    assert len(running(cluster, 'it-race')) == 1
    ansible('nomadops.nomad.nomad_job', dict(name='it-race', state='absent', purge=True, address=cluster.address))


def test_unplaceable_job_fails_with_nomads_reasons(cluster, tmp_path):
    src = tmp_path / 'nowhere.nomad'
    src.write_text('job "it-nowhere" {\n  datacenters = ["nowhere"]\n  group "g" {\n    task "t" {\n'
                   '      driver = "raw_exec"\n      config {\n        command = "/bin/sleep"\n'
                   '        args = ["600"]\n      }\n    }\n  }\n}\n')
    try:
        rc, res = ansible('nomadops.nomad.nomad_job', dict(src=str(src), address=cluster.address, wait_timeout=30))
        assert rc != 0 and res.get('failed')
        assert "Failed to place job 'it-nowhere'" in res['msg']
        assert 'No nodes are available in datacenter "nowhere"' in res['msg']
        assert res['placement_failures']['g']['failed'] == 1
        rc, res = ansible('nomadops.nomad.nomad_job', dict(src=str(src), address=cluster.address, wait_timeout=30,
                                                           fail_on_placement_failure=False))
        # already registered and unchanged: the plan says None
        assert rc == 0 and res['changed'] is False
    finally:
        ansible('nomadops.nomad.nomad_job', dict(name='it-nowhere', state='absent', purge=True,
                                                 address=cluster.address))


def test_hcl_error_names_file_and_line_and_sends_nothing(cluster, tmp_path):
    src = tmp_path / 'broken.nomad'
    src.write_text('job "broken" {\n  datacenters = ["dc1"\n}\n')
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=str(src), address=cluster.address))
    assert rc != 0
    assert str(src) in res['msg'] and 'line' in res['msg']
    assert [j for j in http_get(cluster.address, '/v1/jobs') if j['ID'] == 'broken'] == []


def test_unreachable_agent_is_named():
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=JOB_FILE, address='http://127.0.0.1:9', timeout=3))
    assert rc != 0 and 'http://127.0.0.1:9' in res['msg']


@pytest.fixture(scope='module')
def three_agents(tmp_path_factory):
    work = tmp_path_factory.mktemp('nomad3')
    # Nomad 0.9.1 checks EnforceIndex before the raft write; the double widens
    # that window to half a second, so hosts that did not take turns would
    # all register. A real binary ignores the variable.
    c = Cluster(nomad_binary(str(work)), work, size=3, env={'NOMAD_DOUBLE_RAFT_APPLY_DELAY': '0.5'}).start()
    yield c
    c.purge_all()
    c.stop()


def test_adhoc_on_three_hosts_each_with_its_agent_registers_once(three_agents, tmp_path):
    """The seed's `ansible ubuntu -m nomad_job -a src=...`: one ansible run, three
    hosts in parallel forks, each module talking to its own agent (two of
    them followers that forward to the leader)."""
    inventory = tmp_path / 'hosts'
    inventory.write_text('[ubuntu]\n' + ''.join(
        'host%d ansible_connection=local ansible_python_interpreter=%s agent=http://127.0.0.1:%d\n'
        % (i + 1, sys.executable, a['http']) for i, a in enumerate(three_agents.agents)))
    with open(os.path.join(ROOT, JOB_FILE)) as f:
        (tmp_path / 'adhoc.nomad').write_text(f.read().replace('it-sleeper', 'it-adhoc'))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_FORKS='3')

    def adhoc(args):
        proc = subprocess.run([ANSIBLE, 'ubuntu', '-i', str(inventory), '-m', 'nomad_job', '-a', args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        data = json.loads(proc.stdout[proc.stdout.index('{'):])
        return proc.returncode, data['plays'][0]['tasks'][0]['hosts']

    src = str(tmp_path / 'adhoc.nomad')
    try:
        rc, first = adhoc('src=%s address={{ agent }} wait_timeout=60' % src)
        assert rc == 0, first
        assert sorted(first) == ['host1', 'host2', 'host3']
        assert sorted(r['changed'] for r in first.values()) == [False, False, True]
        assert [v['Version'] for v in http_get(three_agents.address, '/v1/job/it-adhoc/versions')['Versions']] == [0]
        winner = [r for r in first.values() if r['changed']][0]
        assert len(winner['allocations']) == 2
        assert {a['client_status'] for a in winner['allocations']} == {'running'}

        rc, again = adhoc('src=%s address={{ agent }}' % src)
        assert rc == 0 and [r['changed'] for r in again.values()] == [False, False, False]
    finally:
        adhoc('name=it-adhoc state=absent purge=true address={{ agent }}')


def adhoc_text(module, text, check=False):
    """The module with ad-hoc key=value arguments, as a user types them."""
    cmd = [ANSIBLE, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', module, '-a', text,
           '-e', 'ansible_python_interpreter=%s' % sys.executable] + (['--check'] if check else [])
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_NOCOLOR='1')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, json.loads(proc.stdout[proc.stdout.index('{'):])['plays'][0]['tasks'][0]['hosts'][
        'localhost']


def test_hcl2_file_with_vars_typed_ad_hoc_is_evaluated_on_the_controller(cluster):
    src = 'tests/integration/files/sleeper-hcl2.nomad'
    rc, res = adhoc_text('nomadops.nomad.nomad_job', "src=%s address=%s dialect=hcl2 vars='{\"count\": 3}'"
                         % (src, cluster.address), check=True)
    assert rc == 0, res
    assert res['changed'] is True and res['desired_updates']['main']['Place'] == 3
    # The same file read as HCL1 fails, naming the file and the line of the variable block.
    rc, res = adhoc_text('nomadops.nomad.nomad_job', 'src=%s address=%s dialect=hcl1' % (src, cluster.address),
                         check=True)
    assert rc != 0 and 'sleeper-hcl2.nomad' in res['msg'] and 'line' in res['msg']
    assert http_get(cluster.address, '/v1/jobs') == [] or all(
        j['ID'] != 'it-sleeper-hcl2' for j in http_get(cluster.address, '/v1/jobs'))


def test_hcl2_file_functions_read_next_to_the_job_file_whatever_the_working_directory(cluster, tmp_path):
    # Run from elsewhere: the relative path in file() is the job file's neighbour, as src is found.
    src = os.path.join(ROOT, 'tests', 'integration', 'files', 'sleeper-file.nomad')
    cmd = [ANSIBLE, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'nomadops.nomad.nomad_job', '-a',
           'src=%s address=%s dialect=hcl2' % (src, cluster.address), '-e',
           'ansible_python_interpreter=%s' % sys.executable, '--check', '--diff']
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    res = json.loads(proc.stdout[proc.stdout.index('{'):])['plays'][0]['tasks'][0]['hosts']['localhost']
    assert proc.returncode == 0, res
    task = res['diff']['after']['TaskGroups'][0]['Tasks'][0]
    assert task['Config']['args'] == ['600']
