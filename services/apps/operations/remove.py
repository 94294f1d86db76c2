"""``DELETE /apps/{app}`` (apps.md §9.1): every trace of the app, step by step. A step
that fails is reported on its own line and the removal goes on, as tsuru does; the
provisioner forgets units and routes, the catalog unbinds the app's instances when
it hears ``apps.app.removed``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.apps.domain import errors
from services.apps.domain.models import App
from services.apps.operations import sync
from services.apps.operations.deps import Deps
from services.apps.operations.lookup import existing
from services.apps.operations.sinks import Sink
from shared.bus import keys
from shared.errors import Conflict
from shared.events import Target
from shared.identity import Identity
from shared.mutation import Permit, authorize

Write = Callable[[str], None]


class SwappedApp(Conflict):
    # tsuru 1.11 answers 500; the app is in a swap, not broken (docs/compatibility.md).
    def __init__(self, other: str) -> None:
        super().__init__(f'application is swapped with "{other}", cannot remove it')


def check(deps: Deps, identity: Identity, name: str) -> tuple[App, Permit]:
    app = existing(deps, name)
    return app, authorize(identity, "app.delete", app.contexts())


def remove(deps: Deps, permit: Permit, app: App, fields: Any, write: Write) -> None:
    with permit.record(deps.recorder, target=Target("app", app.name), custom_data=fields) as evt:
        if app.swapped_with:
            raise SwappedApp(app.swapped_with)
        evt.attach(Sink(write))
        evt.log(f'---- Removing application "{app.name}"...\n')
        failed = False

        def step(label: str, action: Callable[[], object]) -> None:
            nonlocal failed
            try:
                action()
            except Exception as exc:  # reported to the client: the removal goes on
                failed = True
                evt.log(f"{label}: {exc}\n")

        step("Unable to remove app from the provisioner",
             lambda: sync.command(deps, evt, "remove", app, {}))  # fmt: skip
        # Deploy records stay, as tsuru's deploy events do (their app answers 404).
        step("Unable to remove app versions", lambda: deps.stores.versions.delete_app(app.name))
        step("Unable to remove app token", lambda: deps.auth.revoke_app_token(app.name))
        # The owner's count (a token's name counts nothing) and the team owner's.
        step("Unable to release app quota",
             lambda: deps.auth.release_app(app.owner, app.team_owner))  # fmt: skip
        step("Unable to remove logs", lambda: deps.stores.logs.drop(app.name))
        step("Unable to remove certificates",
             lambda: deps.stores.certificates.remove_app(app.name))  # fmt: skip
        step("Unable to release cnames", lambda: deps.stores.cnames.release_all(app.name))
        if not deps.stores.apps.delete(app.name):
            raise errors.AppNotFound(app.name)
        deps.publisher.publish(keys.APP_REMOVED, {"app": app.name})
        done = "---- Done removing application."
        evt.log(done + (" Some errors occurred during removal.\n" if failed else "\n"))
