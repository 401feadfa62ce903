# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CA and agent certificates: created once, kept while valid, re-issued on
SAN change or near expiry, keys 0600, check mode writes nothing, and the
result is accepted by a real TLS handshake (Python's ssl, strict X.509)."""

import datetime
import os
import socket
import ssl
import stat
import threading

import pytest

from ansible_collections.nomadops.nomad.plugins.plugin_utils import tls

x509 = pytest.importorskip('cryptography.x509')


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def paths(tmp_path):
    d = tmp_path / 'tls'
    return dict(ca_cert=str(d / 'ca.pem'), ca_key=str(d / 'ca-key.pem'),
                cert=str(d / 'nomad1.pem'), key=str(d / 'nomad1-key.pem'))


def issue(paths, dns=('server.global.nomad', 'localhost'), ips=('127.0.0.1', '10.89.64.11'),
          check_mode=False, now=None, renew_before_days=30, valid_days=365):
    ca = tls.ensure_ca(paths['ca_cert'], paths['ca_key'], check_mode=check_mode)
    out = tls.ensure_certificate(ca, paths['cert'], paths['key'], dns[0], list(dns), list(ips),
                                 valid_days=valid_days, renew_before_days=renew_before_days,
                                 check_mode=check_mode, now=now)
    return ca, out


def load(path):
    with open(path, 'rb') as f:
        return x509.load_pem_x509_certificate(f.read())


def test_first_run_creates_ca_and_cert_with_private_modes(paths):
    ca, out = issue(paths)
    assert ca['changed'] and out['changed']
    assert out['reason'] == 'certificate does not exist'
    assert mode(paths['ca_key']) == 0o600 and mode(paths['key']) == 0o600
    assert mode(paths['ca_cert']) == 0o644 and mode(paths['cert']) == 0o644
    assert mode(os.path.dirname(paths['ca_key'])) == 0o700
    assert out['after']['dns_names'] == ['localhost', 'server.global.nomad']
    assert out['after']['ip_addresses'] == ['10.89.64.11', '127.0.0.1']
    assert sorted(os.listdir(os.path.dirname(paths['cert']))) == ['ca-key.pem', 'ca.pem', 'nomad1-key.pem', 'nomad1.pem']


def test_certificate_carries_what_nomad_and_openssl_check(paths):
    issue(paths)
    ca, cert = load(paths['ca_cert']), load(paths['cert'])
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).critical
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {o.dotted_string for o in eku} == {'1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'}
    assert cert.issuer == ca.subject
    cert.verify_directly_issued_by(ca)


def test_second_run_changes_nothing(paths):
    issue(paths)
    before = open(paths['cert'], 'rb').read(), open(paths['key'], 'rb').read(), open(paths['ca_cert'], 'rb').read()
    ca, out = issue(paths)
    assert not ca['changed'] and not out['changed'] and out['reason'] is None
    after = open(paths['cert'], 'rb').read(), open(paths['key'], 'rb').read(), open(paths['ca_cert'], 'rb').read()
    assert before == after


def test_san_change_reissues_and_keeps_the_key(paths):
    issue(paths)
    key_before = open(paths['key'], 'rb').read()
    serial_before = load(paths['cert']).serial_number
    dummy, out = issue(paths, ips=('127.0.0.1', '10.89.64.12'))
    assert out['changed'] and 'subject alternative names differ' in out['reason']
    assert '10.89.64.12' in out['reason']
    assert load(paths['cert']).serial_number != serial_before
    assert open(paths['key'], 'rb').read() == key_before
    assert tls.cert_sans(load(paths['cert'])) == (['localhost', 'server.global.nomad'], ['10.89.64.12', '127.0.0.1'])


def test_near_expiry_reissues(paths):
    issue(paths, valid_days=40)
    dummy, out = issue(paths, valid_days=40)
    assert not out['changed']
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=15)
    dummy, out = issue(paths, now=later, valid_days=40)
    assert out['changed'] and 'within 30 days' in out['reason']


def test_certificate_capped_by_a_short_lived_ca_is_not_reissued_every_run(paths):
    ca = tls.ensure_ca(paths['ca_cert'], paths['ca_key'], valid_days=20)
    first = tls.ensure_certificate(ca, paths['cert'], paths['key'], 'server.global.nomad',
                                   ['server.global.nomad'], ['127.0.0.1'])
    assert first['changed']
    assert load(paths['cert']).not_valid_after_utc <= load(paths['ca_cert']).not_valid_after_utc
    again = tls.ensure_certificate(ca, paths['cert'], paths['key'], 'server.global.nomad',
                                   ['server.global.nomad'], ['127.0.0.1'])
    assert not again['changed']
    assert 'the CA expires' in tls.ca_expiry_warning(ca['cert'], 30)
    assert tls.ca_expiry_warning(ca['cert'], 10) is None


def test_cert_from_another_ca_is_reissued(paths, tmp_path):
    issue(paths)
    other = dict(paths, ca_cert=str(tmp_path / 'o' / 'ca.pem'), ca_key=str(tmp_path / 'o' / 'ca-key.pem'))
    dummy, out = issue(other)
    assert out['changed'] and out['reason'] == 'certificate is not signed by the CA'
    load(paths['cert']).verify_directly_issued_by(load(other['ca_cert']))


def test_mismatched_key_is_replaced(paths, tmp_path):
    issue(paths)
    other = dict(paths, cert=str(tmp_path / 'x.pem'), key=str(tmp_path / 'x-key.pem'))
    issue(other)
    os.replace(other['key'], paths['key'])
    dummy, out = issue(paths)
    assert out['reason'] == 'private key does not match the certificate'
    dummy, out = issue(paths)
    assert not out['changed']


def test_loose_key_mode_is_repaired(paths):
    issue(paths)
    os.chmod(paths['key'], 0o644)
    dummy, out = issue(paths)
    assert out['changed'] and out['reason'] == 'private key mode fixed'
    assert mode(paths['key']) == 0o600


def test_check_mode_writes_nothing(paths):
    ca, out = issue(paths, check_mode=True)
    assert ca['changed'] and out['changed']
    assert not os.path.exists(os.path.dirname(paths['cert'])) or os.listdir(os.path.dirname(paths['cert'])) == []
    issue(paths)
    dummy, out = issue(paths, ips=('127.0.0.1',), check_mode=True)
    assert out['changed'] and out['after']['ip_addresses'] == ['127.0.0.1']
    assert tls.cert_sans(load(paths['cert']))[1] == ['10.89.64.11', '127.0.0.1']


def test_half_a_ca_is_refused(paths):
    issue(paths)
    os.unlink(paths['ca_cert'])
    with pytest.raises(tls.TLSError, match='refusing to replace half a CA'):
        tls.ensure_ca(paths['ca_cert'], paths['ca_key'])


def test_missing_ca_without_create_is_an_error(paths):
    with pytest.raises(tls.TLSError, match='create_ca is false'):
        tls.ensure_ca(paths['ca_cert'], paths['ca_key'], create=False)


def test_bad_ip_is_named():
    with pytest.raises(tls.TLSError, match="ip_addresses: 'nomad1' is not an IP address"):
        tls.normalize_sans(['localhost'], ['nomad1'])


def test_garbage_ca_key_is_reported_without_its_content(paths):
    issue(paths)
    with open(paths['ca_key'], 'w') as f:
        f.write('SECRET-MATERIAL')
    with pytest.raises(tls.TLSError) as err:
        tls.ensure_ca(paths['ca_cert'], paths['ca_key'])
    assert paths['ca_key'] in str(err.value) and 'SECRET-MATERIAL' not in str(err.value)


def test_concurrent_hosts_share_one_ca(tmp_path):
    ca_cert, ca_key = str(tmp_path / 'ca.pem'), str(tmp_path / 'ca-key.pem')
    serials = []

    def host(n):
        ca = tls.ensure_ca(ca_cert, ca_key)
        tls.ensure_certificate(ca, str(tmp_path / ('h%d.pem' % n)), str(tmp_path / ('h%d-key.pem' % n)),
                               'client.global.nomad', ['client.global.nomad'], ['127.0.0.1'])
        serials.append(ca['cert'].serial_number)

    threads = [threading.Thread(target=host, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(serials) == 6 and len(set(serials)) == 1
    for n in range(6):
        load(str(tmp_path / ('h%d.pem' % n))).verify_directly_issued_by(load(ca_cert))


def test_mutual_tls_handshake_with_strict_verification(paths, tmp_path):
    """A TLS server with the agent cert, requiring a client cert from the same
    CA, and a client that checks the server name: what verify_https_client and
    verify_server_hostname ask of the certificates."""
    issue(paths)
    client = dict(paths, cert=str(tmp_path / 'cli.pem'), key=str(tmp_path / 'cli-key.pem'))
    issue(client, dns=('cli.global.nomad',), ips=())

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(paths['cert'], paths['key'])
    server_ctx.load_verify_locations(paths['ca_cert'])
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=paths['ca_cert'])
    client_ctx.verify_flags |= getattr(ssl, 'VERIFY_X509_STRICT', 0)
    client_ctx.load_cert_chain(client['cert'], client['key'])

    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(2)
    port = listener.getsockname()[1]
    seen = {}

    def serve():
        conn = listener.accept()[0]
        with server_ctx.wrap_socket(conn, server_side=True) as tls_conn:
            seen['peer'] = tls_conn.getpeercert()
            tls_conn.sendall(b'ok')

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(('127.0.0.1', port)) as raw:
            with client_ctx.wrap_socket(raw, server_hostname='server.global.nomad') as conn:
                assert conn.recv(2) == b'ok'
    finally:
        thread.join(5)
        listener.close()
    assert ('DNS', 'cli.global.nomad') in seen['peer']['subjectAltName']

    # A name the certificate does not carry must be refused.
    wrong_ctx = ssl.create_default_context(cafile=paths['ca_cert'])
    with pytest.raises(ssl.SSLCertVerificationError):
        listener2 = socket.socket()
        listener2.bind(('127.0.0.1', 0))
        listener2.listen(1)
        t = threading.Thread(target=lambda: _accept_quietly(listener2, server_ctx))
        t.start()
        try:
            with socket.create_connection(listener2.getsockname()) as raw:
                wrong_ctx.wrap_socket(raw, server_hostname='server.otherregion.nomad')
        finally:
            t.join(5)
            listener2.close()


def _accept_quietly(listener, ctx):
    conn = listener.accept()[0]
    try:
        ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        pass
    finally:
        conn.close()


def _other(tmp_path, name):
    """A second CA with one certificate, in their own directory."""
    other = dict(ca_cert=str(tmp_path / name / 'ca.pem'), ca_key=str(tmp_path / name / 'ca-key.pem'),
                 cert=str(tmp_path / name / 'nomad1.pem'), key=str(tmp_path / name / 'nomad1-key.pem'))
    issue(other)
    return other


def test_supplied_files_that_fit_have_no_problems(paths):
    issue(paths)
    assert tls.supplied_problems(paths['ca_cert'], paths['cert'], paths['key'], ['server.global.nomad']) == []


def test_a_supplied_key_of_another_certificate_is_named(paths, tmp_path):
    issue(paths)
    other = _other(tmp_path, 'other')
    problems = tls.supplied_problems(paths['ca_cert'], paths['cert'], other['key'])
    assert problems == ['the private key %s does not belong to the certificate %s' % (other['key'], paths['cert'])]


def test_a_supplied_certificate_from_another_ca_is_named(paths, tmp_path):
    issue(paths)
    other = _other(tmp_path, 'other')
    problems = tls.supplied_problems(other['ca_cert'], paths['cert'], paths['key'])
    assert problems == ['the certificate %s is not signed by the CA %s (issuer: CN=Nomad Agent CA)'
                        % (paths['cert'], other['ca_cert'])]


def test_a_supplied_certificate_without_the_name_nomad_checks_is_named(paths):
    issue(paths, dns=('client.global.nomad',))
    problems = tls.supplied_problems(paths['ca_cert'], paths['cert'], paths['key'], ['server.global.nomad'])
    assert problems == ['the certificate %s does not name server.global.nomad, which Nomad checks '
                        '(it names client.global.nomad)' % paths['cert']]


def test_an_expired_supplied_certificate_is_named(paths):
    issue(paths)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=400)
    problems = tls.supplied_problems(paths['ca_cert'], paths['cert'], paths['key'], now=later)
    assert len(problems) == 1 and problems[0].startswith('%s expired ' % paths['cert'])


def test_a_missing_supplied_file_is_named(paths):
    issue(paths)
    os.unlink(paths['key'])
    assert tls.supplied_problems(paths['ca_cert'], paths['cert'], paths['key']) == ['%s does not exist' % paths['key']]
