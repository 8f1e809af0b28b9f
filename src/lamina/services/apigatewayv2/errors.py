"""API Gateway's errors: the four the model names, each with a `Message` member.

NotFoundException      404  "Invalid API identifier specified <account>:<apiId>" and the
                            like for routes, integrations, stages...
BadRequestException    400  a request AWS refuses (a malformed route key, a mapping of
                            request parameters it does not accept, ...)
ConflictException      409  a route key or a stage name already taken
TooManyRequestsException 429 a quota reached
"""

from __future__ import annotations

from ...errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, 404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def too_many(message: str) -> ServiceError:
    return ServiceError("TooManyRequestsException", message, 429)


def api_not_found(account: str, api_id: str) -> ServiceError:
    return not_found(f"Invalid API identifier specified {account}:{api_id}")


def child_not_found(what: str, identifier: str) -> ServiceError:
    """ "Invalid Route identifier specified abc1234" (Route, Integration, Authorizer, Model,
    Deployment, RouteResponse, IntegrationResponse)."""
    return not_found(f"Invalid {what} identifier specified {identifier}")


def stage_not_found(name: str) -> ServiceError:
    return not_found(f"Invalid stage identifier specified {name}")
