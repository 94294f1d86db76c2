"""TLS certificates of an app's names (apps.md §9.3), served by the gateway when it
listens for TLS (it reads them from ``GET /internal/certificates`` and follows
``apps.certificates.changed``)."""

from __future__ import annotations

from typing import Any

from services.apps.domain import errors, rules, tls
from services.apps.domain.models import App, Certificate
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from shared.bus import keys
from shared.events import Target
from shared.identity import Identity
from shared.mutation import authorize
from shared.permissions import ensure


def _names(deps: Deps, app: App) -> list[str]:
    """The names a certificate may be for: the app's address and its cnames."""
    return [rules.address(app, deps.config.apps_domain), *app.cnames]


def _check_name(deps: Deps, app: App, cname: str) -> None:
    if not cname:
        raise errors.CertificateNameMissing()
    if cname not in _names(deps, app):
        raise errors.CertificateNameInvalid()
    if not app.routers:
        raise errors.NoTlsRouter()


def set_certificate(
    deps: Deps, identity: Identity, name: str, cname: str, cert: str, key: str, fields: Any
) -> None:
    app = existing(deps, name)
    permit = authorize(identity, "app.update.certificate.set", app.contexts())
    if not cname:
        raise errors.CertificateNameMissing()
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields):
        _check_name(deps, app, cname)
        tls.check_pair(cert, key, cname)
        deps.stores.certificates.put(name, Certificate(cname, cert, key))
    deps.publisher.publish(keys.CERTIFICATES_CHANGED, {"app": name, "cname": cname})


def unset_certificate(deps: Deps, identity: Identity, name: str, cname: str, fields: Any) -> None:
    app = existing(deps, name)
    permit = authorize(identity, "app.update.certificate.unset", app.contexts())
    if not cname:
        raise errors.CertificateNameMissing()
    with permit.record(deps.recorder, target=Target("app", name), custom_data=fields):
        _check_name(deps, app, cname)
        deps.stores.certificates.remove(name, cname)
    deps.publisher.publish(keys.CERTIFICATES_CHANGED, {"app": name, "cname": cname})


def list_certificates(deps: Deps, identity: Identity, name: str) -> dict[str, dict[str, str]]:
    """Router -> (each app name -> its PEM certificate or "")."""
    app = existing(deps, name)
    ensure(identity, "app.read.certificate", app.contexts())
    if not app.routers:
        raise errors.NoTlsRouter()
    stored = deps.stores.certificates.of_app(name)
    shown = {n: (stored[n].certificate if n in stored else "") for n in _names(deps, app)}
    return {r.name: dict(shown) for r in app.routers}


def all_certificates(deps: Deps) -> list[tuple[str, Certificate]]:
    return deps.stores.certificates.all()
