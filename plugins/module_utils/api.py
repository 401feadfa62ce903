# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one place in the collection that speaks HTTP to Nomad.

Every verb takes a path template whose ``{}`` placeholders are filled with
quoted arguments, so a job ID such as ``a/b`` or ``x?y`` can never change the
URL's shape. Responses become ``(body, index)``; failures become typed
exceptions. Nothing here calls ``fail_json``: callers decide what a failure
means.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json as _json
import re
import traceback

try:
    from urllib.parse import quote as _quote
except ImportError:  # pragma: no cover - Python 2 is not supported, kept for sanity's import test
    from urllib import quote as _quote

from ansible_collections.nomadops.nomad.plugins.module_utils.go import parse_duration

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only on hosts without requests
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

DEFAULT_ADDRESS = 'http://127.0.0.1:4646'
DEFAULT_TIMEOUT = 10

PERMISSION_DENIED_HINT = 'permission denied: a valid ACL token is required (token or NOMAD_TOKEN)'


class NomadError(Exception):
    """Base class of every error raised by this client."""


class NomadConnectionError(NomadError):
    """The agent could not be reached (refused, DNS, TLS, timeout)."""

    def __init__(self, address, cause):
        self.address = address
        self.cause = cause
        super(NomadConnectionError, self).__init__(
            'cannot reach the Nomad agent at %s: %s' % (address, cause))


class NomadAPIError(NomadError):
    """Nomad answered with a non-2xx status.

    ``message`` is Nomad's own explanation: its error bodies are text/plain.
    """

    def __init__(self, status, url, message, method=None):
        self.status = status
        self.url = url
        self.message = message
        self.method = method
        super(NomadAPIError, self).__init__(self._render())

    def _render(self):
        what = '%s %s' % (self.method, self.url) if self.method else self.url
        return 'HTTP %s from %s: %s' % (self.status, what, self.message)


class NomadNotFound(NomadAPIError):
    """404: the object does not exist."""


class NomadPermissionDenied(NomadAPIError):
    """403: no token, an unknown token, or a token without the capability."""


class NomadConflict(NomadAPIError):
    """409: a check-and-set write lost; ``current`` is what the server holds now
    (Nomad sends it as the body of a variable's conflict), or None."""

    def __init__(self, status, url, message, method=None, current=None):
        self.current = current
        super(NomadConflict, self).__init__(status, url, message, method=method)


def _redact(text, secret):
    if secret and text:
        return text.replace(secret, '<redacted>')
    return text


def format_wait(wait):
    """Nomad wants Go durations; accept seconds (int/float) or a ready string."""
    if wait is None:
        return None
    if isinstance(wait, str):
        return wait
    if float(wait) == int(wait):
        return '%ds' % int(wait)
    return '%dms' % int(round(float(wait) * 1000))


def _wait_seconds(wait):
    if wait is None:
        return 0.0
    if not isinstance(wait, str):
        return float(wait)
    try:
        return parse_duration(wait) / 1e9
    except ValueError:
        return 0.0


_ERRNO = re.compile(r'\[Errno -?\d+\] [^\'"\)\]]+')


def _root_cause(exc):
    """urllib3 nests the real reason (refused, unknown host, bad
    certificate) deep in a long repr; dig it out."""
    text = str(exc)
    found = _ERRNO.findall(text)
    if found:
        return found[-1].strip()
    for marker in ('CERTIFICATE_VERIFY_FAILED', 'SSLError', 'certificate verify failed'):
        if marker in text:
            return 'TLS error: %s' % text
    return text


def _header(headers, name):
    # Go writes X-Nomad-Index, X-Nomad-Knownleader: never trust the case.
    if headers is None:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class NomadClient(object):
    """A small Nomad HTTP API client.

    ``get/put/post/delete(path_template, *args, params=None, json=None,
    index=None, wait=None)`` return ``(body, index)`` where body is the decoded
    JSON (or text) and index is ``X-Nomad-Index`` as an int (``None`` when
    Nomad sent none).
    """

    def __init__(self, address=DEFAULT_ADDRESS, token=None, region=None, namespace=None,
                 ca_cert=None, client_cert=None, client_key=None, validate_certs=True,
                 timeout=DEFAULT_TIMEOUT, session=None):
        if session is None and not HAS_REQUESTS:
            # Same wording as ansible's missing_required_lib, without importing
            # module-side code into a pure helper.
            raise NomadError(
                'Failed to import the required Python library (requests) on %s\'s Python. '
                'Please read the module documentation and install it in the appropriate location.'
                % _hostname())
        address = (address or DEFAULT_ADDRESS).strip()
        if '://' not in address:
            # NOMAD_ADDR=127.0.0.1:4646 is accepted by the CLI as http.
            address = 'http://' + address
        self.address = address.rstrip('/')
        self.token = token or None
        self.region = region or None
        self.namespace = namespace or None
        self.timeout = float(timeout) if timeout else float(DEFAULT_TIMEOUT)
        if ca_cert:
            self.verify = ca_cert
        else:
            self.verify = bool(validate_certs)
        if client_cert and client_key:
            self.cert = (client_cert, client_key)
        elif client_cert:
            self.cert = client_cert
        else:
            self.cert = None
        self._session = session

    # -- public verbs -------------------------------------------------------

    def get(self, path, *args, **kwargs):
        return self.request('GET', path, *args, **kwargs)

    def put(self, path, *args, **kwargs):
        return self.request('PUT', path, *args, **kwargs)

    def post(self, path, *args, **kwargs):
        return self.request('POST', path, *args, **kwargs)

    def delete(self, path, *args, **kwargs):
        return self.request('DELETE', path, *args, **kwargs)

    def download(self, path, *args, **kwargs):
        """GET a binary body (a snapshot) into the open file ``dest`` in
        chunks, never whole in memory; returns ``X-Nomad-Index``."""
        dest = kwargs.pop('dest')
        resp, url = self._send('GET', path, args, kwargs, stream=True)
        if resp.status_code >= 400:
            self._decode('GET', url, resp)
        for chunk in resp.iter_content(chunk_size=1 << 16):
            dest.write(chunk)
        raw_index = _header(resp.headers, 'X-Nomad-Index')
        return int(raw_index) if raw_index and raw_index.isdigit() else None

    def upload(self, method, path, *args, **kwargs):
        """Send the open binary file ``source`` as the body (a snapshot to
        restore); returns ``(body, index)`` like the other verbs."""
        source = kwargs.pop('source')
        resp, url = self._send(method, path, args, kwargs, data=source)
        return self._decode(method, url, resp)

    def url(self, path, *args):
        """Build the URL of ``path`` with every argument quoted."""
        quoted = [_quote(str(a), safe='') for a in args]
        return self.address + path.format(*quoted)

    def request(self, method, path, *args, **kwargs):
        body = kwargs.pop('json', None)
        data = None
        if body is not None:
            data = _json.dumps(body)
        resp, url = self._send(method, path, args, kwargs, data=data, content_type='application/json')
        return self._decode(method, url, resp)

    def _send(self, method, path, args, kwargs, data=None, content_type='application/octet-stream', stream=False):
        params = kwargs.pop('params', None)
        index = kwargs.pop('index', None)
        wait = kwargs.pop('wait', None)
        if kwargs:
            raise TypeError('unexpected arguments: %s' % ', '.join(sorted(kwargs)))

        url = self.url(path, *args)
        query = {}
        if self.region:
            query['region'] = self.region
        if self.namespace:
            query['namespace'] = self.namespace
        for key, value in (params or {}).items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            query[key] = value
        if index is not None:
            query['index'] = str(int(index))
            if wait is not None:
                query['wait'] = format_wait(wait)

        headers = {'Accept': 'application/json'}
        if self.token:
            headers['X-Nomad-Token'] = self.token
        if data is not None:
            headers['Content-Type'] = content_type

        # A blocking query may legitimately hold the connection for wait plus
        # Nomad's jitter (wait/16); the read timeout must outlast both.
        timeout = self.timeout
        if index is not None and wait is not None:
            timeout += _wait_seconds(wait) * (1 + 1.0 / 16) + 1

        if self._session is None:
            # One session per client: waiting issues many requests, and
            # keep-alive spares a TCP handshake on each.
            self._session = requests.Session()
        session = self._session
        try:
            resp = session.request(method, url, params=query or None, data=data, headers=headers,
                                   timeout=timeout, verify=self.verify, cert=self.cert, stream=stream)
        except Exception as e:  # requests raises a family; all mean "could not talk to it"
            if requests is not None and isinstance(e, requests.exceptions.Timeout):
                cause = 'timed out after %gs' % timeout
            else:
                cause = _redact(_root_cause(e), self.token)
            raise NomadConnectionError(self.address, cause)
        return resp, url

    # -- internals ----------------------------------------------------------

    def _decode(self, method, url, resp):
        status = resp.status_code
        text = resp.text if resp.text is not None else ''
        raw_index = _header(resp.headers, 'X-Nomad-Index')
        try:
            index = int(raw_index) if raw_index is not None else None
        except ValueError:
            index = None

        if status >= 400:
            message = text.strip() or (getattr(resp, 'reason', '') or 'no message')
            if status == 404:
                raise NomadNotFound(status, url, message, method=method)
            if status == 409:
                # The body is the variable as it is now, items and all: keep
                # it out of the message, which ends up in logs.
                try:
                    current = _json.loads(text)
                except ValueError:
                    current = None
                raise NomadConflict(status, url, 'check-and-set conflict: it was changed by someone else',
                                    method=method, current=current)
            if status == 403:
                raise NomadPermissionDenied(status, url, '%s; Nomad said: %s' % (PERMISSION_DENIED_HINT, message),
                                            method=method)
            raise NomadAPIError(status, url, message, method=method)

        if not text.strip():
            return None, index
        try:
            return _json.loads(text), index
        except ValueError:
            return text, index


def _hostname():
    try:
        import platform
        return platform.node() or 'this host'
    except Exception:  # pragma: no cover
        return 'this host'
