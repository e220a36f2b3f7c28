"""A private CA and a broker certificate, so the TLS listener is exercised in tests and on a bench.

This is test-grade PKI: a deployment facing the internet should use the regency's CA or an
ACME certificate, and only point `MosquittoTls` at those files. Keys are EC P-256 (small
handshakes on 2G/GPRS links, supported by ESP32-class TLS stacks and by Mosquitto's OpenSSL),
written 0600. Certificates start five minutes in the past: field devices whose clock has
drifted a little must not reject a certificate issued a moment ago.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from tepi.mqtt_auth import MqttSecurityError, write_private

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"
_CLOCK_SKEW = timedelta(minutes=5)
_CA_LIFETIME = timedelta(days=3650)  # outlives many server certificates, so devices keep trusting it


@dataclass(frozen=True)
class MosquittoTls:
    """The files of a Mosquitto TLS listener; clients authenticate with passwords, not certificates."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    def listener_conf(self, port: int, bind: str | None = None) -> list[str]:
        """mosquitto.conf lines opening a TLS listener; they must follow any other listener's
        options, because Mosquitto attaches listener options to the latest `listener` line."""
        return [
            f"listener {port}{' ' + bind if bind else ''}",
            f"cafile {self.ca_cert.resolve()}",
            f"certfile {self.server_cert.resolve()}",
            f"keyfile {self.server_key.resolve()}",
            "require_certificate false",
        ]


def issue_test_tls(
    directory: Path,
    hostnames: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    valid_days: int = 365,
) -> MosquittoTls:
    """A CA (kept if `directory` already has one) and a fresh server certificate signed by it.

    Keeping the CA means re-running setup, e.g. to add a host name, does not make every device
    that already trusts `ca.crt` fail its handshake.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MqttSecurityError("TLS material needs the 'cryptography' package (pip install cryptography)") from exc

    if not hostnames and not ip_addresses:
        raise MqttSecurityError("a server certificate needs at least one host name or IP address")
    try:
        ips = [ipaddress.ip_address(a) for a in ip_addresses]
    except ValueError as exc:
        raise MqttSecurityError(f"not an IP address: {exc}") from exc
    now = datetime.now(timezone.utc)
    ca_cert_path, ca_key_path = directory / CA_CERT, directory / CA_KEY

    try:
        if ca_cert_path.exists() and ca_key_path.exists():
            ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
            ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
            if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
                raise MqttSecurityError(f"{ca_key_path} is not an EC key written by tepi")
        else:
            ca_key = ec.generate_private_key(ec.SECP256R1())
            ca_name = x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tepi"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Tepi test MQTT CA"),
            ])
            ca_cert = (
                x509.CertificateBuilder()
                .subject_name(ca_name).issuer_name(ca_name)
                .public_key(ca_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _CLOCK_SKEW).not_valid_after(now + _CA_LIFETIME)
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_key_usage(cert_sign=True), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256())
            )
            write_private(ca_key_path, _pem_key(ca_key))
            ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

        server_key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
        names += [x509.IPAddress(ip) for ip in ips]
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (list(hostnames) or list(ip_addresses))[0])]))
            .issuer_name(ca_cert.subject)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW).not_valid_after(now + timedelta(days=valid_days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        write_private(directory / SERVER_KEY, _pem_key(server_key))
        (directory / SERVER_CERT).write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise MqttSecurityError(f"cannot write TLS files in {directory}: {exc.strerror}") from exc
    except ValueError as exc:  # unreadable PEM left by someone else
        raise MqttSecurityError(f"cannot use the CA in {directory}: {exc}") from exc
    return MosquittoTls(ca_cert=ca_cert_path, server_cert=directory / SERVER_CERT, server_key=directory / SERVER_KEY)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Key usage for a CA (sign certificates) or an ECDHE server (digital signature only)."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not cert_sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign,
        encipher_only=False, decipher_only=False,
    )


def _pem_key(key: EllipticCurvePrivateKey) -> str:
    """An unencrypted PKCS#8 PEM: Mosquitto cannot prompt for a passphrase at start."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
