"""API Gateway v2's own errors, each with a `Message` member; what both versions answer
(NotFoundException 404 "Invalid API identifier specified <account>:<apiId>",
BadRequestException 400, ConflictException 409) is in ../api_gateway_errors.py:

NotFoundException      404  "Invalid Route identifier specified <id>" and the like for
                            integrations, authorizers, stages...
TooManyRequestsException 429 a quota reached
"""

from __future__ import annotations

from ...errors import ServiceError
from ..api_gateway_errors import not_found


def too_many(message: str) -> ServiceError:
    return ServiceError("TooManyRequestsException", message, 429)


def child_not_found(what: str, identifier: str) -> ServiceError:
    """ "Invalid Route identifier specified abc1234" (Route, Integration, Authorizer, Model,
    Deployment, RouteResponse, IntegrationResponse)."""
    return not_found(f"Invalid {what} identifier specified {identifier}")


def stage_not_found(name: str) -> ServiceError:
    return not_found(f"Invalid stage identifier specified {name}")
