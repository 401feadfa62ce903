# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_snapshot through the real ``ansible`` CLI against agents on
127.0.0.1: the test double as 1.1.0 (snapshots) and as 0.9.1 (no snapshots
before 0.12), or a real Nomad named by NOMAD_TEST_BINARY (1.1.0 and 1.6.5
were run; 0.9.1 for the refusal).

Save into a directory on the controller (mode 0600, checked, keep N), then
stop a job, restore with force, and the job is back.
"""

import os
import stat

import pytest

from tests.integration.nomad_agents import ANSIBLE, Cluster, agent_release, ansible, http_get, nomad_binary

pytestmark = pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python')

JOB_FILE = 'tests/integration/files/sleeper.nomad'
JOB_ID = 'it-sleeper'


def start(tmp_path_factory, label, version):
    work = tmp_path_factory.mktemp(label)
    return Cluster(nomad_binary(str(work), version=version), work, size=1).start()


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    c = start(tmp_path_factory, 'snap', '1.1.0')
    if agent_release(c.address) < (0, 12):
        c.stop()
        pytest.skip('snapshots came with Nomad 0.12; NOMAD_TEST_BINARY is older')
    yield c
    c.purge_all()
    c.stop()


def snapshot(cluster, check=False, **args):
    return ansible('nomadops.nomad.nomad_snapshot', dict(args, address=cluster.address), check=check)


def test_save_keep_stop_restore_and_the_job_is_back(cluster, tmp_path):
    rc, res = ansible('nomadops.nomad.nomad_job', dict(src=JOB_FILE, address=cluster.address, wait_timeout=60))
    assert rc == 0, res
    dest = tmp_path / 'backups'

    rc, res = snapshot(cluster, check=True, dest=str(dest), keep=2)
    assert rc == 0 and res['changed'] is True, res
    assert not dest.exists()

    # Two older snapshots of the default name pattern, and a file of another name that keep leaves alone.
    dest.mkdir(mode=0o700)
    for name in ('nomad-20200101T000000Z.snap', 'nomad-20200102T000000Z.snap', 'notes.txt'):
        (dest / name).write_text('older')
    rc, latest = snapshot(cluster, dest=str(dest), keep=2)
    assert rc == 0 and latest['changed'] is True, latest
    assert stat.S_IMODE(os.stat(latest['path']).st_mode) == 0o600
    assert latest['index'] > 0 and latest['size'] == os.path.getsize(latest['path'])
    assert latest['removed'] == [str(dest / 'nomad-20200101T000000Z.snap')]
    assert sorted(os.listdir(dest)) == sorted(['nomad-20200102T000000Z.snap', 'notes.txt',
                                               os.path.basename(latest['path'])])

    rc, res = ansible('nomadops.nomad.nomad_job', dict(name=JOB_ID, state='absent', address=cluster.address))
    assert rc == 0 and res['changed'] is True, res
    assert http_get(cluster.address, '/v1/job/%s' % JOB_ID)['Stop'] is True

    rc, res = snapshot(cluster, state='restored', src=latest['path'])
    assert rc != 0 and 'force=true' in res['msg'], res
    assert http_get(cluster.address, '/v1/job/%s' % JOB_ID)['Stop'] is True

    rc, res = snapshot(cluster, state='restored', src=latest['path'], force=True, check=True)
    assert rc == 0 and res['changed'] is True and res['index'] == latest['index'], res
    assert http_get(cluster.address, '/v1/job/%s' % JOB_ID)['Stop'] is True

    rc, res = snapshot(cluster, state='restored', src=latest['path'], force=True)
    assert rc == 0 and res['changed'] is True and res['index'] == latest['index'], res
    job = http_get(cluster.address, '/v1/job/%s' % JOB_ID)
    assert job['Stop'] is False and job['Status'] == 'running'


def test_a_damaged_file_is_refused_before_anything_is_sent(cluster, tmp_path):
    bad = tmp_path / 'bad.snap'
    bad.write_bytes(b'not a snapshot')
    rc, res = snapshot(cluster, state='restored', src=str(bad), force=True)
    assert rc != 0 and 'not a readable Nomad snapshot' in res['msg'] and 'nothing was sent' in res['msg'], res


@pytest.fixture(scope='module')
def old_agent(tmp_path_factory):
    if os.environ.get('NOMAD_TEST_BINARY'):
        c = start(tmp_path_factory, 'snap09', None)
        if agent_release(c.address) >= (0, 12):
            c.stop()
            pytest.skip('NOMAD_TEST_BINARY is 0.12 or newer: it has snapshots')
    else:
        c = start(tmp_path_factory, 'snap09', '0.9.1')
    yield c
    c.stop()


def test_before_012_it_fails_naming_the_release_and_writes_nothing(old_agent, tmp_path):
    dest = tmp_path / 'backups'
    rc, res = snapshot(old_agent, dest=str(dest))
    assert rc != 0, res
    assert 'Snapshots need Nomad 0.12 or newer' in res['msg'] and 'runs Nomad 0.9' in res['msg'], res
    assert not dest.exists()
