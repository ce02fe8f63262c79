"""Domain exceptions carrying the error codes of CONTRACTS §7.

Every client-facing failure is a :class:`DomainError`; ``shared.api`` maps
them to API Gateway or direct-invocation responses in one place.
"""

from typing import Any, Dict, Optional


class DomainError(Exception):
    """A failure the caller can act on: a code, a message, details."""

    code = "INTERNAL_ERROR"
    status = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: Dict[str, Any] = details

    def to_body(self) -> Dict[str, Any]:
        """The JSON body sent to the caller."""
        body = {"error": self.code, "message": self.message}
        body.update(self.details)
        return body


class ValidationError(DomainError):
    """Bad input: names the offending field."""

    code = "VALIDATION_ERROR"
    status = 400

    def __init__(
        self, message: str, field: Optional[str] = None, **details: Any
    ) -> None:
        if field is not None:
            details["field"] = field
        super().__init__(message, **details)


class NotFoundError(DomainError):
    code = "NOT_FOUND"
    status = 404


class ForbiddenError(DomainError):
    code = "FORBIDDEN"
    status = 403


class ConflictError(DomainError):
    """Base for the 409 family."""

    code = "CONFLICT"
    status = 409


class NameConflictError(ConflictError):
    code = "NAME_CONFLICT"


class ServerConflictError(ConflictError):
    code = "SERVER_CONFLICT"


class ExecutionConflictError(ConflictError):
    code = "EXECUTION_CONFLICT"


class VersionConflictError(ConflictError):
    code = "VERSION_CONFLICT"


class InvalidStateError(ConflictError):
    code = "INVALID_STATE"


class PlanNotReadyError(ConflictError):
    """The plan's blocking readiness checks fail (issue 19): details name
    every failing check and server; nothing was written."""

    code = "PLAN_NOT_READY"


class WaveSizeLimitError(DomainError):
    code = "WAVE_SIZE_LIMIT_EXCEEDED"
    status = 400


class DrsLimitExceededError(DomainError):
    code = "DRS_LIMIT_EXCEEDED"
    status = 429


class ConfigurationError(Exception):
    """The function is mis-deployed (missing env var): not a client error."""


class InvocationError(Exception):
    """A synchronous Lambda invocation returned ``FunctionError``."""

    def __init__(self, function: str, payload: Any) -> None:
        self.function = function
        self.payload = payload
        error_type = ""
        message = str(payload)
        if isinstance(payload, dict):
            error_type = payload.get("errorType", "")
            message = payload.get("errorMessage", message)
        self.error_type = error_type
        super().__init__(f"{function} failed: {error_type} {message}".strip())
