# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a real Nomad does with deployments and snapshots.

    python tests/real/record_deployments.py NOMAD_BINARY

Starts one agent (server and client, raw_exec) on loopback ports of its own,
runs tests/integration/files/deploy.nomad through a good deployment, a
failing one that auto-revert rolls back, a running one that is promoted
without canaries, paused, resumed and failed, and a canary deployment that
is promoted; then, from 0.12 on, saves a snapshot, stops the job and
restores it. Every request and Nomad's answer (status, body, the headers
that matter) goes to tests/recordings/nomad-VERSION/deployments.json, which
the test double's deployment code follows. The snapshot's bytes are not
kept: they hold the agent's state; only the archive's member names and
meta.json are.
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.integration.nomad_agents import Cluster  # noqa: E402  (needs ROOT on the path)

JOB_FILE = os.path.join(ROOT, 'tests', 'integration', 'files', 'deploy.nomad')
KEEP_HEADERS = ('content-type', 'x-nomad-index')


class Recorder(object):
    def __init__(self, address):
        self.address = address
        self.exchanges = []

    def call(self, name, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.address + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, headers, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            status, headers, payload = e.code, dict(e.headers), e.read()
        ctype = headers.get('Content-Type', '')
        if 'json' in ctype:
            decoded = json.loads(payload.decode()) if payload.strip() else None
        elif ctype.startswith('text') or not payload:
            decoded = payload.decode('utf-8', 'replace')
        else:
            decoded = {'bytes': len(payload)}
        if name:
            self.exchanges.append(dict(name=name, method=method, path=path, request=body, status=status,
                                       headers=dict((k.lower(), v) for k, v in headers.items()
                                                    if k.lower() in KEEP_HEADERS),
                                       response=decoded))
        return status, decoded, payload

    def get(self, path, name=None):
        return self.call(name, 'GET', path)[1]


def job_json(rec, text):
    status, job, _raw = rec.call(None, 'POST', '/v1/jobs/parse', dict(JobHCL=text, Canonicalize=True))
    assert status == 200, job
    return job


def variant(version, command='sleep 600', canary=0, min_healthy='1s'):
    with open(JOB_FILE) as f:
        text = f.read()
    text = text.replace('VERSION = "1"', 'VERSION = "%s"' % version)
    text = text.replace('"sleep 600"', json.dumps(command))
    text = text.replace('canary            = 0', 'canary            = %d' % canary)
    return text.replace('min_healthy_time  = "1s"', 'min_healthy_time  = "%s"' % min_healthy)


def register(rec, name, text):
    return rec.call(name, 'PUT', '/v1/jobs', dict(Job=job_json(rec, text)))[1]


def latest(rec, name=None):
    return rec.get('/v1/job/it-deploy/deployment', name)


def wait_deployment(rec, version, until, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Not the latest: auto-revert starts the next deployment at once.
        for d in rec.get('/v1/job/it-deploy/deployments'):
            if d['JobVersion'] == version and until(d):
                return d
        time.sleep(0.3)
    raise SystemExit('deployment of version %d did not reach the state wanted: %s' % (version, latest(rec)))


def ended(d):
    return d['Status'] != 'running'


def canary_healthy(d):
    return all(g.get('DesiredCanaries', 0) == 0 or g.get('HealthyAllocs', 0) >= g['DesiredCanaries']
               for g in d['TaskGroups'].values())


def record(binary):
    version = subprocess.run([binary, 'version'], capture_output=True, text=True, check=True).stdout
    release = re.search(r'v(\d+\.\d+\.\d+)', version).group(1)
    out_dir = os.path.join(ROOT, 'tests', 'recordings', 'nomad-%s' % release)
    work = tempfile.mkdtemp(prefix='nomad-deploy-')
    cluster = Cluster(binary, work, size=1).start()
    try:
        rec = Recorder(cluster.address)
        # 1. A first version: its deployment succeeds and makes it stable.
        register(rec, 'register v0', variant(1))
        wait_deployment(rec, 0, ended)
        latest(rec, 'v0 deployment ended')
        # 2. A version whose task exits at once: failed, auto-reverted.
        register(rec, 'register v1 (never healthy)', variant(2, command='exit 1'))
        failed = wait_deployment(rec, 1, ended)
        time.sleep(2)
        rec.get('/v1/deployment/%s' % failed['ID'], 'v1 deployment ended')
        rec.get('/v1/job/it-deploy/versions', 'versions after auto-revert')
        rec.get('/v1/job/it-deploy', 'job after auto-revert')
        rec.get('/v1/job/it-deploy/deployments', 'deployments after auto-revert')
        rec.call('promote terminal deployment', 'PUT', '/v1/deployment/promote/%s' % failed['ID'],
                 dict(DeploymentID=failed['ID'], All=True))
        rec.call('pause terminal deployment', 'PUT', '/v1/deployment/pause/%s' % failed['ID'],
                 dict(DeploymentID=failed['ID'], Pause=True))
        rec.call('fail terminal deployment', 'PUT', '/v1/deployment/fail/%s' % failed['ID'],
                 dict(DeploymentID=failed['ID']))
        rec.call('unknown deployment', 'GET', '/v1/deployment/00000000-0000-0000-0000-000000000000')
        rec.call('promote unknown deployment', 'PUT', '/v1/deployment/promote/00000000-0000-0000-0000-000000000000',
                 dict(DeploymentID='00000000-0000-0000-0000-000000000000', All=True))
        wait_deployment(rec, 2, ended)
        # 3. A slow version: promote without canaries, pause, resume, fail.
        current = rec.get('/v1/job/it-deploy')['Version']
        register(rec, 'register slow version', variant(3, min_healthy='25s'))
        running = wait_deployment(rec, current + 1, lambda d: d['Status'] == 'running')
        did = running['ID']
        rec.call('promote without canaries', 'PUT', '/v1/deployment/promote/%s' % did, dict(DeploymentID=did, All=True))
        rec.call('pause', 'PUT', '/v1/deployment/pause/%s' % did, dict(DeploymentID=did, Pause=True))
        rec.get('/v1/deployment/%s' % did, 'paused deployment')
        rec.call('pause again', 'PUT', '/v1/deployment/pause/%s' % did, dict(DeploymentID=did, Pause=True))
        rec.call('resume', 'PUT', '/v1/deployment/pause/%s' % did, dict(DeploymentID=did, Pause=False))
        rec.get('/v1/deployment/%s' % did, 'resumed deployment')
        rec.call('fail', 'PUT', '/v1/deployment/fail/%s' % did, dict(DeploymentID=did))
        rec.get('/v1/deployment/%s' % did, 'failed by hand')
        reverted = rec.get('/v1/job/it-deploy')['Version']
        wait_deployment(rec, reverted, ended)
        rec.get('/v1/job/it-deploy/versions', 'versions after manual fail')
        # 4. Canaries: one canary, promoted once healthy.
        current = rec.get('/v1/job/it-deploy')['Version']
        register(rec, 'register canary version', variant(4, canary=1))
        waiting = wait_deployment(rec, current + 1, canary_healthy)
        time.sleep(1)
        did = waiting['ID']
        rec.get('/v1/deployment/%s' % did, 'canary healthy, waiting for promotion')
        rec.get('/v1/job/it-deploy/allocations', 'allocations with a canary')
        rec.call('promote unknown group', 'PUT', '/v1/deployment/promote/%s' % did,
                 dict(DeploymentID=did, Groups=['nope']))
        rec.call('promote', 'PUT', '/v1/deployment/promote/%s' % did, dict(DeploymentID=did, All=True))
        wait_deployment(rec, current + 1, ended)
        rec.get('/v1/deployment/%s' % did, 'promoted deployment ended')
        rec.get('/v1/job/it-deploy/allocations', 'allocations after promotion')
        # 5. Snapshots: save, stop the job, restore.
        status, dummy, payload = rec.call('snapshot save', 'GET', '/v1/operator/snapshot')
        if status == 200 and payload[:2] != b'\x1f\x8b':
            # Before 0.12 there is no such endpoint, and the agent's web UI answers 200 with its page.
            rec.exchanges[-1]['response'] = dict(bytes=len(payload), starts_with=payload[:15].decode('utf-8', 'replace'))
        elif status == 200:
            with tarfile.open(fileobj=io.BytesIO(payload), mode='r:gz') as archive:
                names = archive.getnames()
                meta = json.loads(archive.extractfile('meta.json').read().decode())
            rec.exchanges[-1]['archive'] = dict(members=names, meta=meta)
            rec.call('stop job', 'DELETE', '/v1/job/it-deploy')
            time.sleep(2)
            rec.get('/v1/job/it-deploy', 'job stopped')
            rec.call('snapshot restore', 'PUT', '/v1/operator/snapshot', raw=payload)
            time.sleep(2)
            rec.get('/v1/job/it-deploy', 'job after restore')
            rec.call('snapshot restore garbage', 'PUT', '/v1/operator/snapshot', raw=b'not a snapshot')
    finally:
        cluster.purge_all()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'deployments.json'), 'w', encoding='utf-8') as handle:
        json.dump(dict(version=version.strip().splitlines()[0], exchanges=rec.exchanges), handle, indent=1,
                  sort_keys=True)
        handle.write('\n')
    print('%s: %d exchanges' % (out_dir, len(rec.exchanges)))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: record_deployments.py NOMAD_BINARY')
    record(sys.argv[1])
