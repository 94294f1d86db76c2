"""Fetching a deploy's archive: the user's ``archive-url`` (hostile: bounded in time and
size, redirects only to http/https) or an upload apps serves on its internal routes."""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

import requests

from services.provisioner.domain.runtime_errors import ArchiveError
from shared.client import BodyTooLarge, InternalClient
from shared.errors import TsubameError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT, READ_TIMEOUT = 10.0, 60.0
MAX_REDIRECTS = 5
_INTERNAL = re.compile(r"^/internal/[A-Za-z0-9._~%/-]+$")
_CHUNK = 64 * 1024


class HttpArchiveSource:
    def __init__(self, apps: InternalClient | None) -> None:
        self.apps = apps
        self._session = requests.Session()
        # A user's URL never goes through the environment's proxies or credentials.
        self._session.trust_env = False

    def fetch(self, url: str, dest: str, max_bytes: int) -> int:
        if url.startswith("/"):
            return self._internal(url, dest, max_bytes)
        return self._external(url, dest, max_bytes)

    def _internal(self, path: str, dest: str, max_bytes: int) -> int:
        if not _INTERNAL.match(path) or ".." in path.split("/"):
            raise ArchiveError(f"invalid archive path: {path!r}")
        if self.apps is None:
            raise ArchiveError("the apps service is not configured")
        try:
            with open(dest, "wb") as out:
                return self.apps.download(path, out, max_bytes=max_bytes)
        except BodyTooLarge:
            raise ArchiveError(f"the archive is larger than {max_bytes} bytes") from None
        except TsubameError as exc:
            raise ArchiveError(f"could not fetch the uploaded archive: {exc}") from None

    def _external(self, url: str, dest: str, max_bytes: int) -> int:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ArchiveError(f"invalid archive URL: {url!r} (only http and https)")
            try:
                resp = self._session.get(
                    url,
                    stream=True,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    allow_redirects=False,
                    headers={"Accept-Encoding": "identity"},
                )
            except requests.RequestException as exc:
                raise ArchiveError(f"could not download the archive: {exc}") from None
            with resp:
                if resp.is_redirect:
                    url = urljoin(url, resp.headers.get("Location", ""))
                    continue
                if resp.status_code != 200:
                    raise ArchiveError(
                        f"could not download the archive: {url} answered {resp.status_code}"
                    )
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise ArchiveError(f"the archive is larger than {max_bytes} bytes")
                return _save(resp, dest, max_bytes)
        raise ArchiveError(f"could not download the archive: more than {MAX_REDIRECTS} redirects")


def _save(resp: requests.Response, dest: str, max_bytes: int) -> int:
    size = 0
    try:
        with open(dest, "wb") as out:
            for chunk in resp.iter_content(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ArchiveError(f"the archive is larger than {max_bytes} bytes")
                out.write(chunk)
    except requests.RequestException as exc:
        raise ArchiveError(f"could not download the archive: {exc}") from None
    return size
