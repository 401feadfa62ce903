# -*- coding: utf-8 -*-
# Copyright (c) nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small CA and agent certificates for Nomad's TLS, made on the controller.

Keys are ECDSA P-256 (Go's crypto/tls and OpenSSL both take them, and they
are fast to make on a 2-core box). Certificates carry what both of Nomad's
peers check: Go verifies ``server.<region>.nomad`` when
``verify_server_hostname`` is on, and Python's ssl (OpenSSL 3, X509_STRICT)
wants a critical basicConstraints on the CA and key identifiers on both.
"""

from __future__ import annotations

import datetime
import ipaddress

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - depends on the controller
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

from ansible_collections.nomadops.nomad.plugins.plugin_utils import secret_files

# Certificates start a little in the past so that a host whose clock lags the
# controller's does not reject a certificate issued a second ago.
BACKDATE = datetime.timedelta(minutes=5)


class TLSError(Exception):
    pass


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise TLSError('the python "cryptography" package is required on the controller: %s'
                       % CRYPTOGRAPHY_IMPORT_ERROR)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _not_before(cert):
    value = getattr(cert, 'not_valid_before_utc', None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def _iso(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def agent_names(region, server=False, client=False):
    """The DNS names Nomad expects for an agent in ``region``."""
    names = []
    if server:
        names.append('server.%s.nomad' % region)
    if client:
        names.append('client.%s.nomad' % region)
    return names


def normalize_sans(dns_names, ip_addresses):
    """Return (sorted unique DNS names, sorted unique IP strings); raise on a bad IP."""
    dns = sorted(set(name.strip().lower() for name in (dns_names or []) if name and name.strip()))
    ips = set()
    for value in ip_addresses or []:
        try:
            ips.add(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise TLSError('ip_addresses: %r is not an IP address' % (value,))
    return dns, [str(ip) for ip in sorted(ips, key=lambda ip: (ip.version, int(ip)))]


def _serialize_key(key):
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_bytes(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_cert(path):
    data = _read_bytes(path)
    if data is None:
        return None
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise TLSError('%s is not a PEM certificate: %s' % (path, exc))


def _load_key(path):
    data = _read_bytes(path)
    if data is None:
        return None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        # Never echo the file: it is a private key.
        raise TLSError('%s is not an unencrypted PEM private key (%s)' % (path, type(exc).__name__))


def _read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TLSError('cannot read %s: %s' % (path, exc.strerror))


def _issued_by(cert, ca_cert):
    if cert.issuer != ca_cert.subject:
        return False
    public_key = ca_cert.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes,
                              ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes,
                              padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def cert_sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return normalize_sans(ext.get_values_for_type(x509.DNSName),
                          [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)])


def _new_key():
    return ec.generate_private_key(ec.SECP256R1())


def build_ca(common_name, valid_days, now=None):
    """Return (certificate, private key) of a new self-signed CA."""
    _require_cryptography()
    now = now or _utcnow()
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def build_certificate(ca_cert, ca_key, common_name, dns_names, ip_addresses, valid_days,
                      key=None, now=None):
    """Return (certificate, private key) signed by the CA, for server and client use."""
    _require_cryptography()
    now = now or _utcnow()
    key = key or _new_key()
    dns, ips = normalize_sans(dns_names, ip_addresses)
    sans = [x509.DNSName(name) for name in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    not_after = min(now + datetime.timedelta(days=valid_days), _not_after(ca_cert))
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value \
        if _has_ext(ca_cert, x509.SubjectKeyIdentifier) else None
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=True,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        # Agents are TLS servers (HTTP, RPC) and TLS clients (RPC to servers).
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca_ski is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    else:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _has_ext(cert, ext_class):
    try:
        cert.extensions.get_extension_for_class(ext_class)
    except x509.ExtensionNotFound:
        return False
    return True


def ensure_ca(ca_cert_path, ca_key_path, common_name='Nomad Agent CA', valid_days=3650,
              create=True, check_mode=False):
    """Load the CA, creating it when neither of its files exists.

    Returns ``dict(changed, cert, key, not_after)``; ``cert``/``key`` are None
    only in check mode for a CA that would be created. A CA is never
    replaced: every agent trusts it, so that is a decision for a person.
    """
    _require_cryptography()
    ca_cert_path = secret_files.expand(ca_cert_path)
    ca_key_path = secret_files.expand(ca_key_path)
    with secret_files.locked(ca_key_path):
        cert = _load_cert(ca_cert_path)
        key = _load_key(ca_key_path)
        if cert is not None and key is not None:
            if _public_bytes(cert.public_key()) != _public_bytes(key.public_key()):
                raise TLSError('CA key %s does not belong to CA certificate %s' % (ca_key_path, ca_cert_path))
            changed = False
            if secret_files.file_mode(ca_key_path) != 0o600:
                changed = True
                if not check_mode:
                    secret_files.ensure_mode(ca_key_path, 0o600)
            return dict(changed=changed, cert=cert, key=key, not_after=_iso(_not_after(cert)))
        if cert is not None or key is not None:
            present, missing = (ca_cert_path, ca_key_path) if cert is not None else (ca_key_path, ca_cert_path)
            raise TLSError('CA file %s exists but %s does not; refusing to replace half a CA'
                           % (present, missing))
        if not create:
            raise TLSError('CA certificate %s does not exist and create_ca is false' % ca_cert_path)
        if check_mode:
            return dict(changed=True, cert=None, key=None, not_after=None)
        cert, key = build_ca(common_name, valid_days)
        # Key first: a crash in between leaves "key without cert", which the
        # half-a-CA check above reports instead of silently minting a new CA.
        secret_files.write_private(ca_key_path, _serialize_key(key), 0o600)
        secret_files.write_private(ca_cert_path, _cert_pem(cert), 0o644)
        return dict(changed=True, cert=cert, key=key, not_after=_iso(_not_after(cert)))


def certificate_problem(cert, key, ca_cert, dns_names, ip_addresses, renew_before_days, now=None):
    """Why the existing cert/key must be replaced, or None when it can stay."""
    now = now or _utcnow()
    if cert is None:
        return 'certificate does not exist'
    if key is None:
        return 'private key does not exist'
    if _public_bytes(cert.public_key()) != _public_bytes(key.public_key()):
        return 'private key does not match the certificate'
    if ca_cert is None or not _issued_by(cert, ca_cert):
        return 'certificate is not signed by the CA'
    wanted = normalize_sans(dns_names, ip_addresses)
    have = cert_sans(cert)
    if have != wanted:
        return 'subject alternative names differ (have %s, want %s)' % (
            ', '.join(have[0] + have[1]) or 'none', ', '.join(wanted[0] + wanted[1]))
    if _not_after(cert) - now < datetime.timedelta(days=renew_before_days) \
            and _not_after(cert) < _not_after(ca_cert):
        # A certificate that already lasts as long as its CA cannot be helped
        # by re-issuing; ca_expiry_warning() says so instead of churning.
        return 'certificate expires %s, within %d days' % (_iso(_not_after(cert)), renew_before_days)
    return None


def ca_expiry_warning(ca_cert, renew_before_days, now=None):
    """A warning when the CA itself is close to its end, else None."""
    if ca_cert is None:
        return None
    now = now or _utcnow()
    if _not_after(ca_cert) - now < datetime.timedelta(days=renew_before_days):
        return ('the CA expires %s, within %d days; certificates cannot outlive it. Replace the CA '
                '(every agent must then trust the new one).' % (_iso(_not_after(ca_cert)), renew_before_days))
    return None


def ensure_certificate(ca, cert_path, key_path, common_name, dns_names, ip_addresses,
                       valid_days=365, renew_before_days=30, check_mode=False, now=None):
    """Make cert_path/key_path a valid certificate from ``ca`` (see ensure_ca).

    Returns ``dict(changed, reason, before, after)`` where before/after
    describe the certificate (SANs, expiry, serial) for diff output.
    """
    _require_cryptography()
    cert_path = secret_files.expand(cert_path)
    key_path = secret_files.expand(key_path)
    dns, ips = normalize_sans(dns_names, ip_addresses)
    if not dns and not ips:
        raise TLSError('a certificate needs at least one DNS name or IP address')
    with secret_files.locked(key_path):
        cert = _load_cert(cert_path)
        try:
            key = _load_key(key_path)
        except TLSError:
            key = None  # unreadable key: replace it along with the cert
        before = describe(cert)
        reason = certificate_problem(cert, key, ca['cert'], dns, ips, renew_before_days, now=now) \
            if ca['cert'] is not None else 'the CA is about to be created'
        if reason is None:
            changed = secret_files.file_mode(key_path) != 0o600
            if changed and not check_mode:
                secret_files.ensure_mode(key_path, 0o600)
            return dict(changed=changed, reason='private key mode fixed' if changed else None,
                        before=before, after=before)
        if check_mode:
            return dict(changed=True, reason=reason, before=before,
                        after=dict(dns_names=dns, ip_addresses=ips, not_after=None, serial=None))
        # An existing, matching key survives a SAN change; only a missing or
        # mismatched key is replaced.
        keep_key = key if (key is not None and cert is not None and _public_bytes(cert.public_key()) == _public_bytes(key.public_key())) else None
        new_cert, new_key = build_certificate(ca['cert'], ca['key'], common_name, dns, ips,
                                              valid_days, key=keep_key, now=now)
        if keep_key is None:
            secret_files.write_private(key_path, _serialize_key(new_key), 0o600)
        else:
            secret_files.ensure_mode(key_path, 0o600)
        secret_files.write_private(cert_path, _cert_pem(new_cert), 0o644)
        return dict(changed=True, reason=reason, before=before, after=describe(new_cert))


def supplied_problems(ca_cert_path, cert_path, key_path, dns_names=(), now=None):
    """What is wrong with certificate files a user brought, each naming its file; empty when they can be used.

    Nothing is issued or changed: these files belong to the user. Nomad would
    otherwise find out only at the agent's start, or at the first handshake.
    """
    _require_cryptography()
    now = now or _utcnow()
    paths = [secret_files.expand(p) for p in (ca_cert_path, cert_path, key_path)]
    ca_cert_path, cert_path, key_path = paths
    try:
        ca_cert, cert, key = _load_cert(ca_cert_path), _load_cert(cert_path), _load_key(key_path)
    except TLSError as exc:
        return [str(exc)]
    missing = [path for path, loaded in zip(paths, (ca_cert, cert, key)) if loaded is None]
    if missing:
        return ['%s does not exist' % path for path in missing]
    problems = []
    if _public_bytes(cert.public_key()) != _public_bytes(key.public_key()):
        problems.append('the private key %s does not belong to the certificate %s' % (key_path, cert_path))
    if not _issued_by(cert, ca_cert):
        problems.append('the certificate %s is not signed by the CA %s (issuer: %s)'
                        % (cert_path, ca_cert_path, cert.issuer.rfc4514_string()))
    for path, loaded in ((ca_cert_path, ca_cert), (cert_path, cert)):
        if _not_after(loaded) < now:
            problems.append('%s expired %s' % (path, _iso(_not_after(loaded))))
        elif _not_before(loaded) > now:
            problems.append('%s is not valid before %s' % (path, _iso(_not_before(loaded))))
    have = cert_sans(cert)[0]
    absent = [name for name in normalize_sans(dns_names, [])[0] if name not in have]
    if absent:
        problems.append('the certificate %s does not name %s, which Nomad checks (it names %s)'
                        % (cert_path, ', '.join(absent), ', '.join(have) or 'no DNS name'))
    return problems


def describe(cert):
    if cert is None:
        return None
    dns, ips = cert_sans(cert)
    return dict(dns_names=dns, ip_addresses=ips, not_after=_iso(_not_after(cert)),
                serial='%x' % cert.serial_number)
