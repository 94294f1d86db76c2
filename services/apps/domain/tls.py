"""Checking a certificate and key pair the way Go's crypto/tls and crypto/x509 do
(tsuru's ``PUT /apps/{app}/certificate``), with their error texts."""

from __future__ import annotations

import ipaddress
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from shared.errors import Invalid

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s.*?-----END \1-----", re.DOTALL)


def _blocks(pem: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(0)) for m in _BLOCK.finditer(pem)]


def _dns_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _matches(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    # Go: a leading "*." matches exactly one label.
    if pattern.startswith("*.") and "." in host:
        return host.split(".", 1)[1] == pattern[2:] and host.split(".", 1)[0] != ""
    return False


def check_pair(certificate: str, key: str, name: str) -> None:
    """400 with Go's text unless ``certificate`` (PEM, leaf first) and ``key`` are a
    pair and the leaf is valid for ``name``."""
    cert_blocks = [b for t, b in _blocks(certificate) if t == "CERTIFICATE"]
    if not cert_blocks:
        raise Invalid("tls: failed to find any PEM data in certificate input")
    key_blocks = _blocks(key)
    if not key_blocks:
        raise Invalid("tls: failed to find any PEM data in key input")
    key_block = next((b for t, b in key_blocks if t.endswith("PRIVATE KEY")), None)
    if key_block is None:
        skipped = " ".join(t for t, _ in key_blocks)
        raise Invalid(
            'tls: failed to find "PRIVATE KEY" PEM block in key input after skipping PEM '
            f"blocks of the following types: [{skipped}]"
        )
    try:
        leaf = x509.load_pem_x509_certificate(cert_blocks[0].encode())
    except ValueError as exc:
        raise Invalid(f"x509: malformed certificate: {exc}") from None
    try:
        private = serialization.load_pem_private_key(key_block.encode(), password=None)
    except (ValueError, TypeError):
        raise Invalid("tls: failed to parse private key") from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if private.public_key().public_bytes(der, pub) != leaf.public_key().public_bytes(der, pub):
        raise Invalid("tls: private key does not match public key")
    _check_name(leaf, name.lower().rstrip("."))


def _check_name(cert: x509.Certificate, host: str) -> None:
    dns, ips = _dns_names(cert)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        if str(ip) in ips:
            return
        raise Invalid(f"x509: certificate is not valid for any names, but wanted to match {host}"
                      if not ips else f"x509: certificate is valid for {', '.join(ips)}, not {host}")  # fmt: skip
    if not dns:
        raise Invalid("x509: certificate relies on legacy Common Name field, use SANs instead")
    if any(_matches(p, host) for p in dns):
        return
    raise Invalid(f"x509: certificate is valid for {', '.join(dns)}, not {host}")
