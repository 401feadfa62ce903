# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's Nomad 1.1.0 personality, piece by piece, against the 1.1.0 recordings."""

import json
import os
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from nomad_double import client, jobs, util  # noqa: E402  pylint: disable=wrong-import-position

SHARED = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0')
TRANSCRIPTS = os.path.join(SHARED, 'transcripts')


def _api(prefix):
    api = os.path.join(TRANSCRIPTS, 'api')
    if not os.path.isdir(api):
        pytest.fail('recorded Nomad 1.1.0 transcripts missing from tests/recordings')
    fn = next(f for f in os.listdir(api) if f.startswith(prefix))
    with open(os.path.join(api, fn)) as f:
        return json.load(f)


@pytest.fixture
def one_x(monkeypatch):
    """jobs.py in the 1.1.0 personality (the agent decides it once, at start)."""
    monkeypatch.setattr(jobs, 'IS_1X', True)


@pytest.mark.parametrize('version, personality', [
    ('1.1.0', '1.1.0'), ('1.0.0', '1.1.0'), ('1.0.4', '1.1.0'), ('v1.2.3', '1.1.0'), ('2.0.0', '1.1.0'),
    ('0.9.1', '0.9.1'), ('0.9.0', '0.9.1'), ('0.10.5', '0.9.1'), ('', '0.9.1'), ('garbage', '0.9.1')])
def test_any_version_from_1_0_on_is_the_1_1_0_personality(version, personality):
    assert util.personality(version) == personality


@pytest.mark.parametrize('register, stored', [('041-', '045-'), ('080-', '085-'), ('187-', '194-'),
                                              ('197-', '198-')])
def test_canonicalize_1x_matches_the_stored_job(one_x, register, stored):
    got = jobs.canonicalize(_api(register)['request']['body']['Job'])
    want = _api(stored)['response']['body']
    for key in jobs.SERVER_FIELDS:
        got.pop(key, None)
        want.pop(key, None)
    assert got == want


def test_multierror_and_validation_are_1_1_0s(one_x):
    for number in ('064-', '065-'):
        rec = _api(number)
        errs = jobs.validate(jobs.canonicalize(rec['request']['body']['Job']))
        assert jobs.multierror(errs) == rec['response']['body']
    invalid = _api('035-')
    errs = jobs.validate(jobs.canonicalize(invalid['request']['body']['Job']))
    assert (errs, jobs.multierror(errs)) == (invalid['response']['body']['ValidationErrors'],
                                             invalid['response']['body']['Error'])


def test_0_9_1_keeps_its_own_multierror(monkeypatch):
    monkeypatch.setattr(jobs, 'IS_1X', False)
    assert jobs.multierror(['a']) == '1 error(s) occurred:\n\n* a'


def test_lenient_ports_register_with_the_deprecation_warning(one_x):
    rec = _api('066-')
    job = jobs.canonicalize(rec['request']['body']['Job'])
    assert jobs.validate(job) == []
    assert jobs.warnings(job) == rec['response']['body']['Warnings']


def test_version_diffs_are_unannotated(one_x):
    rec = _api('063-')['response']['body']
    newer, older = rec['Versions']
    assert [jobs.job_diff(older, newer, {}, annotate=False)] == rec['Diffs']


def _alloc_with_group_ports():
    return {'ID': '5d1f3a6e-0000-4000-8000-000000000002', 'Name': 'httpecho.web[0]', 'TaskGroup': 'web',
            'Job': {'Name': 'httpecho', 'Region': 'global', 'TaskGroups': [
                {'Name': 'web', 'Tasks': [{'Name': 'server', 'Driver': 'docker', 'Config': {
                    'image': 'hashicorp/http-echo:0.2.3', 'ports': ['http', 'admin']}}]}]},
            'TaskResources': {'server': {'CPU': 100, 'MemoryMB': 64, 'Networks': None}},
            'AllocatedResources': {'Shared': {'DiskMB': 300, 'Ports': [
                {'HostIP': '10.89.64.2', 'Label': 'http', 'To': 5678, 'Value': 23116},
                {'HostIP': '10.89.64.2', 'Label': 'admin', 'To': 0, 'Value': 23117},
                {'HostIP': '10.89.64.2', 'Label': 'unused', 'To': 0, 'Value': 23118}]}}}


def test_docker_ports_publish_each_group_port_to_its_to():
    alloc = _alloc_with_group_ports()
    runner = client.AllocRunner(None, alloc)
    task = alloc['Job']['TaskGroups'][0]['Tasks'][0]
    argv = runner._docker_argv(task, {'NOMAD_PORT_http': '5678'}, [])
    published = [argv[i + 1] for i, a in enumerate(argv) if a == '-p']
    # `to` is the container's port; with no `to`, the host port is; labels
    # not in `ports` are not published.
    assert published == ['10.89.64.2:23116:5678/tcp', '10.89.64.2:23116:5678/udp',
                         '10.89.64.2:23117:23117/tcp', '10.89.64.2:23117:23117/udp']
    assert argv[-1] == 'hashicorp/http-echo:0.2.3'


def test_group_port_environment_is_1_1_0s(tmp_path):
    alloc = _alloc_with_group_ports()
    fake = types.SimpleNamespace(alloc_dir=str(tmp_path), agent=types.SimpleNamespace(datacenter='home'))
    env = client.AllocRunner(fake, alloc).env(alloc['Job']['TaskGroups'][0]['Tasks'][0])
    # taskenv's addPorts: the task's port is `to` when set, the host's otherwise.
    assert {k: v for k, v in env.items() if k.endswith('_http')} == {
        'NOMAD_PORT_http': '5678', 'NOMAD_ALLOC_PORT_http': '5678', 'NOMAD_HOST_PORT_http': '23116',
        'NOMAD_IP_http': '10.89.64.2', 'NOMAD_HOST_IP_http': '10.89.64.2',
        'NOMAD_ADDR_http': '10.89.64.2:23116', 'NOMAD_HOST_ADDR_http': '10.89.64.2:23116'}
    assert (env['NOMAD_PORT_admin'], env['NOMAD_ALLOC_PORT_admin'], env['NOMAD_HOST_PORT_admin']) == (
        '23117', '23117', '23117')
