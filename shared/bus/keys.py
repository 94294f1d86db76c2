"""Routing keys of domain messages: each key is spelled here and nowhere else.

Keys are the project's dotted vocabulary ``<context>.<thing>.<what happened>``; the
context that owns the thing publishes, others consume. Bodies are JSON objects
(docs/contracts.md "Bus" and docs/runtime.md "Bus messages" describe each one).
Publish and bind with these names, never with a string literal (an architecture test
checks every publish site).
"""

from __future__ import annotations

# auth
TOKEN_REVOKED = "auth.token.revoked"  # {"token_hash"}
IDENTITY_CHANGED = "auth.identity.changed"  # {"email"} | {"token_id"} | {}
TEAM_REMOVED = "auth.team.removed"  # {"team"}
AUTH_ANY = "auth.#"  # binding pattern: every auth message

# events
EVENT_FINISHED = "events.event.finished"  # {"id": "<UniqueID hex>"}
WEBHOOK_DELIVERY = "events.webhook.delivery"  # {"event", "webhook", "attempt"}

# apps (docs/runtime.md)
APP_REMOVED = "apps.app.removed"  # {"app"}
CERTIFICATES_CHANGED = "apps.certificates.changed"  # {"app", "cname"}


def app_logs(app: str) -> str:
    """``apps.logs.<app>``: an app's stored log lines, for followers of that app."""
    return f"apps.logs.{app}"


# provisioner (docs/runtime.md)
ROUTES_CHANGED = "provisioner.routes.changed"  # {"app", "route"}
UNITS_CHANGED = "provisioner.units.changed"  # {"app", "added", "removed"}
UNIT_LOGS = "provisioner.unit.logs"  # {"app", "lines"}
DEPLOY_FINISHED = "provisioner.deploy.finished"  # {"app", "event", "version", "error", "result"}
PLATFORM_CHANGED = "provisioner.platform.changed"  # {"platform", "version"}
