"""API Gateway's (REST APIs, v1) own errors and messages, each with the model's `message`
member, in AWS's words (as AWS answers them, including its own inconsistencies); what both
versions answer (NotFoundException 404, BadRequestException 400, ConflictException 409,
"Invalid API identifier specified <account>:<id>") is in ../api_gateway_errors.py:

NotFoundException         404  "Invalid Resource identifier specified" (also what the
                               method and integration operations answer for an unknown
                               API), "Invalid Method identifier specified", ...
ConflictException         409  a name already taken ("Another resource with the same
                               parent already has this name: x", "Stage already exists")
LimitExceededException    429  a quota of the account reached
TooManyRequestsException  429
"""

from __future__ import annotations

from ...errors import ServiceError
from ..api_gateway_errors import not_found


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 429)


RESOURCE_NOT_FOUND = "Invalid Resource identifier specified"
METHOD_NOT_FOUND = "Invalid Method identifier specified"
INTEGRATION_NOT_FOUND = "Invalid Integration identifier specified"
RESPONSE_NOT_FOUND = "Invalid Response status code specified"
DEPLOYMENT_NOT_FOUND = "Invalid Deployment identifier specified"
STAGE_NOT_FOUND = "Invalid stage identifier specified"
AUTHORIZER_NOT_FOUND = "Invalid Authorizer identifier specified"
VALIDATOR_NOT_FOUND = "Invalid Request Validator identifier specified"
API_KEY_NOT_FOUND = "Invalid API Key identifier specified"
USAGE_PLAN_NOT_FOUND = "Invalid Usage Plan ID specified"
PARAMETER_NOT_FOUND = "Invalid parameter name specified"
CONTENT_TYPE_NOT_FOUND = "Content-Type specified was not found"


def model_not_found(name: str) -> ServiceError:
    return not_found(f"Invalid model name specified: {name}")


def status_code_invalid(value: str) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at 'statusCode' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [1-5]\\d\\d",
        400,
    )
