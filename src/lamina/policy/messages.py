"""AWS's AccessDenied message text ("Troubleshoot access denied error messages" in the IAM
User Guide), word for word:

    User: <principal> is not authorized to perform: <action> [on resource: <resource>]
        because no <policy type> allows the <action> action
    User: <principal> is not authorized to perform: <action> [on resource: <resource>]
        with an explicit deny in a(n) <policy type>

"User:" is AWS's word for every principal, role sessions included; the resource part is
left out when the action has no resource.
"""

from __future__ import annotations

from .context import RequestContext
from .evaluation import (
    EXPLICIT_DENY,
    NO_IDENTITY_ALLOW,
    NO_RESOURCE_ALLOW,
    PERMISSIONS_BOUNDARY,
    SESSION_POLICY,
    Decision,
)

_IMPLICIT = {
    NO_IDENTITY_ALLOW: "identity-based policy",
    NO_RESOURCE_ALLOW: "resource-based policy",
    PERMISSIONS_BOUNDARY: "permissions boundary",
    SESSION_POLICY: "session policy",
}


def denial_message(request: RequestContext, decision: Decision) -> str:
    """The message of the AccessDenied error for a denied `decision`."""
    if decision.allowed:
        raise ValueError("the decision allows the request")
    head = f"User: {request.principal_arn} is not authorized to perform: {request.action}"
    if request.resource and request.resource != "*":
        head += f" on resource: {request.resource}"
    if decision.reason == EXPLICIT_DENY:
        kind = decision.policy_type or "identity-based policy"
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{head} with an explicit deny in {article} {kind}"
    kind = _IMPLICIT.get(decision.reason or "", "identity-based policy")
    return f"{head} because no {kind} allows the {request.action} action"
