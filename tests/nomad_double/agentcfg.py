# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Agent configuration of the double: loading (through the collection's own
agent_config and hcl modules), then the checks and address normalization
``nomad agent`` does before it starts, with Nomad 0.9.1's messages (1.1.0's
in the 1.1.0 personality)."""

import inspect
import json
import os
import re
import socket

from .product import agent_config, hcl
from .util import IS_1X, IS_16, TLS, VERSION, interface_ipv4, private_ipv4, split_addr


class StartupError(Exception):
    """``nomad agent`` prints ``==> MESSAGE`` on stderr and exits 1."""


def duration(value, default):
    if value in (None, ''):
        return default
    return agent_config.parse_duration(value) / 1e9


def _truthy(v):
    if isinstance(v, str):
        return v.lower() in ('1', 't', 'true')
    return bool(v)


def load(paths):
    """Merged config dict of all -config paths, or StartupError."""
    merged = {}
    files = []
    for path in paths:
        if not os.path.exists(path):
            raise StartupError('Error loading configuration from %s: stat %s: no such file or directory'
                               % (path, path))
        try:
            if IS_1X:
                cfg, fl = _load_1x(path)
            else:
                cfg, fl = agent_config.load([path], loads=_loads)
        except agent_config.AgentConfigError as e:
            raise StartupError(agent_config.nomad_load_error(path, e))
        merged = agent_config.merge(merged, cfg)
        files.extend(fl)
    return merged, files


def _load_1x(path):
    """agent_config.load, but without its 0.9.1 key check, which would refuse
    every key 1.x added; the 1.1 schema is used when agent_config has one."""
    merged = {}
    files = []
    for fn in agent_config.config_files(path):
        with open(fn) as f:
            text = f.read()
        if fn.endswith('.json'):
            try:
                config = json.loads(text)
            except ValueError as e:
                raise agent_config.AgentConfigError('error parsing: %s' % e, fn)
        else:
            try:
                config = hcl.loads(text, fn)
            except hcl.HCLError as e:
                # 1.1.0 no longer puts "error parsing: " in front (cli/86).
                raise agent_config.AgentConfigError(hcl_nomad_message(e, text), fn, e.line)
        _validate_1x(config, fn, text)
        merged = agent_config.merge(merged, config)
        files.append(fn)
    return merged, files


def _validate_1x(config, filename, text):
    # Feature-detected: the 1.1 schema is being added to agent_config.validate
    # separately, and this must work with and without it.
    params = inspect.signature(agent_config.validate).parameters
    if 'schema' in params:
        # The collection has no schema for 1.6 (versions.agent_schema), and 1.1's
        # would refuse what 1.6 added, such as client { node_pool }.
        agent_config.validate(config, filename, text, schema=None if IS_16 else '1.1')
    elif 'version' in params:
        agent_config.validate(config, filename, text, version=VERSION)
    elif not isinstance(config, dict):
        raise agent_config.AgentConfigError('error parsing: root should be an object', filename)


def _loads(text, filename):
    try:
        return hcl.loads(text, filename)
    except hcl.HCLError as e:
        err = Exception(hcl_nomad_message(e))
        err.line = e.line
        err.nomad_message = 'error parsing: ' + hcl_nomad_message(e)
        raise err


def hcl_nomad_message(e, text=None):
    """HCL1's own words for a syntax error (our parser adds a hint in parentheses).

    With ``text`` (1.1.0's HCL1), an error at the end of the file gets the
    position 1.1.0 gives it: the line after the last one, column 2 (cli/86).
    """
    msg = re.sub(r' \(the [^)]*\)$', '', e.message)
    if e.line is not None:
        return 'At %d:%d: %s' % (e.line, e.column or 0, msg)
    if text is not None and msg.endswith('got: EOF'):
        return 'At %d:%d: %s' % (text.count('\n') + 1, len(text.rsplit('\n', 1)[-1]) + 2, msg)
    return msg


class Settings(object):
    """Everything the agent needs, derived from the merged config."""

    def __init__(self, cfg, files):
        self.cfg = cfg
        self.files = files
        cfg.setdefault('server', {})
        cfg.setdefault('client', {})
        self.server_enabled = _truthy(cfg['server'].get('enabled'))
        self.client_enabled = _truthy(cfg['client'].get('enabled'))
        self.region = cfg.get('region') or 'global'
        self.datacenter = cfg.get('datacenter') or 'dc1'
        self.node_name = cfg.get('name') or socket.gethostname()
        self.data_dir = cfg.get('data_dir') or ''
        self.log_level = (cfg.get('log_level') or 'INFO').upper()
        ports = cfg.get('ports') or {}
        self.ports = {'http': int(ports.get('http') or 4646), 'rpc': int(ports.get('rpc') or 4647),
                      'serf': int(ports.get('serf') or 4648)}
        self.bind_addr = ip_template(cfg.get('bind_addr') or '0.0.0.0', 'Bind address resolution failed')
        addrs = cfg.get('addresses') or {}
        self.addresses = {}
        for k in ('http', 'rpc', 'serf'):
            self.addresses[k] = ip_template(addrs.get(k), 'Failed to parse %s address' % k.upper().replace(
                'SERF', 'Serf')) or self.bind_addr
        adv = dict(cfg.get('advertise') or {})
        for k in ('http', 'rpc', 'serf'):
            if adv.get(k):
                adv[k] = ip_template(adv[k], 'Failed to parse %s advertise address' % k.upper())
        self.adv = {}
        self.adv['http'] = self._advertise(adv.get('http'), 'http', 'Failed to parse HTTP advertise address (%s, %s, %d, false)'
                                           % (adv.get('http') or '', self.addresses['http'], self.ports['http']))
        self.adv['rpc'] = self._advertise(adv.get('rpc'), 'rpc', 'Failed to parse RPC advertise address')
        if self.server_enabled:
            self.adv['serf'] = self._advertise(adv.get('serf'), 'serf', 'Failed to parse Serf advertise address')
        else:
            self.adv['serf'] = (self.addresses['serf'], self.ports['serf'])
        self.adv_http, self.adv_rpc, self.adv_serf = self.adv['http'], self.adv['rpc'], self.adv['serf']
        self._validate()
        self.tls = TLS(cfg.get('tls'), self.region)
        self.http_tls = self.tls if self.tls.http else None
        self.rpc_tls = self.tls if self.tls.rpc else None
        self.acl_enabled = _truthy((cfg.get('acl') or {}).get('enabled'))
        srv = cfg['server']
        joins = list(srv.get('retry_join') or []) + list(srv.get('start_join') or [])
        sj = srv.get('server_join') or {}
        joins += list(sj.get('retry_join') or []) + list(sj.get('start_join') or [])
        self.join_addrs = ['%s:%d' % split_addr(j, 4648) for j in joins]
        cl = cfg['client']
        self.client_servers = ['%s:%d' % split_addr(s, 4647) for s in (cl.get('servers') or [])]
        self.raw_exec = _truthy((cl.get('options') or {}).get('driver.raw_exec.enable')) or \
            _truthy((((cfg.get('plugin') or {}).get('raw_exec') or {}).get('config') or {}).get('enabled'))
        self.network_interface = cl.get('network_interface') or ''

    def _advertise(self, given, kind, prefix):
        port = self.ports[kind]
        if given:
            host, p = split_addr(given, port)
            return host, p
        bind = self.addresses[kind]
        if bind.startswith('127.') or bind in ('localhost', '::1'):
            raise StartupError('%s: Defaulting advertise to localhost is unsafe, please set advertise manually'
                               % prefix)
        if bind not in ('0.0.0.0', '::', ''):
            return bind, port
        ip = private_ipv4()
        if not ip:
            raise StartupError('%s: Unable to parse default advertise address: No private IP address found'
                               % prefix)
        return ip, port

    def _validate(self):
        data_dir = self.cfg.get('data_dir') or ''
        if IS_1X and (self.server_enabled or self.client_enabled) and data_dir and \
                not self.cfg.get('plugin_dir') and not os.path.isabs(data_dir):
            # 1.1.0 checks its directories in Go's random map order; the
            # recording (cli/89) named the plugin dir, so the double does too.
            raise StartupError('plugin-dir must be given as an absolute path: got %s'
                               % os.path.join(data_dir, 'plugins'))
        try:
            agent_config.check_merged(self.cfg)
        except agent_config.AgentConfigError as e:
            raise StartupError(e.message)
        key = self.cfg['server'].get('encrypt')
        self.encrypt_key = agent_config.check_encrypt_key(key) if key else None

    def keyring_check(self):
        """Run at start, after the banner, like Nomad's setupKeyrings."""
        if self.encrypt_key is not None and len(self.encrypt_key) not in (16, 24, 32):
            raise StartupError('Error starting agent: failed to configure keyring: Invalid key: key size must be '
                               '16, 24 or 32 bytes')

    def client_ip(self):
        """The client's network address: network_interface, else the default route's interface."""
        if self.network_interface:
            ip = interface_ipv4(self.network_interface)
            if not ip:
                raise StartupError('Error starting agent: client setup failed: fingerprinting failed: '
                                   'Unable to find IP address of interface: %s' % self.network_interface)
            return self.network_interface, ip
        dev = default_route_interface()
        if not dev:
            raise StartupError('Error starting agent: client setup failed: fingerprinting failed: '
                               'No default interface found')
        return dev, interface_ipv4(dev)


_TEMPLATE = re.compile(r'^\{\{\s*(GetInterfaceIP\s+"([^"]+)"|GetPrivateIP|GetAllInterfaces[^}]*)\s*\}\}$')


def ip_template(value, what):
    """The go-sockaddr templates agents commonly use: GetInterfaceIP "eth0", GetPrivateIP."""
    if not value or '{{' not in value:
        return value
    m = _TEMPLATE.match(value.strip())
    if m and m.group(2):
        ip = interface_ipv4(m.group(2))
    elif m and m.group(1) == 'GetPrivateIP':
        ip = private_ipv4()
    else:
        raise StartupError('%s: Unable to parse address template %s: the test double only knows '
                           'GetInterfaceIP and GetPrivateIP' % (what, json.dumps(value)))
    if not ip:
        raise StartupError('%s: No addresses found, please configure one.' % what)
    return ip


def default_route_interface():
    try:
        with open('/proc/net/route') as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if len(parts) > 2 and parts[1] == '00000000':
                    return parts[0]
    except OSError:
        pass
    return None
