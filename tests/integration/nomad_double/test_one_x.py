# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's Nomad 1.1.0 personality on real agents, against the 1.1.0 recordings:
version reporting, agent config, namespaces, group networks, drain."""

import copy
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from double_harness import (ONE_X_ENV, ROOT, Agent, clean_up, free_ports, hcl_config, http, leader_of, nomad_cmd,
                            nomad_env, ready_nodes, real_nomad, require_1x, run_nomad, shared_dir_1x, wait_until)

TRANSCRIPTS = os.path.join(shared_dir_1x(), 'transcripts')


def _need_transcripts():
    if not os.path.isdir(TRANSCRIPTS):
        pytest.fail('recorded Nomad 1.1.0 transcripts missing from tests/recordings')


def _api(path):
    _need_transcripts()
    api = os.path.join(TRANSCRIPTS, os.path.dirname(path) or 'api')
    fn = next(f for f in sorted(os.listdir(api)) if f.startswith(os.path.basename(path)))
    with open(os.path.join(api, fn)) as f:
        return json.load(f)


def _job(name):
    _need_transcripts()
    with open(os.path.join(TRANSCRIPTS, 'configs', 'jobs-json', name + '.json')) as f:
        data = json.load(f)
    return data.get('Job', data)


def _cli(number):
    """(command, config text or None, stdout, stderr) of a recorded cli/NN-*.txt."""
    _need_transcripts()
    cli = os.path.join(TRANSCRIPTS, 'cli')
    fn = next(f for f in os.listdir(cli) if f.startswith('%02d-' % number))
    with open(os.path.join(cli, fn)) as f:
        text = f.read()
    command = text.splitlines()[0][2:]
    config = None
    m = re.search(r'# ---- config file \S+ ----\n(.*?)# ---- stdout ----\n', text, re.S)
    if m and m.group(1) != '(file does not exist)\n':
        config = m.group(1)
    stdout, rest = text.split('# ---- stdout ----\n', 1)[1].split('# ---- stderr ----\n', 1)
    stderr = rest.split('# ---- end', 1)[0]
    return command, config, stdout, stderr


def require_0_9():
    """The 0.9.1 personality: the double's default; a real binary only if it is a 0.9."""
    binary = real_nomad()
    if binary:
        out = subprocess.run([binary, 'version'], capture_output=True, text=True, check=False).stdout
        if not out.startswith('Nomad v0.9.'):
            pytest.skip('NOMAD_TEST_BINARY is not a Nomad 0.9: %s' % out.strip())


def _one_agent(cluster):
    require_1x()
    a = cluster.servers(1)[0]
    a.start(env=ONE_X_ENV)
    wait_until(lambda: leader_of(a) and len(ready_nodes(a)) == 1, 30, what='one ready node')
    return a


def _wait_running(agent, job, count, namespace='default'):
    def running():
        allocs = agent.get('/v1/job/%s/allocations?namespace=%s' % (job, namespace))[2]
        up = [x for x in allocs if x['ClientStatus'] == 'running']
        return up if len(up) == count else None
    return wait_until(running, 30, what='%d running allocations of %s' % (count, job))


# ------------------------------------------------------------------ version

def test_version_is_1_1_0_everywhere(cluster):
    a = _one_agent(cluster)
    env = dict(ONE_X_ENV, NOMAD_ADDR=a.addr)
    assert run_nomad(['version'], env=ONE_X_ENV).stdout == _cli(1)[2]
    st, _h, me = a.get('/v1/agent/self')
    assert me['config']['Version'] == _api('001-')['response']['body']['config']['Version']
    assert me['member']['Tags']['build'] == '1.1.0'
    assert a.get('/v1/agent/members')[2]['Members'][0]['Tags']['build'] == '1.1.0'
    stub = a.get('/v1/nodes')[2][0]
    node = a.get('/v1/node/%s' % stub['ID'])[2]
    assert (stub['Version'], node['Attributes']['nomad.version']) == ('1.1.0', '1.1.0')
    assert node['Attributes']['nomad.revision'] == 'f99f1e27bb66bee36a1f3cdf00335e81e93ffff2'
    members = run_nomad(['server', 'members'], env=env)
    assert members.stdout.splitlines()[0].split() == _cli(2)[2].splitlines()[0].split()
    assert members.stdout.splitlines()[1].split()[6] == '1.1.0'


@pytest.mark.skipif(bool(os.environ.get('NOMAD_TEST_BINARY') or os.environ.get('NOMAD_DOUBLE_VERSION')),
                    reason='tests the double as it is without a version chosen')
def test_the_default_personality_is_still_0_9_1():
    res = run_nomad(['version'])
    assert res.stdout == 'Nomad v0.9.1 (23c4597dbb6d1d46e020301b0f63db5cff80d3f0)\n'


@pytest.mark.skipif(bool(os.environ.get('NOMAD_TEST_BINARY')), reason='tests the double, not a real Nomad')
def test_built_with_version_1_1_0_it_behaves_as_1_1_0(tmp_path):
    out = str(tmp_path / 'nomad')
    subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'nomad_double', 'build.py'), out, '--version', '1.1.0'],
                   check=True, capture_output=True)
    env = {'PATH': os.environ['PATH']}
    res = subprocess.run([out, 'version'], cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert res.stdout == 'Nomad v1.1.0 (f99f1e27bb66bee36a1f3cdf00335e81e93ffff2)\n'
    a = Agent('b', str(tmp_path), free_ports(3))
    a.write(hcl_config(a, '  enabled = true\n  bootstrap_expect = 1',
                       '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"' % a.rpc))
    proc = subprocess.Popen([out, 'agent', '-config', a.config_path], cwd=str(tmp_path), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: leader_of(a), 20, what='leader')
        assert a.get('/v1/agent/self')[2]['config']['Version']['Version'] == '1.1.0'
        # A 0.9.1 double answers 501 here.
        st, _h, body = a.get('/v1/namespaces')
        assert st == 200 and [n['Name'] for n in body] == ['default']
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    assert proc.returncode == 1


# ------------------------------------------------------------------ agent configuration

def _config_keys_cases():
    d = os.path.join(shared_dir_1x(), 'transcripts', 'new-config-keys')
    return sorted(f[:-4] for f in os.listdir(d) if f.endswith('.txt')) if os.path.isdir(d) else ['none']


def _new_keys(name):
    _need_transcripts()
    with open(os.path.join(TRANSCRIPTS, 'new-config-keys', name + '.txt')) as f:
        text = f.read()
    config = re.search(r'# ---- config file \S+ ----\n(.*?)\n## Nomad v1\.1\.0', text, re.S).group(1)
    v110, v091 = text.split('## Nomad v1.1.0: ', 1)[1].split('## Nomad v0.9.1: ', 1)
    banner = v110.split('# ---- stdout ----\n', 1)[1].split('# ...', 1)[0]
    refusal = v091.split('# ---- stderr ----\n', 1)[1].split('# ---- end', 1)[0]
    return config, banner, refusal


def _localize(config, tmp_path, ports):
    config = config.replace('/opt/nomad-test', str(tmp_path / 'data'))
    for old, new in zip((9646, 9647, 9648), ports):
        config = re.sub(r'\b%d\b' % old, str(new), config)
    return config


def _log_free(text):
    return '\n'.join(line for line in text.splitlines() if not re.match(r'^    \d{4}-\d\d-\d\dT', line))


@pytest.mark.parametrize('name', _config_keys_cases())
def test_keys_new_in_1_x_start_a_1_x_agent(tmp_path, name):
    require_1x()
    config, banner, _refusal = _new_keys(name)
    ports = free_ports(3)
    fn = name + '.hcl'
    (tmp_path / fn).write_text(_localize(config, tmp_path, ports))
    env = dict(nomad_env(), **ONE_X_ENV)
    proc = subprocess.Popen(nomad_cmd() + ['agent', '-config', fn], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: proc.poll() is not None or http('GET', 'http://127.0.0.1:%d/v1/agent/self' % ports[0],
                                                           timeout=2)[0] == 200, 30, what='agent up')
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert not clean_up(str(tmp_path))
    want = banner
    for old, new in zip((9646, 9647, 9648), ports):
        want = re.sub(r'\b%d\b' % old, str(new), want)
    got = _log_free(out).split('==> Caught signal', maxsplit=1)[0]
    assert got.strip('\n') == want.strip('\n')
    assert proc.returncode == 1, err


@pytest.mark.parametrize('name', _config_keys_cases())
def test_keys_new_in_1_x_are_refused_by_the_0_9_1_personality(tmp_path, name):
    require_0_9()
    config, _banner, refusal = _new_keys(name)
    fn = name + '.hcl'
    (tmp_path / fn).write_text(_localize(config, tmp_path, free_ports(3)))
    env = nomad_env()
    env.pop('NOMAD_DOUBLE_VERSION', None)
    res = subprocess.run(nomad_cmd() + ['agent', '-config', fn], cwd=str(tmp_path), env=env, capture_output=True,
                         text=True, timeout=30, check=False)
    assert (res.returncode, res.stdout, res.stderr) == (1, '', refusal)


@pytest.mark.parametrize('number', range(82, 95))
def test_startup_failures_are_worded_as_1_1_0(tmp_path, number):
    require_1x()
    command, config, stdout, stderr = _cli(number)
    fn = command.split('-config ', 1)[1]
    if config is not None:
        # Nothing of the recorder's machine: scratch paths go under tmp_path.
        (tmp_path / fn).write_text(config.replace('/opt/nomad-test', str(tmp_path / 'data')))
    res = subprocess.run(nomad_cmd() + ['agent', '-config', fn], cwd=str(tmp_path), env=dict(nomad_env(), **ONE_X_ENV),
                         capture_output=True, text=True, timeout=30, check=False)
    assert (res.returncode, res.stdout, res.stderr) == (1, stdout, stderr)


# ------------------------------------------------------------------ namespaces

def test_namespace_lifecycle(cluster, tmp_path):
    a = _one_agent(cluster)

    def text(number):
        return _api(number)['response']['body']
    st, h, body = a.get('/v1/namespaces')
    assert st == 200 and body == [dict(text('180-')[0], Hash=body[0]['Hash'])]
    sleeper = _job('sleeper-team-a')
    assert sleeper['Namespace'] == 'team-a'
    assert http('POST', a.addr + '/v1/jobs', {'Job': sleeper})[::2] == (500, text('182-'))
    assert http('POST', a.addr + '/v1/namespace', {'Name': 'Team A!'})[::2] == (500, text('207-'))
    st, h, body = http('POST', a.addr + '/v1/namespace', {'Name': 'team-a', 'Description': "Team A's jobs",
                                                          'Meta': {'owner': 'team-a'}})
    # An empty body with only the index, as recorded (api/183).
    assert (st, body, 'Content-Type' in h, 'X-Nomad-Index' in h) == (200, '', False, True)
    assert http('POST', a.addr + '/v1/namespace/team-a', {'Name': 'team-a', 'Description': 'updated'})[0] == 200
    st, h, ns = a.get('/v1/namespace/team-a')
    assert (st, ns['Name'], ns['Description'], ns['Quota'], ns['CreateIndex'] < ns['ModifyIndex']) == (
        200, 'team-a', 'updated', '', True)
    assert sorted(ns) == sorted(text('184-'))
    assert [n['Name'] for n in a.get('/v1/namespaces')[2]] == ['default', 'team-a']

    # The job's own Namespace decides; ?namespace= does not move a job without one.
    st, _h, reg = http('POST', a.addr + '/v1/jobs', {'Job': sleeper})
    assert st == 200
    query_only = dict(copy.deepcopy(sleeper), ID='query-only', Name='query-only', Namespace=None)
    assert http('POST', a.addr + '/v1/jobs?namespace=team-a', {'Job': query_only})[0] == 200
    assert a.get('/v1/job/query-only')[2]['Namespace'] == 'default'
    assert a.get('/v1/job/query-only?namespace=team-a')[::2] == (404, 'job not found')
    assert a.get('/v1/job/sleeper')[::2] == (404, 'job not found')
    assert a.get('/v1/job/sleeper?namespace=team-a')[2]['Namespace'] == 'team-a'
    assert a.get('/v1/evaluation/%s' % reg['EvalID'])[2]['Namespace'] == 'team-a'
    assert [j['ID'] for j in a.get('/v1/jobs')[2]] == ['query-only']
    assert [j['ID'] for j in a.get('/v1/jobs?namespace=team-a')[2]] == ['sleeper']
    assert [(j['Namespace'], j['ID']) for j in a.get('/v1/jobs?namespace=*')[2]] == [
        ('default', 'query-only'), ('team-a', 'sleeper')]
    allocs = _wait_running(a, 'sleeper', 1, 'team-a')
    assert allocs[0]['Namespace'] == 'team-a'
    assert {x['Namespace'] for x in a.get('/v1/allocations?namespace=*')[2]} == {'default', 'team-a'}
    assert {x['Namespace'] for x in a.get('/v1/allocations')[2]} == {'default'}
    assert a.get('/v1/job/sleeper/deployment?namespace=team-a')[2]['Namespace'] == 'team-a'

    # CLI: -namespace reaches the job; without it the default namespace is asked (cli/36-37).
    env = dict(ONE_X_ENV, NOMAD_ADDR=a.addr)
    res = run_nomad(['job', 'status', 'sleeper'], env=env)
    assert (res.returncode, res.stderr) == (1, _cli(36)[3])
    res = run_nomad(['job', 'status', '-namespace', 'team-a', 'sleeper'], env=env)
    assert res.returncode == 0 and 'Namespace     = team-a' in res.stdout.splitlines()
    res = run_nomad(['namespace', 'list'], env=env)
    assert res.stdout.splitlines()[0].split() == ['Name', 'Description']

    # Refused while a job in it is not dead (api/200), never for default (api/201).
    assert http('DELETE', a.addr + '/v1/namespace/team-a')[::2] == (500, text('200-'))
    assert http('DELETE', a.addr + '/v1/namespace/default')[::2] == (500, text('201-'))
    # A purge without ?namespace= acts on default, where there is no sleeper (api/202).
    assert http('DELETE', a.addr + '/v1/job/sleeper?purge=true')[0] == 200
    assert a.get('/v1/job/sleeper?namespace=team-a')[0] == 200
    assert http('DELETE', a.addr + '/v1/job/sleeper?purge=true&namespace=team-a')[0] == 200
    res = run_nomad(['namespace', 'delete', 'team-a'], env=env)
    assert (res.returncode, res.stdout) == (0, _cli(40)[2])
    assert a.get('/v1/namespace/team-a')[::2] == (404, text('205-'))
    st, h, body = http('DELETE', a.addr + '/v1/namespace/nosuch')
    assert (st, body) == (200, '')
    assert http('DELETE', a.addr + '/v1/job/query-only?purge=true')[0] == 200


def test_namespaces_are_enterprise_only_in_the_0_9_1_personality(cluster):
    require_0_9()
    a = cluster.servers(1)[0]
    a.start()
    wait_until(lambda: leader_of(a), 30, what='leader')
    for path, method, rec in (('/v1/namespaces', 'GET', 'compare-0.9.1/api/02-'),
                              ('/v1/namespace', 'POST', 'compare-0.9.1/api/03-')):
        want = _api(rec)['response']
        st, h, body = http(method, a.addr + path, _api(rec)['request']['body'])
        assert (st, body, h['Content-Type']) == (want['status'], want['body'], want['headers']['Content-Type'])
    rec = _api('compare-0.9.1/api/14-')
    assert http('POST', a.addr + '/v1/jobs', rec['request']['body'])[::2] == (500, rec['response']['body'])
    assert a.get('/v1/jobs?namespace=team-a')[::2] == (200, [])


# ------------------------------------------------------------------ group networks

SERVE = r'''
import http.server, json, os
env = dict((k, v) for k, v in os.environ.items() if k.startswith('NOMAD_'))
with open(os.path.join(os.environ['NOMAD_TASK_DIR'], 'env.json'), 'w') as f:
    json.dump(env, f)
http.server.ThreadingHTTPServer((os.environ['NOMAD_IP_http'], int(os.environ['NOMAD_PORT_http'])),
                                http.server.SimpleHTTPRequestHandler).serve_forever()
'''


def test_group_network_ports_reach_a_raw_exec_task(cluster):
    a = _one_agent(cluster)
    to, static = free_ports(2)
    job = _job('httpecho')
    tg = job['TaskGroups'][0]
    tg['Count'] = 1
    net = tg['Networks'][0]
    net['DynamicPorts'].append(dict(net['DynamicPorts'][0], Label='admin', To=to))
    net['ReservedPorts'] = [dict(net['DynamicPorts'][0], Label='fixed', Value=static)]
    tg['Tasks'][0]['Config'] = {'command': sys.executable, 'args': ['-c', SERVE]}
    st, _h, _b = http('POST', a.addr + '/v1/jobs', {'Job': job})
    assert st == 200
    alloc_id = _wait_running(a, 'httpecho', 1)[0]['ID']
    alloc = a.get('/v1/allocation/%s' % alloc_id)[2]
    shared = alloc['AllocatedResources']['Shared']
    ports = dict((p['Label'], p) for p in shared['Ports'])
    assert sorted(ports) == ['admin', 'fixed', 'http']
    assert (ports['admin']['To'], ports['fixed']['Value'], ports['http']['HostIP']) == (to, static, '127.0.0.1')
    assert [p['HostNetwork'] for p in shared['Networks'][0]['DynamicPorts']] == ['default', 'default']
    # Tasks keep no networks of their own; the group's are the allocation's.
    assert alloc['TaskResources']['server']['Networks'] is None
    assert alloc['Resources']['Networks'] == shared['Networks']
    http_port = ports['http']['Value']
    env_file = os.path.join(a.data_dir, 'alloc', alloc_id, 'server', 'local', 'env.json')
    with open(wait_until(lambda: os.path.exists(env_file) and env_file, 10, what='env.json')) as f:
        env = json.load(f)

    def get():
        with urllib.request.urlopen('http://127.0.0.1:%d/' % http_port, timeout=5) as resp:
            return resp.status
    assert wait_until(get, 10, what='the task answering on its port') == 200
    assert (env['NOMAD_PORT_http'], env['NOMAD_HOST_PORT_http'], env['NOMAD_IP_http']) == (
        str(http_port), str(http_port), '127.0.0.1')
    assert env['NOMAD_ADDR_http'] == '127.0.0.1:%d' % http_port
    # With `to`, the task's port is `to` and the host's is the one allocated.
    assert (env['NOMAD_PORT_admin'], env['NOMAD_ALLOC_PORT_admin'], env['NOMAD_HOST_PORT_admin']) == (
        str(to), str(to), str(ports['admin']['Value']))
    assert env['NOMAD_PORT_fixed'] == str(static)
    assert http('DELETE', a.addr + '/v1/job/httpecho?purge=true')[0] == 200
    wait_until(lambda: a.get('/v1/allocation/%s' % alloc_id)[2]['ClientStatus'] == 'complete', 20,
               what='task stopped')


# ------------------------------------------------------------------ drain

def test_drain_needs_a_body_and_leaves_the_node_ineligible(cluster):
    a = _one_agent(cluster)
    nid = a.get('/v1/nodes')[2][0]['ID']
    job = _job('sleeper-team-a')
    job['Namespace'] = None
    assert http('POST', a.addr + '/v1/jobs', {'Job': job})[0] == 200
    before = _wait_running(a, 'sleeper', 1)[0]
    assert http('POST', a.addr + '/v1/node/%s/drain?enable=true' % nid)[::2] == (400, _api('171-')['response']['body'])
    st, h, body = http('POST', a.addr + '/v1/node/%s/drain' % nid, {
        'NodeID': nid, 'DrainSpec': {'Deadline': 60 * 10 ** 9, 'IgnoreSystemJobs': False}, 'MarkEligible': False,
        'Meta': {'reason': 'test'}})
    assert st == 200 and sorted(body) == sorted(_api('163-')['response']['body'])

    def drained():
        node = a.get('/v1/node/%s' % nid)[2]
        return node if not node['Drain'] else None
    node = wait_until(drained, 30, what='drain complete')
    assert (node['SchedulingEligibility'], node['DrainStrategy'], node['LastDrain']['Status'],
            node['LastDrain']['Meta']) == ('ineligible', None, 'complete', {'reason': 'test'})
    assert [e['Message'] for e in node['Events']][-2:] == ['Node drain strategy set', 'Node drain complete']
    old = a.get('/v1/allocation/%s' % before['ID'])[2]
    assert (old['DesiredStatus'], old['DesiredDescription'], old['DesiredTransition']['Migrate'],
            old['ClientStatus']) == ('stop', 'alloc is being migrated', True, 'complete')
    # Nowhere else to go: the replacement waits until the node is eligible again.
    st, h, body = http('POST', a.addr + '/v1/node/%s/drain' % nid, {'NodeID': nid, 'DrainSpec': None,
                                                                    'MarkEligible': True})
    assert st == 200 and body['EvalIDs']
    assert a.get('/v1/node/%s' % nid)[2]['SchedulingEligibility'] == 'eligible'
    _wait_running(a, 'sleeper', 1)
    assert http('DELETE', a.addr + '/v1/job/sleeper?purge=true')[0] == 200
