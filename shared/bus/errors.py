"""Errors of the message bus."""

from __future__ import annotations


class BusError(Exception):
    """The broker could not be reached, or it refused (nacked) a message."""


class CommandTimeout(BusError):
    """No reply to a command arrived within the sender's timeout."""
