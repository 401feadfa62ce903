# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_host_info: addresses, agent state and node identity in one read."""

import hashlib
import socket
import time

from nomad_replay import ReplayServer, exchange, fixture, recorded, run_module

from ansible.module_utils import basic

from ansible_collections.nomadops.nomad.plugins.modules import nomad_host_info

NODE_ID = '36492a80-8800-926a-6578-939ad5aa1188'
SECRET = b'45dbb27d-5664-6f3e-c981-1c3cae0027f6'


def fake_systemctl(monkeypatch, out, rc=0):
    calls = []

    def run_command(self, args, **kwargs):
        calls.append(args)
        return rc, out, ''
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/bin/' + name)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    return calls


def test_identity_is_read_and_the_secret_only_as_a_digest(tmp_path, monkeypatch, capsys):
    client = tmp_path / 'client'
    client.mkdir()
    (client / 'client-id').write_text(NODE_ID + '\n')
    (client / 'secret-id').write_bytes(SECRET)
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path)), capsys, check_mode=True)
    assert not failed, result
    assert result['changed'] is False
    assert result['node_id'] == NODE_ID
    assert result['node_secret_digest'] == hashlib.sha256(SECRET).hexdigest()
    assert SECRET.decode() not in repr(result)
    assert result['service'] == {'installed': True, 'active': True, 'enabled': True, 'started_at': None,
                                 'unit_file': None}


def test_fresh_host_has_no_identity_and_no_agent(tmp_path, monkeypatch, capsys):
    calls = fake_systemctl(monkeypatch, 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path / 'nothing'),
                                                           service_name='nomad-test'), capsys)
    assert not failed, result
    assert result['node_id'] is None and result['node_secret_digest'] is None
    assert result['service'] == {'installed': False, 'active': False, 'enabled': False, 'started_at': None,
                                 'unit_file': None}
    assert result['changed_since_start'] == [] and result['running'] is None
    assert result['restart_drain'] is False
    assert calls[0][:3] == ['/bin/systemctl', 'show', 'nomad-test.service']


def test_other_units_are_reported_each_on_its_own(tmp_path, monkeypatch, capsys):
    states = {'nomad.service': 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n',
              'docker.service': 'LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n',
              'podman.service': 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n'}

    def run_command(self, args, **kwargs):
        return 0, states[args[2]], ''
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/bin/' + name)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), services=['docker', 'podman']),
                                capsys)
    assert not failed, result
    off = {'started_at': None, 'unit_file': None}
    assert result['service'] == dict(off, installed=True, active=True, enabled=True)
    assert result['services'] == {'docker': dict(off, installed=True, active=False, enabled=False),
                                  'podman': dict(off, installed=False, active=False, enabled=False)}


def test_the_roles_drain_note_is_reported(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, '')
    (tmp_path / 'restart-drain').write_text('Drained by the nomad roles before a restart\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path)), capsys)
    assert not failed and result['restart_drain'] is True


def test_empty_client_id_counts_as_none(tmp_path, monkeypatch, capsys):
    (tmp_path / 'client').mkdir()
    (tmp_path / 'client' / 'client-id').write_text('\n')
    fake_systemctl(monkeypatch, '')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path)), capsys)
    assert not failed and result['node_id'] is None


def test_interfaces_are_this_machines_without_loopback(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, '')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path)), capsys)
    assert not failed
    names = sorted(name for dummy, name in socket.if_nameindex() if name != 'lo')
    assert sorted(result['interfaces']) == names
    for address in result['interfaces'].values():
        assert address is None or socket.inet_aton(address)
    assert result['default_interface'] is None or result['default_interface'] in names


def test_default_route_is_read_from_the_routing_table(tmp_path, monkeypatch):
    table = tmp_path / 'route'
    table.write_text('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'
                     'eth1\t0000590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'
                     'eth0\t00000000\t0100590A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n')
    monkeypatch.setattr(nomad_host_info, 'PROC_ROUTE', str(table))
    assert nomad_host_info.default_interface() == 'eth0'
    table.write_text(table.read_text().splitlines()[0] + '\n')
    assert nomad_host_info.default_interface() is None


def test_without_a_default_route_bridges_and_their_ports_are_passed_over(tmp_path, monkeypatch):
    # What a test host looks like once Docker runs a container: docker0 (a
    # bridge, sorting first), a veth port of it, and the host's own eth0.
    sys_net = tmp_path / 'net'
    for name in ('docker0', 'eth0', 'veth1a2b3c'):
        (sys_net / name).mkdir(parents=True)
    (sys_net / 'docker0' / 'bridge').mkdir()
    (sys_net / 'veth1a2b3c' / 'brport').mkdir()
    monkeypatch.setattr(nomad_host_info, 'SYS_NET', str(sys_net))
    addresses = {'docker0': '172.17.0.1', 'eth0': '10.89.64.5', 'veth1a2b3c': None}
    assert nomad_host_info.primary_interface(addresses, None) == 'eth0'
    assert nomad_host_info.primary_interface(addresses, 'docker0') == 'docker0'
    assert nomad_host_info.primary_interface({'docker0': '172.17.0.1'}, None) is None


def test_the_installed_release_is_read_from_the_binary(tmp_path, monkeypatch, capsys):
    binary = tmp_path / 'nomad'
    binary.write_text('#!/bin/sh\necho "Nomad v0.9.1 (23c4597dbb6d1d46e020301b0f63db5cff80d3f0)"\n')
    binary.chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: None)
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), binary=str(binary)), capsys)
    assert not failed and result['nomad_version'] == '0.9.1'
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), binary=str(tmp_path / 'none')),
                                capsys)
    assert not failed and result['nomad_version'] is None


def test_security_switches_are_read_from_the_roles_files(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, '')
    conf = tmp_path / 'nomad.d'
    conf.mkdir()
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(conf)), capsys)
    off = {'tls': False, 'tls_rpc': False, 'tls_http': False, 'rpc_upgrade_mode': False, 'acl': False,
           'gossip': False, 'gossip_key_sha256': None}
    assert not failed and result['security'] == off
    # Nomad's first TLS pass on a running cluster: RPC in upgrade mode, HTTP as it was, no ACLs yet.
    (conf / 'security.hcl').write_text('tls {\n  http = false\n  rpc = true\n  rpc_upgrade_mode = true\n}\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(conf)), capsys)
    assert not failed and result['security'] == dict(off, tls=True, tls_rpc=True, rpc_upgrade_mode=True)
    (conf / 'security.hcl').write_text('tls {\n  http = true\n  rpc = true\n}\nacl {\n  enabled = true\n}\n')
    (conf / 'gossip.hcl').write_text('server {\n  encrypt = "cg8StVXbQJ0gPvMd9o7yrg=="\n}\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(conf)), capsys)
    assert not failed and result['security'] == dict(
        off, tls=True, tls_rpc=True, tls_http=True, acl=True, gossip=True,
        gossip_key_sha256='8f5e90698d144db9d16e2f7e758a780142e900116e08172047d794aa3a4c554f')
    assert 'cg8StVXbQJ0gPvMd9o7yrg==' not in repr(result)


def test_server_members_come_from_the_running_agent_in_the_same_call(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n')
    members = fixture('agent-members')
    for member in members['response']['body']['Members']:
        if member['Name'] == 'nomad3.global':
            member['Status'] = 'failed'
    raft = recorded('009-operator-raft-configuration')
    with ReplayServer([fixture('status-leader'), members, fixture('nodes'), raft]) as srv:
        port = int(srv.address.rsplit(':', 1)[1])
        failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(tmp_path),
                                                               members=True, http_port=port, token='s3cr3t'), capsys)
        assert srv.calls('GET', '/v1/agent/members')[0]['headers']['X-Nomad-Token'] == 's3cr3t'
        # The server's own raft view: a peer gone from gossip still counts for the quorum.
        assert srv.calls('GET', '/v1/operator/raft/configuration')[0]['query'] == {'stale': 'true'}
    assert not failed, result
    assert result['members_error'] is None
    assert result['raft_peers'] == [dict(node='nomad1.global', address='127.0.0.1:4647', voter=True),
                                    dict(node='nomad2.global', address='127.0.0.1:5647', voter=True),
                                    dict(node='nomad3.global', address='127.0.0.1:6647', voter=True)]
    assert [(m['name'], m['status']) for m in result['members']] == [
        ('nomad1.global', 'alive'), ('nomad2.global', 'alive'), ('nomad3.global', 'failed')]
    assert result['members'][0]['address'] == '127.0.0.1'
    # What the readiness gate would see, read in the same call.
    assert result['cluster']['leader'] and result['cluster']['alive_servers'] == 2
    assert sorted(n['name'] for n in result['cluster']['nodes']) == ['nomad1', 'nomad2', 'nomad3']
    assert result['cluster']['ready_nodes'] == 3


def test_a_server_without_a_leader_is_not_kept_waiting_for_the_nodes(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n')
    exs = [recorded('140-noleader-status-leader'), recorded('145-noleader-agent-members'),
           recorded('142-noleader-nodes'), recorded('009-operator-raft-configuration')]
    with ReplayServer(exs) as srv:
        port = int(srv.address.rsplit(':', 1)[1])
        failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(tmp_path),
                                                               members=True, http_port=port), capsys)
        # Without a leader Nomad holds a consistent read of the nodes for seconds, then refuses it.
        assert srv.calls('GET', '/v1/nodes') == []
    assert not failed, result
    assert result['members_error'] is None and result['members']
    assert result['cluster']['leader'] is None and result['cluster']['nodes'] == []


def test_a_refused_members_read_is_the_members_error(tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n')
    refused = exchange('GET', '/v1/agent/members', status=403, body='Permission denied')
    with ReplayServer([fixture('status-leader'), refused]) as srv:
        port = int(srv.address.rsplit(':', 1)[1])
        failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), config_dir=str(tmp_path),
                                                               members=True, http_port=port), capsys)
    assert not failed, result
    assert result['members'] is None and result['raft_peers'] is None and result['cluster'] is None
    assert 'Permission denied' in result['members_error']


def test_members_are_not_asked_of_a_stopped_agent_and_an_unanswered_ask_does_not_fail(
        tmp_path, monkeypatch, capsys):
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=inactive\nUnitFileState=enabled\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), members=True, http_port=1),
                                capsys)
    assert not failed and result['members'] is None and result['members_error'] is None
    fake_systemctl(monkeypatch, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n')
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path), members=True, http_port=1),
                                capsys)
    assert not failed and result['members'] is None
    assert 'cannot reach the Nomad agent at http://127.0.0.1:1' in result['members_error']
    failed, result = run_module(nomad_host_info.main, dict(data_dir=str(tmp_path)), capsys)
    assert not failed and result['members'] is None and result['members_error'] is None


def running_unit(started_at, unit_file):
    """systemctl's answer for a unit whose main process started at ``started_at`` (epoch seconds)."""
    monotonic = (started_at - time.time() + time.monotonic()) * 1e6
    return ('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nFragmentPath=%s\n'
            'ExecMainStartTimestampMonotonic=%d\n' % (unit_file, monotonic))


def agent_files(tmp_path):
    """A host as the roles leave it: binary, unit, config directory with TLS files and the gossip key."""
    conf = tmp_path / 'nomad.d'
    conf.mkdir()
    for name in ('nomad', 'nomad.service', 'ca.pem'):
        (tmp_path / name).write_text(name)
    (conf / 'nomad.hcl').write_text('data_dir = "/opt/nomad"\n')
    (conf / 'gossip.hcl').write_text('server {\n  encrypt = "cg8StVXbQJ0gPvMd9o7yrg=="\n}\n')
    (conf / 'security.hcl').write_text('tls {\n  http = false\n  rpc = true\n  rpc_upgrade_mode = true\n'
                                       '  ca_file = "%s"\n}\n' % (tmp_path / 'ca.pem'))
    return conf


def test_files_written_after_the_agent_started_are_what_it_does_not_run(tmp_path, monkeypatch, capsys):
    conf = agent_files(tmp_path)
    params = dict(data_dir=str(tmp_path), config_dir=str(conf), binary=str(tmp_path / 'nomad'), http_port=1)
    fake_systemctl(monkeypatch, running_unit(time.time() + 60, tmp_path / 'nomad.service'))
    failed, result = run_module(nomad_host_info.main, params, capsys)
    assert not failed, result
    assert result['changed_since_start'] == []
    # Nothing changed since the start: the files say what runs, and nobody is asked.
    assert result['running'] == {'tls_rpc': True, 'tls_http': False, 'rpc_upgrade_mode': True, 'acl': False}
    assert result['running_error'] is None

    fake_systemctl(monkeypatch, running_unit(time.time() - 60, tmp_path / 'nomad.service'))
    failed, result = run_module(nomad_host_info.main, params, capsys)
    assert not failed, result
    # Every file a restart would load, but the gossip key, which a running server takes through its keyring.
    assert sorted(result['changed_since_start']) == sorted(
        str(p) for p in (tmp_path / 'nomad', tmp_path / 'nomad.service', conf / 'nomad.hcl', conf / 'security.hcl',
                         tmp_path / 'ca.pem'))
    # security.hcl changed since the start and no agent answers: what runs is not known.
    assert result['running'] is None
    assert 'cannot reach the Nomad agent at http://127.0.0.1:1' in result['running_error']
    assert 'https://127.0.0.1:1' in result['running_error']


def self_with(tls_rpc, tls_http, upgrade, acl):
    return exchange('GET', '/v1/agent/self', body={'config': {
        'TLSConfig': {'EnableRPC': tls_rpc, 'EnableHTTP': tls_http, 'RPCUpgradeMode': upgrade},
        'ACL': {'Enabled': acl}}})


def test_an_agent_running_older_security_files_is_asked_what_it_runs(tmp_path, monkeypatch, capsys):
    # A run cut off after writing upgrade mode to every host and restarting only some: this agent
    # still runs plaintext, whatever its file says.
    conf = agent_files(tmp_path)
    fake_systemctl(monkeypatch, running_unit(time.time() - 60, tmp_path / 'nomad.service'))
    with ReplayServer([self_with(False, False, False, False)]) as srv:
        port = int(srv.address.rsplit(':', 1)[1])
        failed, result = run_module(nomad_host_info.main, dict(
            data_dir=str(tmp_path), config_dir=str(conf), binary=str(tmp_path / 'nomad'), http_port=port,
            token='s3cr3t'), capsys)
        assert srv.calls('GET', '/v1/agent/self')[0]['headers']['X-Nomad-Token'] == 's3cr3t'
    assert not failed, result
    assert result['security']['rpc_upgrade_mode'] is True
    assert result['running'] == {'tls_rpc': False, 'tls_http': False, 'rpc_upgrade_mode': False, 'acl': False}
    assert result['running_error'] is None


def test_an_agent_that_refuses_to_describe_itself_enforces_acls(tmp_path, monkeypatch, capsys):
    conf = agent_files(tmp_path)
    fake_systemctl(monkeypatch, running_unit(time.time() - 60, tmp_path / 'nomad.service'))
    with ReplayServer([exchange('GET', '/v1/agent/self', status=403, body='Permission denied')]) as srv:
        port = int(srv.address.rsplit(':', 1)[1])
        failed, result = run_module(nomad_host_info.main, dict(
            data_dir=str(tmp_path), config_dir=str(conf), binary=str(tmp_path / 'nomad'), http_port=port), capsys)
    assert not failed, result
    assert result['running'] == {'tls_rpc': None, 'tls_http': False, 'rpc_upgrade_mode': None, 'acl': True}
