# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client half of the double: node identity, registration, heartbeats,
and a task runner that really starts and stops processes: raw_exec tasks
directly, docker tasks through the host's Docker (the `docker` CLI talking to
the dockerd that the roles installed)."""

import copy
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import threading
import time

from .util import (IS_1X, IS_16, REVISION, VERSION, RPCError, log, new_id, now_ns, read_file, rfc3339, rpc_call,
                   template, write_file)

DRIVERS_OFF = {
    'exec': 'Driver must run as root',
    'java': '',
    'qemu': '',
    'rkt': 'Failed to execute rkt version: exec: "rkt": executable file not found in $PATH',
}


CONNECT_META = {'connect.gateway_image': 'envoyproxy/envoy:v${NOMAD_envoy_version}', 'connect.log_level': 'info',
                'connect.proxy_concurrency': '1',
                'connect.sidecar_image': 'envoyproxy/envoy:v${NOMAD_envoy_version}'}

DOCKER_SOCKET = '/var/run/docker.sock'
# 0.9.1's docker driver fingerprints again every 30 s
# (drivers/docker/fingerprint.go), so a Docker installed under a running agent
# shows up within that time, without a restart.
DOCKER_FINGERPRINT_PERIOD = 30.0


def _docker_version():
    """dockerd's version over its socket (what 0.9.1's fingerprint asks), or
    None when no daemon answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2.0)
    try:
        sock.connect(DOCKER_SOCKET)
        sock.sendall(b'GET /version HTTP/1.0\r\nHost: docker\r\n\r\n')
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        sock.close()
    head, _sep, body = data.partition(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.') or b' 200 ' not in head.split(b'\r\n', 1)[0] + b' ':
        return None
    try:
        return json.loads(body.decode('utf-8')).get('Version') or 'unknown'
    except ValueError:
        return 'unknown'


def _docker_driver(stamp):
    """The node's docker driver entry and attributes, as 0.9.1 reports them."""
    version = _docker_version()
    if version is None:
        return {'Attributes': None, 'Detected': False, 'HealthDescription': 'Failed to connect to docker daemon',
                'Healthy': False, 'UpdateTime': stamp}, {}
    attrs = {'driver.docker': '1', 'driver.docker.version': version, 'driver.docker.volumes.enabled': '1'}
    return {'Attributes': dict((k, 'true' if v == '1' else v) for k, v in attrs.items()), 'Detected': True,
            'HealthDescription': 'Healthy', 'Healthy': True, 'UpdateTime': stamp}, attrs


def _cpu_info():
    model, mhz = 'unknown', 1000.0
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name') and model == 'unknown':
                    model = line.split(':', 1)[1].strip()
                if line.startswith('cpu MHz'):
                    mhz = float(line.split(':', 1)[1])
                    break
    except OSError:
        pass
    return model, int(mhz)


def _mem_bytes():
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 30


def _os_release():
    name, ver = 'linux', ''
    try:
        with open('/etc/os-release') as f:
            for line in f:
                k, _sep, v = line.strip().partition('=')
                if k == 'ID':
                    name = v.strip('"')
                if k == 'VERSION_ID':
                    ver = v.strip('"')
    except OSError:
        pass
    return name, ver


class Client(object):
    def __init__(self, agent):
        self.agent = agent
        self.dir = agent.cfg['client'].get('state_dir') or os.path.join(agent.data_dir, 'client')
        self.alloc_dir = agent.cfg['client'].get('alloc_dir') or os.path.join(agent.data_dir, 'alloc')
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        os.makedirs(self.alloc_dir, mode=0o711, exist_ok=True)
        self.node_id = self._identity('client-id')
        self.secret_id = self._identity('secret-id')
        self.device, self.ip = agent.client_addr
        self.servers = list(agent.client_servers)
        self.learned = []
        self.registered = False
        self.ttl = 0.0
        self.last_heartbeat = None
        self.runners = {}          # alloc id -> AllocRunner
        self.lock = threading.Lock()
        self.save_lock = threading.Lock()
        self.stopping = False
        self.alloc_index = 0
        # Under systemd (the seed's unit has KillMode=process) Nomad's tasks
        # outlive the agent and are re-attached when it starts again.  Anywhere
        # else (tests) the double stops its tasks with it, so nothing leaks.
        self.keep_tasks = bool(os.environ.get('INVOCATION_ID'))
        saved = read_file(os.path.join(self.dir, 'state.db'))
        try:
            self.adopt = (json.loads(saved) or {}).get('tasks') or {} if saved else {}
        except ValueError:
            self.adopt = {}

    def _identity(self, name):
        path = os.path.join(self.dir, name)
        value = read_file(path)
        if value:
            return value.strip()
        value = new_id()
        write_file(path, value, 0o700)
        return value

    # -------------------------------------------------------------- servers
    def known_servers(self):
        out = []
        for s in self.learned + self.servers:
            if s not in out:
                out.append(s)
        if not out and self.agent.server is not None:
            out.append('%s:%d' % self.agent.adv_rpc)
        return out

    def pick_server(self):
        servers = self.known_servers()
        return servers[0] if servers else None

    def server_failed(self, addr):
        if addr in self.learned and len(self.known_servers()) > 1:
            self.learned.remove(addr)
            self.learned.append(addr)
        elif addr in self.servers and len(self.servers) > 1:
            self.servers.remove(addr)
            self.servers.append(addr)

    def call(self, method, payload, timeout=10):
        last = None
        for addr in self.known_servers():
            try:
                return rpc_call(addr, method, payload, self.agent.rpc_tls, timeout=timeout)
            except RPCError as e:
                last = e
                if e.status in (0, 502, 503):
                    self.server_failed(addr)
                    continue
                raise
        raise last or RPCError(0, 'no servers')

    # -------------------------------------------------------------- node
    def node(self):
        a = self.agent
        n = template('node')
        model, mhz = _cpu_info()
        cores = os.cpu_count() or 1
        mem = _mem_bytes()
        st = os.statvfs(a.data_dir)
        osname, osver = _os_release()
        http = '%s:%d' % a.adv_http
        attrs = {
            'cpu.arch': {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(platform.machine(), platform.machine()),
            'cpu.frequency': str(mhz), 'cpu.modelname': model, 'cpu.numcores': str(cores),
            'cpu.totalcompute': str(mhz * cores), 'kernel.name': 'linux', 'kernel.version': platform.release(),
            'memory.totalbytes': str(mem), 'nomad.advertise.address': http, 'nomad.revision': REVISION,
            'nomad.version': VERSION, 'os.name': osname, 'os.version': osver,
            'os.signals': 'SIGINT,SIGTERM,SIGKILL,SIGHUP,SIGQUIT,SIGUSR1,SIGUSR2',
            'unique.hostname': socket.gethostname(), 'unique.network.ip-address': self.ip,
            'unique.storage.bytesfree': str(st.f_bavail * st.f_frsize),
            'unique.storage.bytestotal': str(st.f_blocks * st.f_frsize), 'unique.storage.volume': '/dev/root',
            'unique.cgroup.mountpoint': '/sys/fs/cgroup',
        }
        drivers = {}
        stamp = rfc3339()
        for name, why in DRIVERS_OFF.items():
            drivers[name] = {'Attributes': None, 'Detected': False, 'HealthDescription': why, 'Healthy': False,
                             'UpdateTime': stamp}
        drivers['docker'], docker_attrs = _docker_driver(stamp)
        attrs.update(docker_attrs)
        if a.raw_exec:
            attrs['driver.raw_exec'] = '1'
            drivers['raw_exec'] = {'Attributes': {'driver.raw_exec': 'true'}, 'Detected': True,
                                   'HealthDescription': 'Healthy', 'Healthy': True, 'UpdateTime': stamp}
        else:
            drivers['raw_exec'] = {'Attributes': None, 'Detected': False, 'HealthDescription': 'disabled',
                                   'Healthy': False, 'UpdateTime': stamp}
        mem_mb = mem // (1 << 20)
        disk_mb = (st.f_bavail * st.f_frsize) // (1 << 20)
        net = {'CIDR': '%s/32' % self.ip, 'Device': self.device, 'DynamicPorts': None, 'IP': self.ip, 'MBits': 1000,
               'ReservedPorts': None}
        meta = dict(a.cfg['client'].get('meta') or {}) or None
        if IS_1X:
            # 1.1.0 clients add Connect's defaults to every node's meta (api/006).
            meta = dict(CONNECT_META, **(meta or {}))
        n.update({
            'ID': self.node_id, 'SecretID': self.secret_id, 'Name': a.node_name, 'Datacenter': a.datacenter,
            'HTTPAddr': http, 'TLSEnabled': bool(a.http_tls), 'Attributes': attrs, 'Drivers': drivers, 'Meta': meta,
            'NodeClass': a.cfg['client'].get('node_class') or '', 'Links': None, 'Drain': False,
            'DrainStrategy': None, 'SchedulingEligibility': 'eligible', 'Status': 'initializing',
            'StatusDescription': '', 'Events': None,
            'Resources': {'CPU': mhz * cores, 'Devices': None, 'DiskMB': disk_mb, 'IOPS': 0, 'MemoryMB': mem_mb,
                          'Networks': [net]},
            'NodeResources': {'Cpu': {'CpuShares': mhz * cores}, 'Devices': None, 'Disk': {'DiskMB': disk_mb},
                              'Memory': {'MemoryMB': mem_mb}, 'Networks': [copy.deepcopy(net)]},
        })
        if IS_1X:
            self._resources_1x(n, cores)
        if IS_16:
            n['NodePool'] = a.cfg['client'].get('node_pool') or 'default'
        return n

    def _resources_1x(self, n, cores):
        """The 1.1.0 shapes of the node's resources (api/006)."""
        for net in [n['Resources']['Networks'][0], n['NodeResources']['Networks'][0]]:
            net.update({'DNS': None, 'Mode': 'host'})
        n['Resources'].update({'Cores': 0, 'MemoryMaxMB': 0})
        n['NodeResources']['Cpu'].update({'ReservableCpuCores': list(range(cores)), 'TotalCpuCores': cores})
        n['NodeResources']['NodeNetworks'] = [{
            'Addresses': [{'Address': self.ip, 'Alias': 'default', 'Family': 'ipv4', 'Gateway': '',
                           'ReservedPorts': ''}],
            'Device': self.device, 'MacAddress': '', 'Mode': 'host', 'Speed': 1000}]

    @property
    def docker_detected(self):
        return _docker_version() is not None

    def start(self):
        self.save_state()
        threading.Thread(target=self._register_loop, daemon=True).start()
        threading.Thread(target=self._alloc_loop, daemon=True).start()

    def stop(self):
        with self.lock:
            self.stopping = True
            runners = list(self.runners.values())
        if self.keep_tasks:
            self.save_state()
            return
        for r in runners:
            r.kill()

    def _register_loop(self):
        node = self.node()
        log('INFO', 'client: started client: node_id=%s' % self.node_id)
        rejected = False
        docker_checked = time.monotonic()
        while not self.stopping:
            if self.registered and time.monotonic() - docker_checked >= DOCKER_FINGERPRINT_PERIOD:
                docker_checked = time.monotonic()
                docker, attrs = _docker_driver(rfc3339())
                if docker['Detected'] != node['Drivers']['docker']['Detected']:
                    log('INFO', 'client: docker driver %s' % ('detected' if docker['Detected'] else 'lost'))
                    node['Drivers']['docker'] = docker
                    node['Attributes'] = dict((k, v) for k, v in node['Attributes'].items()
                                              if not k.startswith('driver.docker'))
                    node['Attributes'].update(attrs)
                    self.registered = False
            if not self.registered:
                try:
                    reply = self.call('Node.Register', {'Node': node})
                    self._took(reply)
                    self.registered = True
                    rejected = False
                    log('INFO', 'client: node registration complete')
                    # Registered as initializing; the first heartbeat makes the
                    # node ready.  0.9.1 sends it after a random stagger of up
                    # to 10 s (initialHeartbeatStagger; a client-only agent's
                    # next RPC cuts it short); the double waits up to 1 s.
                    node['Status'] = 'ready'
                    wait = random.uniform(0.0, 1.0)
                except RPCError as e:
                    if 'secret ID does not match' in e.message:
                        if not rejected:
                            log('ERROR', 'client: error registering: error="rpc error: %s"' % e.message)
                        rejected = True
                    else:
                        log('ERROR', 'client: error registering: error="%s"' % e.message)
                    time.sleep(2.0)
                    continue
            else:
                wait = max(0.5, min(self.ttl / 3.0, 5.0))
            time.sleep(wait)
            try:
                reply = self.call('Node.Heartbeat', {'NodeID': self.node_id, 'SecretID': self.secret_id})
                self._took(reply)
            except RPCError as e:
                if e.status == 404:
                    self.registered = False
                else:
                    log('ERROR', 'client: error heartbeating: error="%s"' % e.message)

    def _took(self, reply):
        self.ttl = float(reply.get('HeartbeatTTL') or 10)
        self.last_heartbeat = time.monotonic()
        learned = list(reply.get('Servers') or [])
        if learned:
            self.learned = learned

    # -------------------------------------------------------------- allocations
    def _alloc_loop(self):
        while not self.stopping:
            if not self.registered:
                time.sleep(0.3)
                continue
            try:
                reply = self.call('Node.GetAllocs', {'NodeID': self.node_id, 'SecretID': self.secret_id,
                                                     'Index': self.alloc_index, 'Wait': 5}, timeout=15)
            except RPCError:
                time.sleep(0.5)
                continue
            self.alloc_index = reply.get('Index') or 0
            for alloc in reply.get('Allocs') or []:
                self._sync(alloc)

    def _sync(self, alloc):
        with self.lock:
            if self.stopping:
                return
            runner = self.runners.get(alloc['ID'])
            if runner is None:
                if alloc['DesiredStatus'] != 'run' or alloc['ClientStatus'] in ('complete', 'failed', 'lost'):
                    leftover = self.adopt.pop(alloc['ID'], None)
                    if leftover:
                        # Stopped while the agent was down: its tasks must not live on.
                        for name, pid in leftover.items():
                            proc = _Adopted.find(pid, os.path.join(self.alloc_dir, alloc['ID'], name))
                            if proc is not None:
                                threading.Thread(target=_stop_process, args=(proc,), daemon=True).start()
                    return
                runner = AllocRunner(self, alloc)
                self.runners[alloc['ID']] = runner
                created = True
            else:
                created = False
        if created:
            runner.start()
            self.save_state()
            return
        runner.update(alloc)

    def save_state(self):
        # Collect and write under one lock: a later save must never be overtaken
        # by an earlier one that saw fewer tasks.
        with self.save_lock, self.lock:
            tasks = {}
            for alloc_id, runner in self.runners.items():
                with runner.lock:
                    pids = dict((name, p.pid) for name, p in runner.procs.items() if p.poll() is None)
                if pids:
                    tasks[alloc_id] = pids
            data = {'allocs': sorted(self.runners), 'tasks': tasks}
            write_file(os.path.join(self.dir, 'state.db'), json.dumps(data), 0o600)

    def report(self, update):
        for _attempt in range(10):
            try:
                self.call('Node.UpdateAlloc', {'Allocs': [update]})
                return
            except RPCError:
                if self.stopping:
                    return
                time.sleep(0.5)

    def num_allocs(self):
        with self.lock:
            return len([r for r in self.runners.values() if not r.done])


class _Adopted(object):
    """A task process started by an earlier run of the agent (not our child)."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    @classmethod
    def find(cls, pid, task_dir):
        # The pid must still run in this task's directory: pids get reused.
        if not pid:
            return None
        try:
            if os.readlink('/proc/%d/cwd' % pid) != task_dir:
                return None
        except OSError:
            return None
        return cls(pid)

    def poll(self):
        if self.returncode is None:
            try:
                with open('/proc/%d/stat' % self.pid) as f:
                    gone = f.read().rsplit(')', 1)[1].split()[0] == 'Z'
            except OSError:
                gone = True
            if gone:
                # Its exit code went to its parent, not to us.
                self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired('pid %d' % self.pid, timeout)
            time.sleep(0.05)
        return self.returncode


def _event(kind, display, **fields):
    ev = template('task_event')
    ev.update({'Type': kind, 'DisplayMessage': display, 'Time': now_ns(), 'Details': {}})
    for k, v in fields.items():
        ev[k] = v
    return ev


class AllocRunner(object):
    """Runs the raw_exec tasks of one allocation as real processes."""

    def __init__(self, client, alloc):
        self.client = client
        self.alloc = alloc
        self.procs = {}
        self.states = {}
        self.done = False
        self.lock = threading.Lock()
        self.started_at = None

    def _tg(self):
        return next(g for g in self.alloc['Job']['TaskGroups'] if g['Name'] == self.alloc['TaskGroup'])

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()

    def _state(self, task):
        st = {'Events': [], 'Failed': False, 'FinishedAt': None, 'LastRestart': None, 'Restarts': 0,
              'StartedAt': None, 'State': 'pending'}
        if IS_1X:
            st['TaskHandle'] = None
        return self.states.setdefault(task, st)

    def _send(self, client_status, desc, health=None):
        states = copy.deepcopy(self.states)
        for st in states.values():
            for k in ('FinishedAt', 'LastRestart', 'StartedAt'):
                # 1.1.0 sends unset times as null (api/053), 0.9.1 as Go's zero time.
                if st[k] is None and not IS_1X:
                    st[k] = '0001-01-01T00:00:00Z'
        up = {'ID': self.alloc['ID'], 'ClientStatus': client_status, 'ClientDescription': desc, 'TaskStates': states}
        if health is not None:
            up['DeploymentStatus'] = {'Canary': False, 'Healthy': health, 'ModifyIndex': 0, 'Timestamp': rfc3339()}
        self.client.report(up)

    def env(self, task):
        a = self.alloc
        job = a['Job']
        tdir = os.path.join(self.client.alloc_dir, a['ID'], task['Name'])
        env = dict(os.environ)
        res = a['TaskResources'].get(task['Name']) or {}
        idx = re.search(r'\[(\d+)\]$', a['Name'])
        env.update({
            'NOMAD_ALLOC_ID': a['ID'], 'NOMAD_ALLOC_NAME': a['Name'], 'NOMAD_ALLOC_INDEX': idx.group(1) if idx else '0',
            'NOMAD_JOB_NAME': job['Name'], 'NOMAD_GROUP_NAME': a['TaskGroup'], 'NOMAD_TASK_NAME': task['Name'],
            'NOMAD_DC': self.client.agent.datacenter, 'NOMAD_REGION': job['Region'],
            'NOMAD_ALLOC_DIR': os.path.join(self.client.alloc_dir, a['ID'], 'alloc'),
            'NOMAD_TASK_DIR': os.path.join(tdir, 'local'), 'NOMAD_SECRETS_DIR': os.path.join(tdir, 'secrets'),
            'NOMAD_CPU_LIMIT': str(res.get('CPU') or 0), 'NOMAD_MEMORY_LIMIT': str(res.get('MemoryMB') or 0),
        })
        if job.get('ParentID'):
            env['NOMAD_JOB_PARENT_ID'] = job['ParentID']
        for net in res.get('Networks') or []:
            for p in (net.get('ReservedPorts') or []) + (net.get('DynamicPorts') or []):
                label = p['Label']
                env['NOMAD_PORT_%s' % label] = str(p['Value'])
                env['NOMAD_HOST_PORT_%s' % label] = str(p['Value'])
                env['NOMAD_IP_%s' % label] = net['IP']
                env['NOMAD_ADDR_%s' % label] = '%s:%d' % (net['IP'], p['Value'])
        for p in group_ports(a):
            # 1.1.0's taskenv addPorts: the port a task listens on is the
            # port's `to` when it has one, else the host port.
            label, inside = p['Label'], str(p.get('To') or p['Value'])
            env.update({'NOMAD_PORT_%s' % label: inside, 'NOMAD_ALLOC_PORT_%s' % label: inside,
                        'NOMAD_HOST_PORT_%s' % label: str(p['Value']),
                        'NOMAD_IP_%s' % label: p['HostIP'], 'NOMAD_HOST_IP_%s' % label: p['HostIP'],
                        'NOMAD_ADDR_%s' % label: '%s:%d' % (p['HostIP'], p['Value']),
                        'NOMAD_HOST_ADDR_%s' % label: '%s:%d' % (p['HostIP'], p['Value'])})
        for k, v in (task.get('Meta') or {}).items():
            env['NOMAD_META_%s' % k] = str(v)
        for k, v in (task.get('Env') or {}).items():
            env[k] = self.interpolate(str(v), env)
        return env

    @staticmethod
    def interpolate(text, env):
        def sub(m):
            key = m.group(1)
            if key.startswith('env.'):
                key = key[4:]
            return env.get(key, m.group(0))
        return re.sub(r'\$\{([^}]+)\}', sub, text)

    def _run(self):
        a = self.alloc
        tg = self._tg()
        adir = os.path.join(self.client.alloc_dir, a['ID'])
        for sub in ('alloc/logs', 'alloc/data', 'alloc/tmp'):
            os.makedirs(os.path.join(adir, sub), exist_ok=True)
        failed = None
        for task in tg['Tasks']:
            st = self._state(task['Name'])
            st['Events'].append(_event('Received', 'Task received by client'))
            ev = _event('Task Setup', 'Building Task Directory', Message='Building Task Directory')
            ev['Details'] = {'message': 'Building Task Directory'}
            st['Events'].append(ev)
            for sub in ('local', 'secrets', 'tmp'):
                os.makedirs(os.path.join(adir, task['Name'], sub), exist_ok=True)
            err = self._check(task)
            if err:
                failed = err
                ev = _event('Driver Failure', err, DriverError=err)
                ev['Details'] = {'driver_error': err}
                st['Events'].append(ev)
                ev = _event('Not Restarting', 'Error was unrecoverable', RestartReason='Error was unrecoverable',
                            FailsTask=True)
                ev['Details'] = {'restart_reason': 'Error was unrecoverable', 'fails_task': 'true'}
                st['Events'].append(ev)
                st['State'] = 'dead'
                st['Failed'] = True
                st['FinishedAt'] = rfc3339()
                continue
            adopted = _Adopted.find(self.client.adopt.get(a['ID'], {}).get(task['Name']),
                                    os.path.join(adir, task['Name']))
            if adopted is not None:
                with self.lock:
                    self.procs[task['Name']] = adopted
                log('INFO', 'client.alloc_runner: re-attached to task: alloc_id=%s task=%s pid=%d'
                    % (a['ID'], task['Name'], adopted.pid))
                st['State'] = 'running'
                st['StartedAt'] = rfc3339()
                st['Events'].append(_event('Started', 'Task started by client'))
                continue
            env = self.env(task)
            cfg = task.get('Config') or {}
            args = [self.interpolate(str(x), env) for x in (cfg.get('args') or [])]
            if task['Driver'] == 'docker':
                argv = self._docker_argv(task, env, args)
                image = _image_with_tag(self.interpolate(cfg['image'], env))
                ev = _event('Driver', 'Downloading image %s' % image, DriverMessage='Downloading image %s' % image)
                ev['Details'] = {'message': 'Downloading image %s' % image}
                st['Events'].append(ev)
            else:
                argv = [self.interpolate(cfg['command'], env)] + args
            logs = os.path.join(adir, 'alloc', 'logs')
            try:
                # Started under the runner's lock: kill() either sees this
                # process or has already marked the runner done.
                with self.lock:
                    if self.done or self.client.stopping:
                        return
                    with open(os.path.join(logs, '%s.stdout.0' % task['Name']), 'ab') as out, \
                            open(os.path.join(logs, '%s.stderr.0' % task['Name']), 'ab') as errf:
                        proc = subprocess.Popen(argv, env=env, cwd=os.path.join(adir, task['Name']), stdout=out,
                                                stderr=errf, stdin=subprocess.DEVNULL, start_new_session=True)
                    self.procs[task['Name']] = proc
            except OSError as e:
                failed = 'failed to launch command with executor: %s' % e
                st['Events'].append(_event('Driver Failure', failed, DriverError=failed))
                st['State'] = 'dead'
                st['Failed'] = True
                continue
            log('INFO', 'client.driver_mgr.%s: starting task: driver=%s alloc_id=%s task=%s'
                % (task['Driver'], task['Driver'], a['ID'], task['Name']))
            st['State'] = 'running'
            st['StartedAt'] = rfc3339()
            st['Events'].append(_event('Started', 'Task started by client'))
        self.client.save_state()
        if failed and not self.procs:
            self.done = True
            self._send('failed', 'Failed tasks', False if self.alloc['Job']['Type'] == 'service' else None)
            return
        self.started_at = time.monotonic()
        self._send('running', 'Tasks are running')
        self._watch(tg)

    def _docker_argv(self, task, env, args):
        """`docker run` for the task, attached, so that the CLI process stands
        for the task (its exit is the task's exit, SIGINT reaches the
        container). Like 0.9.1: the container is named <task>-<alloc ID>, an
        image tagged latest (or untagged) is always pulled, each port label
        maps the allocated host port to port_map's container port (else to
        the same port), and the task's NOMAD_* and env variables go in."""
        cfg = task.get('Config') or {}
        image = _image_with_tag(self.interpolate(cfg['image'], env))
        port_map = {}
        for entry in cfg.get('port_map') or []:
            port_map.update(entry)
        argv = ['docker', 'run', '--rm', '--name', docker_container_name(task['Name'], self.alloc['ID']),
                '--pull', 'always' if image.endswith(':latest') or cfg.get('force_pull') else 'missing']
        res = self.alloc['TaskResources'].get(task['Name']) or {}
        for net in res.get('Networks') or []:
            for p in (net.get('ReservedPorts') or []) + (net.get('DynamicPorts') or []):
                inside = int(port_map.get(p['Label'], p['Value']))
                for proto in ('tcp', 'udp'):
                    argv += ['-p', '%s:%d:%d/%s' % (net['IP'], p['Value'], inside, proto)]
        # 1.x: `ports = ["http"]` publishes group network ports, each to its `to`
        # (the host port itself when `to` is 0).
        shared = dict((p['Label'], p) for p in group_ports(self.alloc))
        for label in cfg.get('ports') or []:
            p = shared.get(label)
            if p is None:
                continue
            for proto in ('tcp', 'udp'):
                argv += ['-p', '%s:%d:%d/%s' % (p['HostIP'], p['Value'], p.get('To') or p['Value'], proto)]
        task_env = set(task.get('Env') or {})
        for key in sorted(env):
            if key.startswith('NOMAD_') or key in task_env:
                argv += ['-e', '%s=%s' % (key, env[key])]
        return argv + [image] + args

    def _check(self, task):
        cfg = task.get('Config') or {}
        if task['Driver'] == 'docker':
            if not self.client.docker_detected:
                return 'failed to start task: driver docker is not available on this node'
            if not isinstance(cfg.get('image'), str) or not cfg['image']:
                return '2 error(s) occurred:\n\n* failed to parse config\n* Missing required argument; ' \
                       'The argument "image" is required, but no definition was found.'
            return None
        if task['Driver'] != 'raw_exec':
            return 'failed to start task: driver %s is not available on this node' % task['Driver']
        if not isinstance(cfg.get('command'), str):
            return '2 error(s) occurred:\n\n* failed to parse config\n* :1,12-20: Incorrect attribute value type; ' \
                   'Inappropriate value for attribute "command": string required.'
        args = cfg.get('args')
        if args is not None and (not isinstance(args, list) or not all(isinstance(x, str) for x in args)):
            return '2 error(s) occurred:\n\n* failed to parse config\n* :1,25-41: Incorrect attribute value type; ' \
                   'Inappropriate value for attribute "args": list of string required.'
        return None

    def _watch(self, tg):
        upd = tg.get('Update') or tg.get('Migrate') or {}
        min_healthy = (upd.get('MinHealthyTime') or 10 * 10 ** 9) / 1e9
        healthy_sent = self.alloc['Job']['Type'] != 'service'
        while True:
            time.sleep(0.2)
            with self.lock:
                procs = dict(self.procs)
                stopping = self.done
            if stopping:
                return
            exits = {}
            for name, p in procs.items():
                rc = p.poll()
                if rc is not None:
                    exits[name] = rc
            if exits:
                for name, rc in exits.items():
                    st = self._state(name)
                    if st['State'] != 'dead':
                        st['State'] = 'dead'
                        st['FinishedAt'] = rfc3339()
                        st['Failed'] = rc != 0
                        ev = _event('Terminated', 'Exit Code: %d' % rc, ExitCode=rc)
                        ev['Details'] = {'exit_code': str(rc), 'signal': '0', 'oom_killed': 'false'}
                        st['Events'].append(ev)
                if len(exits) == len(procs):
                    self.done = True
                    if any(rc != 0 for rc in exits.values()):
                        self._send('failed', 'Failed tasks', False if not healthy_sent else None)
                    else:
                        self._send('complete', 'All tasks have completed')
                    return
            if not healthy_sent and time.monotonic() - self.started_at >= min_healthy:
                healthy_sent = True
                self._send('running', 'Tasks are running', True)

    def update(self, alloc):
        if alloc['DesiredStatus'] != 'run' and not self.done:
            self.kill()
            for name in self.states:
                st = self._state(name)
                if st['State'] != 'dead':
                    st['State'] = 'dead'
                    st['FinishedAt'] = rfc3339()
                    st['Events'].append(_event('Killed', 'Task successfully killed'))
            self._send('complete', 'All tasks have completed')
        else:
            self.alloc['Job'] = alloc['Job']

    def kill(self):
        with self.lock:
            self.done = True
            procs = list(self.procs.values())
        for p in procs:
            _stop_process(p)
        # The CLI forwards SIGINT and `--rm` removes the container; this is for
        # a container whose CLI died first (SIGKILL, an earlier agent).
        for task in self._tg()['Tasks']:
            if task['Driver'] == 'docker':
                _remove_container(docker_container_name(task['Name'], self.alloc['ID']))


def group_ports(alloc):
    """The allocation's group network ports (1.x), as AllocatedResources.Shared.Ports lists them."""
    return ((alloc.get('AllocatedResources') or {}).get('Shared') or {}).get('Ports') or []


def docker_container_name(task, alloc_id):
    return '%s-%s' % (task, alloc_id)


def _image_with_tag(image):
    # A colon after the last slash is a tag; one before it is a registry port.
    return image if ':' in image.rsplit('/', 1)[-1] else image + ':latest'


def _remove_container(name):
    try:
        subprocess.run(['docker', 'rm', '-f', name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _stop_process(p, grace=5.0):
    """SIGINT to the task's process group, SIGKILL after ``grace`` seconds."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGINT)
        except OSError:
            pass
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
