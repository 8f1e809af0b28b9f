"""The errors both API Gateway control planes answer (v1's REST APIs, v2's HTTP and
WebSocket APIs), in AWS's words; each version's errors.py adds its own beside them.

NotFoundException     404  "Invalid API identifier specified <account>:<id>" and the like
BadRequestException   400  a request AWS refuses
ConflictException     409  a name or key already taken
"""

from __future__ import annotations

from ..errors import ServiceError


def not_found(message: str) -> ServiceError:
    return ServiceError("NotFoundException", message, 404)


def bad_request(message: str) -> ServiceError:
    return ServiceError("BadRequestException", message, 400)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message, 409)


def api_not_found(account: str, api_id: str) -> ServiceError:
    return not_found(f"Invalid API identifier specified {account}:{api_id}")
