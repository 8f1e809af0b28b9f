"""A refusal or failure on the way: which gateway response answers it, with which message
($context.error.message; None is AWS's null) and, for DEFAULT_4XX/5XX, which status."""

from __future__ import annotations


class Refusal(Exception):
    def __init__(self, response_type: str, message: str | None, status: int | None = None) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.status = status


INTERNAL = "Internal server error"


def internal(status: int = 500) -> Refusal:
    return Refusal("DEFAULT_5XX", INTERNAL, status)


def configuration() -> Refusal:
    """API Gateway could not call the integration as configured (no permission to invoke the
    function, a role it cannot assume, an endpoint it cannot reach)."""
    return Refusal("API_CONFIGURATION_ERROR", INTERNAL, 500)


def timed_out() -> Refusal:
    return Refusal("INTEGRATION_TIMEOUT", "Endpoint request timed out", 504)
