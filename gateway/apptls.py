"""HTTPS for apps: the certificates the gateway serves on ``TSUBAME_TLS_PORT``.

Each gateway worker holds one ``ssl.SSLContext`` per host name that has a certificate
(an app's address or cname, set by ``PUT /apps/{app}/certificate``) and picks it by the
client's SNI (``CertificateTable.on_sni``). A name with no certificate, or a client
sending no SNI, gets the worker's default certificate: self-signed for ``*.<apps
domain>``, made when the worker starts (the handshake completes; the client decides
whether to trust it). The table is loaded from the apps service's
``GET /internal/certificates`` at start (retried until it answers), again after every
(re)connection to the bus and every ``follower.RESYNC_SECONDS``, and on every
``apps.certificates.changed`` message (the whole list is read again: a context is
rebuilt only for a name whose PEM changed).

Private keys never touch the disk here: a PEM pair is handed to OpenSSL through an
anonymous in-memory file (``memfd_create``), or a 0600 temporary file where there is
none, removed at once.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import ssl
import tempfile
import threading
from collections.abc import Iterable
from typing import Any

from shared.bus import Bus, keys
from shared.client import InternalClient

from .apptable import normalize_host
from .follower import Follower
from .settings import GatewaySettings

log = logging.getLogger("tsubame.gateway")

# A client has this long to finish its TLS handshake.
HANDSHAKE_TIMEOUT = 10.0


def _load_pem(context: ssl.SSLContext, pem: bytes) -> None:
    """``load_cert_chain`` of a PEM holding the chain and the key, without a file on disk."""
    memfd = getattr(os, "memfd_create", None)
    if memfd is not None:
        fd = memfd("tsubame-tls", 0)
        try:
            os.write(fd, pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    fd, path = tempfile.mkstemp(prefix="tsubame-tls-")
    try:
        os.write(fd, pem)
        os.close(fd)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)


def server_context(certificate: str, key: str) -> ssl.SSLContext:
    """A server context serving one certificate chain (PEM) with its key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    pem = certificate.strip() + "\n" + key.strip() + "\n"
    _load_pem(context, pem.encode())
    return context


def self_signed(domain: str) -> tuple[str, str]:
    """(certificate, key) PEM of a fresh self-signed certificate for ``*.<domain>``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = f"*.{domain}" if domain else "tsubame"
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(name)]
    if domain:
        names.append(x509.DNSName(domain))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


class CertificateTable:
    """Host name -> the context serving its certificate; the default one for the rest."""

    def __init__(self, default: ssl.SSLContext) -> None:
        self.default = default
        # name -> (digest of its PEM pair, context); replaced whole on each load.
        self._by_name: dict[str, tuple[str, ssl.SSLContext]] = {}
        self.loaded = threading.Event()

    def context_for(self, server_name: str | None) -> ssl.SSLContext:
        if server_name:
            held = self._by_name.get(normalize_host(server_name))
            if held is not None:
                return held[1]
        return self.default

    def on_sni(self, sock: Any, server_name: str | None, _context: Any) -> None:
        """``SSLContext.sni_callback``: switch the connection to the name's context."""
        context = self.context_for(server_name)
        if context is not self.default:
            sock.context = context

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)

    def load(self, entries: Iterable[Any]) -> None:
        """The whole list ``GET /internal/certificates`` answered."""
        current = self._by_name
        table: dict[str, tuple[str, ssl.SSLContext]] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            name, cert, key = entry.get("cname"), entry.get("certificate"), entry.get("key")
            if not (isinstance(name, str) and isinstance(cert, str) and isinstance(key, str)):
                continue
            host = normalize_host(name)
            digest = hashlib.sha256(f"{cert}\0{key}".encode()).hexdigest()
            held = current.get(host)
            if held is not None and held[0] == digest:
                table[host] = held
                continue
            try:
                table[host] = (digest, server_context(cert, key))
            except (ssl.SSLError, OSError, ValueError) as exc:
                log.warning("the certificate of %s is not served: %s", host, exc)
        self._by_name = table
        self.loaded.set()


class CertificateFollower(Follower[CertificateTable]):
    """Loads the table and reloads it on each change (gateway/follower.py)."""

    subject = "app certificates"
    thread_name = "gateway-certificates"
    queue_prefix = "gateway.certs"
    routing_keys = (keys.CERTIFICATES_CHANGED,)

    def load_once(self) -> None:
        answer = self._fetch()
        if not isinstance(answer, dict) or not isinstance(answer.get("certificates"), list):
            raise ValueError("the apps service's certificates are not {certificates: [...]}")
        self._table.load(answer["certificates"])
        self.loads += 1


def start_certificates(settings: GatewaySettings, *, listen_bus: bool = True) -> ssl.SSLContext:
    """The context a TLS listener of this worker wraps its connections with (its SNI
    callback picks each name's certificate), the table loading in the background."""
    cert, key = self_signed(settings.apps_domain)
    default = server_context(cert, key)
    table = CertificateTable(default)
    default.sni_callback = table.on_sni
    base = settings.base
    apps = InternalClient.to("apps", base, caller="gateway", timeout=10.0)
    CertificateFollower(
        table,
        lambda: apps.get("/internal/certificates"),
        (lambda: Bus(base.amqp_url, base.namespace)) if listen_bus else None,
    ).start()
    return default
