"""Domain errors raised by services and selectors.

Each carries the HTTP status and code of the API contract, so the API's exception handler
renders it as the error envelope and the pages show its message; services never import DRF.
"""


class DomainError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    default_message = "Bad request."

    def __init__(self, message: str | None = None, *, details: dict | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    pass


class NotAuthenticated(DomainError):
    status_code = 401
    code = "UNAUTHORIZED"
    default_message = "Authentication credentials were not provided."


class NotAllowed(DomainError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "You do not have permission to perform this action."


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "CONFLICT"
    default_message = "Conflict."


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The upload is larger than allowed."


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The file is not a playable video."


class Unprocessable(DomainError):
    status_code = 422
    code = "UNPROCESSABLE_ENTITY"
    default_message = "The request could not be processed."


class RateLimited(DomainError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = "Too many attempts. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable."

    def __init__(self, message: str | None = None, *, retry_after: int = 5):
        self.retry_after = retry_after
        super().__init__(message)
