# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""NomadClient against recorded Nomad 0.9.1 responses served on 127.0.0.1."""

import socket

import pytest

from nomad_replay import ReplayServer, exchange, fixture, recorded

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    NomadAPIError,
    NomadClient,
    NomadConnectionError,
    NomadError,
    NomadNotFound,
    NomadPermissionDenied,
    format_wait,
)


def test_get_returns_body_and_index_from_recorded_job():
    ex = recorded('031-job-get')
    with ReplayServer([ex]) as srv:
        body, index = NomadClient(srv.address).get('/v1/job/{}', 'httpecho')
    assert body['ID'] == 'httpecho'
    assert body['TaskGroups'][0]['Count'] == ex['response']['body']['TaskGroups'][0]['Count']
    assert index == int(ex['response']['headers']['X-Nomad-Index'])


def test_index_header_is_matched_case_insensitively():
    ex = exchange('GET', '/v1/jobs', body=[], headers={'x-nomad-index': '42'})
    with ReplayServer([ex]) as srv:
        body, index = NomadClient(srv.address).get('/v1/jobs')
    assert body == [] and index == 42


def test_missing_index_header_gives_none():
    ex = fixture('status-leader')
    with ReplayServer([ex]) as srv:
        body, index = NomadClient(srv.address).get('/v1/status/leader')
    assert body == '127.0.0.1:6647'
    assert index is None


def test_path_arguments_are_quoted():
    with ReplayServer([exchange('GET', '/v1/job/a%2Fb%3Fc%20d', body={'ID': 'a/b?c d'}, index=3)]) as srv:
        body, dummy = NomadClient(srv.address).get('/v1/job/{}', 'a/b?c d')
        assert srv.requests[0]['path'] == '/v1/job/a%2Fb%3Fc%20d'
        assert srv.requests[0]['query'] == {}
    assert body['ID'] == 'a/b?c d'


def test_token_region_namespace_and_params_are_sent():
    with ReplayServer([exchange('DELETE', '/v1/job/web', body={'EvalID': 'x'}, index=9)]) as srv:
        client = NomadClient(srv.address, token='s3cr3t', region='eu', namespace='apps')
        client.delete('/v1/job/{}', 'web', params={'purge': True, 'skip': None})
        req = srv.requests[0]
    assert req['headers']['X-Nomad-Token'] == 's3cr3t'
    assert req['query'] == {'region': 'eu', 'namespace': 'apps', 'purge': 'true'}


def test_no_token_header_without_token():
    with ReplayServer([exchange('GET', '/v1/jobs', body=[], index=1)]) as srv:
        NomadClient(srv.address).get('/v1/jobs')
        assert 'X-Nomad-Token' not in srv.requests[0]['headers']


def test_json_body_is_posted():
    ex = fixture('register')
    with ReplayServer([ex]) as srv:
        body, index = NomadClient(srv.address).post('/v1/jobs', json=ex['request']['body'])
        sent = srv.requests[0]
    assert sent['body'] == ex['request']['body']
    assert sent['headers']['Content-Type'] == 'application/json'
    assert body['EvalID'] == ex['response']['body']['EvalID']
    assert index == int(ex['response']['headers']['X-Nomad-Index'])


def test_blocking_query_parameters():
    ex = recorded('048-blocking-query-timeout')
    with ReplayServer([ex]) as srv:
        body, index = NomadClient(srv.address).get('/v1/job/{}/allocations', 'httpecho', index=32, wait=5)
        q = srv.requests[0]['query']
    assert q == {'index': '32', 'wait': '5s'}
    assert index == int(ex['response']['headers']['X-Nomad-Index'])
    assert isinstance(body, list)


def test_format_wait():
    assert format_wait(5) == '5s'
    assert format_wait(0.25) == '250ms'
    assert format_wait('1m') == '1m'
    assert format_wait(None) is None


def test_404_becomes_not_found_with_nomads_message():
    with ReplayServer([fixture('job-not-found')]) as srv:
        with pytest.raises(NomadNotFound) as err:
            NomadClient(srv.address).get('/v1/job/{}', 'doesnotexist')
    e = err.value
    assert isinstance(e, NomadAPIError) and isinstance(e, NomadError)
    assert e.status == 404
    assert e.message == 'job not found'
    assert e.url == srv.address + '/v1/job/doesnotexist'
    assert '404' in str(e) and '/v1/job/doesnotexist' in str(e) and 'job not found' in str(e)


def test_recorded_enforce_index_conflict_is_an_api_error():
    ex = recorded('043-jobs-register-enforceindex-stale')
    with ReplayServer([ex]) as srv:
        with pytest.raises(NomadAPIError) as err:
            NomadClient(srv.address).post('/v1/jobs', json=ex['request']['body'])
    assert err.value.status == 500
    assert not isinstance(err.value, NomadNotFound)
    assert err.value.message == ex['response']['body']


def test_403_explains_the_token():
    with ReplayServer([fixture('acl-no-token')]) as srv:
        with pytest.raises(NomadPermissionDenied) as err:
            NomadClient(srv.address).get('/v1/jobs')
    msg = str(err.value)
    assert err.value.status == 403
    assert 'a valid ACL token is required (token or NOMAD_TOKEN)' in msg
    assert 'Permission denied' in msg


def test_recorded_unknown_token_403():
    ex = recorded('155-acl-jobs-bad-token')
    with ReplayServer([ex]) as srv:
        with pytest.raises(NomadPermissionDenied) as err:
            NomadClient(srv.address, token='00000000-1111-2222-3333-444444444444').get('/v1/jobs')
    assert 'ACL token not found' in str(err.value)


def test_no_leader_500():
    with ReplayServer([fixture('noleader-status-leader')]) as srv:
        with pytest.raises(NomadAPIError) as err:
            NomadClient(srv.address).get('/v1/status/leader')
    assert err.value.status == 500 and err.value.message == 'No cluster leader'


def _free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_agent_is_named():
    address = 'http://127.0.0.1:%d' % _free_port()
    with pytest.raises(NomadConnectionError) as err:
        NomadClient(address, timeout=2).get('/v1/nodes')
    assert err.value.address == address
    assert address in str(err.value)


def test_address_without_scheme_defaults_to_http():
    assert NomadClient('127.0.0.1:4646/').address == 'http://127.0.0.1:4646'


class _FakeResponse(object):
    status_code = 200
    headers = {'X-NOMAD-INDEX': '7'}
    text = '{"ok": true}'
    reason = 'OK'


class _RecordingSession(object):
    def __init__(self):
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        return _FakeResponse()


@pytest.mark.parametrize('kwargs, verify, cert', [
    ({}, True, None),
    ({'validate_certs': False}, False, None),
    ({'ca_cert': '/etc/nomad.d/ca.pem'}, '/etc/nomad.d/ca.pem', None),
    ({'client_cert': 'c.pem', 'client_key': 'k.pem'}, True, ('c.pem', 'k.pem')),
])
def test_tls_options_reach_the_transport(kwargs, verify, cert):
    session = _RecordingSession()
    body, index = NomadClient('https://nomad.example:4646', session=session, **kwargs).get('/v1/agent/self')
    dummy, url, sent = session.calls[0]
    assert url == 'https://nomad.example:4646/v1/agent/self'
    assert sent['verify'] == verify and sent['cert'] == cert
    assert body == {'ok': True} and index == 7


def test_blocking_query_extends_read_timeout():
    session = _RecordingSession()
    NomadClient('http://x:1', session=session, timeout=3).get('/v1/evaluation/{}', 'e', index=5, wait=60)
    assert session.calls[0][2]['timeout'] > 63
