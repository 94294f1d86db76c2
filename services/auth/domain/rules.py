"""Validation rules of the native scheme (auth.md §1.5, §3.14, §3.22)."""

from __future__ import annotations

import re

from services.auth.domain import errors

EMAIL_RE = re.compile(r"^([^@\s]+)@((?:[-a-z0-9]+\.)+[a-z]{2,})$")
TEAM_NAME_RE = re.compile(r"^[a-z][-@_.+\w]+$", re.ASCII)
TOKEN_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
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
        limit = int(raw.strip())
    except (ValueError, AttributeError):
        raise errors.InvalidLimit() from None
    return -1 if limit < 0 else limit
