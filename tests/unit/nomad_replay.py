# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay recorded Nomad HTTP exchanges from a tiny server on 127.0.0.1.

Exchanges use the recorded transcript format
``{"title", "request": {"method", "path", "query", "body"}, "response": {"status", "headers", "body"}}``.
They come from the real recordings (``tests/recordings/nomad-0.9.1/transcripts/api``)
or from ``tests/unit/fixtures``.
"""

import copy
import json
import os
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover
    raise

from urllib.parse import parse_qsl, urlsplit

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, 'fixtures')


def shared_dir():
    path = os.path.join(ROOT, 'tests', 'recordings', 'nomad-0.9.1')
    return os.path.abspath(path)


def transcripts_dir():
    return os.path.join(shared_dir(), 'transcripts', 'api')


def recorded(name):
    """Load one recorded exchange, e.g. recorded('051-evaluation-unplaceable');
    fail the test when it is missing."""
    path = os.path.join(transcripts_dir(), name + '.json')
    if not os.path.isfile(path):
        pytest.fail('recorded Nomad 0.9.1 transcripts missing from tests/recordings (%s)' % path)
    with open(path) as f:
        return json.load(f)


def recorded_1_1(name):
    """One exchange recorded from a real Nomad 1.1.0, e.g. recorded_1_1('184-namespace-get') or
    recorded_1_1('compare-0.9.1/02-091-namespaces') (from 0.9.1, for what its own corpus lacks)."""
    base = os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0')
    if name.startswith('compare-0.9.1/'):
        path = os.path.join(base, 'transcripts', 'compare-0.9.1', 'api', name.split('/', 1)[1] + '.json')
    else:
        path = os.path.join(base, 'transcripts', 'api', name + '.json')
    if not os.path.isfile(path):
        pytest.fail('recorded Nomad 1.1.0 transcripts missing from tests/recordings (%s)' % path)
    with open(path) as f:
        return json.load(f)


def fixture(name):
    with open(os.path.join(FIXTURES, name + '.json')) as f:
        return json.load(f)


def exchange(method, path, status=200, body=None, headers=None, index=None):
    """Build an exchange by hand (for sequences the recordings cannot give)."""
    hdrs = dict(headers or {})
    if index is not None:
        hdrs['X-Nomad-Index'] = str(index)
    if 'Content-Type' not in hdrs:
        hdrs['Content-Type'] = 'application/json' if status < 400 else 'text/plain; charset=utf-8'
    return {'title': '%s %s' % (method, path),
            'request': {'method': method, 'path': path, 'query': {}, 'body': None},
            'response': {'status': status, 'headers': hdrs, 'body': body}}


def with_path(ex, path):
    """The same recorded response, served at another path (e.g. another eval ID)."""
    ex = copy.deepcopy(ex)
    ex['request']['path'] = path
    return ex


class ReplayServer(object):
    """Serve a queue of exchanges; each is matched by method and path.

    Exchanges are consumed in order per (method, path). The last exchange for
    a (method, path) keeps answering once the queue is used up, which is how a
    blocking query on a settled object behaves.
    Requests received are kept in ``self.requests``.
    Requests nobody expected get a 599 so a test fails loudly.
    """

    def __init__(self, exchanges=()):
        self.queue = []
        self.requests = []
        self._lock = threading.Lock()
        for ex in exchanges:
            self.add(ex)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                try:
                    body = json.loads(raw.decode('utf-8')) if raw else None
                except ValueError:
                    body = raw.decode('utf-8', 'replace')
                parts = urlsplit(self.path)
                req = {'method': self.command, 'path': parts.path,
                       'query': dict(parse_qsl(parts.query, keep_blank_values=True)),
                       'headers': dict(self.headers.items()), 'body': body}
                ex = server._match(req)
                if ex is None:
                    status, headers, payload = 599, {'Content-Type': 'text/plain'}, 'unexpected request %s %s' % (
                        self.command, self.path)
                else:
                    resp = ex['response']
                    status, headers, payload = resp['status'], resp.get('headers') or {}, resp.get('body')
                if isinstance(payload, str):
                    data = payload.encode('utf-8')
                else:
                    data = json.dumps(payload).encode('utf-8')
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() in ('content-length', 'date', 'vary', 'transfer-encoding', 'connection'):
                        continue
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.address = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def add(self, ex):
        with self._lock:
            self.queue.append({'ex': ex, 'used': False})

    def _match(self, req):
        with self._lock:
            self.requests.append(req)
            key = (req['method'], req['path'])
            candidates = [q for q in self.queue
                          if (q['ex']['request']['method'], q['ex']['request']['path']) == key]
            for q in candidates:
                if not q['used']:
                    q['used'] = True
                    return q['ex']
            return candidates[-1]['ex'] if candidates else None

    def calls(self, method=None, path=None):
        return [r for r in self.requests
                if (method is None or r['method'] == method) and (path is None or r['path'] == path)]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def module_args(args):
    """A context in which AnsibleModule reads ``args`` as its arguments."""
    from unittest import mock
    from ansible.module_utils import basic
    try:
        # ansible-core 2.19+: also sets the serialization profile it added.
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        # Older ansible-core (down to 2.15, the oldest we claim) reads the
        # encoded JSON from this global when it is set, else from stdin.
        return mock.patch.object(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode())
    return patch_module_args(args)


def run_module(main, args, capsys, check_mode=False, diff=False):
    """Run a module's main() in-process; return (failed, result).

    ``result['warnings']`` holds the texts the module passed to
    ``module.warn()``: how ansible-core serializes warnings depends on
    whether controller code was imported in the same process, so they are
    recorded at the source.
    """
    from unittest import mock
    from ansible.module_utils import basic
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    warned = []
    original_warn = basic.AnsibleModule.warn

    def warn(self, warning):
        warned.append(warning)
        return original_warn(self, warning)

    with module_args(args), mock.patch.object(basic.AnsibleModule, 'warn', warn):
        with pytest.raises(SystemExit):
            main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result.pop('warnings', None)
    if warned:
        result['warnings'] = warned
    return bool(result.get('failed')), result
