"""Validation rules of the native scheme (auth.md §1.5, §3.14, §3.22)."""

from __future__ import annotations

import re
import unicodedata

from services.auth.domain import errors
from shared.golang.strconv import NumError, atoi

# tsuru's Go patterns. Go's ``$`` only matches at the very end (Python's also before a
# final newline: ``\Z`` here) and Go's ``\s`` is ``[\t\n\f\r ]`` (ASCII, no ``\v``).
EMAIL_RE = re.compile(r"^([^@\t\n\f\r ]+)@((?:[-a-z0-9]+\.)+[a-z]{2,})\Z")
TEAM_NAME_RE = re.compile(r"^[a-z][-@_.+\w]+\Z", re.ASCII)
TOKEN_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}\Z")
MIN_PASSWORD, MAX_PASSWORD = 6, 50


def validate_email(email: str) -> str:
    if not EMAIL_RE.match(email):
        raise errors.InvalidEmail()
    return email


def password_length_ok(password: str) -> bool:
    return MIN_PASSWORD <= len(password.encode()) <= MAX_PASSWORD


def validate_password(password: str) -> str:
    if not password_length_ok(password):
        raise errors.InvalidPassword()
    return password


MAX_CONTEXT_VALUE = 255


def validate_context_value(value: str) -> str:
    """The value of a role assignment: a name (team, app, pool, email ...), so at most
    255 characters without spaces, control or format characters."""
    if len(value) > MAX_CONTEXT_VALUE or any(unicodedata.category(c)[0] in "CZ" for c in value):
        raise errors.InvalidContextValue()
    return value


def validate_team_name(name: str) -> str:
    name = name.strip()
    if not TEAM_NAME_RE.match(name):
        raise errors.InvalidTeamName()
    return name


def clean_tags(tags: list[str]) -> list[str]:
    """Trimmed, empties and duplicates removed, order kept."""
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def validate_token_id(token_id: str) -> str:
    if not TOKEN_ID_RE.match(token_id):
        raise errors.InvalidTokenId()
    return token_id


def parse_limit(raw: str) -> int:
    try:
        limit = atoi(raw)
    except NumError:
        raise errors.InvalidLimit() from None
    return -1 if limit < 0 else limit


def new_quota_limit(raw: str, inuse: int) -> int:
    """A user's or team's new app quota: -1 (unlimited) or at least what is in use."""
    limit = parse_limit(raw)
    if 0 <= limit < inuse:
        raise errors.LimitBelowInUse()
    return limit
