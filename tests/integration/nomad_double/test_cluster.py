# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double forms clusters from its configs alone, runs raw_exec jobs, and
keeps the recorded behaviours for cloned node identities and EnforceIndex."""

import os
import re
import shutil
import threading
import time
import urllib.request

import pytest

from double_harness import hcl_config, http, leader_of, processes, ready_nodes, real_nomad, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))


def httpecho_job(count=2, job_id='httpecho', extra_tg=None):
    """The seed's httpecho job in API form (what `nomad job run -output` gives)."""
    tg = {'Name': 'web', 'Count': count, 'Tasks': [{
        'Name': 'server', 'Driver': 'raw_exec',
        'Config': {'command': 'python3', 'args': ['-m', 'http.server', '${NOMAD_PORT_http}', '--bind',
                                                  '${NOMAD_IP_http}']},
        'Resources': {'Networks': [{'MBits': 10, 'DynamicPorts': [{'Label': 'http', 'Value': 0}]}]}}]}
    tg.update(extra_tg or {})
    return {'ID': job_id, 'Name': job_id, 'Type': 'service', 'Datacenters': ['home'], 'TaskGroups': [tg]}


def start_three(cluster, env=None, **kw):
    agents = cluster.servers(3, **kw)
    for a in agents:
        a.start(env=env)
    return agents


def test_three_servers_elect_a_leader_and_register_three_nodes(cluster):
    agents = start_three(cluster)
    leader = wait_until(lambda: leader_of(agents[0]), 30, what='a leader')
    assert leader in ['127.0.0.1:%d' % a.rpc for a in agents]
    # Every server agrees on the leader and on the peers.
    for a in agents:
        assert wait_until(lambda: leader_of(a), 10) == leader
        st, _h, peers = a.get('/v1/status/peers')
        assert st == 200 and sorted(peers) == sorted('127.0.0.1:%d' % x.rpc for x in agents)
    nodes = wait_until(lambda: len(ready_nodes(agents[1])) == 3 and ready_nodes(agents[1]), 30, what='3 ready nodes')
    assert sorted(n['Name'] for n in nodes) == ['nomad1', 'nomad2', 'nomad3']
    # Node IDs come from each data_dir's client/client-id.
    for a in agents:
        with open(os.path.join(a.data_dir, 'client', 'client-id')) as f:
            cid = f.read()
        assert len(cid) == 36 and cid in [n['ID'] for n in nodes]
    st, _h, members = agents[2].get('/v1/agent/members')
    assert st == 200 and sorted(m['Status'] for m in members['Members']) == ['alive'] * 3


def test_wrong_retry_join_leaves_no_leader(cluster):
    bogus = ['127.0.0.1:1']
    agents = start_three(cluster, join=bogus)
    wait_until(lambda: agents[0].get('/v1/agent/self')[0] == 200, 15, what='agent up')
    import time
    time.sleep(4)
    for a in agents:
        st, _h, body = a.get('/v1/status/leader')
        assert (st, body) == (500, 'No cluster leader')
        st, _h, body = a.get('/v1/agent/members')
        assert len(body['Members']) == 1


def test_raw_exec_port_answers_until_job_stopped(cluster):
    agents = start_three(cluster)
    a = agents[0]
    wait_until(lambda: len(ready_nodes(a)) == 3, 30, what='3 ready nodes')
    st, h, body = http('POST', a.addr + '/v1/jobs', {'Job': httpecho_job()})
    assert st == 200, body
    assert int(h['X-Nomad-Index']) == body['EvalCreateIndex']

    def running():
        st, _h, allocs = a.get('/v1/job/httpecho/allocations')
        return len([x for x in allocs if x['ClientStatus'] == 'running']) == 2 and allocs
    allocs = wait_until(running, 30, what='2 running allocations')
    urls = []
    for stub in allocs:
        st, _h, full = a.get('/v1/allocation/%s' % stub['ID'])
        net = full['Resources']['Networks'][0]
        urls.append('http://%s:%d/' % (net['IP'], net['DynamicPorts'][0]['Value']))
    for url in urls:
        assert wait_until(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 15, what=url)
    st, _h, body = http('DELETE', a.addr + '/v1/job/httpecho')
    assert st == 200 and body['EvalID']

    def down(url):
        try:
            urllib.request.urlopen(url, timeout=1)
            return False
        except OSError:
            return True
    for url in urls:
        wait_until(lambda: down(url), 15, what='%s to stop answering' % url)
    st, _h, job = a.get('/v1/job/httpecho')
    assert job['Stop'] is True and job['Status'] == 'dead'


def _register_at_once(agents, index):
    """POST httpecho with EnforceIndex/JobModifyIndex ``index`` to every agent at
    the same moment, each with its own count; the (status, headers, body) of each."""
    results = [None] * len(agents)
    barrier = threading.Barrier(len(agents))

    def register(i):
        body = {'Job': httpecho_job(count=2 + i), 'EnforceIndex': True, 'JobModifyIndex': index}
        barrier.wait()
        results[i] = http('POST', agents[i].addr + '/v1/jobs', body)
    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(agents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _check_enforce_index_outcome(agents, leader, index, version, results):
    """What holds however the registers interleave: every 200 wrote a version,
    and every 500 names the index one of those writes left."""
    ok = [body for st, _h, body in results if st == 200]
    # The first register checked cannot have lost.
    assert ok, results
    written = sorted(b['JobModifyIndex'] for b in ok)
    assert len(set(written)) == len(written) and min(written) > index, results
    for agent, (st, h, body) in zip(agents, results):
        if st == 200:
            continue
        assert st == 500 and h['Content-Type'] == 'text/plain; charset=utf-8', (st, h, body)
        # The leader's own error is bare; a follower's went through its rpc
        # connection pool, which prefixes it.
        prefix = '' if leader == '127.0.0.1:%d' % agent.rpc else 'rpc error: '
        m = re.fullmatch(re.escape(prefix + 'Enforcing job modify index %d: job exists with conflicting job modify '
                                   'index: ' % index) + r'(\d+)', body)
        assert m, (agent.name, body)
        assert int(m.group(1)) in written, (body, written)
    st, _h, job = agents[0].get('/v1/job/httpecho')
    assert st == 200 and job['Version'] == version + len(ok)
    st, _h, versions = agents[0].get('/v1/job/httpecho/versions')
    assert sorted(v['JobModifyIndex'] for v in versions['Versions'] if v['Version'] > version) == written


def test_enforce_index_is_checked_before_the_write_is_applied(cluster):
    """Job.Register checks EnforceIndex against a snapshot and only then writes
    the job through raft, with nothing held in between (nomad/job_endpoint.go):
    simultaneous registers with the same index may all pass."""
    agents = start_three(cluster)
    wait_until(lambda: len(ready_nodes(agents[0])) == 3, 30, what='3 ready nodes')
    st, _h, body = http('POST', agents[0].addr + '/v1/jobs', {'Job': httpecho_job(count=1)})
    assert st == 200
    st, _h, plan = http('POST', agents[0].addr + '/v1/job/httpecho/plan', {'Job': httpecho_job(count=2), 'Diff': True})
    assert plan['JobModifyIndex'] == body['JobModifyIndex']
    leader = leader_of(agents[0])
    results = _register_at_once(agents, plan['JobModifyIndex'])
    _check_enforce_index_outcome(agents, leader, plan['JobModifyIndex'], 0, results)
    # A stale index is refused by the leader itself without the prefix.
    lead = next(a for a in agents if leader == '127.0.0.1:%d' % a.rpc)
    st, h, text = http('POST', lead.addr + '/v1/jobs', {'Job': httpecho_job(count=9), 'EnforceIndex': True,
                                                        'JobModifyIndex': plan['JobModifyIndex']})
    assert (st, h['Content-Type']) == (500, 'text/plain; charset=utf-8')
    assert text.startswith('Enforcing job modify index %d: job exists with conflicting job modify index: '
                           % plan['JobModifyIndex'])


@pytest.mark.skipif(bool(real_nomad()),
                    reason="a real Nomad's raft apply cannot be slowed down to make the race certain")
def test_registers_within_one_raft_apply_all_pass_the_enforce_index_check(cluster):
    """With the apply widened to half a second, simultaneous registers all reach
    the check before the first write: every one passes and writes a version."""
    agents = start_three(cluster, env={'NOMAD_DOUBLE_RAFT_APPLY_DELAY': '0.5'})
    wait_until(lambda: len(ready_nodes(agents[0])) == 3, 30, what='3 ready nodes')
    st, _h, body = http('POST', agents[0].addr + '/v1/jobs', {'Job': httpecho_job(count=1)})
    assert st == 200
    results = _register_at_once(agents, body['JobModifyIndex'])
    assert [r[0] for r in results] == [200, 200, 200], results
    _check_enforce_index_outcome(agents, leader_of(agents[0]), body['JobModifyIndex'], 0, results)


def test_registering_the_same_spec_again_writes_nothing(cluster):
    """Job.Register applies the job only if its spec changed; the reply then
    names the stored version, and only the new eval takes a raft index."""
    s = _single_server(cluster)
    st, _h, first = http('POST', s.addr + '/v1/jobs', {'Job': httpecho_job(count=1)})
    assert st == 200
    st, _h, before = s.get('/v1/job/httpecho')
    st, _h, again = http('POST', s.addr + '/v1/jobs', {'Job': httpecho_job(count=1), 'EnforceIndex': True,
                                                       'JobModifyIndex': first['JobModifyIndex']})
    assert st == 200 and again['JobModifyIndex'] == first['JobModifyIndex'], again
    assert again['EvalID'] != first['EvalID'] and again['EvalCreateIndex'] > first['EvalCreateIndex']
    st, _h, after = s.get('/v1/job/httpecho')
    assert (after['Version'], after['JobModifyIndex'], after['SubmitTime']) == (
        before['Version'], before['JobModifyIndex'], before['SubmitTime'])
    st, _h, versions = s.get('/v1/job/httpecho/versions')
    assert [v['Version'] for v in versions['Versions']] == [0]


def _clone_client(cluster, server, name, source=None, secret=True):
    a = cluster.agent(name)
    a.write(hcl_config(a, None, '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"'
                       % server.rpc))
    if source is not None:
        os.makedirs(os.path.join(a.data_dir, 'client'))
        names = ['client-id', 'secret-id'] if secret else ['client-id']
        for n in names:
            shutil.copy(os.path.join(source.data_dir, 'client', n), os.path.join(a.data_dir, 'client', n))
    return a


def _single_server(cluster):
    s = cluster.agent('server')
    s.write(hcl_config(s, '  enabled = true\n  bootstrap_expect = 1'))
    s.start()
    wait_until(lambda: leader_of(s), 20, what='leader')
    return s


def test_cloned_client_id_only_second_is_rejected(cluster):
    s = _single_server(cluster)
    a = _clone_client(cluster, s, 'clone-a').start()
    wait_until(lambda: len(ready_nodes(s)) == 1, 20, what='clone-a registered')
    b = _clone_client(cluster, s, 'clone-b', source=a, secret=False).start()
    wait_until(lambda: 'node secret ID does not match' in b.log(), 20, what='clone-b rejected')
    nodes = ready_nodes(s)
    assert [n['Name'] for n in nodes] == ['clone-a']
    st, _h, health = b.get('/v1/agent/health')
    assert st == 200 and health == {'client': {'message': 'ok', 'ok': True}}


def test_cloned_client_and_secret_id_share_one_node_last_wins(cluster):
    s = _single_server(cluster)
    a = _clone_client(cluster, s, 'clone-a').start()
    wait_until(lambda: len(ready_nodes(s)) == 1, 20, what='clone-a registered')
    b = _clone_client(cluster, s, 'clone-b', source=a, secret=True).start()
    node = wait_until(lambda: [n for n in ready_nodes(s) if n['Name'] == 'clone-b'], 20, what='clone-b takes over')
    assert len(ready_nodes(s)) == 1
    st, _h, full = s.get('/v1/node/%s' % node[0]['ID'])
    assert full['HTTPAddr'] == '127.0.0.1:%d' % b.http and full['SecretID'] == ''


STARTUP_FAILURES = ['unknown-key', 'syntax-error', 'relative-data-dir', 'no-server-no-client',
                    'client-only-no-rpc-advertise', 'server-no-advertise', 'no-data-dir', 'client-unknown-key']
CLI_NUMBERS = {'unknown-key': 41, 'syntax-error': 42, 'relative-data-dir': 43, 'no-server-no-client': 44,
               'client-only-no-rpc-advertise': 45, 'server-no-advertise': 46, 'no-data-dir': 47,
               'client-unknown-key': 48}


def _recorded_cli(number):
    from double_harness import shared_dir
    cli = os.path.join(shared_dir(), 'transcripts', 'cli')
    if not os.path.isdir(cli):
        pytest.fail('recorded Nomad 0.9.1 transcripts missing from tests/recordings')
    for fn in os.listdir(cli):
        if fn.startswith('%02d-' % number):
            with open(os.path.join(cli, fn)) as f:
                text = f.read()
            stdout = text.split('# ---- stdout ----\n')[1].split('# ---- stderr ----\n')[0]
            stderr = text.split('# ---- stderr ----\n')[1].split('# ---- end')[0]
            code = int(text.split('# ---- end (exit code ')[1].split(')')[0])
            return stdout, stderr, code
    pytest.fail('recording %d missing from tests/recordings' % number)


@pytest.mark.parametrize('name', STARTUP_FAILURES)
def test_agent_startup_failures_match_recorded_messages(tmp_path, name):
    from double_harness import run_nomad, shared_dir
    src = os.path.join(shared_dir(), 'transcripts', 'configs', 'agents', 'startup-failures', name + '.hcl')
    if not os.path.exists(src):
        pytest.fail('recorded Nomad 0.9.1 configs missing from tests/recordings')
    stdout, stderr, code = _recorded_cli(CLI_NUMBERS[name])
    with open(src) as f:
        text = f.read().replace('<dir>', str(tmp_path))
    (tmp_path / (name + '.hcl')).write_text(text)
    res = run_nomad(['agent', '-config', name + '.hcl'], cwd=str(tmp_path), timeout=20)
    assert (res.returncode, res.stdout, res.stderr) == (code, stdout, stderr)


def test_agent_missing_config_file(tmp_path):
    from double_harness import run_nomad
    stdout, stderr, code = _recorded_cli(49)
    res = run_nomad(['agent', '-config', 'does-not-exist.hcl'], cwd=str(tmp_path))
    assert (res.returncode, res.stdout, res.stderr) == (code, stdout, stderr)


def test_bad_gossip_key_is_refused(tmp_path):
    from double_harness import Agent, free_ports, run_nomad
    a = Agent('bad', str(tmp_path), free_ports(3))
    a.write(hcl_config(a, '  enabled = true\n  bootstrap_expect = 1\n  encrypt = "not base64!"'))
    res = run_nomad(['agent', '-config', a.config_path])
    assert res.returncode == 1
    assert res.stderr == '==> Invalid encryption key: illegal base64 data at input byte 3\n'


def test_missing_drivers_block_the_eval(cluster):
    """docker never exists; raw_exec only where the client enables it."""
    s = cluster.agent('plain')
    # A client without the raw_exec plugin block.
    s.write(hcl_config(s, '  enabled = true\n  bootstrap_expect = 1', None) +
            'client {\n  enabled = true\n  network_interface = "lo"\n}\n')
    s.start()
    wait_until(lambda: len(ready_nodes(s)) == 1, 20, what='one ready node')
    st, _h, node = s.get('/v1/node/%s' % ready_nodes(s)[0]['ID'])
    assert node['Drivers']['raw_exec']['Detected'] is False and node['Drivers']['docker']['Healthy'] is False
    for driver in ('raw_exec', 'docker'):
        job = httpecho_job(count=1, job_id='needs-%s' % driver)
        job['TaskGroups'][0]['Tasks'][0]['Driver'] = driver
        st, _h, reg = http('POST', s.addr + '/v1/jobs', {'Job': job})
        assert st == 200

        def done():
            ev = s.get('/v1/evaluation/%s' % reg['EvalID'])[2]
            return ev['Status'] == 'complete' and ev
        ev = wait_until(done, 20, what='eval complete')
        failed = ev['FailedTGAllocs']['web']
        assert failed['ConstraintFiltered'] == {'missing drivers': 1}
        assert failed['NodesEvaluated'] == 1 and failed['NodesAvailable'] == {'home': 1}
        st, _h, blocked = s.get('/v1/evaluation/%s' % ev['BlockedEval'])
        assert (blocked['Status'], blocked['TriggeredBy'], blocked['StatusDescription']) == (
            'blocked', 'queued-allocs', 'created to place remaining allocations')
        st, _h, job_now = s.get('/v1/job/%s' % job['ID'])
        assert job_now['Status'] == 'pending'
        assert s.get('/v1/job/%s/allocations' % job['ID'])[2] == []


def test_system_job_runs_once_per_node(cluster):
    agents = start_three(cluster)
    a = agents[0]
    wait_until(lambda: len(ready_nodes(a)) == 3, 30, what='3 ready nodes')
    job = httpecho_job(count=1, job_id='everywhere')
    job['Type'] = 'system'
    st, _h, reg = http('POST', a.addr + '/v1/jobs', {'Job': job})
    assert st == 200

    def placed():
        allocs = [x for x in a.get('/v1/job/everywhere/allocations')[2] if x['ClientStatus'] == 'running']
        return len(allocs) == 3 and allocs
    allocs = wait_until(placed, 30, what='one running alloc per node')
    assert sorted(x['NodeID'] for x in allocs) == sorted(n['ID'] for n in ready_nodes(a))
    st, _h, plan = http('POST', a.addr + '/v1/job/everywhere/plan', {'Job': job, 'Diff': True})
    assert plan['Diff']['Type'] == 'None' and plan['Annotations']['DesiredTGUpdates']['web']['Ignore'] == 3


def _pids_running(argv_tail):
    """PIDs of the live processes whose command line ends with ``argv_tail``."""
    n = len(argv_tail)
    return sorted(pid for pid, (_pp, _cwd, argv) in processes().items() if argv[-n:] == argv_tail)


def test_tasks_outlive_the_agent_under_systemd_and_are_reattached(cluster):
    """With the seed's unit (KillMode=process) a client's tasks survive an agent
    restart: the restarted agent re-attaches to the same process instead of
    starting the task again."""
    systemd = {'INVOCATION_ID': 'f' * 32}
    s = _single_server(cluster)
    a = cluster.agent('client')
    a.write(hcl_config(a, None, '  enabled = true\n  servers = ["127.0.0.1:%d"]\n  network_interface = "lo"' % s.rpc))
    a.start(env=systemd)
    wait_until(lambda: len(ready_nodes(s)) == 1, 30, what='a ready node')
    st, _h, _b = http('POST', s.addr + '/v1/jobs', {'Job': httpecho_job(count=1)})
    assert st == 200

    def running():
        allocs = [x for x in s.get('/v1/job/httpecho/allocations')[2] if x['ClientStatus'] == 'running']
        return allocs and allocs[0]
    stub = wait_until(running, 30, what='a running allocation')
    net = s.get('/v1/allocation/%s' % stub['ID'])[2]['Resources']['Networks'][0]
    port = net['DynamicPorts'][0]['Value']
    url = 'http://%s:%d/' % (net['IP'], port)
    wait_until(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 15, what=url)
    # The task's command line is unique: its dynamic port is in it.
    task_argv = ['-m', 'http.server', str(port), '--bind', net['IP']]
    pids = wait_until(lambda: _pids_running(task_argv), 10, what='the task process')
    assert len(pids) == 1
    pid = pids[0]
    registrations = a.log().count('node registration complete')
    assert a.stop() == 1
    assert urllib.request.urlopen(url, timeout=2).status == 200 and _pids_running(task_argv) == [pid]
    a.start(env=systemd)
    wait_until(lambda: a.log().count('node registration complete') > registrations, 30, what='the client back')
    if not real_nomad():
        # The double re-attaches once the server has sent the allocation again
        # (Nomad does it before it registers), and says so.
        wait_until(lambda: 're-attached to task' in a.log(), 15, what='re-attach')
    # Had the client not re-attached, it would now stop the task or start it again.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert _pids_running(task_argv) == [pid]
        time.sleep(0.2)
    assert urllib.request.urlopen(url, timeout=2).status == 200
    alloc = s.get('/v1/allocation/%s' % stub['ID'])[2]
    assert alloc['ClientStatus'] == 'running'
    assert [e['Type'] for e in alloc['TaskStates']['server']['Events']].count('Started') == 1
    st, _h, _b = http('DELETE', s.addr + '/v1/job/httpecho')

    def gone():
        try:
            urllib.request.urlopen(url, timeout=1)
            return False
        except OSError:
            return True
    wait_until(gone, 15, what='task stopped with its job')
    wait_until(lambda: pid not in _pids_running(task_argv), 10, what='the task process to exit')
