"""``GET /docs``: Swagger UI over ``/openapi.json``, every asset served by the gateway.

The assets come from the ``swagger-ui-bundle`` package (PyPI), so the page works
offline: no CDN, and the online validator badge is switched off. A strict
Content-Security-Policy keeps the page to this origin.
"""

from __future__ import annotations

from pathlib import Path

from .responses import Headers, status_line, text

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tsubame API (tsuru 1.11)</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/tsubame-docs.js"></script>
</body>
</html>
"""

INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    docExpansion: "none",
    filter: true
  });
});
"""

# name -> content type; nothing outside this list is served.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'"
)
Answer = tuple[str, Headers, bytes]


def bundle_dir() -> Path:
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


class DocsPage:
    """The page and its assets, read from the package once per worker."""

    def __init__(self, assets: Path | None = None) -> None:
        self._dir = assets
        self._cache: dict[str, bytes] = {}

    def page(self) -> Answer:
        return _ok(PAGE.encode(), "text/html; charset=utf-8", [("Content-Security-Policy", CSP)])

    def asset(self, name: str) -> Answer:
        if name == "tsubame-docs.js":
            return _ok(INIT_JS.encode(), "application/javascript; charset=utf-8", _CACHED)
        content_type = ASSETS.get(name)
        if content_type is None:
            return text(404, "404 page not found")
        data = self._cache.get(name)
        if data is None:
            data = ((self._dir or bundle_dir()) / name).read_bytes()
            self._cache[name] = data
        return _ok(data, content_type, _CACHED)


_CACHED = [("Cache-Control", "public, max-age=3600")]


def _ok(body: bytes, content_type: str, extra: Headers) -> Answer:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
        *extra,
    ]
    return status_line(200), headers, body
