# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Submit-and-wait latency of one job: nomad_job next to `nomad job run`.

Starts one Nomad agent (server and client) on 127.0.0.1 with free ports: the
test double by default, a real binary with NOMAD_TEST_BINARY. Then, --repeat
times each, submits a fresh raw_exec job and waits for it, three ways:

  cli       `nomad job run FILE` (the CLI watches the evaluation only)
  module    the module's own work in-process: parse, plan, register with
            EnforceIndex, follow the evaluation, wait for the allocation
            to be running
  ansible   `ansible localhost -m nomadops.nomad.nomad_job -a src=FILE`,
            the whole ad-hoc command including Ansible's own start-up

and also times an unchanged re-submit (plan only) through the module.
Every job is purged before the next one. Prints median and max per way.

    python bench/job.py [--repeat 5]
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'collections'))
sys.path.insert(0, ROOT)

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadClient  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import parse_jobspec  # noqa: E402
from ansible_collections.nomadops.nomad.plugins.module_utils.waiter import wait_for_job  # noqa: E402
from tests.integration.nomad_agents import ANSIBLE, Cluster, DATACENTER, nomad_binary  # noqa: E402

JOB = '''job "%(id)s" {
  datacenters = ["%(dc)s"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["600"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


def write_job(tmp, job_id):
    path = os.path.join(tmp, job_id + '.nomad')
    with open(path, 'w') as f:
        f.write(JOB % dict(id=job_id, dc=DATACENTER))
    return path


def purge(address, job_id):
    req = urllib.request.Request('%s/v1/job/%s?purge=true' % (address, job_id), method='DELETE')
    urllib.request.urlopen(req, timeout=10).read()


def via_cli(binary, address, path):
    start = time.monotonic()
    proc = subprocess.run([binary, 'job', 'run', '-address=%s' % address, path], capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError('nomad job run failed (%d): %s%s' % (proc.returncode, proc.stdout, proc.stderr))
    return took


def via_module_core(address, path):
    """What the module does after Ansible has started it."""
    start = time.monotonic()
    client = NomadClient(address)
    with open(path) as f:
        job = parse_jobspec(f.read(), filename=os.path.basename(path))
    plan, dummy = client.post('/v1/job/{}/plan', job['ID'], json=dict(Job=job, Diff=True))
    reg, dummy = client.post('/v1/jobs', json=dict(Job=job, EnforceIndex=True,
                                                   JobModifyIndex=plan.get('JobModifyIndex') or 0))
    wait_for_job(client, job['ID'], reg['EvalID'], 60)
    return time.monotonic() - start


def via_module_plan_only(address, path):
    start = time.monotonic()
    client = NomadClient(address)
    with open(path) as f:
        job = parse_jobspec(f.read(), filename=os.path.basename(path))
    plan, dummy = client.post('/v1/job/{}/plan', job['ID'], json=dict(Job=job, Diff=True))
    assert plan['Diff']['Type'] == 'None', plan['Diff']['Type']
    return time.monotonic() - start


def via_ansible(address, path, expect_changed=True):
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1')
    args = json.dumps(dict(src=path, address=address, wait_timeout=60))
    start = time.monotonic()
    proc = subprocess.run([ANSIBLE, 'localhost', '-i', 'localhost,', '-c', 'local', '-m', 'nomadops.nomad.nomad_job',
                           '-a', args, '-e', 'ansible_python_interpreter=%s' % sys.executable],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    result = json.loads(proc.stdout[proc.stdout.index('{'):])['plays'][0]['tasks'][0]['hosts']['localhost']
    if proc.returncode != 0 or bool(result.get('changed')) != expect_changed:
        raise RuntimeError('nomad_job did not do what was expected: %s' % result.get('msg', result.get('changed')))
    return took


def report(name, times):
    print('%-34s n=%d  median %7.3f s   max %7.3f s' % (name, len(times), statistics.median(times), max(times)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=5)
    opts = parser.parse_args()

    # `timeout` and CI stop a run with SIGTERM: let the finally below clean up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory() as tmp:
        binary = nomad_binary(tmp)
        kind = 'real binary %s' % binary if os.environ.get('NOMAD_TEST_BINARY') else 'test double'
        cluster = Cluster(binary, tmp, size=1)
        figures = dict(cli=[], core=[], ansible=[], unchanged_core=[], unchanged_ansible=[])
        try:
            t0 = time.monotonic()
            cluster.start()
            print('agent: %s, ready in %.2f s, %s' % (kind, time.monotonic() - t0, cluster.address))
            for i in range(opts.repeat):
                for way in ('cli', 'core', 'ansible'):
                    job_id = 'bench-%s-%d' % (way, i)
                    path = write_job(tmp, job_id)
                    if way == 'cli':
                        figures['cli'].append(via_cli(binary, cluster.address, path))
                    elif way == 'core':
                        figures['core'].append(via_module_core(cluster.address, path))
                        figures['unchanged_core'].append(via_module_plan_only(cluster.address, path))
                    else:
                        figures['ansible'].append(via_ansible(cluster.address, path))
                        figures['unchanged_ansible'].append(via_ansible(cluster.address, path, expect_changed=False))
                    purge(cluster.address, job_id)
        finally:
            # Agents, tasks and mounts must be gone before the directory is removed.
            cluster.stop()

    print('submit and wait, one raw_exec job (count 1):')
    report('nomad job run (eval only)', figures['cli'])
    report('module core (eval + running alloc)', figures['core'])
    report('ansible ad-hoc nomad_job', figures['ansible'])
    print('re-submit, unchanged:')
    report('module core (plan only)', figures['unchanged_core'])
    report('ansible ad-hoc nomad_job', figures['unchanged_ansible'])


if __name__ == '__main__':
    main()
