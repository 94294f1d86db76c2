"""Errors of the auth context, with tsuru 1.11's exact message texts (auth.md)."""

from __future__ import annotations

from shared.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unauthorized,
)

# --- users and credentials ---------------------------------------------------


class InvalidEmail(Invalid):
    message = "invalid email"


class InvalidPassword(Invalid):
    message = "password length should be least 6 characters and at most 50 characters"


class InvalidLoginPassword(Invalid):
    message = "Password length should be least 6 characters and at most 50 characters."


class MissingLoginPassword(Invalid):
    message = "you must provide a password to login"


class UserNotFound(NotFound):
    message = "user not found"


class EmailTaken(Conflict):
    message = "this email is already registered"


class WrongPassword(Unauthorized):
    message = "Authentication failed, wrong password."


class RegistrationDisabled(Unauthorized):
    message = "User registration is disabled for non-admin users."


class PasswordsRequired(Invalid):
    message = "Both the old and the new passwords are required."


class PasswordMismatch(Invalid):
    message = "New password and password confirmation didn't match."


class CurrentPasswordMismatch(Forbidden):
    message = "the given password didn't match the user's current password"


class InvalidResetToken(Forbidden):
    # tsuru 1.11 answers 500 here; the seed lists 403 (docs/compatibility.md).
    message = "Invalid token"


class NotAUserToken(Invalid):
    # tsuru 1.11 answers 500 for a team token on user-only routes; a client mistake: 400.
    message = "team token is not a user token"


class NotSessionToken(Invalid):
    # Logout with an API key or team token: tsuru 1.11 answers 500 "not found".
    message = "not found"


class InvalidLimit(Invalid):
    message = "Invalid limit"


class LimitBelowInUse(Forbidden):
    message = "New limit is less than the current allocated value"


class TeamTokenExpired(Unauthorized):
    # tsuru 1.11 answers 500 on every route; we answer 401 with the same text.
    message = "team token expired"


class SchemeNotSupported(Invalid):
    message = "This URL is only supported with saml enabled"


# --- teams -------------------------------------------------------------------


class InvalidTeamName(Invalid):
    # "andcontain" without a space is tsuru's own text.
    message = (
        "Invalid team name, team names should start with a letter and"
        "contain only lower case letters, numbers, dashes, underscore and @."
    )


class TeamExists(Conflict):
    message = "team already exists"


class TeamNotFound(NotFound):
    message = "team not found"


class TeamRemovalNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f'Team "{name}" not found.')


class TeamInUse(Forbidden):
    def __init__(self, what: str, names: list[str]) -> None:
        super().__init__(
            "This team cannot be removed because there are still references to it:\n"
            f"{what}: {', '.join(names)}"
        )


class NoTeam(Invalid):
    message = "You must provide a team to execute this action."


# --- team tokens ---------------------------------------------------------------


class TeamTokenNotFound(NotFound):
    message = "team token not found"


class TeamTokenExists(Conflict):
    message = "team token already exists"


class InvalidTokenId(Invalid):
    message = "invalid token_id"


class TeamTokenNotFoundEmpty(NotFound):
    # POST/DELETE /roles/{name}/token answer 404 with an empty body in tsuru 1.11.
    message = ""


# --- roles ---------------------------------------------------------------------


class InvalidRoleName(Invalid):
    message = "invalid role name"


class RoleExists(Conflict):
    message = "role already exists"


class RoleNotFound(NotFound):
    message = "role not found"


class RoleNotFoundInvalid(Invalid):
    # PUT /roles and /role/default answer 400 for an unknown role.
    message = "role not found"


class InvalidContextType(Invalid):
    # tsuru 1.11 answers 500 on POST /roles; a client mistake: 400.
    def __init__(self, ctx: str) -> None:
        super().__init__(f'invalid context type "{ctx}"')


class InvalidContextValue(Invalid):
    # tsuru 1.11 stores any value; a bounded one keeps grants (and headers) small.
    message = "invalid context value: at most 255 characters, no spaces or control characters"


class RoleHasUsers(PreconditionFailed):
    message = "role has users assigned. you must dissociate them before remove the role."


class InvalidPermissionName(Invalid):
    message = "invalid permission name"


class PermissionNotFound(Invalid):
    def __init__(self, name: str) -> None:
        super().__init__(f'permission named "{name}" not found')


class PermissionNotAllowed(Conflict):
    def __init__(self, name: str, ctx: str) -> None:
        super().__init__(f'permission "{name}" not allowed with context of type "{ctx}"')


class RoleUpdateNothing(Invalid):
    message = "Neither the description, context or new name were set. You must define at least one."


class CannotUseRole(Forbidden):
    def __init__(self, permission: str, ctx: str) -> None:
        super().__init__(f"User not authorized to use permission {permission}({ctx})")


class GroupNameEmpty(Invalid):
    # tsuru 1.11 answers 500; a client mistake: 400.
    message = "group name cannot be empty"


class WrongRoleEventContext(Invalid):
    def __init__(self, expected: str, got: str) -> None:
        super().__init__(
            f'wrong context type for role event, expected "{expected}" role has "{got}"'
        )


class WrongContext(NotFound):
    message = "Wrong context being passed."


class Internal(ServerError):
    pass


class QuotaExceeded(Forbidden):
    """App creation past the user's or the team's app quota (apps.md §2.3 step 10)."""

    message = "Quota exceeded"
