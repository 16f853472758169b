"""Domain errors. Each carries the HTTP status the web layer answers with and a
message written for the person using the screen."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is a sentence that can be shown as it is."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    status = 400


class NotFound(DomainError):
    """Missing, or not visible to the acting user (we do not say which)."""

    status = 404

    def __init__(self, message: str = "Not found.", **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "You do not have access to this.", **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    status = 409


class ConsentRequired(DomainError):
    """The patient has not given (or has revoked) the consent this action needs."""

    status = 409


class AuthenticationFailed(DomainError):
    status = 401


class TooManyAttempts(AuthenticationFailed):
    """Sign-in paused for an account after repeated failures."""

    status = 429


# Photo intake refusals: one file is refused, the others of the upload go on. ------------
class UploadRefused(DomainError):
    status = 422


class UnsupportedFile(UploadRefused):
    status = 415


class FileTooLarge(UploadRefused):
    status = 413


class DuplicatePhoto(UploadRefused):
    status = 409

    def __init__(self, message: str, *, existing_photo_id: str) -> None:
        super().__init__(message)
        self.existing_photo_id = existing_photo_id


class InvitationInvalid(DomainError):
    """Unknown, used, revoked or expired invitation link."""

    status = 410
