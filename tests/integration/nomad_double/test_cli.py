# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's CLI against a one-node double, compared with the recorded CLI output."""

import os
import re
import shutil

import pytest

from double_harness import leader_of, ready_nodes, run_nomad, shared_dir, wait_until


def _jobs_dir(tmp_path):
    src = os.path.join(shared_dir(), 'transcripts', 'configs', 'jobs')
    if not os.path.isdir(src):
        pytest.fail('recorded Nomad 0.9.1 job files missing from tests/recordings')
    dst = tmp_path / 'jobs'
    shutil.copytree(src, str(dst))
    return str(dst)


def _recorded_stdout(number):
    cli = os.path.join(shared_dir(), 'transcripts', 'cli')
    fn = next(f for f in os.listdir(cli) if f.startswith('%02d-' % number))
    with open(os.path.join(cli, fn)) as f:
        text = f.read()
    return text.split('# ---- stdout ----\n')[1].split('# ---- stderr ----\n')[0]


def _generic(text):
    """Hide IDs, dates, ages and counts of nodes, which differ between runs."""
    text = re.sub(r'\b[0-9a-f]{8}\b', 'ID', text)
    text = re.sub(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', 'DATE', text)
    text = re.sub(r'\d+(m\d+)?s ago', 'AGO', text)
    text = re.sub(r'filtered \d+ nodes?', 'filtered N nodes', text)
    return re.sub(r' +', ' ', text)


def test_cli_run_status_stop_like_nomad(cluster, tmp_path):
    jobs = _jobs_dir(tmp_path)
    a = cluster.servers(1)[0]
    a.start()
    wait_until(lambda: leader_of(a) and len(ready_nodes(a)) == 1, 30, what='one ready node')
    env = {'NOMAD_ADDR': a.addr}

    res = run_nomad(['version'])
    assert res.stdout == _recorded_stdout(1) and res.returncode == 0

    res = run_nomad(['job', 'run', 'batchtrue.nomad'], cwd=jobs, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith('==> Monitoring evaluation "')
    assert 'Allocation "' in res.stdout and res.stdout.endswith('finished with status "complete"\n')

    res = run_nomad(['job', 'run', 'unplaceable.nomad'], cwd=jobs, env=env)
    assert res.returncode == 2
    assert _generic(res.stdout) == _generic(_recorded_stdout(18))

    res = run_nomad(['job', 'run', 'nowhere.nomad'], cwd=jobs, env=env)
    assert res.returncode == 2
    assert _generic(res.stdout) == _generic(_recorded_stdout(19))

    res = run_nomad(['job', 'status', 'unplaceable'], cwd=jobs, env=env)
    assert res.returncode == 0
    assert _generic(res.stdout) == _generic(_recorded_stdout(24))

    res = run_nomad(['job', 'run', 'nosuchfile.nomad'], cwd=jobs, env=env)
    assert res.returncode == 1 and res.stderr.startswith(
        'Error getting job struct: Error getting jobfile from "nosuchfile.nomad": source path error: stat ')

    res = run_nomad(['job', 'stop', 'unplaceable'], cwd=jobs, env=env)
    assert res.returncode == 0 and _generic(res.stdout) == _generic(_recorded_stdout(29))
    res = run_nomad(['job', 'status', 'unplaceable'], cwd=jobs, env=env)
    assert _generic(res.stdout) == _generic(_recorded_stdout(33))

    res = run_nomad(['job', 'stop', '-purge', 'doesnotexist'], cwd=jobs, env=env)
    assert (res.returncode, res.stderr) == (1, 'No job(s) with prefix or id "doesnotexist" found\n')
    res = run_nomad(['node', 'status'], env=env)
    assert res.returncode == 0 and res.stdout.splitlines()[0].split() == [
        'ID', 'DC', 'Name', 'Class', 'Drain', 'Eligibility', 'Status']


def test_cli_plan_unchanged_and_changed(cluster, tmp_path):
    jobs = _jobs_dir(tmp_path)
    a = cluster.servers(1)[0]
    a.start()
    wait_until(lambda: leader_of(a) and len(ready_nodes(a)) == 1, 30, what='one ready node')
    env = {'NOMAD_ADDR': a.addr}
    # One node: place httpecho with count 2 on it, then plan the same and count 3.
    assert run_nomad(['job', 'run', 'httpecho.nomad'], cwd=jobs, env=env).returncode == 0

    def index_of(text):
        return re.sub(r'check-index \d+|Index: \d+', 'INDEX', text)
    res = run_nomad(['job', 'plan', 'httpecho.nomad'], cwd=jobs, env=env)
    assert res.returncode == 0
    assert index_of(res.stdout) == index_of(_recorded_stdout(12))
    res = run_nomad(['job', 'plan', 'httpecho-count3.nomad'], cwd=jobs, env=env)
    assert res.returncode == 1
    assert index_of(res.stdout) == index_of(_recorded_stdout(13))
    idx = re.search(r'check-index (\d+)', res.stdout).group(1)
    stale = run_nomad(['job', 'run', '-check-index', str(int(idx) - 1), 'httpecho-count3.nomad'], cwd=jobs, env=env)
    # Asked of the leader itself, the error has no "rpc error: " prefix, so
    # job run's enforceIndexRegex matches it (a follower's error does not:
    # the recorded cli/16 shows "Error submitting job: ...").
    assert (stale.returncode, stale.stdout) == (1, '')
    assert stale.stderr == ('Enforcing job modify index %d: job exists with conflicting job modify index: %s\n'
                            'Job not updated\n' % (int(idx) - 1, idx))
    ok = run_nomad(['job', 'run', '-check-index', idx, 'httpecho-count3.nomad'], cwd=jobs, env=env)
    assert ok.returncode == 0 and ok.stdout.count('Allocation "') == 3


def test_cli_unreachable_agent(tmp_path):
    res = run_nomad(['node', 'status', '-address=http://127.0.0.1:1'])
    assert res.returncode == 1
    assert res.stderr.startswith('Error querying node status: Get "http://127.0.0.1:1/v1/nodes": dial tcp ')
