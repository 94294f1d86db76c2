"""Request body limits, shared by the gateway (enforced while streaming) and the
services (enforced again by Flask, per route).

Ordinary routes take small bodies (forms and JSON: ``TSUBAME_MAX_BODY_SIZE``,
1 MiB). Routes that receive an archive or an image build context take large ones
(``TSUBAME_MAX_UPLOAD_SIZE``, 1 GiB), streamed to disk by the service. A body over
its route's limit is refused with 413 before any of it is parsed.
"""

from __future__ import annotations

MIB = 1024 * 1024
DEFAULT_MAX_BODY = 1 * MIB
DEFAULT_MAX_UPLOAD = 1024 * MIB

# (method, template) of the upload routes, as written in gateway/routes.txt.
UPLOAD_ROUTES = frozenset(
    {
        ("POST", "/apps/{appname}/deploy"),  # deploy archive (tsuru's "file" field)
        ("POST", "/apps/{appname}/repository/clone"),  # the deploy handler too
        ("POST", "/apps/{appname}/build"),  # build archive
        ("POST", "/platforms"),  # platform Dockerfile and its context
        ("PUT", "/platforms/{name}"),
        ("POST", "/ui/apps/{app}/deploy"),  # the dashboard's deploy form, relayed to the API
    }
)

TOO_LARGE = "request body too large: this route accepts at most {limit} bytes"


def too_large_message(limit: int) -> str:
    return TOO_LARGE.format(limit=limit)
