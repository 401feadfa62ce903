#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_host_info
short_description: Read what a Nomad host is, in one call - addresses, agent state and node identity
version_added: 0.2.0
description:
  - Reads, on the managed host, everything the roles need to know about it before they change anything.
  - "Network: every interface with its first IPv4 address, the interface of the default route (containers and
    many VMs have none, so that may be null), and the interface Nomad should use."
  - "Agent: the installed release, and whether the systemd unit O(service_name) is installed, running and
    enabled; the same for the units in O(services)."
  - "Node identity: the client node ID (C(<data_dir>/client/client-id)) and a digest of the node secret
    (C(<data_dir>/client/secret-id)). Hosts cloned from one another after Nomad ran share both, and only one
    node registers for all of them; comparing these values finds them. The secret itself is never returned."
  - One module call instead of fact gathering, a service listing and two file reads, because each call is
    a round trip to the host.
  - "Security: whether the agent's configuration turns on TLS, ACLs and gossip encryption, as the roles write it."
  - "What the running agent runs: the files changed since it started (RV(changed_since_start)), and its TLS
    and ACL switches (RV(running)). A run cut off between writing files and restarting leaves agents that run
    something else than their files say; the roles decide the next step from this."
  - "Servers (O(members)): the server members that the running agent on the host sees in its gossip, and the
    peers of its raft configuration, so that a server the inventory does not name, or one that is down, is known
    before anything changes; and the cluster as the readiness gate would read it (RV(cluster))."
  - Runs on the managed host with the Python standard library only; O(members) needs C(requests) there too.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - nomadops.nomad.attributes.info_module
options:
  data_dir:
    description: Nomad's C(data_dir) on the host.
    type: path
    default: /opt/nomad
  service_name:
    description: Name of the systemd unit that runs the agent, without C(.service).
    type: str
    default: nomad
  config_dir:
    description: The agent's configuration directory, whose security switches are reported in RV(security).
    type: path
    default: /etc/nomad.d
  binary:
    description: The installed C(nomad) binary, whose version is reported in RV(nomad_version).
    type: path
    default: /usr/local/bin/nomad
  services:
    description:
      - Other systemd units to report in RV(services), without C(.service), for example C(docker) for the
        clients' Docker driver.
    type: list
    elements: str
    default: []
  members:
    description:
      - Also ask the agent running on the host for the server members of its gossip (C(/v1/agent/members)),
        the peers of its raft configuration (RV(raft_peers)), the leader (C(/v1/status/leader)) and the nodes
        (C(/v1/nodes), RV(cluster)), over C(127.0.0.1) and O(http_port), with HTTPS and the client certificate of
        C(security.hcl) when it turns TLS on for HTTP. Only a server answers.
      - A failure to read them is reported in RV(members_error), never as a failure of the module.
    type: bool
    default: false
  http_port:
    description: The agent's HTTP port, for O(members) and RV(running).
    type: int
    default: 4646
  token:
    description: An ACL token for O(members) and for asking the agent what it runs, which need one once ACLs are on.
    type: str
  install:
    description:
      - The options of a M(nomadops.nomad.nomad_install) task (C(version), C(install_dir), C(owner), C(group), C(mode),
        C(checksum), C(os), C(arch), C(data_dir), C(systemd_unit), C(systemd_unit_path)); RV(install_drift) then says
        what that task would change on this host, without downloading anything.
      - The roles skip their install task on a host where nothing drifted, which saves a call to every host of a
        run with nothing to install.
    type: dict
notes:
  - Reading C(<data_dir>) needs root, as Nomad keeps it private.
'''

EXAMPLES = r'''
- name: Read the host's addresses, agent state and node identity
  nomadops.nomad.nomad_host_info:
  register: nomad_host

- name: Use the default route's address, or eth0's
  ansible.builtin.debug:
    msg: "{{ nomad_host.interfaces[nomad_host.default_interface or 'eth0'] }}"
'''

RETURN = r'''
interfaces:
  description: Each network interface but loopback, with its first IPv4 address (null when it has none).
  returned: always
  type: dict
  sample: {eth0: 10.89.0.2}
default_interface:
  description: The interface of the IPv4 default route, or null when there is none.
  returned: always
  type: str
  sample: eth0
primary_interface:
  description:
    - The interface of the default route; without one, the first interface by name that has an IPv4 address
      and is neither a bridge nor a bridge's port. Docker's C(docker0) and the C(veth) ends of its containers
      are bridges and ports, and C(docker0) sorts before C(eth0). Null when no interface qualifies.
  returned: always
  type: str
  sample: eth0
service:
  description: The agent's systemd unit.
  returned: always
  type: dict
  contains:
    installed:
      description: Whether systemd knows the unit.
      type: bool
      sample: true
    active:
      description: Whether the unit is running (C(ActiveState=active)).
      type: bool
      sample: true
    enabled:
      description: Whether the unit starts at boot.
      type: bool
      sample: true
    started_at:
      description: When the unit's main process started, in seconds since the epoch; null when it does not run.
      type: float
      sample: 1796540212.503
    unit_file:
      description: The file systemd loaded the unit from; null when there is none.
      type: str
      sample: /etc/systemd/system/nomad.service
services:
  description: The units named in O(services), each with the keys of RV(service).
  returned: always
  type: dict
  sample: {docker: {installed: true, active: true, enabled: true}}
security:
  description:
    - What the configuration in O(config_dir) turns on, as the roles write it, from the C(tls) and C(acl)
      blocks of C(security.hcl) - C(tls_rpc), C(tls_http) and C(rpc_upgrade_mode) as set there, C(tls) when
      either of the first two is on, and C(acl). C(gossip) is on when C(gossip.hcl) exists.
    - C(gossip_key_sha256) is the SHA-256 (hex) of the key in C(gossip.hcl), so that a new key can be told from
      the one in use without reading the key back; null without the file.
    - The roles use it to move a running cluster to TLS in Nomad's two passes, and to refuse what cannot be
      turned on while agents run.
  returned: always
  type: dict
  sample: {tls: false, tls_rpc: false, tls_http: false, rpc_upgrade_mode: false, acl: false, gossip: false,
           gossip_key_sha256: null}
changed_since_start:
  description:
    - The files a restart would load that were written or replaced after the running agent started - O(binary),
      the unit, the C(.hcl) and C(.json) files of O(config_dir) but C(gossip.hcl), and the TLS files
      C(security.hcl) names - judged by their inode change time. Empty when the agent does not run.
    - Non-empty means the agent runs something else than what is on disk, as after a run cut off between
      writing files and restarting.
  returned: always
  type: list
  elements: str
  sample: [/etc/nomad.d/security.hcl]
running:
  description:
    - C(tls_rpc), C(tls_http), C(rpc_upgrade_mode) and C(acl) as the running agent has them; null when it does not
      run, or when it could not be asked (RV(running_error)).
    - The same as RV(security) unless C(security.hcl) or a TLS file changed since the agent started; then the
      agent's own C(/v1/agent/self) says, over the files' scheme or the other one. An agent that refuses it
      enforces ACLs; C(tls_rpc) and C(rpc_upgrade_mode) are null then.
  returned: always
  type: dict
  sample: {tls_rpc: false, tls_http: false, rpc_upgrade_mode: false, acl: false}
running_error:
  description: Why RV(running) is null although the agent runs; null otherwise.
  returned: always
  type: str
  sample: "cannot reach the Nomad agent at http://127.0.0.1:4646: Connection refused"
nomad_version:
  description: The version C(nomad version) of O(binary) reports, or null when there is no such binary.
  returned: always
  type: str
  sample: 0.9.1
members:
  description:
    - With O(members), the server members the host's running agent sees, each with C(name) (C(<node>.<region>)),
      C(address) and C(status) (C(alive), C(failed), C(left)...); null without O(members), when the agent is not
      running, or when it did not answer.
  returned: always
  type: list
  elements: dict
  sample: [{name: nomad1.global, address: 10.89.0.2, status: alive}, {name: nomad3.global, address: 10.89.0.4,
            status: failed}]
raft_peers:
  description:
    - With O(members), the servers in the raft configuration as this server has it (C(?stale)), each with
      C(node) (C(<node>.<region>), or C((unknown)) for one gossip no longer knows), C(address) (its raft
      address) and C(voter); null when RV(members) is.
    - A peer whose host is gone counts for the quorum until it is removed, even once gossip has forgotten it.
  returned: always
  type: list
  elements: dict
  sample: [{node: nomad1.global, address: "10.89.0.2:4647", voter: true}, {node: (unknown), address: "10.89.0.4:4647",
            voter: true}]
cluster:
  description:
    - With O(members), the cluster as the readiness gate M(nomadops.nomad.nomad_cluster_info) reads it, through
      this server - C(leader), C(servers), C(nodes), C(alive_servers), C(ready_nodes), C(acl_limited) and C(errors),
      with the keys that module returns; null when RV(members) is.
    - Without a leader the nodes are not read (Nomad would hold the read for seconds), and C(nodes) is empty.
    - The roles leave out their final readiness gate when this read was ready and the run restarted no agent
      (the M(nomadops.nomad.cluster_gaps) filter).
  returned: always
  type: dict
  sample: {leader: "10.89.0.2:4647", alive_servers: 3, ready_nodes: 3, acl_limited: false, errors: [],
           servers: [{name: nomad1.global, address: 10.89.0.2, port: 4648, status: alive, leader: true,
                      build: 0.9.1, datacenter: dc1, region: global}],
           nodes: [{id: 36492a80-8800-926a-6578-939ad5aa1188, name: nomad1, datacenter: dc1, status: ready,
                    eligibility: eligible, drain: false,
                    drivers: {docker: {detected: true, healthy: true, description: Healthy}}}]}
members_error:
  description: Why RV(members) is null although O(members) was asked for and the agent runs; null otherwise.
  returned: always
  type: str
  sample: "cannot reach the Nomad agent at http://127.0.0.1:4646: Connection refused"
install_drift:
  description:
    - With O(install), what M(nomadops.nomad.nomad_install) with those options would change on this host, in words;
      empty when it would change nothing. Null without O(install).
    - The binary counts as installed only when the install record next to it vouches for its SHA-256, release, OS,
      architecture and checksum pin, as M(nomadops.nomad.nomad_install) itself decides.
  returned: always
  type: list
  elements: str
  sample: ["/usr/local/bin/nomad is not the verified Nomad 0.9.7", /etc/systemd/system/nomad.service differs]
restart_drain:
  description:
    - Whether C(<data_dir>/restart-drain) exists - the note the roles leave while they drain the node before a
      restart. A run cut off before the node was eligible again leaves it, and the next run makes the node
      eligible.
  returned: always
  type: bool
  sample: false
node_id:
  description: The client node ID from C(<data_dir>/client/client-id), or null when the host has none yet.
  returned: always
  type: str
  sample: 1d061e01-5877-3589-e753-17ce53c1d921
node_secret_digest:
  description:
    - SHA-256 of C(<data_dir>/client/secret-id), or null when there is none. Equal digests mean a shared secret.
  returned: always
  type: str
  sample: 5f0c8cb7aa4d8ecc1f4c8a4ed2c3a0cb1bd4e4a5d4a0a2e0f8e8b26f6c1e3b7d
'''

import array
import errno
import fcntl
import hashlib
import os
import socket
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.nomadops.nomad.plugins.module_utils.api import NomadAPIError, NomadClient, NomadError
from ansible_collections.nomadops.nomad.plugins.module_utils.cluster import ClusterInfo
from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import HCLError, loads
from ansible_collections.nomadops.nomad.plugins.module_utils.install import (
    BINARY, DEFAULTS, InstallError, drift, installed_version, wanted)
from ansible_collections.nomadops.nomad.plugins.module_utils.release import ReleaseError
from ansible_collections.nomadops.nomad.plugins.module_utils.systemd import service_state

SIOCGIFADDR = 0x8915
SYS_NET = '/sys/class/net'
PROC_ROUTE = '/proc/net/route'
# nomad_install's options that only say how to download, which the install drift ignores.
FETCH_ONLY = ('releases_url', 'verify_signature', 'gpg_key', 'validate_certs', 'timeout')
# What read_hcl parsed in this call.
PARSED = {}


def interface_names():
    try:
        return sorted(n for n in os.listdir(SYS_NET) if n != 'lo')
    except OSError:
        return [name for dummy, name in socket.if_nameindex() if name != 'lo']


def ipv4_address(name):
    """The interface's (first) IPv4 address, or None. SIOCGIFADDR: no iproute2 needed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        request = array.array('B', struct.pack('256s', name[:15].encode('utf-8')))
        fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request, True)
        return socket.inet_ntoa(request.tobytes()[20:24])
    except (IOError, OSError):
        return None
    finally:
        sock.close()


def default_interface():
    """The interface of the IPv4 default route (destination and mask 0), or None."""
    try:
        with open(PROC_ROUTE) as handle:
            lines = handle.read().splitlines()[1:]
    except (IOError, OSError):
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == '00000000' and fields[7] == '00000000':
            return fields[0]
    return None


def is_bridge_or_port(name):
    path = os.path.join(SYS_NET, name)
    return os.path.exists(os.path.join(path, 'bridge')) or os.path.exists(os.path.join(path, 'brport'))


def primary_interface(addresses, default):
    if default:
        return default
    for name in sorted(addresses):
        if addresses[name] and not is_bridge_or_port(name):
            return name
    return None


def security_switches(config_dir):
    """What the roles' security files turn on; files that do not parse count as off."""
    switches = dict(tls=False, tls_rpc=False, tls_http=False, rpc_upgrade_mode=False, acl=False,
                    gossip=os.path.exists(os.path.join(config_dir, 'gossip.hcl')), gossip_key_sha256=None)
    config, gossip = (read_hcl(os.path.join(config_dir, name)) for name in ('security.hcl', 'gossip.hcl'))
    key = first_block(gossip.get('server')).get('encrypt')
    if key:
        switches['gossip_key_sha256'] = hashlib.sha256(to_bytes(key)).hexdigest()
    tls, acl = (first_block(config.get(name)) for name in ('tls', 'acl'))
    switches.update(tls_rpc=bool(tls.get('rpc')), tls_http=bool(tls.get('http')),
                    rpc_upgrade_mode=bool(tls.get('rpc_upgrade_mode')), acl=bool(acl.get('enabled')))
    switches['tls'] = switches['tls_rpc'] or switches['tls_http']
    return switches


def files_the_agent_reads(config_dir, binary, unit_file):
    """The files a restart would load: the binary, the unit, the configuration files (Nomad reads every
    .hcl and .json of the directory) and the TLS files security.hcl names. Not gossip.hcl: a running
    server takes a new key through the keyring API, never from its file."""
    try:
        names = sorted(os.listdir(config_dir))
    except (IOError, OSError):
        names = []
    paths = [binary] + ([unit_file] if unit_file else [])
    paths += [os.path.join(config_dir, name) for name in names
              if name.endswith(('.hcl', '.json')) and name not in ('gossip.hcl', 'security.hcl')]
    return paths + security_files(config_dir)


def security_files(config_dir):
    """security.hcl and the TLS files it names."""
    path = os.path.join(config_dir, 'security.hcl')
    tls = first_block(read_hcl(path).get('tls'))
    return [path] + [tls[key] for key in ('ca_file', 'cert_file', 'key_file') if tls.get(key)]


def changed_since(started_at, paths):
    """The paths replaced or changed after ``started_at``. The inode's change time, not its modification
    time: unzip and copies keep an old mtime, while a rename into place or a new write sets ctime."""
    changed = []
    for path in paths:
        try:
            if os.stat(path).st_ctime > started_at:
                changed.append(path)
        except (IOError, OSError):
            continue
    return changed


def running_security(files, config_dir, http_port, token):
    """(switches, error): TLS and ACLs as the running agent has them (``/v1/agent/self``), for an agent
    whose security files changed since it started. The files' scheme is tried first, then the other:
    the agent may still run the one they had before."""
    tls = first_block(read_hcl(os.path.join(config_dir, 'security.hcl')).get('tls'))
    errors = []
    for https in sorted((True, False), key=lambda scheme: scheme != files['tls_http']):
        try:
            client = NomadClient(address='%s://127.0.0.1:%d' % ('https' if https else 'http', http_port),
                                 token=token, ca_cert=tls.get('ca_file') if https else None,
                                 client_cert=tls.get('cert_file') if https else None,
                                 client_key=tls.get('key_file') if https else None, timeout=5)
            me, dummy = client.get('/v1/agent/self')
        except NomadAPIError as exc:
            if exc.status == 403:
                # Only an agent that enforces ACLs refuses to describe itself.
                return dict(tls_rpc=None, tls_http=https, rpc_upgrade_mode=None, acl=True), None
            errors.append(to_native(exc))
            continue
        except NomadError as exc:
            errors.append(to_native(exc))
            continue
        config = (me or {}).get('config') or {}
        agent_tls, acl = config.get('TLSConfig') or {}, config.get('ACL') or {}
        return dict(tls_rpc=bool(agent_tls.get('EnableRPC')), tls_http=bool(agent_tls.get('EnableHTTP')),
                    rpc_upgrade_mode=bool(agent_tls.get('RPCUpgradeMode')), acl=bool(acl.get('Enabled'))), None
    return None, '; '.join(errors)


def read_hcl(path):
    """A file the roles wrote, parsed; empty when it is missing or does not parse. Parsed once per call:
    security.hcl is read for the switches, the files, the running state and the members alike."""
    if path not in PARSED:
        try:
            with open(path) as handle:
                PARSED[path] = loads(handle.read(), os.path.basename(path))
        except (IOError, OSError, HCLError):
            PARSED[path] = {}
    return PARSED[path]


def first_block(value):
    """An HCL block as a dict, whether the parser gave one block or a list of them."""
    value = value or [{}]
    return value[0] if isinstance(value, list) else value


def server_members(config_dir, http_port, token):
    """(members, raft peers, cluster, error) as the local agent's gossip and raft have them. Another
    server may be down, the agent may answer only with a token: either way the caller decides, so
    nothing here fails the module. The raft peers are read from this server's own state (stale): a
    peer whose host is gone may have left gossip already, and still count for the quorum. The cluster
    (leader, servers, nodes) is what the readiness gate would read now; a run that restarts nothing
    needs no other look at it."""
    tls = first_block(read_hcl(os.path.join(config_dir, 'security.hcl')).get('tls'))
    https = bool(tls.get('http'))
    try:
        client = NomadClient(address='%s://127.0.0.1:%d' % ('https' if https else 'http', http_port), token=token,
                             ca_cert=tls.get('ca_file') if https else None,
                             client_cert=tls.get('cert_file') if https else None,
                             client_key=tls.get('key_file') if https else None, timeout=5)
        reader = ClusterInfo(client, fall_back=False)
        cluster = reader.read(single_look=True)
        if reader.servers_error:
            return None, None, None, to_native(reader.servers_error)
        raft, dummy = client.get('/v1/operator/raft/configuration', params=dict(stale=True))
    except NomadError as exc:
        return None, None, None, to_native(exc)
    members = [dict(name=s['name'], address=s['address'], status=s['status']) for s in cluster['servers']]
    peers = [dict(node=p.get('Node'), address=p.get('Address'), voter=bool(p.get('Voter')))
             for p in (raft or {}).get('Servers') or []]
    return (sorted(members, key=lambda m: (m['name'] or '', m['address'] or '')),
            sorted(peers, key=lambda p: p['address'] or ''), cluster, None)


def install_drift_of(options, binary, version):
    """What nomad_install with ``options`` would change here. Options it would refuse are drift too:
    the install task then runs, and says what is wrong with them."""
    params = dict(DEFAULTS, **options)
    try:
        want = wanted(params)
        return drift(want, version if os.path.join(want['install_dir'], BINARY) == binary else None)
    except (InstallError, ReleaseError, KeyError, TypeError, ValueError) as exc:
        return ['the install options cannot be judged here: %s' % to_native(exc)]
    except (IOError, OSError) as exc:
        return ['%s: %s' % (exc.filename or 'the install', exc.strerror or exc)]


def read_identity_file(path):
    """The file's stripped text, or None when it does not exist or is empty."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read().strip()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    return text or None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            data_dir=dict(type='path', default='/opt/nomad'),
            service_name=dict(type='str', default='nomad'),
            services=dict(type='list', elements='str', default=[]),
            binary=dict(type='path', default='/usr/local/bin/nomad'),
            config_dir=dict(type='path', default='/etc/nomad.d'),
            members=dict(type='bool', default=False),
            http_port=dict(type='int', default=4646),
            token=dict(type='str', no_log=True),
            install=dict(type='dict'),
        ),
        supports_check_mode=True,
    )
    unknown = sorted(set(module.params['install'] or {}) - set(DEFAULTS) - set(FETCH_ONLY))
    if unknown:
        module.fail_json(msg='install: unknown option(s) %s; nomad_install takes %s'
                         % (', '.join(unknown), ', '.join(sorted(set(DEFAULTS) | set(FETCH_ONLY)))))
    PARSED.clear()
    client_dir = os.path.join(module.params['data_dir'], 'client')
    try:
        node_id = read_identity_file(os.path.join(client_dir, 'client-id'))
        secret = read_identity_file(os.path.join(client_dir, 'secret-id'))
    except (IOError, OSError) as exc:
        module.fail_json(msg='Failed to read the node identity in %s: %s' % (client_dir, to_native(exc)))

    addresses = dict((name, ipv4_address(name)) for name in interface_names())
    default = default_interface()
    service = service_state(module, module.params['service_name'])
    security = security_switches(module.params['config_dir'])
    pending, running, running_error = [], None, None
    if service['started_at']:
        pending = changed_since(service['started_at'], files_the_agent_reads(
            module.params['config_dir'], module.params['binary'], service['unit_file']))
        running = dict((key, security[key]) for key in ('tls_rpc', 'tls_http', 'rpc_upgrade_mode', 'acl'))
        if set(security_files(module.params['config_dir'])).intersection(pending):
            running, running_error = running_security(security, module.params['config_dir'],
                                                      module.params['http_port'], module.params['token'])
    version = installed_version(module.params['binary'])
    install_drift = None
    if module.params['install'] is not None:
        install_drift = install_drift_of(module.params['install'], module.params['binary'], version)
    members, raft_peers, cluster, members_error = None, None, None, None
    if module.params['members'] and service['active']:
        members, raft_peers, cluster, members_error = server_members(
            module.params['config_dir'], module.params['http_port'], module.params['token'])
    module.exit_json(
        changed=False,
        interfaces=addresses,
        default_interface=default,
        primary_interface=primary_interface(addresses, default),
        service=service,
        services=dict((name, service_state(module, name)) for name in module.params['services']),
        nomad_version=version,
        install_drift=install_drift,
        security=security,
        changed_since_start=pending,
        running=running,
        running_error=running_error,
        node_id=to_native(node_id) if node_id else None,
        node_secret_digest=hashlib.sha256(secret).hexdigest() if secret else None,
        restart_drain=os.path.exists(os.path.join(module.params['data_dir'], 'restart-drain')),
        members=members,
        raft_peers=raft_peers,
        cluster=cluster,
        members_error=members_error,
    )


if __name__ == '__main__':
    main()
