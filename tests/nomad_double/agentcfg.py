# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Agent configuration of the double: loading (HCL1 through pyhcl, see
hclparse), the key and value checks of the real release (recorded from its
binary: tests/recordings/nomad-*/agent_config.json, made by
tests/real/record_agent_keys.py), then the checks and address normalization
``nomad agent`` does before it starts, with Nomad 0.9.1's messages (1.1.0's
in the 1.1.0 personality)."""

import json
import os
import re
import socket

from . import hclparse
from .util import IS_1X, IS_16, TLS, interface_ipv4, private_ipv4, recording, split_addr


class StartupError(Exception):
    """``nomad agent`` prints ``==> MESSAGE`` on stderr and exits 1."""


# Go's time.ParseDuration: a sequence of decimal numbers with units, or a bare 0.
_UNIT_SECONDS = {'ns': 1e-9, 'us': 1e-6, '\u00b5s': 1e-6, '\u03bcs': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0,
                 'h': 3600.0}
_DURATION_PART = re.compile(r'(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)')


def go_duration(value):
    """Seconds of a Go duration string (an int counts as nanoseconds), or ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return value / 1e9
    text = str(value)
    sign = -1 if text.startswith('-') else 1
    body = text.lstrip('+-')
    if body == '0':
        return 0.0
    total, pos = 0.0, 0
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if not m:
            raise ValueError(value)
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body:
        raise ValueError(value)
    return sign * total


def duration(value, default):
    if value in (None, ''):
        return default
    return go_duration(value)


def _truthy(v):
    if isinstance(v, str):
        return v.lower() in ('1', 't', 'true')
    return bool(v)


# ----------------------------------------------------------------- loading

def _release_keys():
    """What the real release of this personality accepts (record_agent_keys.py)."""
    name = 'nomad-1.6.5' if IS_16 else 'nomad-1.1.0' if IS_1X else 'nomad-0.9.1'
    return recording(name + '/agent_config.json')


_KEYS = None


def release_keys():
    global _KEYS
    if _KEYS is None:
        _KEYS = _release_keys()
    return _KEYS


def config_files(path):
    """What ``-config PATH`` reads: the file, or a directory's *.hcl and *.json
    in lexical order, leaving out subdirectories and editors' temporary files."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for name in sorted(os.listdir(path)):
        if not name.endswith(('.hcl', '.json')) or os.path.isdir(os.path.join(path, name)):
            continue
        if name.endswith('~') or name.startswith('.#') or (name.startswith('#') and name.endswith('#')):
            continue
        found.append(os.path.join(path, name))
    return found


def load(paths):
    """Merged config dict of all -config paths, or StartupError."""
    merged = {}
    files = []
    for path in paths:
        if not os.path.exists(path):
            raise StartupError('Error loading configuration from %s: stat %s: no such file or directory'
                               % (path, path))
        for fn in config_files(path):
            try:
                config = _load_file(fn)
            except _FileError as e:
                raise StartupError('Error loading configuration from %s: Error loading %s: %s' % (path, fn, e))
            merged = merge(merged, config)
            files.append(fn)
    return merged, files


class _FileError(Exception):
    """What the release says after ``Error loading FILE: ``."""


def _load_file(fn):
    with open(fn) as f:
        text = f.read()
    if fn.endswith('.json'):
        try:
            config = json.loads(text)
        except ValueError as e:
            raise _FileError('error parsing: %s' % e)
        if not isinstance(config, dict):
            raise _FileError('error parsing: root should be an object')
    else:
        try:
            config = hclparse.loads(text)
        except hclparse.SyntaxErr as e:
            if IS_16:
                raise _FileError('failed to decode HCL file %s: %s' % (fn, e.positioned()))
            if IS_1X:
                # 1.1.0 no longer puts "error parsing: " in front (cli/86).
                raise _FileError(e.positioned())
            raise _FileError('error parsing: ' + e.positioned())
    check_keys(config, fn)
    return config


def _blocks(obj):
    """A block's objects: pyhcl gives one object, JSON may give a list of them."""
    items = [obj] if isinstance(obj, dict) else obj if isinstance(obj, list) else []
    return [o for o in items if isinstance(o, dict)]


def _objects_at(config, path):
    objs = [config]
    for part in path.split('.') if path else ():
        if part == '*':
            objs = [body for o in objs for body in o.values() for body in _blocks(body)]
        else:
            objs = [sub for o in objs for sub in _blocks(o.get(part))]
    return objs


def _value_refused(template, value):
    """Whether the release refuses value where it refused "zz" with template."""
    if value is None or isinstance(value, (dict, list)):
        return False
    text = value if isinstance(value, str) else None
    if re.search(r'ParseInt', template):
        if isinstance(value, (int, float)):
            return False
        try:
            int(text, 0)
            return False
        except ValueError:
            return True
    if re.search(r'ParseFloat', template):
        if isinstance(value, (int, float)):
            return False
        try:
            float(text)
            return False
        except ValueError:
            return True
    if re.search(r'ParseBool|decodeBool', template):
        return text is not None and text not in ('1', 't', 'T', 'TRUE', 'true', 'True',
                                                 '0', 'f', 'F', 'FALSE', 'false', 'False')
    if re.search(r'duration', template):
        if text == '':
            return False
        try:
            go_duration(value)
            return False
        except ValueError:
            return True
    return False


def _value_error(template, value, fn):
    shown = value if isinstance(value, str) else json.dumps(value)
    return re.sub(r'\bzz\b', lambda _m: shown, template).replace('agent.hcl', fn)


def _first_bad_value(keys, config, paths, fn, durations):
    for path in paths:
        block = keys['blocks'].get(path)
        if not block or block['any_key']:
            continue
        for obj in _objects_at(config, path):
            for key, value in obj.items():
                template = block['values'].get(key)
                if template and ('duration' in template) == durations and _value_refused(template, value):
                    raise _FileError(_value_error(template, value, fn))


def _unknown_keys(keys, config, path, fn):
    block = keys['blocks'][path]
    for obj in _objects_at(config, path):
        bad = [k for k in obj if k not in block['keys']]
        if not bad:
            continue
        template = keys['unknown'][path]
        if IS_1X:
            raise _FileError(template.replace('{key}', ', '.join(bad)))
        # go-multierror's list: "N error(s) occurred:\n\n* ...\n* ...".
        head, item = template.rsplit('1 error(s) occurred:\n\n', 1)
        raise _FileError('%s%d error(s) occurred:\n\n%s' % (head, len(bad), '\n'.join(
            item.replace('{key}', k) for k in bad)))


def check_keys(config, fn):
    """The release's refusal of unknown keys and undecodable values, in its order."""
    keys = release_keys()
    order = keys['order']
    if IS_1X:
        # 1.x decodes the whole file first (stopping at the first value it
        # cannot use), then parses durations, then looks for unused keys.
        _first_bad_value(keys, config, order, fn, durations=False)
        _first_bad_value(keys, config, order, fn, durations=True)
        for path in order:
            _unknown_keys(keys, config, path, fn)
        return
    # 0.9.1 checks block by block: its keys, then its values.
    for path in order:
        _unknown_keys(keys, config, path, fn)
        _first_bad_value(keys, config, [path], fn, durations=False)
        _first_bad_value(keys, config, [path], fn, durations=True)


# Lists that a later file extends rather than replaces.
_APPENDED = (('client', 'servers'), ('server', 'retry_join'), ('server', 'start_join'))


def merge(base, over, parent=''):
    """``over`` merged into ``base`` as Nomad merges config files: blocks key
    by key, scalars and other lists replaced (a few lists appended)."""
    out = dict(base)
    for key, value in over.items():
        objs = _blocks(value) if isinstance(value, (dict, list)) else []
        is_block = isinstance(value, dict) or (isinstance(value, list) and value and len(objs) == len(value))
        if is_block:
            merged = out.get(key) if isinstance(out.get(key), dict) else {}
            for obj in objs:
                merged = merge(merged, obj, key)
            out[key] = merged
        elif (parent, key) in _APPENDED and isinstance(value, list):
            out[key] = list(out.get(key) or []) + value
        else:
            out[key] = value
    return out


# ------------------------------------------------ checks of the merged config

def startup_problem(cfg):
    """The first of ``nomad agent``'s checks of the merged config that fails
    (recorded: cli/43, 44, 47, 89-91), as it words it, or None."""
    server = cfg.get('server') or {}
    client = cfg.get('client') or {}
    if not (_truthy(server.get('enabled')) or _truthy(client.get('enabled'))):
        return 'Must specify either server, client or dev mode for the agent.'
    if server.get('encrypt'):
        try:
            gossip_key(server['encrypt'])
        except ValueError as e:
            return 'Invalid encryption key: %s' % e
    data_dir = cfg.get('data_dir') or ''
    dirs = (('data-dir', data_dir), ('plugin-dir', cfg.get('plugin_dir') or (
        os.path.join(data_dir, 'plugins') if data_dir else '')), ('alloc-dir', client.get('alloc_dir')),
        ('state-dir', client.get('state_dir')))
    for name, value in dirs:
        if value and not os.path.isabs(value):
            return '%s must be given as an absolute path: got %s' % (name, value)
    if _truthy(server.get('enabled')) and not data_dir:
        return 'Must specify data directory'
    if _truthy(client.get('enabled')) and not data_dir and not (client.get('alloc_dir') and client.get('state_dir')):
        return 'Must specify the state, alloc dir, and plugin dir if data-dir is omitted.'
    return None


_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'


def gossip_key(text):
    """The key's bytes, decoded as Go's base64.StdEncoding does (newlines
    skipped, padding required); ValueError with its words and offset."""
    def bad(offset):
        return ValueError('illegal base64 data at input byte %d' % offset)

    sextets, si, n = [], 0, len(text)
    while si < n:
        quantum, j = [], 0
        while j < 4:
            if si == n:
                if j == 0:
                    break
                raise bad(si - j)
            ch = text[si]
            si += 1
            if ch in '\r\n':
                continue
            if ch == '=':
                if j < 2:
                    raise bad(si - 1)
                if j == 2:
                    while si < n and text[si] in '\r\n':
                        si += 1
                    if si == n:
                        raise bad(n)
                    if text[si] != '=':
                        raise bad(si - 1)
                    si += 1
                while si < n and text[si] in '\r\n':
                    si += 1
                if si < n:
                    raise bad(si)
                break
            if ch not in _B64:
                raise bad(si - 1)
            quantum.append(_B64.index(ch))
            j += 1
        if not quantum:
            break
        sextets.extend(quantum)
        if len(quantum) < 4:
            sextets.extend([0] * (4 - len(quantum)))
            sextets.append(len(quantum))
            break
    # Sextets to bytes; a padded last quantum of 2 or 3 sextets gives 1 or 2 bytes.
    short = sextets.pop() if len(sextets) % 4 else None
    raw = bytearray()
    for i in range(0, len(sextets), 4):
        value = (sextets[i] << 18) | (sextets[i + 1] << 12) | (sextets[i + 2] << 6) | sextets[i + 3]
        raw += value.to_bytes(3, 'big')
    if short is not None:
        del raw[len(raw) - 3 + short - 1:]
    return bytes(raw)


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
        problem = startup_problem(self.cfg)
        if problem:
            raise StartupError(problem)
        key = self.cfg['server'].get('encrypt')
        self.encrypt_key = gossip_key(key) if key else None

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
