"""The certificates the gateway serves for apps' HTTPS (gateway/apptls.py): chosen by
SNI over a real TLS handshake on loopback, reloaded whole, a bad pair skipped."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

import pytest

from gateway.apptls import CertificateFollower, CertificateTable, self_signed, server_context

DOMAIN = "apps.test"


def make_table() -> CertificateTable:
    default = server_context(*self_signed(DOMAIN))
    table = CertificateTable(default)
    default.sni_callback = table.on_sni
    return table


def served(table: CertificateTable, name: str | None) -> bytes:
    """The certificate (DER) a client sending SNI ``name`` receives."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    errors: list[BaseException] = []

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with table.default.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    client = ssl.create_default_context()
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with client.wrap_socket(raw, server_hostname=name) as tls:
                der = tls.getpeercert(binary_form=True)
    finally:
        thread.join(5)
        listener.close()
    assert not errors, errors
    assert der
    return der


def der(pem: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem)


def entry(name: str, pair: tuple[str, str], app: str = "shop") -> dict[str, Any]:
    return {"app": app, "cname": name, "certificate": pair[0], "key": pair[1]}


def test_each_name_gets_its_certificate_and_the_rest_the_default() -> None:
    table = make_table()
    shop, blog = self_signed("shop.example"), self_signed("blog.example")
    table.load([entry("www.shop.example", shop), entry("Blog.Example.", blog, "blog")])
    assert table.names == ["blog.example", "www.shop.example"]
    assert served(table, "www.shop.example") == der(shop[0])
    assert served(table, "BLOG.example") == der(blog[0])
    default = served(table, "other.apps.test")
    assert default not in (der(shop[0]), der(blog[0]))
    assert served(table, None) == default  # no SNI at all


def test_a_load_replaces_the_whole_table_and_keeps_unchanged_contexts() -> None:
    table = make_table()
    shop, blog = self_signed("shop.example"), self_signed("blog.example")
    table.load([entry("shop.example", shop), entry("blog.example", blog)])
    kept = table.context_for("shop.example")
    table.load([entry("shop.example", shop)])
    assert table.context_for("shop.example") is kept
    assert table.context_for("blog.example") is table.default
    assert served(table, "blog.example") != der(blog[0])


def test_a_pair_that_does_not_load_is_skipped() -> None:
    table = make_table()
    shop, other = self_signed("shop.example"), self_signed("other.example")
    broken = {"app": "x", "cname": "bad.example", "certificate": shop[0], "key": other[1]}
    table.load([broken, "junk", {"cname": 1}, entry("shop.example", shop)])
    assert table.names == ["shop.example"]
    assert table.context_for("bad.example") is table.default


def test_the_follower_loads_at_start_and_again_on_each_change() -> None:
    table = make_table()
    shop = self_signed("shop.example")
    answers: list[Any] = [{"certificates": []}, {"certificates": [entry("shop.example", shop)]}]
    calls = threading.Semaphore(0)

    def fetch() -> Any:
        calls.release()
        return answers.pop(0) if len(answers) > 1 else answers[0]

    follower = CertificateFollower(table, fetch, None, resync_seconds=60)
    follower.start()
    try:
        assert calls.acquire(timeout=5) and table.loaded.wait(5)
        assert table.names == []
        follower.reload()  # what an apps.certificates.changed message does
        assert calls.acquire(timeout=5)
        for _ in range(50):
            if table.names:
                break
            threading.Event().wait(0.05)
        assert table.names == ["shop.example"]
    finally:
        follower.stop()


def test_an_answer_of_the_wrong_shape_is_refused() -> None:
    follower = CertificateFollower(make_table(), lambda: {"routes": []}, None)
    with pytest.raises(ValueError):
        follower.load_once()
