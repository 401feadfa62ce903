# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the double's pieces."""

import copy
import datetime
import fcntl
import hashlib
import json
import os
import pkgutil
import re
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid


def _build_info():
    """build.py --version lets an upgrade test install a double that reports another version."""
    try:
        data = pkgutil.get_data(__package__ or 'nomad_double', 'build_info.json')
    except OSError:
        return {}
    return json.loads(data.decode('utf-8')) if data else {}


# Revisions of the releases the double mimics, so `nomad version` reads as the real one.
KNOWN_REVISIONS = {'0.9.1': '23c4597dbb6d1d46e020301b0f63db5cff80d3f0',
                   '1.1.0': 'f99f1e27bb66bee36a1f3cdf00335e81e93ffff2',
                   '1.6.5': 'a7cfff372cd52b02232a02bd3ffb5e5d35f88a0f'}

_INFO = _build_info()
# NOMAD_DOUBLE_VERSION lets tests pick the personality of the source (or of
# any built file) without a build; otherwise the built-in version decides.
_ENV_VERSION = os.environ.get('NOMAD_DOUBLE_VERSION', '').strip()
VERSION = _ENV_VERSION or _INFO.get('version') or '0.9.1'
REVISION = (None if _ENV_VERSION else _INFO.get('revision')) or KNOWN_REVISIONS.get(VERSION, '0' * 40)


def personality(version):
    """'1.1.0' for any release from 1.0 on, else '0.9.1' (also for what does not parse)."""
    m = re.match(r'^v?(\d+)\.(\d+)', version or '')
    if m and (int(m.group(1)), int(m.group(2))) >= (1, 0):
        return '1.1.0'
    return '0.9.1'


# The one place that decides which Nomad the double behaves as; everything
# that differs between the two asks IS_1X.
PERSONALITY = personality(VERSION)
IS_1X = PERSONALITY == '1.1.0'

# On top of 1.1.0's personality, what 1.6.5 added that the collection uses
# (node pools), from tests/recordings/nomad-1.6.5/.
IS_16 = IS_1X and tuple(int(x) for x in re.findall(r'\d+', VERSION)[:2]) >= (1, 6)
# Raft protocol 3 is the default from 1.3 (and the only one from 1.4): a
# server upgraded into 1.3 restarts speaking it, as the real one does.
RAFT_PROTOCOL = '3' if IS_1X and tuple(int(x) for x in re.findall(r'\d+', VERSION)[:2]) >= (1, 3) else '2'
ZERO_TIME = '0001-01-01T00:00:00Z'

_templates = None
_tlock = threading.Lock()


def recording(name):
    """A file of tests/recordings/ (``nomad-1.6.5/jobs_parse.json``), as JSON:
    bundled into the built double, read from the checkout otherwise."""
    try:
        data = pkgutil.get_data(__package__ or 'nomad_double', 'recordings/' + name)
    except OSError:
        data = None
    if data is None:
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(os.path.dirname(here), 'recordings', name), 'rb') as f:
            data = f.read()
    return json.loads(data.decode('utf-8'))


_parses = None


class NoRecordedParse(Exception):
    """No recording of the personality's Nomad parsing this text."""


def recorded_parse(text, dialect, canonicalize=False):
    """What the real Nomad of this personality made of a job text, from
    parses-<version>.json (extract_parses.py): ``{'Job': ...}`` or
    ``{'Status': ..., 'Error': ...}``; None for a canonicalized job that was
    recorded only as parsed (the caller canonicalizes). The double has no job
    parser of its own: a text nobody recorded raises NoRecordedParse."""
    global _parses
    with _tlock:
        if _parses is None:
            data = pkgutil.get_data(__package__ or 'nomad_double', 'parses-%s.json' % PERSONALITY)
            _parses = json.loads(data.decode('utf-8'))
    digest = hashlib.sha256(text.encode('utf-8')).hexdigest()
    for canon in ((1, 0) if canonicalize else (0,)):
        found = _parses.get('%s:%d:%s' % (dialect, canon, digest))
        if found is not None:
            found = copy.deepcopy(found)
            found['Canonicalized'] = bool(canon)
            return found
    raise NoRecordedParse('the test double has no recording of Nomad %s parsing this job text (sha256 %s); '
                          'record it from a real Nomad and run tests/nomad_double/extract_parses.py'
                          % (PERSONALITY, digest))


def template(name):
    """A deep copy of a recorded object used as a skeleton: from Nomad 1.1.0's
    recordings in the 1.1.0 personality when there is one, else from 0.9.1's."""
    global _templates
    with _tlock:
        if _templates is None:
            _templates = {}
            files = ['templates.json'] + (['templates-1.1.0.json'] if IS_1X else [])
            for fn in files:
                data = pkgutil.get_data(__package__ or 'nomad_double', fn)
                _templates.update(json.loads(data.decode('utf-8')))
    return copy.deepcopy(_templates[name])


def new_id():
    return str(uuid.uuid4())


def now_ns():
    return time.time_ns()


def rfc3339(ts=None, nanos=True):
    ts = time.time() if ts is None else ts
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    if nanos:
        return dt.strftime('%Y-%m-%dT%H:%M:%S.') + '%09dZ' % (int((ts % 1) * 1e9))
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def log(level, msg):
    """Nomad-style log line on stdout (systemd's journal picks it up)."""
    ts = time.time()
    stamp = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ts)) + '.%03dZ' % int((ts % 1) * 1000)
    sys.stdout.write('    %s [%-5s] %s\n' % (stamp, level, msg))
    sys.stdout.flush()


def write_file(path, data, mode=0o600):
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    # A temp name of its own per call: several threads may save the same file.
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + '.', dir=d or '.')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def interface_ipv4(name):
    """IPv4 address of a network interface (SIOCGIFADDR), or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', name[:15].encode()))
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None
    finally:
        s.close()


def private_ipv4():
    """First private (RFC 1918) IPv4 of any interface, as GetPrivateIP would pick."""
    for _ifindex, name in socket.if_nameindex():
        ip = interface_ipv4(name)
        if not ip:
            continue
        a, b = [int(x) for x in ip.split('.')[:2]]
        if a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168):
            return ip
    for _ifindex, name in socket.if_nameindex():
        ip = interface_ipv4(name)
        if ip and not ip.startswith('127.'):
            return ip
    return None


def interface_of(ip):
    for _ifindex, name in socket.if_nameindex():
        if interface_ipv4(name) == ip:
            return name
    return None


def split_addr(addr, default_port):
    if addr.startswith('['):
        host, _sep, port = addr[1:].partition(']:')
        return host, int(port or default_port)
    if addr.count(':') == 1:
        host, port = addr.split(':')
        return host, int(port)
    return addr, default_port


class TLS(object):
    """TLS settings from the agent config's tls block."""

    def __init__(self, cfg, region='global'):
        cfg = cfg or {}
        self.http = bool(cfg.get('http'))
        self.rpc = bool(cfg.get('rpc'))
        self.rpc_upgrade_mode = bool(cfg.get('rpc_upgrade_mode'))
        self.ca_file = cfg.get('ca_file') or None
        self.cert_file = cfg.get('cert_file') or None
        self.key_file = cfg.get('key_file') or None
        self.verify_https_client = bool(cfg.get('verify_https_client'))
        self.verify_server_hostname = bool(cfg.get('verify_server_hostname'))
        self.region = region

    def server_context(self, require_client):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        if self.ca_file:
            ctx.load_verify_locations(self.ca_file)
        if require_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def client_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.ca_file:
            ctx.load_verify_locations(self.ca_file)
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.check_hostname = self.verify_server_hostname
        if not self.ca_file:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


class RPCError(Exception):
    def __init__(self, status, message):
        self.status = status
        self.message = message
        super(RPCError, self).__init__('%s: %s' % (status, message))


def rpc_call(addr, method, payload, tls=None, timeout=10.0, scheme=None):
    """POST JSON to another double's rpc (or serf) port; returns the decoded reply."""
    use_tls = tls is not None and tls.rpc
    # Fail fast on a dead peer: a long read timeout (blocking queries) must not
    # also become a long connect timeout to an address that vanished.
    host, port = split_addr(addr, 4647)
    try:
        socket.create_connection((host, port), timeout=min(timeout, 2.0)).close()
    except OSError as e:
        raise RPCError(0, 'dial tcp %s: %s' % (addr, e))
    if scheme is None:
        scheme = 'https' if use_tls else 'http'
    url = '%s://%s/rpc/%s' % (scheme, addr, method)
    data = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method='POST', headers={'Content-Type': 'application/json'})
    ctx = None
    if scheme == 'https':
        ctx = tls.client_context()
        if tls.verify_server_hostname:
            # Nomad's server certificates name server.<region>.nomad, not the IP.
            host = 'server.%s.nomad' % tls.region
            req.add_header('Host', addr)
            ctx.check_hostname = False
            ctx = _HostnameContext(ctx, host)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            return json.loads(resp.read().decode() or 'null')
    except urllib.error.HTTPError as e:
        raise RPCError(e.code, e.read().decode(errors='replace'))
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise RPCError(0, str(getattr(e, 'reason', e)))


class _HostnameContext(object):
    """Wrap an SSLContext so the peer certificate is checked against a fixed name."""

    def __init__(self, ctx, hostname):
        self._ctx = ctx
        self._hostname = hostname

    def __getattr__(self, name):
        return getattr(self._ctx, name)

    def wrap_socket(self, sock, server_hostname=None, **kw):
        self._ctx.check_hostname = True
        return self._ctx.wrap_socket(sock, server_hostname=self._hostname, **kw)
