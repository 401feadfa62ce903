# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gossip keys, TLS, ACLs and a rolling restart of the double's servers."""

import datetime
import ipaddress
import json
import os
import ssl
import time
import urllib.request

import pytest

from double_harness import http, leader_of, ready_nodes, run_nomad, wait_until
from test_cluster import httpecho_job

KEY_A = 'cg8StVXbQJ0gPvMd9o7yrg=='
KEY_B = 'HpVvH8gU1DNY3LaSUrQ2Ww=='


def test_servers_with_different_gossip_keys_never_see_each_other(cluster):
    agents = cluster.servers(3, client=False)
    for a, key in zip(agents, (KEY_A, KEY_A, KEY_B)):
        text = open(a.config_path).read().replace('  enabled = true\n', '  enabled = true\n  encrypt = "%s"\n' % key, 1)
        a.write(text)
        a.start()
    # The two servers sharing a key form a cluster (2 of 3 expected is not
    # enough), the third stays alone: nobody may elect a leader.
    time.sleep(5)
    st, _h, members = agents[0].get('/v1/agent/members')
    assert sorted(m['Name'] for m in members['Members']) == ['nomad1.global', 'nomad2.global']
    st, _h, members = agents[2].get('/v1/agent/members')
    assert [m['Name'] for m in members['Members']] == ['nomad3.global']
    assert agents[0].get('/v1/status/leader')[:3:2] == (500, 'No cluster leader')


def test_wrong_size_gossip_key_fails_after_the_banner(cluster):
    a = cluster.agent('bad')
    a.write(open(cluster.servers(1, client=False)[0].config_path).read().replace(
        '  enabled = true\n', '  enabled = true\n  encrypt = "c2hvcnQ="\n', 1))
    res = run_nomad(['agent', '-config', a.config_path])
    assert res.returncode == 1
    assert res.stdout.startswith('==> Loaded configuration from')
    # bootstrap_expect = 1: the config checks end with a warning on stderr;
    # the key size is only checked when the agent starts, after the banner.
    assert res.stderr == ('==> WARNING: Bootstrap mode enabled! Potentially unsafe operation.\n'
                          '==> Error starting agent: failed to configure keyring: Invalid key: key size must be 16, '
                          '24 or 32 bytes\n')


def _certs(tmp):
    crypto = pytest.importorskip('cryptography')
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name('test CA')).issuer_name(name('test CA'))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    paths = {'ca': os.path.join(tmp, 'ca.pem')}
    with open(paths['ca'], 'wb') as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    for who, sans in (('server', ['server.global.nomad', 'localhost']), ('cli', ['cli.global.nomad'])):
        key = ec.generate_private_key(ec.SECP256R1())
        san = [x509.DNSName(s) for s in sans] + [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]
        cert = (x509.CertificateBuilder().subject_name(name(sans[0])).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(2 if who == 'server' else 3)
                .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(san), critical=False).sign(ca_key, hashes.SHA256()))
        paths[who] = os.path.join(tmp, who + '.pem')
        paths[who + '-key'] = os.path.join(tmp, who + '-key.pem')
        with open(paths[who], 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(paths[who + '-key'], 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return paths


def test_tls_cluster_with_acl(cluster, tmp_path):
    p = _certs(str(tmp_path))
    tls = ('tls {\n  http = true\n  rpc = true\n  ca_file = "%s"\n  cert_file = "%s"\n  key_file = "%s"\n'
           '  verify_server_hostname = true\n  verify_https_client = true\n}\nacl {\n  enabled = true\n}\n'
           % (p['ca'], p['server'], p['server-key']))
    agents = cluster.servers(3, extra=tls)
    for a in agents:
        a.start()
    ctx = ssl.create_default_context(cafile=p['ca'])
    ctx.load_cert_chain(p['cli'], p['cli-key'])
    base = 'https://127.0.0.1:%d' % agents[1].http

    def get(path, token=None):
        req = urllib.request.Request(base + path, headers={'X-Nomad-Token': token} if token else {})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
    wait_until(lambda: get('/v1/status/leader')[0] == 200, 40, what='leader over TLS')
    # Without a client certificate the HTTPS port refuses the connection.
    bare = ssl.create_default_context(cafile=p['ca'])
    with pytest.raises(OSError):
        urllib.request.urlopen(base + '/v1/status/leader', context=bare, timeout=5)
    assert get('/v1/nodes') == (403, 'Permission denied')
    req = urllib.request.Request(base + '/v1/acl/bootstrap', method='POST', data=b'')
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        secret = json.loads(r.read().decode())['SecretID']

    statuses = set()

    def three_ready_nodes():
        st, body = get('/v1/nodes', secret)
        if st != 200:
            return False
        statuses.update(n['Status'] for n in body)
        return len(body) == 3 and all(n['Status'] == 'ready' for n in body)
    # A node registers as initializing and is ready after its first heartbeat.
    wait_until(three_ready_nodes, 40, what='3 ready nodes over TLS')
    assert statuses <= {'initializing', 'ready'}, statuses
    assert get('/v1/nodes', '00000000-1111-2222-3333-444444444444') == (403, 'ACL token not found')
    # The CLI speaks TLS with the usual environment variables.
    env = {'NOMAD_ADDR': base, 'NOMAD_CACERT': p['ca'], 'NOMAD_CLIENT_CERT': p['cli'], 'NOMAD_CLIENT_KEY': p['cli-key'],
           'NOMAD_TOKEN': secret}
    res = run_nomad(['node', 'status'], env=env)
    assert res.returncode == 0 and res.stdout.count('ready') == 3, res.stderr


def test_rolling_restart_keeps_jobs_and_elects_quickly(cluster):
    agents = cluster.servers(3)
    for a in agents:
        a.start()
    wait_until(lambda: len(ready_nodes(agents[0])) == 3, 40, what='3 ready nodes')
    st, _h, body = http('POST', agents[0].addr + '/v1/jobs', {'Job': httpecho_job(count=1, job_id='keep')})
    assert st == 200
    for a in agents:
        other = next(x for x in agents if x is not a)
        a.stop()
        t0 = time.monotonic()
        gone = '127.0.0.1:%d' % a.rpc
        leader = wait_until(lambda: leader_of(other) not in (None, gone) and leader_of(other), 15, interval=0.1,
                            what='a leader among the two running servers')
        elapsed = time.monotonic() - t0
        assert leader in ['127.0.0.1:%d' % x.rpc for x in agents if x is not a]
        assert elapsed < 10, elapsed
        st, _h, job = other.get('/v1/job/keep')
        assert st == 200 and job['ID'] == 'keep'
        a.start()
        wait_until(lambda: leader_of(a), 20, what='%s rejoined' % a.name)
    for a in agents:
        st, _h, job = a.get('/v1/job/keep')
        assert st == 200
    st, _h, members = agents[0].get('/v1/agent/members')
    assert sorted(m['Status'] for m in members['Members']) == ['alive'] * 3


def test_sighup_keeps_running_and_sigint_exits_like_nomad(cluster):
    import signal
    a = cluster.servers(1)[0]
    a.start()
    wait_until(lambda: leader_of(a), 20, what='leader')
    # Written before the banner, unbuffered: first in the log.
    assert a.log().startswith('==> WARNING: Bootstrap mode enabled! Potentially unsafe operation.\n'
                              '==> Loaded configuration from ')
    a.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert a.proc.poll() is None and leader_of(a)
    assert a.stop(signal.SIGINT) == 1
    assert '==> Caught signal: hangup' in a.log() and '==> Caught signal: interrupt' in a.log()
    # State survives the restart.
    a.start()
    wait_until(lambda: leader_of(a), 20, what='leader after restart')


def _rpc_tls(p, upgrade_mode):
    return ('tls {\n  rpc = true\n  ca_file = "%s"\n  cert_file = "%s"\n  key_file = "%s"\n'
            '  verify_server_hostname = true\n%s}\n'
            % (p['ca'], p['server'], p['server-key'], '  rpc_upgrade_mode = true\n' if upgrade_mode else ''))


def _stale_leader(agent):
    """What the agent's own raft says of the leader: it has heard from one since it started."""
    st, _h, body = agent.get('/v1/status/leader?stale', timeout=5)
    return body if st == 200 else None


def _restart_with(agent, text):
    agent.stop()
    agent.write(text)
    agent.start()


def _followers_then_leader(agents):
    leader = leader_of(agents[0])
    return sorted(agents, key=lambda a: leader == '127.0.0.1:%d' % a.rpc)


def test_a_server_restarted_with_tls_alone_never_hears_from_a_plaintext_leader(cluster, tmp_path):
    p = _certs(str(tmp_path))
    agents = cluster.servers(3, client=False)
    for a in agents:
        a.start()
    wait_until(lambda: leader_of(agents[0]), 40, what='a leader')
    follower = _followers_then_leader(agents)[0]
    _restart_with(follower, open(follower.config_path).read() + _rpc_tls(p, upgrade_mode=False))
    wait_until(lambda: follower.get('/v1/agent/self', timeout=5)[0] == 200, 20, what='the agent answering')
    time.sleep(8)
    # Its rpc port turns the leader's plaintext appends away: it knows no leader.
    assert not _stale_leader(follower)


def test_tls_comes_to_a_running_cluster_in_two_rolling_passes(cluster, tmp_path):
    """Nomad's way: every server restarts into rpc_upgrade_mode (TLS spoken,
    plaintext still taken), then again without it; a leader stays throughout
    and each restarted server hears from it before the next one goes."""
    p = _certs(str(tmp_path))
    agents = cluster.servers(3, client=False)
    plain = dict((a.name, open(a.config_path).read()) for a in agents)
    for a in agents:
        a.start()
    wait_until(lambda: leader_of(agents[0]), 40, what='a leader')
    for upgrade_mode in (True, False):
        for a in _followers_then_leader(agents):
            _restart_with(a, plain[a.name] + _rpc_tls(p, upgrade_mode))
            wait_until(lambda: _stale_leader(a), 30, what='%s following a leader' % a.name)
            others = [x for x in agents if x is not a]
            wait_until(lambda: any(_stale_leader(x) for x in others), 30, what='a leader after %s' % a.name)
    for a in agents:
        # Not stale: each forwards to the leader, over TLS now.
        wait_until(lambda: leader_of(a), 30, what='%s reaching the leader' % a.name)
    st, _h, members = agents[0].get('/v1/agent/members')
    assert sorted(m['Status'] for m in members['Members']) == ['alive'] * 3


def _encrypted_servers(cluster, key):
    agents = cluster.servers(3, client=False)
    for a in agents:
        a.write(open(a.config_path).read().replace('  enabled = true\n', '  enabled = true\n  encrypt = "%s"\n' % key, 1))
        a.start()
    wait_until(lambda: leader_of(agents[0]), 40, what='a leader')
    wait_until(lambda: len([m for m in agents[0].get('/v1/agent/members')[2]['Members'] if m['Status'] == 'alive']) == 3,
               30, what='3 servers alive')
    return agents


def _keys(agent):
    """(keys with how many servers hold each, servers asked); None while the agent cannot say."""
    st, _h, body = agent.get('/v1/agent/keyring/list')
    return (body['Keys'], body['NumNodes']) if st == 200 else None


def test_the_gossip_key_of_running_servers_rotates_and_outlives_a_restart(cluster):
    from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadClient
    from ansible_collections.nomadops.nomad.plugins.modules.nomad_gossip_keyring import rotate

    agents = _encrypted_servers(cluster, KEY_A)
    assert _keys(agents[0]) == ({KEY_A: 3}, 3)
    client = NomadClient(address=agents[1].addr)
    assert rotate(client, KEY_B, check_mode=True)['changed'] and _keys(agents[0]) == ({KEY_A: 3}, 3)
    result = rotate(client, KEY_B, check_mode=False)
    assert (result['installed'], result['removed'], result['num_nodes']) == (True, 1, 3)
    assert _keys(agents[2]) == ({KEY_B: 3}, 3)
    assert rotate(client, KEY_B, check_mode=False)['changed'] is False
    # The keyring in data_dir wins over the config's old encrypt at the next start.
    agents[2].stop()
    agents[2].start()
    wait_until(lambda: _keys(agents[2]) == ({KEY_B: 3}, 3), 30, what='the restarted server gossiping with KEY_B')


def test_a_keyring_operation_on_plain_servers_fails_as_nomad_says(cluster):
    agents = cluster.servers(3, client=False)
    for a in agents:
        a.start()
    wait_until(lambda: len([m for m in agents[0].get('/v1/agent/members')[2]['Members'] if m['Status'] == 'alive']) == 3,
               30, what='3 servers alive')
    st, _h, body = agents[0].get('/v1/agent/keyring/list')
    assert (st, body) == (500, '3/3 nodes reported failure')
    st, _h, body = http('PUT', agents[0].addr + '/v1/agent/keyring/install', {'Key': KEY_B})
    assert (st, body) == (500, '3/3 nodes reported failure')
