"""What a Lambda event says of a caller who signed with IAM credentials (SigV4), for the
endpoints that invoke functions for such callers: function URLs (AuthType AWS_IAM) and API
Gateway's AWS_IAM authorization (http/execute_api/).
"""

from __future__ import annotations

from typing import Any

from ..protocol.sigv4 import Caller


def authorizer_iam(caller: Caller) -> dict[str, Any]:
    """requestContext.authorizer.iam (payload 2.0: function URLs, HTTP APIs). The caller has
    a principal (an unknown key is refused before this)."""
    principal = caller.principal
    assert principal is not None
    return {
        "accessKey": caller.access_key,
        "accountId": principal.account,
        "callerId": principal.user_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": principal.arn,
        "userId": principal.user_id,
    }


def identity(caller: Caller) -> dict[str, Any]:
    """The caller's members of requestContext.identity and $context.identity (HTTP APIs'
    payload 1.0, REST APIs)."""
    principal = caller.principal
    assert principal is not None
    return {
        "accessKey": caller.access_key,
        "accountId": principal.account,
        "caller": principal.user_id,
        "user": principal.user_id,
        "userArn": principal.arn,
    }
