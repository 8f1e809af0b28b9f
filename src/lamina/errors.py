"""The one error type services raise, known to the protocol layer and the services alike.

    ServiceError            an AWS error: code, message, HTTP status, extra members
      ├── ValidationError   a request that breaks the model's constraints (400)
      └── (any code)        ResourceNotFoundException, InvalidParameterValueException, ...

A service raises ServiceError("ResourceNotFoundException", "Function not found: ...").
The serializer looks the code up in the service model to find its HTTP status when the
raiser did not give one, so services rarely need to know status codes.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    def __init__(
        self,
        code: str,
        message: str = "",
        status: int | None = None,
        *,
        sender_fault: bool = True,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.headers = headers or {}
        # Extra modelled members of the error shape (e.g. Lambda's Reason, Type).
        self.fields = fields


def validation_error(problems: list[str]) -> ServiceError:
    """AWS's "N validation error(s) detected: ..." message, joined the way Coral joins it."""
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return ServiceError(
        "ValidationException",
        f"{count} validation {noun} detected: " + "; ".join(problems),
        400,
    )


def not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, 404)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ResourceConflictException", message, 409)
