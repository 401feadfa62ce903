# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``nomad agent``: one process with an HTTP API port, an rpc port and (for
servers) a serf port, all plain HTTP/JSON between doubles (HTTPS with tls)."""

import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import agentcfg
from .client import Client
from .http_api import API, Handler, Request
from .server import APIError, Server
from .util import RAFT_PROTOCOL, REVISION, RPCError, VERSION, log, rpc_call, template

LEADER_METHODS = ('Node.Register', 'Node.Heartbeat', 'Node.GetAllocs', 'Node.UpdateAlloc', 'ACL.Resolve')


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    tls_ctx = None
    # An rpc port in tls.rpc_upgrade_mode takes TLS and plaintext alike, told
    # apart by the first byte (0x16 opens a TLS handshake); without it a TLS
    # port turns plaintext away, as nomad/rpc.go does.
    rpc_port = False
    accept_plaintext = False

    def get_request(self):
        conn, addr = self.socket.accept()
        if self.tls_ctx is None:
            return conn, addr
        if self.rpc_port and not _opens_tls(conn):
            if self.accept_plaintext:
                return conn, addr
            log('WARN', 'nomad.rpc: non-TLS connection attempted with RequireTLS set: remote_addr=%s:%d' % addr[:2])
            conn.close()
            raise OSError('plaintext on a TLS rpc port')
        return self.tls_ctx.wrap_socket(conn, server_side=True), addr


def _opens_tls(conn):
    conn.settimeout(5)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b'\x16'
    finally:
        conn.settimeout(None)


class RPCHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        payload = json.loads(self.rfile.read(length).decode() or '{}')
        method = self.path[len('/rpc/'):]
        agent = self.server.agent
        try:
            if method not in self.server.methods:
                raise APIError(404, 'unknown rpc method %s' % method)
            reply = agent.rpc(method, payload)
            status, data = 200, json.dumps(reply).encode()
        except APIError as e:
            status, data = e.status, e.message.encode()
        except RPCError as e:
            status, data = e.status or 502, e.message.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json' if status == 200 else 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Agent(object):
    def __init__(self, settings):
        self.s = settings
        self.cfg = settings.cfg
        for k in ('region', 'datacenter', 'node_name', 'data_dir', 'adv_http', 'adv_rpc', 'adv_serf', 'join_addrs',
                  'client_servers', 'raw_exec', 'acl_enabled', 'http_tls', 'rpc_tls',
                  'encrypt_key', 'files'):
            setattr(self, k, getattr(settings, k))
        self.server = None
        self.client = None
        self.client_addr = None
        self.api = API(self)
        self.listeners = []
        self.log_errors = True
        self.started = time.time()

    def log(self, level, msg):
        log(level, msg)

    # ---------------------------------------------------------------- lifecycle
    def listen(self, addr, port, handler, tls_ctx=None, **attrs):
        srv = _Server((addr, port), handler)
        srv.tls_ctx = tls_ctx
        srv.agent = self
        for k, v in attrs.items():
            setattr(srv, k, v)
        self.listeners.append(srv)
        threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
        return srv

    def start(self):
        s = self.s
        os.makedirs(self.data_dir, exist_ok=True)
        if s.client_enabled:
            self.client_addr = s.client_ip()
        if s.server_enabled:
            self.server = Server(self)
        if s.client_enabled:
            self.client = Client(self)
        http_ctx = s.tls.server_context(s.tls.verify_https_client) if s.http_tls else None
        rpc_ctx = s.tls.server_context(True) if s.rpc_tls else None
        self.listen(s.addresses['http'], s.ports['http'], Handler, http_ctx, api=self.api)
        if self.server:
            # Like Nomad, a client-only agent listens on its HTTP port only.
            methods = ['HTTP.Forward', 'Status.Leader', 'Raft.Sync'] + list(LEADER_METHODS)
            self.listen(s.addresses['rpc'], s.ports['rpc'], RPCHandler, rpc_ctx, methods=methods, rpc_port=True,
                        accept_plaintext=s.tls.rpc_upgrade_mode)
            # Gossip is never TLS: serf has its own encryption (the keyring).
            self.listen(s.addresses['serf'], s.ports['serf'], RPCHandler, methods=['Serf.Ping', 'Serf.Keyring'])
            self.server.start()
            if self.join_addrs:
                log('INFO', 'agent.joiner: starting retry join: servers="%s"' % ' '.join(self.join_addrs))
        if self.client:
            self.client.start()

    def shutdown(self):
        if self.client:
            self.client.stop()
        if self.server:
            self.server.stop()
        for srv in self.listeners:
            srv.shutdown()
            srv.server_close()

    # ---------------------------------------------------------------- rpc
    def rpc(self, method, p):
        srv = self.server
        if method == 'Serf.Ping':
            return srv.handle_ping(p)
        if method == 'Serf.Keyring':
            return srv.handle_keyring(p)
        if method == 'Raft.Sync':
            return srv.handle_sync(p)
        if method == 'HTTP.Forward':
            resp = self.api.handle(Request.from_wire(p['Request']), hops=int(p.get('Hops') or 1))
            if hasattr(resp, 'wire_headers'):
                return {'Status': resp.status, 'Headers': resp.wire_headers, 'Body': resp.raw}
            return resp.to_wire()
        if method == 'Status.Leader':
            info = self.leader_info()
            if info is None:
                raise APIError(500, 'No cluster leader')
            return info
        if srv is None:
            raise APIError(500, 'not a server')
        if not srv.is_leader:
            target = srv.leader_rpc()
            if not target:
                raise APIError(500, 'No cluster leader')
            return rpc_call(target, method, p, self.rpc_tls, timeout=30)
        if method == 'Node.Register':
            srv.node_register(p['Node'])
            return {'HeartbeatTTL': srv.heartbeat_ttl(), 'Servers': srv.peers_rpc()}
        if method == 'Node.Heartbeat':
            srv.node_heartbeat(p['NodeID'], p['SecretID'])
            return {'HeartbeatTTL': srv.heartbeat_ttl(), 'Servers': srv.peers_rpc()}
        if method == 'Node.GetAllocs':
            allocs, index = srv.client_allocs(p['NodeID'], p['SecretID'], int(p.get('Index') or 0),
                                              float(p.get('Wait') or 5))
            return {'Allocs': allocs, 'Index': index}
        if method == 'Node.UpdateAlloc':
            srv.update_allocs(p['Allocs'])
            return {}
        if method == 'ACL.Resolve':
            with srv.lock:
                return {'Token': srv.resolve_token(p.get('SecretID', ''))}
        raise APIError(404, 'unknown method')

    def resolve_token(self, secret):
        srv = self.server
        if srv is not None and srv.is_leader:
            with srv.lock:
                return srv.resolve_token(secret)
        try:
            if srv is not None:
                target = srv.leader_rpc()
                if not target:
                    raise APIError(500, 'No cluster leader')
                return rpc_call(target, 'ACL.Resolve', {'SecretID': secret}, self.rpc_tls)['Token']
            return self.client.call('ACL.Resolve', {'SecretID': secret})['Token']
        except RPCError as e:
            raise APIError(e.status or 500, e.message)

    # ---------------------------------------------------------------- views
    def leader_info(self):
        srv = self.server
        if srv is None:
            try:
                return self.client.call('Status.Leader', {}, timeout=5)
            except RPCError:
                return None
        leader = srv.leader_rpc()
        if not leader or not srv.in_contact():
            return None
        peers = [leader] + [p for p in srv.peers_rpc() if p != leader]
        return {'leader': leader, 'peers': peers}

    def raft_configuration(self):
        srv = self.server
        leader = srv.leader_rpc()
        servers = []
        seen = set()
        others = [(m['Name'], m['RPC']) for m in srv.members.values() if m['Name'] in srv.peers]
        for name, rpc in [(srv.name, '%s:%d' % self.adv_rpc)] + others:
            if rpc in seen:
                continue
            seen.add(rpc)
            servers.append({'ID': rpc, 'Node': name, 'Address': rpc, 'Leader': rpc == leader, 'Voter': True,
                            'RaftProtocol': RAFT_PROTOCOL})
        servers.sort(key=lambda x: not x['Leader'])
        return {'Servers': servers, 'Index': 1}

    def _member(self, info, status):
        m = template('member')
        m.update({'Name': info['Name'], 'Addr': info['Addr'], 'Port': info['Port'], 'Status': status})
        host, _sep, port = info['RPC'].rpartition(':')
        m['Tags'] = {'build': VERSION, 'dc': info['DC'], 'expect': str(info['Expect']), 'id': info['ID'],
                     'mvn': '1', 'port': port, 'raft_vsn': RAFT_PROTOCOL, 'region': info['Region'], 'role': 'nomad',
                     'rpc_addr': host, 'vsn': '1'}
        return m

    def autopilot_health(self):
        """Operator.ServerHealth as 1.6.5 answers it (raft protocol 3): a
        server is healthy while gossip has it alive; FailureTolerance is how
        many healthy voters could go with a quorum left."""
        srv = self.server
        with srv.lock:
            alive = set(m['Name'] for m in srv.alive_members()) | {srv.name}
        servers = []
        for peer in self.raft_configuration()['Servers']:
            healthy = peer['Node'] in alive
            servers.append({'ID': peer['ID'], 'Name': '%s.%s' % (peer['Node'], self.region),
                            'Address': peer['Address'], 'SerfStatus': 'alive' if healthy else 'failed',
                            'Version': VERSION, 'Leader': peer['Leader'], 'LastContact': '0s', 'LastTerm': 2,
                            'LastIndex': 1, 'Healthy': healthy, 'Voter': peer['Voter'],
                            'StableSince': '0001-01-01T00:00:00Z'})
        voters = [x for x in servers if x['Voter']]
        healthy = [x for x in voters if x['Healthy']]
        return {'Healthy': len(healthy) == len(servers), 'Servers': servers,
                'FailureTolerance': max(0, len(healthy) - (len(voters) // 2 + 1))}

    def members_info(self):
        srv = self.server
        with srv.lock:
            alive = set(m['Name'] for m in srv.alive_members())
            members = [self._member(srv.member_info(), 'alive')]
            for name, info in sorted(srv.members.items()):
                members.append(self._member(info, 'alive' if name in alive
                                            else 'left' if name in srv.left else 'failed'))
        return {'Members': members, 'ServerDC': self.datacenter, 'ServerName': self.node_name,
                'ServerRegion': self.region}

    def self_info(self):
        body = template('agent_self')
        c = body['config']
        s = self.s
        c.update({'Region': self.region, 'Datacenter': self.datacenter, 'NodeName': self.node_name,
                  'DataDir': self.data_dir, 'BindAddr': s.bind_addr, 'LogLevel': s.log_level,
                  'PluginDir': self.cfg.get('plugin_dir') or os.path.join(self.data_dir, 'plugins'),
                  'Files': list(self.files),
                  'DisableUpdateCheck': bool(self.cfg.get('disable_update_check')),
                  'Addresses': {'HTTP': s.addresses['http'], 'RPC': s.addresses['rpc'], 'Serf': s.addresses['serf']},
                  'AdvertiseAddrs': {'HTTP': '%s:%d' % self.adv_http, 'RPC': '%s:%d' % self.adv_rpc,
                                     'Serf': '%s:%d' % self.adv_serf if self.server else self.adv_serf[0]},
                  'Ports': {'HTTP': s.ports['http'], 'RPC': s.ports['rpc'], 'Serf': s.ports['serf']}})
        c['ACL']['Enabled'] = self.acl_enabled
        c['Version']['Version'] = VERSION
        c['Version']['Revision'] = REVISION
        cl = self.cfg['client']
        c['Client'].update({'Enabled': s.client_enabled, 'Servers': list(cl.get('servers') or []),
                            'NetworkInterface': s.network_interface, 'Options': dict(cl.get('options') or {}),
                            'Meta': dict(cl.get('meta') or {}), 'NodeClass': cl.get('node_class') or ''})
        sv = self.cfg['server']
        sj = sv.get('server_join') or {}
        c['Server'].update({'Enabled': s.server_enabled, 'BootstrapExpect': int(sv.get('bootstrap_expect') or 0),
                            'RetryJoin': list(sv.get('retry_join') or []),
                            'StartJoin': list(sv.get('start_join') or [])})
        c['Server']['ServerJoin']['RetryJoin'] = list(sj.get('retry_join') or [])
        tls = c['TLSConfig']
        tls.update({'EnableHTTP': bool(self.http_tls), 'EnableRPC': bool(self.rpc_tls),
                    'CAFile': s.tls.ca_file or '', 'CertFile': s.tls.cert_file or '', 'KeyFile': s.tls.key_file or '',
                    'VerifyHTTPSClient': s.tls.verify_https_client,
                    'VerifyServerHostname': s.tls.verify_server_hostname, 'RPCUpgradeMode': s.tls.rpc_upgrade_mode})
        if not self.server:
            tls['KeyLoader'] = None
        plugins = []
        for name, p in sorted((self.cfg.get('plugin') or {}).items()):
            plugins.append({'Args': p.get('args'), 'Config': p.get('config'), 'Name': name})
        c['Plugins'] = plugins
        stats = body['stats']
        if self.client:
            cl_ = self.client
            stats['client'] = {'heartbeat_ttl': '%.9fs' % cl_.ttl, 'known_servers': ','.join(cl_.known_servers()),
                               'last_heartbeat': '%.9fs' % (time.monotonic() - cl_.last_heartbeat)
                               if cl_.last_heartbeat else '2562047h47m16.854775807s',
                               'node_id': cl_.node_id, 'num_allocations': str(cl_.num_allocs())}
        else:
            stats.pop('client', None)
        if self.server:
            srv = self.server
            leader = srv.leader_rpc() or ''
            stats['nomad'] = {'bootstrap': 'false', 'known_regions': '1', 'leader': str(srv.is_leader).lower(),
                              'leader_addr': leader, 'server': 'true'}
            stats['raft'].update({'applied_index': str(srv.state['index']), 'commit_index': str(srv.state['index']),
                                  'last_log_index': str(srv.state['index']), 'term': str(srv.term),
                                  'state': 'Leader' if srv.is_leader else 'Follower' if leader else 'Candidate',
                                  'num_peers': str(max(0, len(srv.peers) - 1))})
            stats['serf']['members'] = str(len(srv.alive_members()) + 1)
            stats['serf']['encrypted'] = str(bool(self.server.keys)).lower()
            body['member'] = self._member(srv.member_info(), 'alive')
        else:
            for k in ('nomad', 'raft', 'serf', 'vault'):
                stats.pop(k, None)
            body['member'] = {'Addr': None, 'DelegateCur': 0, 'DelegateMax': 0, 'DelegateMin': 0, 'Name': '',
                              'Port': 0, 'ProtocolCur': 0, 'ProtocolMax': 0, 'ProtocolMin': 0, 'Status': 'none',
                              'Tags': None}
        return body


def banner(settings, paths):
    s = settings
    out = sys.stdout
    out.write('==> Loaded configuration from %s\n' % ', '.join(paths))
    out.write('==> Starting Nomad agent...\n')
    out.flush()


class _Signals(object):
    """Signals are caught from the start: one arriving while the agent starts is handled after."""

    def __init__(self):
        self.got = []
        self.event = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def _on(self, signum, _frame):
        self.got.append(signum)
        self.event.set()

    def next(self):
        while not self.got:
            self.event.wait(1.0)
        self.event.clear()
        return self.got.pop(0)


def run(paths):
    """``nomad agent -config ...``; returns the exit code."""
    signals = _Signals()
    try:
        cfg, files = agentcfg.load(paths)
        settings = agentcfg.Settings(cfg, files)
    except agentcfg.StartupError as e:
        sys.stderr.write('==> %s\n' % e)
        return 1
    if settings.server_enabled and int(settings.cfg['server'].get('bootstrap_expect') or 0) == 1:
        # The last of 0.9.1's config checks (isValidConfig), before the
        # banner, on stderr: printed whenever the config is valid.
        sys.stderr.write('==> WARNING: Bootstrap mode enabled! Potentially unsafe operation.\n')
        sys.stderr.flush()
    banner(settings, paths)
    try:
        settings.keyring_check()
        agent = Agent(settings)
        agent.start()
    except agentcfg.StartupError as e:
        sys.stderr.write('==> %s\n' % e)
        return 1
    except OSError as e:
        sys.stderr.write('==> Error starting agent: %s\n' % e)
        return 1
    s = settings
    serf = '%s:%d' % s.adv_serf if agent.server else s.adv_serf[0]
    sys.stdout.write(
        '==> Nomad agent configuration:\n\n'
        '       Advertise Addrs: HTTP: %s:%d; RPC: %s:%d; Serf: %s\n'
        '            Bind Addrs: HTTP: %s:%d; RPC: %s:%d; Serf: %s:%d\n'
        '                Client: %s\n'
        '             Log Level: %s\n'
        '                Region: %s (DC: %s)\n'
        '                Server: %s\n'
        '               Version: %s\n\n'
        '==> Nomad agent started! Log data will stream in below:\n\n'
        % (s.adv_http[0], s.adv_http[1], s.adv_rpc[0], s.adv_rpc[1], serf,
           s.addresses['http'], s.ports['http'], s.addresses['rpc'], s.ports['rpc'], s.addresses['serf'],
           s.ports['serf'], str(s.client_enabled).lower(), s.log_level, s.region, s.datacenter,
           str(s.server_enabled).lower(), VERSION))
    sys.stdout.flush()
    return wait_for_signal(agent, signals)


def wait_for_signal(agent, signals):
    while True:
        sig = signals.next()
        name = {signal.SIGINT: 'interrupt', signal.SIGTERM: 'terminated', signal.SIGHUP: 'hangup'}[sig]
        sys.stdout.write('==> Caught signal: %s\n' % name)
        sys.stdout.flush()
        if sig == signal.SIGHUP:
            log('INFO', 'agent: reloading configurations')
            continue
        graceful = (sig == signal.SIGINT and agent.cfg.get('leave_on_interrupt')) or \
            (sig == signal.SIGTERM and agent.cfg.get('leave_on_terminate'))
        if graceful:
            sys.stdout.write('==> Gracefully shutting down agent...\n')
        agent.shutdown()
        sys.stdout.flush()
        # Nomad 0.9.1 exits 1 unless leave_on_interrupt/leave_on_terminate applies.
        return 0 if graceful else 1
