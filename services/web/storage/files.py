"""Sessions as files, one per session, in a directory every dashboard instance shares
(the data directory locally, the shared volume under docker compose).

A file is named by the SHA-256 of the session id and holds the session encrypted
(AES-GCM) with a key derived from that id. The id exists only in the browser's
cookie, so a copy of the directory yields no API token. Writes are atomic
(temporary file, then rename); files are 0600 in a 0700 directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.web.domain.session import Session

_KEY_LABEL = b"tsubame web session key\x00"
_SUFFIX = ".session"
# A session file is small; anything larger was not written by us.
_MAX_FILE = 16 * 1024


def _name(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest() + _SUFFIX


def _key(sid: str) -> bytes:
    return hashlib.sha256(_KEY_LABEL + sid.encode()).digest()


class FileSessionStore:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def ensure(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)

    def put(self, sid: str, session: Session) -> None:
        self.ensure()
        plain = json.dumps(
            {
                "email": session.email,
                "token": session.token,
                "csrf": session.csrf,
                "created": session.created,
                "expires": session.expires,
                "admin": session.admin,
            }
        ).encode()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(_key(sid)).encrypt(nonce, plain, _name(sid).encode())
        # The end time in clear lets sweep() drop ended sessions without their key.
        record = {"expires": session.expires, "nonce": nonce.hex(), "data": sealed.hex()}
        target = self.directory / _name(sid)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(record, f)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def get(self, sid: str) -> Session | None:
        if not sid or len(sid) > 256:
            return None
        try:
            with open(self.directory / _name(sid), "rb") as f:
                raw = f.read(_MAX_FILE + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if len(raw) > _MAX_FILE:
            return None
        try:
            record = json.loads(raw)
            plain = AESGCM(_key(sid)).decrypt(
                bytes.fromhex(record["nonce"]), bytes.fromhex(record["data"]), _name(sid).encode()
            )
            data = json.loads(plain)
            return Session(
                email=str(data["email"]),
                token=str(data["token"]),
                csrf=str(data["csrf"]),
                created=float(data["created"]),
                expires=float(data["expires"]),
                admin=bool(data.get("admin", False)),
            )
        except (ValueError, KeyError, TypeError, InvalidTag):
            return None

    def delete(self, sid: str) -> None:
        if sid and len(sid) <= 256:
            (self.directory / _name(sid)).unlink(missing_ok=True)

    def sweep(self, now: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        for entry in entries:
            path = Path(entry.path)
            if entry.name.endswith(".tmp"):
                # A writer killed between create and rename; old enough to be dead.
                if _older_than(path, 60.0):
                    path.unlink(missing_ok=True)
                continue
            if not entry.name.endswith(_SUFFIX):
                continue
            try:
                with open(path, "rb") as f:
                    expires = float(json.loads(f.read(_MAX_FILE))["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                expires = 0.0
            if expires <= now:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False
