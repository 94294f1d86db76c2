"""``python -m services.auth create-root-user EMAIL [--password P]``

Like ``tsurud root user create``: ensures the ``AllowAll`` role and gives it to the
user, creating the user when missing. The password comes from ``--password``, the
environment variable ``TSUBAME_ROOT_PASSWORD``, or a prompt (asked twice).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from services.auth.domain import errors as auth_errors
from shared.errors import TsubameError


def _password(given: str | None) -> str:
    if given:
        return given
    env = os.environ.get("TSUBAME_ROOT_PASSWORD")
    if env:
        return env
    first = getpass.getpass("Password: ")
    if getpass.getpass("Confirm: ") != first:
        raise auth_errors.PasswordMismatch("Passwords didn't match.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.auth")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-root-user", help="create (or promote) an administrator")
    create.add_argument("email")
    create.add_argument("--password")
    args = parser.parse_args(argv)

    from services.auth.bootstrap import connect
    from services.auth.operations.admin import create_root_user
    from services.auth.settings import AuthSettings

    try:
        deps = connect(AuthSettings.from_env()).deps
        exists = deps.stores.users.get(args.email) is not None
        created = create_root_user(deps, args.email, "" if exists else _password(args.password))
    except TsubameError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print("Root user successfully created." if created else "Root user successfully updated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
