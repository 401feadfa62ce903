# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server half of the double: replicated state, the scheduler, node
heartbeats, deployments, ACL tokens, gossip and leadership.

Everything is held in one JSON-able dict guarded by one lock.  Only the
leader writes; followers copy the leader's state (Raft.Sync) and forward
requests to it.  This is much simpler than raft, and documented as such.
"""

import base64
import copy
import gzip
import hashlib
import io
import json
import os
import random
import re
import tarfile
import threading
import time

from . import acl as aclmod
from . import jobs as jobsmod
from .util import (IS_1X, IS_16, ZERO_TIME, RPCError, log, new_id, now_ns, read_file, rfc3339, rpc_call,
                   template, write_file)

TERMINAL_CLIENT = ('complete', 'failed', 'lost')
TABLES = ('jobs', 'job_summary', 'evals', 'allocs', 'nodes', 'deployment', 'acl_token', 'periodic_launch',
          'namespaces', 'node_pools', 'acl_policy', 'acl_role', 'variables')
NAMESPACE_RE = re.compile(r'^[a-zA-Z0-9-]{1,128}$')


def jkey(namespace, job_id):
    """Key of a job in state['jobs'], 'versions' and 'summary_index'.

    A job of the default namespace keeps its bare ID as key, so state files
    written before the double knew namespaces still read; others are
    '<namespace>\\x00<ID>' (a namespace name cannot hold a NUL).
    """
    ns = namespace or 'default'
    return job_id if ns == 'default' else '%s\x00%s' % (ns, job_id)


def job_key(job):
    return jkey(job.get('Namespace'), job['ID'])


def owner_key(obj):
    """The job key of an allocation, evaluation or deployment."""
    return jkey(obj.get('Namespace'), obj['JobID'])


def namespace_hash(name, description, quota):
    import base64
    h = hashlib.blake2b(('%s\x00%s\x00%s' % (name, description, quota)).encode(), digest_size=32)
    return base64.b64encode(h.digest()).decode()


def default_namespace():
    return {'CreateIndex': 1, 'Description': 'Default shared namespace',
            'Hash': namespace_hash('default', 'Default shared namespace', ''), 'ModifyIndex': 1,
            'Name': 'default', 'Quota': ''}


NODE_POOL_RE = re.compile(r'^[a-zA-Z0-9-_]{1,128}$')
BUILT_IN_POOLS = ('all', 'default')


def builtin_node_pools():
    """1.6.5 creates both at index 1, without a Hash (state_store_node_pools.go nodePoolInit)."""
    return dict((name, {'CreateIndex': 1, 'Description': desc, 'Hash': None, 'Meta': None, 'ModifyIndex': 1,
                        'Name': name, 'SchedulerConfiguration': None})
                for name, desc in (('all', 'Node pool with all nodes in the cluster.'),
                                   ('default', 'Default node pool.')))


def node_pool_hash(name, description, meta):
    """structs.NodePool.SetHash: blake2b-256 of name, description and the meta sorted by key."""
    h = hashlib.blake2b(digest_size=32)
    h.update(name.encode())
    h.update(description.encode())
    for key in sorted(meta or {}):
        h.update(key.encode())
        h.update(meta[key].encode())
    return base64.b64encode(h.digest()).decode()


class APIError(Exception):
    """An error the HTTP layer returns as text/plain with this status.

    ``rpc`` marks an error returned by a server RPC (Job.Register, ACL.Bootstrap,
    ...): Nomad's connection pool prefixes such an error with ``rpc error: ``
    each time the request crossed to another server, so it reaches the caller
    bare from the leader and with the prefix from a follower.
    """

    def __init__(self, status, message, rpc=False):
        self.status = status
        self.message = message
        self.rpc = rpc
        super(APIError, self).__init__(message)


# Seconds one raft apply takes (log append, replication to a majority,
# fsync): a real 0.9.1 took 5-6 ms on three servers on one host.
DEFAULT_RAFT_APPLY_DELAY = 0.005


def raft_apply_delay():
    """NOMAD_DOUBLE_RAFT_APPLY_DELAY (seconds, float), else the default.

    Tests widen it to make races that real Nomad has, but seldom shows,
    happen every time.
    """
    value = os.environ.get('NOMAD_DOUBLE_RAFT_APPLY_DELAY') or DEFAULT_RAFT_APPLY_DELAY
    try:
        return max(0.0, float(value))
    except ValueError:
        log('WARN', 'nomad: ignoring NOMAD_DOUBLE_RAFT_APPLY_DELAY=%r: not a number of seconds' % value)
        return DEFAULT_RAFT_APPLY_DELAY


def empty_state():
    return {'index': 1, 'tables': dict((t, 0) for t in TABLES), 'jobs': {}, 'versions': {}, 'evals': {},
            'allocs': {}, 'deployments': {}, 'nodes': {}, 'acl': {'bootstrap_index': 0, 'tokens': {}, 'policies': {}, 'roles': {}},
            'variables': {},
            'summary_index': {}, 'namespaces': {'default': default_namespace()},
            'node_pools': builtin_node_pools(), 'submissions': {}}


def submission_key(key, version):
    return '%s@%d' % (key, version)


def alloc_terminal(a):
    return a['DesiredStatus'] in ('stop', 'evict') or a['ClientStatus'] in TERMINAL_CLIENT


def key_id(key):
    return hashlib.sha256(base64.b64decode(key)).hexdigest()[:16]


def load_keyring(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def save_keyring(path, keys):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        json.dump(keys, handle)


# Longer than a Raft.Sync long poll (2 s) and its round trip.
CONTACT_TIMEOUT = 5.0


class Server(object):
    def __init__(self, agent):
        self.agent = agent
        cfg = agent.cfg
        self.name = '%s.%s' % (agent.node_name, agent.region)
        self.expect = int(cfg['server'].get('bootstrap_expect') or 1)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.dir = os.path.join(agent.data_dir, 'server')
        os.makedirs(os.path.join(self.dir, 'raft', 'snapshots'), exist_ok=True)
        os.makedirs(os.path.join(self.dir, 'serf'), exist_ok=True)
        self.server_id = read_file(os.path.join(self.dir, 'node-id'))
        if not self.server_id:
            self.server_id = new_id()
            write_file(os.path.join(self.dir, 'node-id'), self.server_id, 0o600)
        # Same file names as Nomad's data_dir (raft.db, peers.info, serf/snapshot),
        # but the double's own JSON inside.  peers.json is left alone: in Nomad
        # it is the operator's outage-recovery file.
        raft = json.loads(read_file(os.path.join(self.dir, 'raft', 'raft.db')) or '{}')
        self.state = raft.get('state') or empty_state()
        self.state.setdefault('namespaces', {'default': default_namespace()})
        self.state.setdefault('node_pools', builtin_node_pools())
        self.state.setdefault('submissions', {})
        self.bootstrapped = bool(raft.get('bootstrapped'))
        self.peers = set(raft.get('peers') or [])
        self.term = int(raft.get('term') or 0)
        self.dirty = False
        self.is_leader = False
        self.leader = None            # member dict of the leader
        self.leader_since = 0
        self.members = {}             # name -> member info
        self.left = set()             # names forced out of gossip (force-leave), told to every server
        self.join_targets = set(agent.join_addrs)
        self.follower_acks = {}       # name -> replicated index
        self.last_contact = 0
        self.heartbeats = {}          # node id -> monotonic time of last heartbeat
        s = cfg['server']
        from .agentcfg import duration
        self.min_ttl = duration(s.get('min_heartbeat_ttl'), 10.0)
        self.grace = duration(s.get('heartbeat_grace'), 10.0)
        self.apply_delay = raft_apply_delay()
        # Serf's keyring, primary key first. Like Nomad's setupKeyrings, a
        # keyring written at an earlier start wins over `encrypt`, which only
        # seeds a missing one.
        self.keyring_file = os.path.join(agent.data_dir, 'server', 'serf', 'keyring')
        self.keys = load_keyring(self.keyring_file)
        if self.keys is None and agent.encrypt_key:
            self.keys = [base64.b64encode(agent.encrypt_key).decode()]
            save_keyring(self.keyring_file, self.keys)
        self.stopping = False

    # ------------------------------------------------------------------ plumbing
    def start(self):
        for target in (self._gossip_loop, self._persist_loop, self._worker_loop, self._watch_loop,
                       self._replicate_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()

    def stop(self):
        self.stopping = True
        with self.cond:
            self.cond.notify_all()
        self.persist()

    def persist(self):
        with self.lock:
            raft = json.dumps({'bootstrapped': self.bootstrapped, 'peers': sorted(self.peers), 'term': self.term,
                               'state': self.state})
            serf = ''.join('%s %s:%d\n' % (n, m['Addr'], m['Port']) for n, m in sorted(self.members.items()))
            self.dirty = False
        write_file(os.path.join(self.dir, 'raft', 'raft.db'), raft)
        write_file(os.path.join(self.dir, 'serf', 'snapshot'), serf, 0o644)
        info = os.path.join(self.dir, 'raft', 'peers.info')
        if not os.path.exists(info):
            write_file(info, 'Written by the Nomad test double; its raft state is in raft.db (JSON).\n', 0o755)

    def _persist_loop(self):
        while not self.stopping:
            time.sleep(0.2)
            if self.dirty:
                try:
                    self.persist()
                except OSError as e:
                    log('ERROR', 'nomad: failed to persist state: %s' % e)

    def bump(self, *tables):
        """Advance the raft index for one write touching ``tables``."""
        self.state['index'] += 1
        idx = self.state['index']
        for t in tables:
            self.state['tables'][t] = idx
        self.dirty = True
        self.cond.notify_all()
        return idx

    def table_index(self, *tables):
        return max([self.state['tables'].get(t, 0) for t in tables] or [0])

    # ------------------------------------------------------------------ membership
    def member_info(self):
        a = self.agent
        return {'Name': self.name, 'Addr': a.adv_serf[0], 'Port': a.adv_serf[1], 'RPC': '%s:%d' % a.adv_rpc,
                'ID': self.server_id, 'Expect': self.expect, 'Region': a.region, 'DC': a.datacenter,
                'Leader': self.is_leader, 'Term': self.term, 'Index': self.state['index'],
                'KeyID': self.key_id, 'Bootstrapped': self.bootstrapped,
                # Not a serf tag in Nomad: how the double stands in for the
                # direction of raft's connections (see _replicate_loop).
                'RPCTLS': bool(a.rpc_tls)}

    def takes_from(self, speaks_tls):
        """Whether this server's rpc port takes a connection that speaks TLS (or not), as nomad/rpc.go decides."""
        tls = self.agent.rpc_tls
        if speaks_tls:
            return tls is not None
        return tls is None or tls.rpc_upgrade_mode

    @property
    def key_id(self):
        """What stands for gossip encrypted with the primary key ('' for plain gossip)."""
        return key_id(self.keys[0]) if self.keys else ''

    def readable(self, payload):
        """Memberlist tries every installed key on an incoming message."""
        sender = payload.get('KeyID', '')
        if not (sender in [key_id(k) for k in self.keys or []] or (not sender and not self.keys)):
            raise APIError(403, 'gossip: no installed keys could decrypt the message')

    def handle_keyring(self, payload):
        """One server's part of a keyring query (serf's internal query handlers)."""
        self.readable(payload)
        op, key = payload.get('Op'), payload.get('Key')
        with self.lock:
            if self.keys is None:
                return {'Error': 'Keyring is empty (encryption not enabled)' if op == 'list'
                        else 'No keyring to modify (encryption not enabled)'}
            if op == 'install' and key not in self.keys:
                self.keys.append(key)
            elif op == 'use':
                if key not in self.keys:
                    return {'Error': 'Requested key is not in the keyring'}
                self.keys.remove(key)
                self.keys.insert(0, key)
            elif op == 'remove':
                if key == self.keys[0]:
                    return {'Error': 'Removing the primary key is not allowed'}
                if key in self.keys:
                    self.keys.remove(key)
            if op != 'list':
                save_keyring(self.keyring_file, self.keys)
            return {'Keys': list(self.keys)}

    def keyring_query(self, op, key=None):
        """A keyring operation on every alive server, as serf's KeyManager runs it: the
        keys each holds (for list) and how many failed."""
        with self.lock:
            targets = ['%s:%d' % (m['Addr'], m['Port']) for m in self.alive_members()]
        payload = {'Op': op, 'Key': key, 'KeyID': self.key_id}
        replies = [self.handle_keyring(dict(payload))]
        for target in targets:
            try:
                replies.append(rpc_call(target, 'Serf.Keyring', payload, timeout=2.0))
            except RPCError as e:
                replies.append({'Error': e.message})
        counts = {}
        for reply in replies:
            for k in reply.get('Keys') or []:
                counts[k] = counts.get(k, 0) + 1
        failed = len([r for r in replies if r.get('Error')])
        if failed:
            raise APIError(500, '%d/%d nodes reported failure' % (failed, len(replies)))
        return {'Messages': {}, 'Keys': counts if op == 'list' else None, 'NumNodes': len(replies)}

    def handle_ping(self, payload):
        """A gossip ping from another server (over the serf port)."""
        self.readable(payload)
        if payload.get('Region') != self.agent.region:
            raise APIError(403, 'gossip: different region')
        with self.lock:
            self._saw(payload)
            return {'Self': self.member_info(),
                    'Members': [dict(m, Leader=False) for m in self.members.values()],
                    'Left': sorted(self.left)}

    def force_leave(self, node):
        """`nomad server force-leave`: a member that is not alive leaves gossip, every server hears
        it, and the leader drops it from raft (Nomad's reconcile of a member that left)."""
        with self.lock:
            alive = set(m['Name'] for m in self.alive_members())
            for name in list(self.members):
                if node in (name, name.rsplit('.', 1)[0]) and name not in alive:
                    self._leave(name)

    def _leave(self, name):
        self.left.add(name)
        member = self.members.get(name)
        if member:
            self.join_targets.discard('%s:%d' % (member['Addr'], member['Port']))

    def remove_peer(self, name):
        """Operator.RaftRemovePeerByAddress/ByID, on the leader; followers take the leader's peers
        with their next Raft.Sync."""
        with self.lock:
            self.peers.discard(name)
            self.dirty = True

    def _saw(self, info):
        if info['Name'] == self.name or info['Name'] in self.left:
            return
        m = dict(info)
        m['last_seen'] = time.monotonic()
        self.members[info['Name']] = m
        self.join_targets.add('%s:%d' % (info['Addr'], info['Port']))

    def alive_members(self):
        now = time.monotonic()
        return [m for m in self.members.values() if now - m['last_seen'] < 2.5 and m['Name'] not in self.left]

    def _gossip_loop(self):
        logged_join = False
        while not self.stopping:
            targets = set(self.join_targets)
            me = '%s:%d' % self.agent.adv_serf
            payload = self.member_info()
            replies = []
            # In parallel, so that dead or wrong addresses cannot delay the live ones.
            threads = [threading.Thread(target=self._ping, args=(t, payload, replies), daemon=True)
                       for t in sorted(targets) if t != me]
            for t in threads:
                t.start()
            for t in threads:
                t.join(1.5)
            for reply in list(replies):
                with self.lock:
                    if reply['Self']['Name'] != self.name:
                        if reply['Self']['Name'] not in self.members:
                            log('INFO', 'nomad: serf: EventMemberJoin: %s %s'
                                % (reply['Self']['Name'], reply['Self']['Addr']))
                        self._saw(reply['Self'])
                    for name in set(reply.get('Left') or []) - self.left:
                        self._leave(name)
                    for m in reply.get('Members') or []:
                        if m['Name'] != self.name and m['Name'] not in self.left:
                            self.join_targets.add('%s:%d' % (m['Addr'], m['Port']))
                if not logged_join:
                    log('INFO', 'agent.joiner: retry join completed: initial_servers=1 agent_mode=server')
                    logged_join = True
            self._elect()
            time.sleep(0.5)

    def _ping(self, target, payload, replies):
        try:
            replies.append(rpc_call(target, 'Serf.Ping', payload, timeout=1.0))
        except RPCError:
            pass

    def _elect(self):
        with self.lock:
            alive = self.alive_members()
            names = set(m['Name'] for m in alive) | {self.name}
            if not self.bootstrapped:
                if len(names) >= self.expect:
                    self.bootstrapped = True
                    self.peers = set(names)
                    self.dirty = True
                quorum = self.bootstrapped
            else:
                if not names <= self.peers:
                    self.peers |= names
                    self.dirty = True
                if self.is_leader and self.peers & self.left:
                    self.peers -= self.left
                    self.dirty = True
                quorum = len(names & self.peers) > len(self.peers) // 2
            if not quorum:
                if self.is_leader:
                    log('WARN', 'nomad: raft: lost quorum, stepping down')
                self.is_leader = False
                self.leader = None
                return
            leaders = [m for m in alive if m.get('Leader')]
            if self.is_leader:
                leaders.append(self.member_info())
            if leaders:
                best = max(leaders, key=lambda m: (m['Term'], m['Name']))
                if best['Name'] == self.name:
                    self.leader = self.member_info()
                else:
                    if self.is_leader:
                        log('INFO', 'nomad: raft: stepping down for %s' % best['Name'])
                    self.is_leader = False
                    self.leader = best
                    self.term = max(self.term, best['Term'])
                return
            cands = alive + [self.member_info()]
            # Prefer the most up-to-date server; ties go to the greatest name so
            # every server computes the same answer.
            best = max(cands, key=lambda m: (m['Index'], m['Name']))
            if best['Name'] == self.name:
                self.term = max([self.term] + [m['Term'] for m in alive]) + 1
                self.is_leader = True
                self.leader = self.member_info()
                self.leader_since = time.monotonic()
                self.dirty = True
                now = time.monotonic()
                for nid in self.state['nodes']:
                    self.heartbeats[nid] = now
                log('INFO', 'nomad: raft: Node at %s:%d [Leader] entering Leader state' % self.agent.adv_rpc)
                log('INFO', 'nomad: cluster leadership acquired')
                self.cond.notify_all()
            else:
                self.leader = None

    def leader_rpc(self):
        with self.lock:
            if self.is_leader:
                return '%s:%d' % self.agent.adv_rpc
            if self.leader:
                return self.leader['RPC']
            return None

    def in_contact(self):
        """Whether raft would name a leader here: a follower learns it from the
        leader's appends (here its Raft.Sync replies), not from gossip, so one
        whose rpc port turns the leader away (TLS on one side only) knows none."""
        with self.lock:
            return self.is_leader or time.monotonic() - self.last_contact < CONTACT_TIMEOUT

    def peers_rpc(self):
        with self.lock:
            out = ['%s:%d' % self.agent.adv_rpc]
            for m in self.alive_members():
                if m['Name'] in self.peers:
                    out.append(m['RPC'])
            return out

    # ------------------------------------------------------------------ replication
    def handle_sync(self, payload):
        """Raft.Sync: a follower asks for the state once it is newer than Index."""
        index = int(payload.get('Index') or 0)
        deadline = time.monotonic() + float(payload.get('Wait') or 5)
        with self.cond:
            if payload.get('Name'):
                self.follower_acks[payload['Name']] = index
                self.cond.notify_all()
            while self.state['index'] <= index and self.is_leader and not self.stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            if not self.is_leader:
                raise APIError(500, 'not the leader')
            peers = sorted(self.peers)
            if self.state['index'] <= index:
                return {'Index': self.state['index'], 'State': None, 'Term': self.term, 'Peers': peers}
            return {'Index': self.state['index'], 'State': copy.deepcopy(self.state), 'Term': self.term,
                    'Peers': peers}

    def _replicate_loop(self):
        while not self.stopping:
            with self.lock:
                leader = None if self.is_leader or not self.leader else self.leader['RPC']
                leader_tls = bool(self.leader and self.leader.get('RPCTLS'))
                index = self.state['index']
            if not leader:
                time.sleep(0.2)
                continue
            # Raft.Sync stands for the leader's appends, whose connections the
            # leader opens: they get through when this server's rpc port takes
            # what the leader speaks (a plaintext leader reaches a follower in
            # rpc_upgrade_mode, not one that requires TLS).
            if not self.takes_from(leader_tls):
                time.sleep(0.3)
                continue
            try:
                reply = rpc_call(leader, 'Raft.Sync', {'Index': index, 'Wait': 2, 'Name': self.name},
                                 self.agent.rpc_tls if leader_tls else None, timeout=5)
            except RPCError:
                time.sleep(0.3)
                continue
            with self.cond:
                self.last_contact = time.monotonic()
                if reply.get('Peers') and not self.is_leader and set(reply['Peers']) != self.peers:
                    self.peers = set(reply['Peers'])
                    self.dirty = True
                if reply.get('State') and not self.is_leader:
                    self.state = reply['State']
                    self.dirty = True
                    self.cond.notify_all()

    def wait_commit(self, index, timeout=2.0):
        """Wait until a majority of the peers hold ``index`` (raft commit)."""
        need = len(self.peers) // 2
        if need <= 0:
            return
        deadline = time.monotonic() + timeout
        while True:
            alive = set(m['Name'] for m in self.alive_members())
            acks = sum(1 for n, i in self.follower_acks.items() if i >= index and n in alive)
            if acks >= need:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.cond.wait(min(left, 0.2))

    # ------------------------------------------------------------------ reads
    def wait_for(self, min_index, wait, compute):
        """Blocking query: run ``compute`` until its index passes ``min_index``."""
        with self.cond:
            body, index = compute()
            if not min_index or index > min_index:
                # Copied under the lock: the caller encodes it after releasing.
                return copy.deepcopy(body), index
            deadline = time.monotonic() + wait + random.uniform(0, wait / 16.0)
            while not self.stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
                body, index = compute()
                if index > min_index:
                    break
            return copy.deepcopy(body), index

    # ------------------------------------------------------------------ ACL
    def resolve_token(self, secret):
        """Returns the token dict, None for anonymous; raises APIError as Nomad does."""
        if secret is None:
            secret = ''
        if secret == '':
            return None
        if len(secret) != 36:
            raise APIError(500, 'acl token lookup failed: index error: UUID must be 36 characters', rpc=True)
        for tok in self.state['acl']['tokens'].values():
            if tok['SecretID'] == secret:
                return tok
        raise APIError(403, 'ACL token not found')

    def acl_bootstrap(self, secret=None):
        acl = self.state['acl']
        if acl['bootstrap_index']:
            # 1.1.0 answers a second bootstrap with 400 (api/252), 0.9.1 with 500.
            raise APIError(400 if IS_1X else 500,
                           'ACL bootstrap already done (reset index: %d)' % acl['bootstrap_index'], rpc=True)
        idx = self.bump('acl_token')
        tok = template('acl_token')
        secret = secret or new_id()
        tok.update({'AccessorID': new_id(), 'SecretID': secret, 'CreateIndex': idx, 'ModifyIndex': idx,
                    'CreateTime': rfc3339(), 'Name': 'Bootstrap Token', 'Type': 'management',
                    'Global': True, 'Policies': None,
                    **({'ExpirationTTL': '', 'ExpirationTime': None, 'Roles': None} if IS_16 else {}),
                    'Hash': base64.b64encode(hashlib.sha256(secret.encode()).digest()).decode()})
        acl['tokens'][tok['AccessorID']] = tok
        acl['bootstrap_index'] = idx
        return tok, idx

    # ------------------------------------------------------------------ ACL objects
    def _acl(self):
        acl = self.state['acl']
        acl.setdefault('policies', {})
        acl.setdefault('roles', {})
        return acl

    def acl_policy_upsert(self, body, path_name):
        """ACL.UpsertPolicies: validated, then replaced whole; Nomad writes (and bumps) even when nothing differs."""
        parsed = aclmod.policy_errors(body, path_name)
        with self.cond:
            idx = self.bump('acl_policy')
            policies = self._acl()['policies']
            policies[body['Name']] = aclmod.make_policy(body, parsed, policies.get(body['Name']), idx)
            self.wait_commit(idx)
        return idx

    def acl_policy_delete(self, name):
        with self.cond:
            idx = self.bump('acl_policy')
            self._acl()['policies'].pop(name, None)
            self.wait_commit(idx)
        return idx

    def _roles_by(self):
        roles = self._acl()['roles']
        return dict((r['Name'], r) for r in roles.values()), roles

    def acl_token_upsert(self, body, accessor=None):
        with self.cond:
            tokens = self._acl()['tokens']
            current = None
            if accessor is not None:
                current = tokens.get(accessor)
                if current is None:
                    raise aclmod.ACLError(aclmod.MISSING_TOKEN_STATUS, 'cannot find token %s' % accessor)
            by_name, by_id = self._roles_by()
            roles, ttl = aclmod.token_errors(body, by_name, by_id, current)
            idx = self.bump('acl_token')
            tok = aclmod.make_token(body, roles, ttl, current, idx)
            tokens[tok['AccessorID']] = tok
            self.wait_commit(idx)
            return copy.deepcopy(tok), idx

    def acl_token_delete(self, accessor):
        with self.cond:
            tokens = self._acl()['tokens']
            if accessor not in tokens:
                raise aclmod.ACLError(aclmod.TOKEN_ERROR_STATUS, 'Cannot delete nonexistent tokens: %s' % accessor)
            idx = self.bump('acl_token')
            tokens.pop(accessor)
            self.wait_commit(idx)
        return idx

    def acl_role_upsert(self, body, role_id=None):
        with self.cond:
            by_name, roles = self._roles_by()
            current = roles.get(role_id) if role_id else None
            aclmod.role_errors(body, self._acl()['policies'], by_name, role_id)
            if current is not None and aclmod.role_unchanged(current, body):
                return copy.deepcopy(current), current['ModifyIndex']
            idx = self.bump('acl_role')
            role = aclmod.make_role(body, current, idx)
            roles[role['ID']] = role
            self.wait_commit(idx)
            return copy.deepcopy(role), idx

    def acl_role_delete(self, role_id):
        with self.cond:
            roles = self._acl()['roles']
            if role_id not in roles:
                raise aclmod.ACLError(500, 'ACL role not found')
            idx = self.bump('acl_role')
            roles.pop(role_id)
            self.wait_commit(idx)
        return idx

    # ------------------------------------------------------------------ variables (1.4+)
    def variable_upsert(self, namespace, path, items, cas):
        """Variables.Apply: check-and-set on the modify index (cas=0: only when absent); a lost
        check-and-set answers 409 with the variable as it is (recorded)."""
        with self.cond:
            table = self.state.setdefault('variables', {})
            key = '%s\x00%s' % (namespace, path)
            current = table.get(key)
            if cas is not None and (current or {}).get('ModifyIndex', 0) != cas:
                return copy.deepcopy(current), 409
            idx = self.bump('variables')
            now = now_ns()
            table[key] = {'CreateIndex': current['CreateIndex'] if current else idx,
                          'CreateTime': current['CreateTime'] if current else now, 'Items': dict(items),
                          'ModifyIndex': idx, 'ModifyTime': now, 'Namespace': namespace, 'Path': path}
            self.wait_commit(idx)
            return copy.deepcopy(table[key]), 200

    def variable_delete(self, namespace, path, cas):
        with self.cond:
            table = self.state.setdefault('variables', {})
            key = '%s\x00%s' % (namespace, path)
            current = table.get(key)
            if cas is not None and current is not None and current['ModifyIndex'] != cas:
                return copy.deepcopy(current), 409
            idx = self.bump('variables')
            table.pop(key, None)
            self.wait_commit(idx)
            return None, 204

    # ------------------------------------------------------------------ namespaces
    def namespace_upsert(self, body):
        """Namespace.UpsertNamespaces (1.x): create or replace; Meta is not kept, as in 1.1.0."""
        name = body.get('Name') if isinstance(body.get('Name'), str) else ''
        if not NAMESPACE_RE.match(name):
            raise APIError(500, 'Invalid namespace %s: %s' % (json.dumps(name), jobsmod.multierror(
                ['invalid name %s. Must match regex ^[a-zA-Z0-9-]{1,128}$' % json.dumps(name)])), rpc=True)
        desc = body.get('Description') or ''
        quota = body.get('Quota') or ''
        with self.cond:
            idx = self.bump('namespaces')
            cur = self.state['namespaces'].get(name)
            self.state['namespaces'][name] = {
                'CreateIndex': cur['CreateIndex'] if cur else idx, 'Description': desc,
                'Hash': namespace_hash(name, desc, quota), 'ModifyIndex': idx, 'Name': name, 'Quota': quota}
            self.wait_commit(idx)
        return idx

    def namespace_delete(self, name):
        """A namespace goes only once all its jobs are dead; deleting one that does not exist succeeds."""
        if name == 'default':
            raise APIError(500, 'can not delete default namespace', rpc=True)
        with self.cond:
            if any(j['Namespace'] == name and j['Status'] != 'dead' for j in self.state['jobs'].values()):
                why = 'namespace %s has non-terminal jobs in regions: [%s]' % (json.dumps(name), self.agent.region)
                raise APIError(500, jobsmod.multierror([why]), rpc=True)
            idx = self.bump('namespaces')
            self.state['namespaces'].pop(name, None)
            self.wait_commit(idx)
        return idx

    # ------------------------------------------------------------------ node pools (1.6)
    def node_pool_upsert(self, body):
        """NodePool.UpsertNodePools: validate, refuse the built-in pools, replace the pool whole."""
        name = body.get('Name') if isinstance(body.get('Name'), str) else ''
        desc = body.get('Description') if isinstance(body.get('Description'), str) else ''
        errs = []
        if not NODE_POOL_RE.match(name):
            errs.append('invalid name %s, must match regex ^[a-zA-Z0-9-_]{1,128}$' % json.dumps(name))
        if len(desc.encode('utf-8')) > 256:  # Go counts bytes (17-pool-upsert-long-description-bytes)
            errs.append('description longer than 256')
        if errs:
            raise APIError(400, 'invalid node pool %s: %s' % (json.dumps(name), jobsmod.multierror(errs)), rpc=True)
        if name in BUILT_IN_POOLS:
            raise APIError(400, 'modifying node pool %s is not allowed' % json.dumps(name), rpc=True)
        meta = body.get('Meta')
        with self.cond:
            idx = self.bump('node_pools')
            cur = self.state['node_pools'].get(name)
            self.state['node_pools'][name] = {
                'CreateIndex': cur['CreateIndex'] if cur else idx, 'Description': desc,
                'Hash': node_pool_hash(name, desc, meta), 'Meta': copy.deepcopy(meta), 'ModifyIndex': idx,
                'Name': name, 'SchedulerConfiguration': None}
            self.wait_commit(idx)
        return idx

    def node_pool_delete(self, name):
        """NodePool.DeleteNodePools: not while nodes are in it; the built-in pools never."""
        with self.cond:
            if any(n.get('NodePool') == name for n in self.state['nodes'].values()):
                why = 'node pool %s has nodes in regions: [%s]' % (json.dumps(name), self.agent.region)
                raise APIError(500, jobsmod.multierror([why]), rpc=True)
            if name not in self.state['node_pools']:
                raise APIError(500, 'node pool %s not found' % name, rpc=True)
            if name in BUILT_IN_POOLS:
                raise APIError(500, 'deleting node pool %s is not allowed' % json.dumps(name), rpc=True)
            idx = self.bump('node_pools')
            self.state['node_pools'].pop(name, None)
            self.wait_commit(idx)
        return idx

    # ------------------------------------------------------------------ nodes
    def node_register(self, node):
        nid = node['ID']
        with self.cond:
            cur = self.state['nodes'].get(nid)
            if cur and cur['SecretID'] != node['SecretID']:
                raise APIError(500, 'node secret ID does not match. Not registering node.')
            idx = self.bump('nodes')
            node = copy.deepcopy(node)
            was_down = bool(cur) and cur['Status'] == 'down'
            if cur:
                node['CreateIndex'] = cur['CreateIndex']
                node['Events'] = cur.get('Events') or node['Events']
                node['SchedulingEligibility'] = cur.get('SchedulingEligibility', 'eligible')
                # A drain is the servers' business: re-registering does not end it.
                for key in ('Drain', 'DrainStrategy', 'LastDrain'):
                    if key in cur:
                        node[key] = cur[key]
                if was_down:
                    node['Events'] = (node['Events'] or []) + [self._node_event('Node re-registered')]
            else:
                node['CreateIndex'] = idx
                node['Events'] = [self._node_event('Node registered')]
            node['ModifyIndex'] = idx
            pool = node.get('NodePool')
            if pool and pool not in self.state['node_pools']:
                # A client may name a pool nobody created: registering creates it bare,
                # in the same write (state_store.go fetchOrCreateNodePoolTxn).
                self.state['tables']['node_pools'] = idx
                self.state['node_pools'][pool] = {'CreateIndex': idx, 'Description': '', 'Hash': None,
                                                  'Meta': None, 'ModifyIndex': idx, 'Name': pool,
                                                  'SchedulerConfiguration': None}
            # As the client says: "initializing" on its first registration,
            # "ready" once it has heartbeated (nomad/node_endpoint.go).
            node['Status'] = node.get('Status') or 'initializing'
            node['StatusUpdatedAt'] = int(time.time())
            self.state['nodes'][nid] = node
            self.heartbeats[nid] = time.monotonic()
            if node['Status'] == 'ready' and (cur is None or cur['Status'] != 'ready'):
                self._node_ready(node)
            return idx

    def _node_ready(self, node):
        """A node went from initializing or down to ready: its capacity can be used."""
        self._unblock_evals()
        for job in list(self.state['jobs'].values()):
            if job['Type'] == 'system' and not job['Stop']:
                self._create_eval(job, 'node-update', node_id=node['ID'])

    def _node_event(self, msg, subsystem='Cluster', index=0):
        return {'CreateIndex': index, 'Details': None, 'Message': msg, 'Subsystem': subsystem,
                'Timestamp': rfc3339(nanos=bool(index))}

    # ------------------------------------------------------------------ eligibility and drain (1.x)
    def node_eligibility(self, nid, eligibility):
        if eligibility not in ('eligible', 'ineligible'):
            raise APIError(500, 'invalid scheduling eligibility %s' % json.dumps(eligibility), rpc=True)
        with self.cond:
            node = self.state['nodes'].get(nid)
            if not node:
                raise APIError(500, 'node not found', rpc=True)
            idx = self.bump('nodes')
            evals = []
            if node.get('SchedulingEligibility') != eligibility:
                node['SchedulingEligibility'] = eligibility
                node['ModifyIndex'] = idx
                node['Events'] = (node.get('Events') or []) + [self._node_event(
                    'Node marked as %s for scheduling' % eligibility, index=idx)]
                if eligibility == 'eligible':
                    evals = self._node_evals(node)
            self.wait_commit(self.state['index'])
            return {'EvalCreateIndex': evals[-1]['CreateIndex'] if evals else 0,
                    'EvalIDs': [e['ID'] for e in evals] or None, 'Index': idx, 'NodeModifyIndex': 0}

    def _node_evals(self, node):
        """Capacity came back: blocked evals retry, the node's jobs are evaluated again."""
        self._unblock_evals()
        out = []
        # Every job that ever had an allocation there, as createNodeEvals does.
        keys = set(owner_key(a) for a in self.state['allocs'].values() if a['NodeID'] == node['ID'])
        keys |= set(job_key(j) for j in self.state['jobs'].values() if j['Type'] == 'system')
        for key in sorted(keys):
            job = self.state['jobs'].get(key)
            if job and not job['Stop']:
                out.append(self._create_eval(job, 'node-update', node_id=node['ID']))
        return out

    def node_drain(self, nid, spec, mark_eligible, meta):
        """Node.UpdateDrain as 1.1.0 records it (0.9.1 the same, without LastDrain): the
        node turns ineligible and stays so after the drain, which ends once its allocations stopped."""
        with self.cond:
            node = self.state['nodes'].get(nid)
            if not node:
                raise APIError(500, 'node not found', rpc=True)
            idx = self.bump('nodes')
            node['ModifyIndex'] = idx
            evals = []
            now = time.time()
            if spec is not None:
                deadline = int(spec.get('Deadline') or 0)
                # Nomad's deadline: > 0 a duration, 0 none, < 0 force now.
                until = now + deadline / 1e9 if deadline > 0 else now if deadline < 0 else None
                node['Drain'] = True
                node['DrainStrategy'] = {'Deadline': deadline,
                                         'ForceDeadline': rfc3339(until) if until else ZERO_TIME,
                                         'IgnoreSystemJobs': bool(spec.get('IgnoreSystemJobs')),
                                         'StartedAt': rfc3339(now)}
                node['SchedulingEligibility'] = 'ineligible'
                if IS_1X:  # 0.9.1's nodes have no LastDrain
                    node['LastDrain'] = {'AccessorID': '', 'Meta': meta, 'StartedAt': rfc3339(now, nanos=False),
                                         'Status': 'draining', 'UpdatedAt': rfc3339(now, nanos=False)}
                node['Events'] = (node.get('Events') or []) + [self._node_event(
                    'Node drain strategy set', 'Drain', idx)]
                node['_drain_until'] = until
                self._migrate_from(node, spec)
            else:
                if node.get('Drain'):
                    node['Drain'] = False
                    node['DrainStrategy'] = None
                    if node.get('LastDrain'):
                        node['LastDrain']['Status'] = 'canceled'
                        node['LastDrain']['UpdatedAt'] = rfc3339(now, nanos=False)
                    node['Events'] = (node.get('Events') or []) + [self._node_event(
                        'Node drain disabled', 'Drain', idx)]
                if mark_eligible:
                    node['SchedulingEligibility'] = 'eligible'
                    evals = self._node_evals(node)
            self.wait_commit(self.state['index'])
            return {'EvalCreateIndex': evals[-1]['CreateIndex'] if evals else 0,
                    'EvalIDs': [e['ID'] for e in evals] or None, 'Index': idx, 'NodeModifyIndex': idx}

    def _migrate_from(self, node, spec):
        keys = set()
        for a in self.state['allocs'].values():
            if a['NodeID'] != node['ID'] or alloc_terminal(a):
                continue
            if a['Job']['Type'] == 'system':
                # Kept: Nomad stops system allocations last (unless told to
                # ignore them); the double does not stop them at all.
                continue
            self._stop_alloc(a, 'alloc is being migrated')
            a['DesiredTransition'] = dict(a.get('DesiredTransition') or {}, Migrate=True)
            a['_drained'] = True
            keys.add(owner_key(a))
        for key in sorted(keys):
            job = self.state['jobs'].get(key)
            if job and not job['Stop']:
                self._create_eval(job, 'node-drain', node_id=node['ID'])

    def _watch_drains(self):
        now = time.time()
        for node in self.state['nodes'].values():
            if not node.get('Drain'):
                continue
            left = [a for a in self.state['allocs'].values() if a['NodeID'] == node['ID'] and a.get('_drained')
                    and a['ClientStatus'] not in TERMINAL_CLIENT]
            until = node.get('_drain_until')
            if left and node['Status'] != 'down' and not (until and now >= until):
                continue
            idx = self.bump('nodes')
            node['Drain'] = False
            node['DrainStrategy'] = None
            node['ModifyIndex'] = idx
            if node.get('LastDrain'):
                node['LastDrain']['Status'] = 'complete'
                node['LastDrain']['UpdatedAt'] = rfc3339(now, nanos=False)
            node['Events'] = (node.get('Events') or []) + [self._node_event('Node drain complete', 'Drain', idx)]

    def heartbeat_ttl(self):
        return self.min_ttl + random.uniform(0, self.min_ttl)

    def node_heartbeat(self, nid, secret):
        with self.cond:
            node = self.state['nodes'].get(nid)
            if not node:
                raise APIError(404, 'node not found')
            if node['SecretID'] != secret:
                raise APIError(500, 'node secret ID does not match')
            self.heartbeats[nid] = time.monotonic()
            if node['Status'] != 'ready':
                idx = self.bump('nodes')
                if node['Status'] == 'down':
                    node['Events'].append(self._node_event('Node reregistered by heartbeat'))
                node['Status'] = 'ready'
                node['StatusUpdatedAt'] = int(time.time())
                node['ModifyIndex'] = idx
                self._node_ready(node)

    def node_purge(self, nid):
        node = self.state['nodes'].get(nid)
        if not node:
            raise APIError(404, 'node not found')
        idx = self.bump('nodes')
        del self.state['nodes'][nid]
        self.heartbeats.pop(nid, None)
        evals = []
        for key in sorted(set(owner_key(a) for a in self.state['allocs'].values() if a['NodeID'] == nid)):
            job = self.state['jobs'].get(key)
            if job:
                evals.append(self._create_eval(job, 'node-update', node_id=nid)['ID'])
        return idx, evals

    def _watch_loop(self):
        while not self.stopping:
            time.sleep(0.5)
            with self.cond:
                if not self.is_leader:
                    continue
                now = time.monotonic()
                for nid, node in list(self.state['nodes'].items()):
                    if node['Status'] == 'down':
                        continue
                    last = self.heartbeats.setdefault(nid, now)
                    if now - last > self.min_ttl * 2 + self.grace:
                        self._node_down(node)
                self._watch_deployments()
                self._watch_drains()

    def _node_down(self, node):
        idx = self.bump('nodes')
        node['Status'] = 'down'
        node['ModifyIndex'] = idx
        node['StatusUpdatedAt'] = int(time.time())
        node['Events'].append(self._node_event('Node heartbeat missed'))
        log('WARN', 'nomad.heartbeat: node TTL expired: node_id=%s' % node['ID'])
        jobs_hit = set()
        for a in self.state['allocs'].values():
            if a['NodeID'] == node['ID'] and not alloc_terminal(a):
                aidx = self.bump('allocs')
                a['DesiredStatus'] = 'stop'
                a['DesiredDescription'] = 'alloc is lost since its node is down'
                a['ClientStatus'] = 'lost'
                a['ModifyIndex'] = aidx
                jobs_hit.add(owner_key(a))
        for key in sorted(jobs_hit):
            job = self.state['jobs'].get(key)
            if job and not job['Stop']:
                self._create_eval(job, 'node-update', node_id=node['ID'])

    # ------------------------------------------------------------------ jobs
    def register_job(self, job, enforce=False, modify_index=0):
        """Job.Register on the leader, in 0.9.1's order (nomad/job_endpoint.go).

        EnforceIndex is checked against a snapshot of the state, and the job
        is written one raft apply later with nothing held in between: the
        registers that reach the leader within one apply all pass the check
        with the same index, and each of them writes a new version.
        """
        job = jobsmod.canonicalize(job)
        errs = jobsmod.validate(job)
        if errs:
            raise APIError(500, jobsmod.multierror(errs), rpc=True)
        with self.lock:
            existing = copy.deepcopy(self.state['jobs'].get(job_key(job)))
        if enforce:
            if existing is not None:
                if modify_index == 0:
                    raise APIError(500, 'Enforcing job modify index 0: job already exists', rpc=True)
                if modify_index != existing['JobModifyIndex']:
                    raise APIError(500, 'Enforcing job modify index %d: job exists with conflicting job modify '
                                   'index: %d' % (modify_index, existing['JobModifyIndex']), rpc=True)
            elif modify_index != 0:
                raise APIError(500, 'Enforcing job modify index %d: job does not exist' % modify_index, rpc=True)
        if job['Namespace'] not in self.state['namespaces']:
            raise APIError(500, 'job %s is in nonexistent namespace %s'
                           % (json.dumps(job['ID']), json.dumps(job['Namespace'])), rpc=True)
        if existing is None or jobsmod.spec(existing) != jobsmod.spec(job):
            job['SubmitTime'] = now_ns()
            jmi = self.raft_apply(lambda: self._apply_job_register(job))
        else:
            # The same spec again: no write; the reply names the stored version.
            jmi = existing['JobModifyIndex']
        if job.get('Periodic') and job['Periodic'].get('Enabled') or job.get('ParameterizedJob'):
            return {'EvalCreateIndex': 0, 'EvalID': '', 'Index': 0, 'JobModifyIndex': jmi,
                    'KnownLeader': False, 'LastContact': 0, 'Warnings': jobsmod.warnings(job)}, 0
        ev = self.raft_apply(lambda: self._create_eval(dict(job, JobModifyIndex=jmi), 'job-register'))
        with self.cond:
            self.wait_commit(ev['CreateIndex'])
        return {'EvalCreateIndex': ev['CreateIndex'], 'EvalID': ev['ID'], 'Index': ev['CreateIndex'],
                'JobModifyIndex': jmi, 'KnownLeader': False, 'LastContact': 0, 'Warnings': jobsmod.warnings(job)}, \
            ev['CreateIndex']

    def keep_submission(self, job, submission):
        """1.6's job source: what was submitted with the version now stored."""
        with self.cond:
            stored = self.state['jobs'].get(job_key(job))
            if stored is None:
                return
            self.state['submissions'][submission_key(job_key(job), stored['Version'])] = dict(
                Format=submission.get('Format') or '', JobID=stored['ID'], JobModifyIndex=stored['JobModifyIndex'],
                Namespace=stored['Namespace'], Source=submission.get('Source') or '',
                VariableFlags=submission.get('VariableFlags') or None, Variables=submission.get('Variables') or '',
                Version=stored['Version'])

    def raft_apply(self, apply):
        """Run ``apply`` (a write) under the lock once a raft apply's time has passed.

        The lock is free while waiting, as the leader's state is while raft
        replicates: whatever the caller checked may have changed by then.
        """
        time.sleep(self.apply_delay)
        with self.cond:
            if not self.is_leader:
                raise APIError(500, 'leadership lost while committing log', rpc=True)
            return apply()

    def _apply_job_register(self, job):
        """The FSM's JobRegister: store ``job`` as the next version, whatever is stored now."""
        idx = self.bump('jobs', 'job_summary')
        self._store_job(job, self.state['jobs'].get(job_key(job)), idx)
        if job.get('Periodic') and job['Periodic'].get('Enabled') or job.get('ParameterizedJob'):
            self.state['tables']['periodic_launch'] = idx
            self._update_job_status(job_key(job))
        return idx

    def _upsert_job(self, job, cur, idx):
        if cur and jobsmod.spec(cur) == jobsmod.spec(job):
            cur['ModifyIndex'] = idx
            return
        job['SubmitTime'] = now_ns()
        self._store_job(job, cur, idx)

    def _store_job(self, job, cur, idx):
        job['ModifyIndex'] = idx
        job['JobModifyIndex'] = idx
        job['Stable'] = False
        if cur:
            job['CreateIndex'] = cur['CreateIndex']
            job['Version'] = cur['Version'] + 1
        else:
            job['CreateIndex'] = idx
            job['Version'] = 0
        job['Status'] = 'pending'
        key = job_key(job)
        self.state['jobs'][key] = job
        self.state['versions'].setdefault(key, []).insert(0, copy.deepcopy(job))
        del self.state['versions'][key][6:]
        self.state['summary_index'].setdefault(key, [job['CreateIndex'], idx])[1] = idx

    def deregister_job(self, job_id, purge, namespace='default'):
        key = jkey(namespace, job_id)
        with self.cond:
            cur = self.state['jobs'].get(key)
            idx = self.bump('jobs', 'job_summary')
            for ev in self.state['evals'].values():
                # A stopped job needs no more capacity.
                if owner_key(ev) == key and ev['Status'] == 'blocked':
                    ev['Status'] = 'cancelled'
                    ev['StatusDescription'] = 'evaluation cancelled: job deregistered'
                    ev['ModifyIndex'] = idx
                    self.state['tables']['evals'] = idx
            if cur is None:
                ev = self._create_eval({'ID': job_id, 'Priority': 50, 'Type': 'service', 'JobModifyIndex': idx,
                                        'Namespace': namespace}, 'job-deregister')
                jmi = idx
            else:
                if purge:
                    del self.state['jobs'][key]
                    self.state['versions'].pop(key, None)
                    self.state['summary_index'].pop(key, None)
                    jmi = idx
                    ev = self._create_eval(dict(cur, JobModifyIndex=idx), 'job-deregister')
                else:
                    stopped = copy.deepcopy(cur)
                    stopped['Stop'] = True
                    self._upsert_job(stopped, cur, idx)
                    jmi = self.state['jobs'][key]['JobModifyIndex']
                    ev = self._create_eval(self.state['jobs'][key], 'job-deregister')
            self.wait_commit(ev['CreateIndex'])
            out = {'EvalCreateIndex': ev['CreateIndex'], 'EvalID': ev['ID'], 'Index': ev['CreateIndex'],
                   'JobModifyIndex': jmi, 'KnownLeader': False, 'LastContact': 0}
            if IS_1X:
                out.update({'VolumeEvalID': '', 'VolumeEvalIndex': 0})
            return out, ev['CreateIndex']

    def periodic_force(self, job_id, namespace='default'):
        with self.cond:
            parent = self.state['jobs'].get(jkey(namespace, job_id))
            if not parent:
                raise APIError(404, 'job not found')
            if not (parent.get('Periodic') or {}).get('Enabled'):
                raise APIError(500, 'can\'t force run non-periodic job', rpc=True)
            child = copy.deepcopy(parent)
            child['ID'] = child['Name'] = '%s/periodic-%d' % (job_id, int(time.time()))
            child['ParentID'] = job_id
            child['Periodic'] = None
            idx = self.bump('jobs', 'job_summary', 'periodic_launch')
            self._upsert_job(child, None, idx)
            ev = self._create_eval(self.state['jobs'][job_key(child)], 'periodic-job')
            return {'EvalCreateIndex': ev['CreateIndex'], 'EvalID': ev['ID'], 'Index': ev['CreateIndex']}, \
                ev['CreateIndex']

    # ------------------------------------------------------------------ evals
    def _create_eval(self, job, trigger, status='pending', node_id='', previous='', desc=''):
        idx = self.bump('evals')
        ev = template('eval')
        ev.update({'ID': new_id(), 'JobID': job['ID'], 'JobModifyIndex': job.get('JobModifyIndex') or 0,
                   'Namespace': job.get('Namespace') or 'default', 'Priority': job.get('Priority') or 50,
                   'Type': job.get('Type') or 'service',
                   'TriggeredBy': trigger, 'Status': status, 'StatusDescription': desc, 'CreateIndex': idx,
                   'ModifyIndex': idx, 'SnapshotIndex': 0, 'QueuedAllocations': None, 'FailedTGAllocs': None,
                   'BlockedEval': '', 'NextEval': '', 'PreviousEval': previous, 'NodeID': node_id,
                   'NodeModifyIndex': 0, 'DeploymentID': '', 'ClassEligibility': None,
                   'EscapedComputedClass': False, 'AnnotatePlan': False, 'LeaderACL': '', 'Wait': 0,
                   'WaitUntil': ZERO_TIME, 'QuotaLimitReached': ''})
        if IS_1X:
            ev['CreateTime'] = ev['ModifyTime'] = now_ns()
        ev['_created'] = time.monotonic()
        self.state['evals'][ev['ID']] = ev
        self._touch_summary(owner_key(ev), idx)
        return ev

    def _touch_summary(self, key, idx):
        if key in self.state['summary_index']:
            self.state['summary_index'][key][1] = idx
            self.state['tables']['job_summary'] = idx
        self._update_job_status(key)

    def _unblock_evals(self):
        for ev in list(self.state['evals'].values()):
            if ev['Status'] == 'blocked':
                idx = self.bump('evals')
                ev['Status'] = 'pending'
                ev['ModifyIndex'] = idx
                ev['_created'] = time.monotonic()

    def _worker_loop(self):
        while not self.stopping:
            time.sleep(0.1)
            with self.cond:
                if not self.is_leader:
                    continue
                pending = sorted((e for e in self.state['evals'].values() if e['Status'] == 'pending'),
                                 key=lambda e: e['CreateIndex'])
                for ev in pending:
                    # Leave a fresh eval visible as pending for a moment, as the real one is.
                    if time.monotonic() - ev.get('_created', 0) < 0.3:
                        continue
                    try:
                        self._process_eval(ev)
                    except Exception as e:  # keep the worker alive; fail the eval visibly
                        log('ERROR', 'worker: eval %s failed: %r' % (ev['ID'], e))
                        idx = self.bump('evals')
                        ev['Status'] = 'failed'
                        ev['StatusDescription'] = str(e)
                        ev['ModifyIndex'] = idx

    def _process_eval(self, ev):
        key = owner_key(ev)
        job = self.state['jobs'].get(key)
        snap = self.state['index']
        result = self.reconcile(job, key, commit=True, eval_id=ev['ID'])
        idx = self.bump('evals')
        ev['SnapshotIndex'] = snap
        ev['Status'] = 'complete'
        ev['ModifyIndex'] = idx
        if IS_1X:
            ev['ModifyTime'] = now_ns()
        ev['QueuedAllocations'] = result['queued'] if job else None
        ev['FailedTGAllocs'] = result['failed'] or None
        ev['DeploymentID'] = result.get('deployment_id') or ''
        if IS_1X and not ev['DeploymentID'] and job is not None:
            # 1.1.0 ties an eval to the job's latest deployment even when it
            # places nothing (api/131, cli/39: the stop's eval is "within deployment").
            mine = [d for d in self.state['deployments'].values()
                    if owner_key(d) == key and d['JobCreateIndex'] == job['CreateIndex']]
            if mine:
                ev['DeploymentID'] = max(mine, key=lambda d: d['CreateIndex'])['ID']
        if result['failed']:
            blocked = self._create_eval(job, 'queued-allocs', status='blocked', previous=ev['ID'],
                                        desc='created to place remaining allocations')
            if IS_1X:
                # 1.1.0's blocked eval carries the failures it waits on (api/082).
                blocked['FailedTGAllocs'] = copy.deepcopy(result['failed'])
                blocked['SnapshotIndex'] = snap
            blocked['ClassEligibility'] = dict((n.get('ComputedClass', 'v1:0'), False)
                                               for n in self.state['nodes'].values())
            ev['BlockedEval'] = blocked['ID']
            # Older blocked evals of the same job are superseded.
            for other in self.state['evals'].values():
                if owner_key(other) == key and other['Status'] == 'blocked' and other is not blocked:
                    other['Status'] = 'cancelled'
                    other['ModifyIndex'] = idx
        self._touch_summary(key, idx)

    # ------------------------------------------------------------------ scheduling
    def ready_nodes(self):
        return [n for n in self.state['nodes'].values()
                if n['Status'] == 'ready' and n.get('SchedulingEligibility', 'eligible') == 'eligible'
                and not n.get('Drain')]

    def reconcile(self, job, key, commit, eval_id='', plan_job=None):
        """Compare the wanted job with its allocations; place/stop/update.

        With ``commit=False`` nothing changes and the counts serve the plan
        endpoint.  Returns {'updates': {tg: DesiredTGUpdates}, 'failed': ...,
        'queued': {tg: n}, 'created': [...], 'modified': [...]}.
        """
        want = plan_job if plan_job is not None else job
        allocs = [a for a in self.state['allocs'].values() if owner_key(a) == key]
        live = [a for a in allocs if not alloc_terminal(a)]
        res = {'updates': {}, 'failed': {}, 'queued': {}, 'created': [], 'modified': [], 'stopped': []}
        if want is None or want.get('Stop'):
            for a in live:
                res['stopped'].append(a['ID'])
                if commit:
                    self._stop_alloc(a, 'alloc not needed due to job update')
            for tg in (want or {}).get('TaskGroups') or []:
                res['updates'][tg['Name']] = self._counts(stop=len([a for a in live if a['TaskGroup'] == tg['Name']]))
                res['queued'][tg['Name']] = 0
            return res
        if want['Type'] == 'system':
            return self._reconcile_system(job, want, live, commit, eval_id, plan_job, res)
        deployment = None
        for tg in want['TaskGroups']:
            name = tg['Name']
            mine = sorted([a for a in live if a['TaskGroup'] == name], key=lambda a: a['Name'])
            done = [a for a in allocs if a['TaskGroup'] == name and a['ClientStatus'] == 'complete'
                    and want['Type'] == 'batch']
            counts = self._counts()
            keep = []
            modified_before = len(res['modified'])
            had_running = any(a['JobVersion'] == want['Version'] for a in mine)
            gate, canaries = self._rolling(job, want, tg, key, mine, plan_job)
            if canaries is not None:
                # Canaries first: the old allocations run on until a promotion.
                for a in mine:
                    if a['ID'] not in canaries['placed']:
                        counts['Ignore'] += 1
                    keep.append(a)
                counts['Canary'] = canaries['missing']
            else:
                # Allocations of the wanted version first, so that they fill the count.
                mine.sort(key=lambda a: (self._destructive(a, job, want, tg, plan_job), a['Name']))
            for a in ([] if canaries is not None else mine):
                if len(keep) + counts['DestructiveUpdate'] >= tg['Count']:
                    counts['Stop'] += 1
                    res['stopped'].append(a['ID'])
                    if commit:
                        self._stop_alloc(a, 'alloc not needed due to job update')
                    continue
                if gate is not None and self._destructive(a, job, want, tg, plan_job):
                    if gate <= 0:
                        # max_parallel: this one waits for the next batch.
                        counts['Ignore'] += 1
                        keep.append(a)
                        continue
                    gate -= 1
                if self._update_one(a, job, want, tg, plan_job, commit, eval_id, counts, res):
                    keep.append(a)
            missing = tg['Count'] - len(keep) - counts['DestructiveUpdate'] - len(done)
            if missing < 0 or canaries is not None:
                missing = 0
            if counts['DestructiveUpdate']:
                counts_place = missing + counts['DestructiveUpdate']
            else:
                counts_place = missing
            if canaries is not None:
                counts_place = canaries['missing']
            counts['Place'] = missing
            res['updates'][name] = counts
            used_names = set(a['Name'] for a in keep) | set(a['Name'] for a in done)
            # 1.1.0 links a migrated allocation with its replacement (api/166-167).
            migrated = [a for a in allocs if IS_1X and a['TaskGroup'] == name and not a.get('NextAllocation')
                        and (a.get('DesiredTransition') or {}).get('Migrate')]
            replaced = [a for a in allocs if a['TaskGroup'] == name and want['Type'] == 'service'
                        and a['DesiredStatus'] == 'run' and a['ClientStatus'] == 'failed']
            updated = res['modified'][modified_before:]
            if IS_1X and commit and (counts_place or updated) and want['Type'] == 'service' and tg.get('Update'):
                deployment = self._deployment_1x(want, key, deployment, had_running,
                                                 bool(updated or counts['DestructiveUpdate']))
                if deployment is not None:
                    dtg = deployment['TaskGroups'].setdefault(name, self._deployment_tg(tg))
                    for aid in updated:
                        self.state['allocs'][aid]['DeploymentID'] = deployment['ID']
                        dtg['PlacedAllocs'] += 1
            placed = 0
            failed_metric = None
            for _i in range(counts_place):
                node, metric = self._select_node(want, tg)
                if node is None:
                    failed_metric = metric
                    break
                placed += 1
                if commit:
                    if deployment is None and want['Type'] == 'service' and tg.get('Update') and not IS_1X:
                        deployment = self._deployment_for(want)
                    a = self._new_alloc(want, tg, node, eval_id, used_names, metric, deployment)
                    res['created'].append(a['ID'])
                    if canaries is not None and deployment is not None:
                        a['DeploymentStatus'] = {'Canary': True, 'Healthy': None, 'ModifyIndex': 0,
                                                 'Timestamp': ZERO_TIME}
                        dtg = deployment['TaskGroups'][name]
                        dtg['DesiredCanaries'] = canaries['wanted']
                        dtg['PlacedCanaries'] = (dtg['PlacedCanaries'] or []) + [a['ID']]
                    if replaced:
                        # A failed allocation that a new one takes over from is stopped (recorded).
                        self._stop_alloc(replaced.pop(0), 'alloc not needed due to job update')
                    if migrated:
                        prev = migrated.pop(0)
                        prev['NextAllocation'] = a['ID']
                        a['PreviousAllocation'] = prev['ID']
            unplaced = counts_place - placed
            if unplaced:
                failed_metric['CoalescedFailures'] = unplaced - 1
                res['failed'][name] = failed_metric
            res['queued'][name] = unplaced
        if deployment is not None:
            res['deployment_id'] = deployment['ID']
        return res

    def _destructive(self, a, job, want, tg, plan_job):
        """Whether the allocation must be replaced to run the wanted version."""
        same_spec = job is not None and a['JobVersion'] == job['Version'] and plan_job is None
        if plan_job is not None and job is not None:
            same_spec = jobsmod.spec(plan_job) == jobsmod.spec(job) and a['JobVersion'] == job['Version']
        if same_spec:
            return False
        old_tg = next((g for g in a['Job']['TaskGroups'] if g['Name'] == tg['Name']), None)
        return old_tg is None or jobsmod.tasks_spec(old_tg) != jobsmod.tasks_spec(tg)

    def _active_deployment(self, key, job):
        for d in self.state['deployments'].values():
            if owner_key(d) == key and d['JobVersion'] == job.get('Version') \
                    and d['JobCreateIndex'] == job.get('CreateIndex') and d['Status'] in ('running', 'paused'):
                return d
        return None

    def _rolling(self, job, want, tg, key, mine, plan_job):
        """The update block's say over one group's replacements (the
        reconciler's canary and max_parallel rules, as recorded in
        tests/recordings/nomad-*/deployments.json): ``(gate, canaries)``.

        ``gate`` is how many allocations this evaluation may replace (None:
        no limit), max_parallel less the new ones not yet healthy.
        ``canaries`` is None, or, while canaries wait for a promotion,
        ``{'wanted', 'placed', 'missing'}``: old allocations then stay.
        """
        upd = tg.get('Update') or {}
        if want['Type'] != 'service' or not (upd.get('MaxParallel') or 0) > 0 or job is None:
            return None, None
        old = [a for a in mine if self._destructive(a, job, want, tg, plan_job)]
        if not old:
            return None, None
        dep = self._active_deployment(key, want) if plan_job is None else None
        if dep is not None and dep['Status'] == 'paused':
            return 0, None
        dtg = ((dep or {}).get('TaskGroups') or {}).get(tg['Name']) or {}
        wanted = upd.get('Canary') or 0
        if wanted and not dtg.get('Promoted'):
            placed = [a['ID'] for a in mine if a['ID'] in (dtg.get('PlacedCanaries') or [])]
            return None, {'wanted': wanted, 'placed': placed, 'missing': max(0, wanted - len(placed))}
        fresh = [a for a in mine if a not in old and dep is not None and a['DeploymentID'] == dep['ID']]
        waiting = [a for a in fresh if not (a.get('DeploymentStatus') or {}).get('Healthy')]
        return max(0, upd['MaxParallel'] - len(waiting)), None

    def _update_one(self, a, job, want, tg, plan_job, commit, eval_id, counts, res):
        """Ignore, update in place, or stop for replacement; True if the alloc stays."""
        same_spec = job is not None and a['JobVersion'] == job['Version'] and plan_job is None
        if plan_job is not None and job is not None:
            same_spec = jobsmod.spec(plan_job) == jobsmod.spec(job) and a['JobVersion'] == job['Version']
        if same_spec:
            counts['Ignore'] += 1
            return True
        old_tg = next((g for g in a['Job']['TaskGroups'] if g['Name'] == tg['Name']), None)
        if old_tg is not None and jobsmod.tasks_spec(old_tg) == jobsmod.tasks_spec(tg):
            counts['InPlaceUpdate'] += 1
            if commit:
                aidx = self.bump('allocs')
                a['Job'] = copy.deepcopy(want)
                a['JobVersion'] = want['Version']
                a['ModifyIndex'] = aidx
                a['AllocModifyIndex'] = aidx
                a['ModifyTime'] = now_ns()
                a['EvalID'] = eval_id
                res['modified'].append(a['ID'])
            return True
        counts['DestructiveUpdate'] += 1
        res['stopped'].append(a['ID'])
        if commit:
            self._stop_alloc(a, 'alloc is being updated due to job update')
        return False

    def _reconcile_system(self, job, want, live, commit, eval_id, plan_job, res):
        """System jobs: one allocation per feasible ready node, whatever the count."""
        ready = [n for n in self.ready_nodes() if n['Datacenter'] in want['Datacenters']]
        for tg in want['TaskGroups']:
            counts = self._counts()
            on = set()
            for a in sorted((a for a in live if a['TaskGroup'] == tg['Name']), key=lambda a: a['CreateIndex']):
                node = self.state['nodes'].get(a['NodeID'])
                fits = node is not None and node['Status'] == 'ready' and a['NodeID'] not in on and \
                    self._select_node(want, tg, only=node, check_ports=False)[0] is not None
                if not fits:
                    counts['Stop'] += 1
                    res['stopped'].append(a['ID'])
                    if commit:
                        self._stop_alloc(a, 'alloc not needed as node is tainted')
                    continue
                if self._update_one(a, job, want, tg, plan_job, commit, eval_id, counts, res):
                    on.add(a['NodeID'])
            names = set(a['Name'] for a in live if a['TaskGroup'] == tg['Name'])
            for node in ready:
                if node['ID'] in on:
                    continue
                chosen, metric = self._select_node(want, tg, only=node)
                if chosen is None:
                    continue
                counts['Place'] += 1
                if commit:
                    res['created'].append(self._new_alloc(want, tg, chosen, eval_id, names, metric, None)['ID'])
            counts['Place'] -= min(counts['Place'], counts['DestructiveUpdate'])
            res['updates'][tg['Name']] = counts
            res['queued'][tg['Name']] = 0
        return res

    def _counts(self, **kw):
        c = {'Canary': 0, 'DestructiveUpdate': 0, 'Ignore': 0, 'InPlaceUpdate': 0, 'Migrate': 0, 'Place': 0,
             'Preemptions': 0, 'Stop': 0}
        c.update(kw)
        return c

    def _stop_alloc(self, a, why):
        idx = self.bump('allocs')
        a['DesiredStatus'] = 'stop'
        a['DesiredDescription'] = why
        a['ModifyIndex'] = idx
        a['AllocModifyIndex'] = idx
        a['ModifyTime'] = now_ns()

    def _select_node(self, job, tg, only=None, check_ports=True):
        """Feasibility checks in Nomad's order, then spread by job allocations."""
        metric = template('alloc_metric')
        for key in ('ClassExhausted', 'ClassFiltered', 'ConstraintFiltered', 'DimensionExhausted',
                    'QuotaExhausted', 'ScoreMetaData', 'Scores'):
            metric[key] = None
        metric.update({'NodesEvaluated': 0, 'NodesFiltered': 0, 'NodesExhausted': 0, 'CoalescedFailures': 0,
                       'AllocationTime': 5000})
        ready = self.ready_nodes()
        avail = {}
        for dc in job['Datacenters']:
            avail[dc] = len([n for n in ready if n['Datacenter'] == dc])
        metric['NodesAvailable'] = avail
        nodes = [n for n in ready if n['Datacenter'] in job['Datacenters']]
        if only is not None:
            nodes = [n for n in nodes if n['ID'] == only['ID']]
        drivers = set(t['Driver'] for t in tg['Tasks'])
        constraints = list(job.get('Constraints') or []) + list(tg.get('Constraints') or [])
        for t in tg['Tasks']:
            constraints += list(t.get('Constraints') or [])
        ok = []
        for n in nodes:
            metric['NodesEvaluated'] += 1
            missing = [d for d in sorted(drivers) if not ((n.get('Drivers') or {}).get(d) or {}).get('Healthy')]
            if missing:
                metric['NodesFiltered'] += 1
                metric['ConstraintFiltered'] = metric['ConstraintFiltered'] or {}
                key = 'missing drivers'
                metric['ConstraintFiltered'][key] = metric['ConstraintFiltered'].get(key, 0) + 1
                continue
            bad = next((c for c in constraints if not self._constraint_ok(n, c, job, tg)), None)
            if bad is not None:
                metric['NodesFiltered'] += 1
                metric['ConstraintFiltered'] = metric['ConstraintFiltered'] or {}
                key = '%s %s %s' % (bad.get('LTarget') or '', bad.get('Operand') or '=', bad.get('RTarget') or '')
                key = key.strip()
                metric['ConstraintFiltered'][key] = metric['ConstraintFiltered'].get(key, 0) + 1
                continue
            if check_ports and not self._ports_fit(n, tg):
                metric['NodesExhausted'] += 1
                metric['DimensionExhausted'] = metric['DimensionExhausted'] or {}
                metric['DimensionExhausted']['network: reserved port collision'] = \
                    metric['DimensionExhausted'].get('network: reserved port collision', 0) + 1
                continue
            ok.append(n)
        if not ok:
            return None, metric

        def load(n):
            same = len([a for a in self.state['allocs'].values()
                        if a['NodeID'] == n['ID'] and owner_key(a) == job_key(job) and not alloc_terminal(a)])
            total = len([a for a in self.state['allocs'].values()
                         if a['NodeID'] == n['ID'] and not alloc_terminal(a)])
            return (same, total, random.random())
        best = min(ok, key=load)
        metric['ScoreMetaData'] = [{'NodeID': best['ID'], 'NormScore': 0.5,
                                    'Scores': {'binpack': 0.5, 'job-anti-affinity': 0.0, 'node-affinity': 0.0,
                                               'node-reschedule-penalty': 0.0}}]
        return best, metric

    def _resolve(self, node, target):
        if target is None:
            return None
        m = re.match(r'^\$\{(attr|node|meta)\.(.+)\}$', target)
        if not m:
            return target
        kind, key = m.groups()
        if kind == 'attr':
            return (node.get('Attributes') or {}).get(key)
        if kind == 'meta':
            return (node.get('Meta') or {}).get(key)
        return {'unique.id': node['ID'], 'datacenter': node['Datacenter'], 'unique.name': node['Name'],
                'class': node.get('NodeClass')}.get(key)

    def _constraint_ok(self, node, c, job, tg):
        op = c.get('Operand') or '='
        if op in ('distinct_hosts', 'distinct_property'):
            if op == 'distinct_hosts':
                return not any(a['NodeID'] == node['ID'] and owner_key(a) == job_key(job) and not alloc_terminal(a)
                               for a in self.state['allocs'].values())
            return True
        lv = self._resolve(node, c.get('LTarget'))
        rv = self._resolve(node, c.get('RTarget'))
        if op == 'is_set':
            return lv is not None
        if op == 'is_not_set':
            return lv is None
        if lv is None:
            return False
        if op in ('=', '==', 'is'):
            return lv == rv
        if op in ('!=', 'not'):
            return lv != rv
        if op == 'regexp':
            try:
                return re.search(rv or '', lv) is not None
            except re.error:
                return False
        if op == 'set_contains':
            have = set(x.strip() for x in lv.split(','))
            return all(x.strip() in have for x in (rv or '').split(','))
        if op in ('<', '<=', '>', '>='):
            try:
                a, b = float(lv), float(rv)
            except (TypeError, ValueError):
                a, b = lv, rv
            return {'<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b}[op]
        return True

    def _used_ports(self, node_id):
        used = set()
        for a in self.state['allocs'].values():
            if a['NodeID'] != node_id or alloc_terminal(a):
                continue
            for tr in (a.get('TaskResources') or {}).values():
                for net in tr.get('Networks') or []:
                    for p in (net.get('DynamicPorts') or []) + (net.get('ReservedPorts') or []):
                        used.add(p['Value'])
            for p in ((a.get('AllocatedResources') or {}).get('Shared') or {}).get('Ports') or []:
                used.add(p['Value'])
        return used

    def _ports_fit(self, node, tg):
        used = self._used_ports(node['ID'])
        nets = [net for t in tg['Tasks'] for net in (t.get('Resources') or {}).get('Networks') or []]
        if IS_1X:
            nets += tg.get('Networks') or []
        for net in nets:
            for p in net.get('ReservedPorts') or []:
                if p['Value'] in used:
                    return False
        return True

    @staticmethod
    def _place_network(net, device, ip, used):
        """The job's network as allocated on a node: dynamic ports get free host ports."""
        net = copy.deepcopy(net)
        net['Device'] = device
        net['IP'] = ip
        net['CIDR'] = ''
        dyn = []
        for p in net.get('DynamicPorts') or []:
            v = random.randint(20000, 32000)
            while v in used:
                v = random.randint(20000, 32000)
            used.add(v)
            # 1.x ports keep To and HostNetwork; 0.9.1's have only Label and Value.
            dyn.append(dict(p, Value=v) if IS_1X else {'Label': p['Label'], 'Value': v})
        net['DynamicPorts'] = dyn or None
        for p in net.get('ReservedPorts') or []:
            used.add(p['Value'])
        return net

    def _new_alloc(self, job, tg, node, eval_id, used_names, metric, deployment):
        idx = self.bump('allocs')
        i = 0
        while '%s.%s[%d]' % (job['ID'], tg['Name'], i) in used_names:
            i += 1
        name = '%s.%s[%d]' % (job['ID'], tg['Name'], i)
        used_names.add(name)
        used = self._used_ports(node['ID'])
        net_node = ((node.get('NodeResources') or {}).get('Networks') or [{}])[0]
        task_res = {}
        alloc_tasks = {}
        for t in tg['Tasks']:
            res = copy.deepcopy(t.get('Resources') or {})
            nets = [self._place_network(net, net_node.get('Device', ''), net_node.get('IP', ''), used)
                    for net in res.get('Networks') or []]
            res['Networks'] = nets or None
            task_res[t['Name']] = res
            if IS_1X:
                alloc_tasks[t['Name']] = {'Cpu': {'CpuShares': res.get('CPU') or 0, 'ReservedCores': None},
                                          'Devices': None,
                                          'Memory': {'MemoryMB': res.get('MemoryMB') or 0,
                                                     'MemoryMaxMB': res.get('MemoryMaxMB') or 0},
                                          'Networks': copy.deepcopy(res['Networks'])}
            else:
                alloc_tasks[t['Name']] = {'Cpu': {'CpuShares': res.get('CPU') or 0}, 'Devices': None,
                                          'Memory': {'MemoryMB': res.get('MemoryMB') or 0},
                                          'Networks': copy.deepcopy(res['Networks'])}
        disk = (tg.get('EphemeralDisk') or {}).get('SizeMB', 300)
        all_nets = [n for r in task_res.values() for n in (r.get('Networks') or [])]
        a = template('alloc')
        a.update({
            'ID': new_id(), 'EvalID': eval_id, 'Name': name, 'Namespace': job['Namespace'], 'NodeID': node['ID'],
            'JobID': job['ID'], 'Job': copy.deepcopy(job), 'TaskGroup': tg['Name'], 'JobVersion': job['Version'],
            'Resources': {'CPU': sum(r.get('CPU') or 0 for r in task_res.values()), 'Devices': None,
                          'DiskMB': disk, 'IOPS': 0,
                          'MemoryMB': sum(r.get('MemoryMB') or 0 for r in task_res.values()),
                          'Networks': copy.deepcopy(all_nets) or None},
            'SharedResources': {'CPU': 0, 'Devices': None, 'DiskMB': disk, 'IOPS': 0, 'MemoryMB': 0,
                                'Networks': None},
            'TaskResources': task_res,
            'AllocatedResources': {'Shared': {'DiskMB': disk}, 'Tasks': alloc_tasks},
            'Metrics': metric, 'DesiredStatus': 'run', 'DesiredDescription': '', 'DesiredTransition':
                {'ForceReschedule': None, 'Migrate': None, 'Reschedule': None},
            'ClientStatus': 'pending', 'ClientDescription': '', 'TaskStates': None,
            'DeploymentID': deployment['ID'] if deployment else '', 'DeploymentStatus': None,
            'FollowupEvalID': '', 'NextAllocation': '', 'PreviousAllocation': '', 'RescheduleTracker': None,
            'PreemptedAllocations': None, 'PreemptedByAllocation': '',
            'CreateIndex': idx, 'ModifyIndex': idx, 'AllocModifyIndex': idx, 'CreateTime': now_ns(),
            'ModifyTime': now_ns()})
        if IS_1X:
            self._resources_1x(a, tg, task_res, net_node, used)
            a['NodeName'] = node['Name']
        self.state['allocs'][a['ID']] = a
        if deployment is not None:
            dtg = deployment['TaskGroups'].setdefault(tg['Name'], self._deployment_tg(tg))
            dtg['PlacedAllocs'] += 1
        return a

    def _resources_1x(self, a, tg, task_res, net_node, used):
        """Where 1.1.0 puts resources (api/053): group networks are shared by the
        allocation, and their ports are listed once more in Shared.Ports."""
        group_nets = [self._place_network(net, '', net_node.get('IP', ''), used) for net in tg.get('Networks') or []]
        ports = []
        for net in group_nets:
            for p in (net.get('ReservedPorts') or []) + (net.get('DynamicPorts') or []):
                ports.append({'HostIP': net['IP'], 'Label': p['Label'], 'To': p.get('To') or 0, 'Value': p['Value']})
        for res in task_res.values():
            res.setdefault('Cores', 0)
            res.setdefault('MemoryMaxMB', 0)
        res = a['Resources']
        res['Cores'] = 0
        res['MemoryMaxMB'] = sum(r.get('MemoryMaxMB') or r.get('MemoryMB') or 0 for r in task_res.values())
        res['Networks'] = (res['Networks'] or []) + copy.deepcopy(group_nets) or None
        a['SharedResources'].update({'Cores': 0, 'MemoryMaxMB': 0, 'Networks': copy.deepcopy(group_nets) or None})
        shared = a['AllocatedResources']['Shared']
        shared['Networks'] = group_nets or None
        shared['Ports'] = ports or None
        a['AllocatedResources']['TaskLifecycles'] = dict((t['Name'], t.get('Lifecycle')) for t in tg['Tasks'])

    # ------------------------------------------------------------------ deployments
    def _deployment_tg(self, tg):
        upd = tg.get('Update') or {}
        out = {'AutoRevert': bool(upd.get('AutoRevert')), 'DesiredCanaries': 0, 'DesiredTotal': tg['Count'],
               'HealthyAllocs': 0, 'PlacedAllocs': 0, 'PlacedCanaries': None,
               'ProgressDeadline': upd.get('ProgressDeadline') or 0, 'Promoted': False,
               'RequireProgressBy': rfc3339(time.time() + (upd.get('ProgressDeadline') or 0) / 1e9)
               if upd.get('ProgressDeadline') else (None if IS_1X else ZERO_TIME),
               'UnhealthyAllocs': 0}
        if IS_1X:
            out['AutoPromote'] = bool(upd.get('AutoPromote'))
        return out

    def _deployment_1x(self, job, key, current, had_running, updating):
        """1.1.0's reconciler: the deployment of this job version if it still
        runs; a new one only when there is none for this version yet and the
        allocations are new or updated, so a job that places nothing still
        gets one (api/081) and allocations updated in place join it (api/089),
        while replacing lost or drained allocations makes none."""
        if current is not None:
            return current
        # A deployment of an earlier job of the same ID (purged since) does not count.
        same = [d for d in self.state['deployments'].values()
                if owner_key(d) == key and d['JobVersion'] == job['Version']
                and d['JobCreateIndex'] == job['CreateIndex']]
        if same:
            latest = max(same, key=lambda d: d['CreateIndex'])
            return latest if latest['Status'] == 'running' else None
        if had_running and not updating:
            return None
        return self._deployment_for(job)

    def _deployment_for(self, job):
        for d in self.state['deployments'].values():
            if owner_key(d) == job_key(job) and d['JobVersion'] == job['Version'] and d['Status'] == 'running':
                return d
        for d in self.state['deployments'].values():
            if owner_key(d) == job_key(job) and d['Status'] == 'running':
                d['Status'] = 'cancelled'
                d['StatusDescription'] = 'Cancelled due to newer version of job'
        idx = self.bump('deployment')
        d = template('deployment')
        d.update({'ID': new_id(), 'JobID': job['ID'], 'JobVersion': job['Version'], 'Namespace': job['Namespace'],
                  'JobCreateIndex': job['CreateIndex'], 'JobModifyIndex': job['JobModifyIndex'],
                  'JobSpecModifyIndex': job['JobModifyIndex'], 'CreateIndex': idx, 'ModifyIndex': idx,
                  'Status': 'running', 'StatusDescription': 'Deployment is running', 'TaskGroups': {}})
        self.state['deployments'][d['ID']] = d
        return d

    def _watch_deployments(self):
        """The deployment watcher: health counts from the allocations' health,
        promotion by auto_promote, the next max_parallel batch once allocations
        are healthy, and the end: successful, or failed on the first unhealthy
        allocation, rolled back when the group asks for auto_revert (the
        recorded progress_deadline = 0 behaviour)."""
        for d in list(self.state['deployments'].values()):
            if d['Status'] not in ('running', 'paused'):
                continue
            allocs = [a for a in self.state['allocs'].values() if a['DeploymentID'] == d['ID']]
            changed = progressed = False
            for name, dtg in d['TaskGroups'].items():
                healthy = len([a for a in allocs if a['TaskGroup'] == name
                               and (a.get('DeploymentStatus') or {}).get('Healthy')])
                unhealthy = len([a for a in allocs if a['TaskGroup'] == name
                                 and (a.get('DeploymentStatus') or {}).get('Healthy') is False])
                if (healthy, unhealthy) != (dtg['HealthyAllocs'], dtg['UnhealthyAllocs']):
                    progressed = progressed or healthy > dtg['HealthyAllocs']
                    dtg['HealthyAllocs'], dtg['UnhealthyAllocs'] = healthy, unhealthy
                    changed = True
            if d['Status'] == 'paused':
                if changed:
                    d['ModifyIndex'] = self.bump('deployment')
                continue
            if any(t['UnhealthyAllocs'] for t in d['TaskGroups'].values()):
                self.fail_deployment(d, 'Failed due to unhealthy allocations')
                continue
            for dtg in d['TaskGroups'].values():
                if dtg.get('AutoPromote') and self._canaries_healthy(dtg) and not dtg['Promoted']:
                    dtg['Promoted'] = True
                    changed = progressed = True
            status = None
            if all(t['HealthyAllocs'] >= t['DesiredTotal'] and (t['Promoted'] or not t['DesiredCanaries'])
                   for t in d['TaskGroups'].values()):
                status = ('successful', 'Deployment completed successfully')
            else:
                desc = self._running_description(d)
                if desc != d['StatusDescription']:
                    status = ('running', desc)
            if status or changed:
                idx = self.bump('deployment')
                d['ModifyIndex'] = idx
                if status:
                    d['Status'], d['StatusDescription'] = status
                    job = self.state['jobs'].get(owner_key(d))
                    if status[0] == 'successful' and job and job['Version'] == d['JobVersion']:
                        jidx = self.bump('jobs')
                        job['Stable'] = True
                        job['ModifyIndex'] = jidx
                        for version in self.state['versions'].get(owner_key(d)) or []:
                            if version['Version'] == d['JobVersion']:
                                version['Stable'] = True
                if progressed and d['Status'] == 'running':
                    self._deployment_eval(d)

    @staticmethod
    def _canaries_healthy(dtg):
        return bool(dtg['DesiredCanaries']) and len(dtg['PlacedCanaries'] or []) >= dtg['DesiredCanaries'] \
            and dtg['HealthyAllocs'] >= dtg['DesiredCanaries']

    @staticmethod
    def _running_description(d):
        waiting = [t for t in d['TaskGroups'].values() if t['DesiredCanaries'] and not t['Promoted']]
        if not waiting:
            return 'Deployment is running'
        if all(t.get('AutoPromote') for t in waiting):
            return 'Deployment is running pending automatic promotion'
        # 0.9.1's words; 1.x added "manual" (tests/recordings/nomad-*/deployments.json).
        return 'Deployment is running but requires %spromotion' % ('manual ' if IS_1X else '')

    def _deployment_eval(self, d):
        job = self.state['jobs'].get(owner_key(d))
        if job is None or job.get('Stop'):
            return None
        ev = self._create_eval(job, 'deployment-watcher')
        ev['DeploymentID'] = d['ID']
        return ev

    def fail_deployment(self, d, why):
        """Fail ``d``; with auto_revert, register the latest stable version
        before it again (Nomad's rollback). Returns the reverted version."""
        key = owner_key(d)
        job = self.state['jobs'].get(key)
        reverted = None
        desc = why
        if job is not None and any(t.get('AutoRevert') for t in d['TaskGroups'].values()):
            stable = [v for v in self.state['versions'].get(key) or []
                      if v.get('Stable') and v['Version'] < d['JobVersion']]
            if stable:
                target = max(stable, key=lambda v: v['Version'])
                if jobsmod.spec(target) == jobsmod.spec(job):
                    desc = '%s - not rolling back to stable job version %d as current job has same specification' \
                        % (why, target['Version'])
                else:
                    desc = '%s - rolling back to job version %d' % (why, target['Version'])
                    reverted = target['Version']
        idx = self.bump('deployment')
        d['Status'], d['StatusDescription'], d['ModifyIndex'] = 'failed', desc, idx
        if reverted is not None:
            back = copy.deepcopy(next(v for v in self.state['versions'][key] if v['Version'] == reverted))
            back['SubmitTime'] = now_ns()
            back['Stop'] = False
            self._store_job(back, job, self.bump('jobs', 'job_summary'))
            self._update_job_status(key)
        ev = self._deployment_eval(d)
        return reverted, ev

    def _deployment_or_error(self, did, verb):
        d = self.state['deployments'].get(did)
        if d is None:
            raise APIError(500, 'deployment not found', rpc=True)
        if d['Status'] not in ('running', 'paused'):
            raise APIError(500, "can't %s terminal deployment" % verb, rpc=True)
        return d

    def _deployment_reply(self, d, ev=None, reverted=None):
        self.wait_commit(self.state['index'])
        return {'DeploymentModifyIndex': d['ModifyIndex'], 'EvalCreateIndex': ev['CreateIndex'] if ev else 0,
                'EvalID': ev['ID'] if ev else '', 'Index': self.state['index'], 'RevertedJobVersion': reverted}, \
            self.state['index']

    def deployment_promote(self, did, promote_all, groups):
        with self.cond:
            d = self._deployment_or_error(did, 'promote')
            chosen = [n for n in d['TaskGroups'] if promote_all or n in (groups or [])]
            sick = []
            for name in sorted(chosen):
                dtg = d['TaskGroups'][name]
                for aid in dtg['PlacedCanaries'] or []:
                    a = self.state['allocs'].get(aid)
                    if a is None:
                        continue
                    if alloc_terminal(a) or not (a.get('DeploymentStatus') or {}).get('Healthy'):
                        sick.append('Canary allocation "%s" for group "%s" is not healthy' % (aid, name))
            if sick:
                raise APIError(500, '%d error%s occurred:\n\t* %s\n\n' % (
                    len(sick), '' if len(sick) == 1 else 's', '\n\t* '.join(sick)), rpc=True)
            aidx = self.bump('allocs')
            for name in chosen:
                d['TaskGroups'][name]['Promoted'] = True
                for aid in d['TaskGroups'][name]['PlacedCanaries'] or []:
                    # A promoted canary is a canary no more (recorded: Canary false after promote).
                    a = self.state['allocs'].get(aid)
                    if a is not None and a.get('DeploymentStatus'):
                        a['DeploymentStatus']['Canary'] = False
                        a['DeploymentStatus']['ModifyIndex'] = aidx
                        a['ModifyIndex'] = aidx
            idx = self.bump('deployment')
            d['ModifyIndex'] = idx
            if d['Status'] == 'running':
                d['StatusDescription'] = self._running_description(d)
            ev = self._deployment_eval(d)
            return self._deployment_reply(d, ev)

    def deployment_pause(self, did, pause):
        with self.cond:
            d = self._deployment_or_error(did, 'pause' if pause else 'resume')
            idx = self.bump('deployment')
            d['ModifyIndex'] = idx
            ev = None
            if pause:
                d['Status'], d['StatusDescription'] = 'paused', 'Deployment is paused'
            else:
                d['Status'] = 'running'
                d['StatusDescription'] = self._running_description(d)
                ev = self._deployment_eval(d)
            return self._deployment_reply(d, ev)

    def deployment_fail(self, did):
        with self.cond:
            d = self._deployment_or_error(did, 'fail')
            reverted, ev = self.fail_deployment(d, 'Deployment marked as failed')
            return self._deployment_reply(d, ev, reverted)

    # ------------------------------------------------------------------ snapshots
    def snapshot_save(self):
        """The archive `nomad operator snapshot save` writes (recorded): a
        gzipped tar of meta.json, state.bin and SHA256SUMS. state.bin is the
        double's own JSON state, as its raft.db is."""
        with self.lock:
            state = json.dumps(self.state, sort_keys=True).encode()
            index = self.state['index']
            meta = {'Configuration': {'Servers': [{'Address': '%s:%d' % self.agent.adv_rpc,
                                                   'ID': self.server_id, 'Suffrage': 0}]},
                    'ConfigurationIndex': 1, 'ID': '%d-%d-%d' % (self.term, index, int(time.time() * 1000)),
                    'Index': index, 'Peers': '', 'Size': len(state), 'Term': self.term, 'Version': 1}
        meta_bytes = json.dumps(meta).encode()
        sums = ''.join('%s  %s\n' % (hashlib.sha256(data).hexdigest(), name)
                       for name, data in (('meta.json', meta_bytes), ('state.bin', state))).encode()
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode='wb') as gz, tarfile.open(fileobj=gz, mode='w') as archive:
            for name, data in (('meta.json', meta_bytes), ('state.bin', state), ('SHA256SUMS', sums)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o600
                info.mtime = int(time.time())
                archive.addfile(info, io.BytesIO(data))
        return buf.getvalue(), index

    def snapshot_restore(self, data):
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                raw = gz.read()
        except (OSError, EOFError):
            raise APIError(500, 'failed to restore from snapshot: failed to decompress snapshot: gzip: invalid header',
                           rpc=True)
        try:
            with tarfile.open(fileobj=io.BytesIO(raw), mode='r:') as archive:
                files = dict((m.name, archive.extractfile(m).read()) for m in archive.getmembers() if m.isfile())
            sums = dict(reversed(line.split('  ', 1)) for line in files['SHA256SUMS'].decode().splitlines() if line)
            for name in ('meta.json', 'state.bin'):
                if hashlib.sha256(files[name]).hexdigest() != sums.get(name):
                    raise ValueError('sha256 hash mismatch for %s' % name)
            state = json.loads(files['state.bin'].decode())
        except (tarfile.TarError, KeyError, ValueError) as e:
            raise APIError(500, 'failed to restore from snapshot: failed to read snapshot file: %s' % e, rpc=True)
        with self.cond:
            self.state = state
            self.dirty = True
            self.cond.notify_all()

    # ------------------------------------------------------------------ client updates
    def update_allocs(self, updates):
        with self.cond:
            touched = set()
            for u in updates:
                a = self.state['allocs'].get(u['ID'])
                if not a:
                    continue
                idx = self.bump('allocs')
                for key in ('ClientStatus', 'ClientDescription', 'TaskStates'):
                    if key in u:
                        a[key] = u[key]
                if u.get('DeploymentStatus') is not None:
                    ds = dict(u['DeploymentStatus'])
                    # The canary mark is the server's; the client reports health only.
                    ds['Canary'] = bool((a.get('DeploymentStatus') or {}).get('Canary'))
                    ds['ModifyIndex'] = idx
                    a['DeploymentStatus'] = ds
                a['ModifyIndex'] = idx
                a['ModifyTime'] = now_ns()
                touched.add(owner_key(a))
            for key in touched:
                self._touch_summary(key, self.state['index'])

    def client_allocs(self, node_id, secret, index, wait):
        def compute():
            node = self.state['nodes'].get(node_id)
            if not node or node['SecretID'] != secret:
                raise APIError(403, 'node secret ID does not match')
            out = [a for a in self.state['allocs'].values() if a['NodeID'] == node_id]
            # Never 0, so that the client's next query blocks instead of spinning.
            return out, max(1, self.table_index('allocs'))
        return self.wait_for(index, wait, compute)

    # ------------------------------------------------------------------ derived views
    def _update_job_status(self, key):
        job = self.state['jobs'].get(key)
        if not job:
            return
        status = self.job_status(job)
        if status != job['Status']:
            idx = self.bump('jobs')
            job['Status'] = status
            job['ModifyIndex'] = idx

    def job_status(self, job):
        if (job.get('Periodic') or {}).get('Enabled') or job.get('ParameterizedJob'):
            return 'dead' if job['Stop'] else 'running'
        key = job_key(job)
        allocs = [a for a in self.state['allocs'].values() if owner_key(a) == key]
        if any(not alloc_terminal(a) for a in allocs):
            return 'running'
        evals = [e for e in self.state['evals'].values() if owner_key(e) == key]
        if any(e['Status'] in ('pending', 'blocked') for e in evals):
            return 'pending'
        if allocs or evals:
            return 'dead'
        return 'pending'

    def summary(self, key):
        job = self.state['jobs'].get(key)
        if not job:
            return None
        job_id = job['ID']
        s = template('summary')
        s['JobID'] = job_id
        s['Namespace'] = job['Namespace']
        ci, mi = self.state['summary_index'].get(key, [job['CreateIndex'], job['ModifyIndex']])
        s['CreateIndex'], s['ModifyIndex'] = ci, mi
        children = {'Dead': 0, 'Pending': 0, 'Running': 0}
        for j in self.state['jobs'].values():
            if j.get('ParentID') == job_id and j['Namespace'] == job['Namespace']:
                st = j['Status'] if j['Status'] in ('dead', 'pending', 'running') else 'pending'
                children[st.capitalize()] += 1
        s['Children'] = children
        evals = sorted((e for e in self.state['evals'].values()
                        if owner_key(e) == key and e['Status'] == 'complete'), key=lambda e: e['ModifyIndex'])
        queued = (evals[-1]['QueuedAllocations'] or {}) if evals else {}
        summ = {}
        for tg in job['TaskGroups']:
            c = {'Complete': 0, 'Failed': 0, 'Lost': 0, 'Queued': queued.get(tg['Name'], 0), 'Running': 0,
                 'Starting': 0}
            for a in self.state['allocs'].values():
                if owner_key(a) != key or a['TaskGroup'] != tg['Name']:
                    continue
                cs = a['ClientStatus']
                key = {'pending': 'Starting', 'running': 'Running', 'failed': 'Failed', 'complete': 'Complete',
                       'lost': 'Lost'}.get(cs)
                if key:
                    c[key] += 1
            summ[tg['Name']] = c
        s['Summary'] = summ
        return s

    def job_stub(self, job):
        st = template('job_stub')
        st.update({'ID': job['ID'], 'Name': job['Name'], 'ParentID': job.get('ParentID') or '',
                   'Datacenters': job['Datacenters'], 'Type': job['Type'], 'Priority': job['Priority'],
                   'Periodic': bool((job.get('Periodic') or {}).get('Enabled')),
                   'ParameterizedJob': bool(job.get('ParameterizedJob')), 'Stop': job['Stop'],
                   'Status': job['Status'], 'StatusDescription': job.get('StatusDescription') or '',
                   'CreateIndex': job['CreateIndex'], 'ModifyIndex': job['ModifyIndex'],
                   'JobModifyIndex': job['JobModifyIndex'], 'SubmitTime': job['SubmitTime'],
                   'JobSummary': self.summary(job_key(job))})
        if 'Namespace' in st:
            st['Namespace'] = job['Namespace']
        return st


def alloc_stub(a):
    st = template('alloc_stub')
    for k in list(st):
        if k in a:
            st[k] = copy.deepcopy(a[k])
    st['JobType'] = a['Job']['Type']
    if 'NodeName' in st and 'NodeName' not in a:
        # Placed before the agent had the 1.1.0 personality: no recorded name may show through.
        st['NodeName'] = ''
    return st


def _empty(v):
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v == 0
    if isinstance(v, dict):
        return all(x is None for x in v.values())
    return v is None or v == '' or v == [] or v == ZERO_TIME


def _omit_empty(obj):
    """1.1.0 leaves out the fields of evaluations and allocations that hold
    their zero value (api/042-043, 053)."""
    return dict((k, v) for k, v in obj.items() if not _empty(v))


def alloc_public(a):
    # The full allocation has no JobVersion (only the stub has).
    out = dict((k, v) for k, v in a.items() if k != 'JobVersion' and not k.startswith('_'))
    return _omit_empty(out) if IS_1X else out


def eval_public(ev):
    out = dict((k, v) for k, v in ev.items() if not k.startswith('_'))
    return _omit_empty(out) if IS_1X else out
