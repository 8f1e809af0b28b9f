"""A REST API's resource policy (apigateway-resource-policies), evaluated with the project's
policy engine for execute-api:Invoke on the methodArn, with aws:SourceIp (and the caller's
identity for AWS_IAM methods):

- an explicit Deny refuses: 403 ACCESS_DENIED "User: anonymous is not authorized to perform:
  execute-api:Invoke on resource: <arn> with an explicit deny" (the IAM user's ARN for a
  signed caller);
- methods not authorized by IAM must be allowed by the policy (else the same without "with
  an explicit deny"); an IAM caller is let in by the policy's Allow or by its own policies.
No policy: nothing to decide. Parsed documents are kept per API (the served object changes
with every change of the API).
"""

from __future__ import annotations

import json
from typing import Any

from ....policy import EXPLICIT_DENY, RESOURCE, MalformedPolicy, PolicySet, evaluate, parse_policy
from ....policy import RequestContext as PolicyRequest

ALLOW, DENY, NEITHER = "allow", "deny", "neither"


class ResourcePolicies:
    def __init__(self) -> None:
        self._parsed: dict[str, tuple[Any, Any]] = {}  # api id -> (the policy dict, its parsed form)

    def _policy(self, api_id: str, document: dict[str, Any]) -> Any:
        kept = self._parsed.get(api_id)
        if kept is not None and kept[0] is document:
            return kept[1]
        try:
            parsed = parse_policy(json.dumps(document), kind=RESOURCE)
        except (MalformedPolicy, TypeError, ValueError):
            parsed = None  # a policy AWS would have refused: it lets nobody in
        self._parsed[api_id] = (document, parsed)
        return parsed

    def decide(self, api_id: str, document: dict[str, Any], method_arn: str, source_ip: str, principal: Any) -> str:
        parsed = self._policy(api_id, document)
        if parsed is None:
            return NEITHER
        if principal is None:
            request = PolicyRequest(
                principal_arn="*",
                action="execute-api:Invoke",
                resource=method_arn,
                principal_type="Anonymous",
                context_keys={"aws:SourceIp": source_ip},
            )
        else:
            request = PolicyRequest(
                principal_arn=principal.arn,
                action="execute-api:Invoke",
                resource=method_arn,
                context_keys={"aws:SourceIp": source_ip, "aws:PrincipalArn": principal.arn},
            )
        decision = evaluate(request, PolicySet(resource=parsed))
        if decision.allowed:
            return ALLOW
        return DENY if decision.reason == EXPLICIT_DENY else NEITHER


def denial(who: str, method_arn: str, explicit: bool) -> str:
    tail = " with an explicit deny" if explicit else ""
    return f"User: {who} is not authorized to perform: execute-api:Invoke on resource: {method_arn}{tail}"
