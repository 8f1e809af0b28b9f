"""API keys and usage plans on the data plane (api-gateway-api-usage-plans). A method with
apiKeyRequired needs a key: the x-api-key header (the API's apiKeySource HEADER) or the
usageIdentifierKey its Lambda authorizer answered (AUTHORIZER). A key that is missing,
unknown, disabled, or in no usage plan of this stage is 403 INVALID_API_KEY "Forbidden".

Then its plan's throttle (a bucket per key and method: the plan's per-method throttle over
its own) is 429 THROTTLED "Too Many Requests", and its quota (requests per DAY, WEEK or
MONTH, counted by the control plane's UsageBook, which GetUsage reads) is 429
QUOTA_EXCEEDED "Limit Exceeded". A request let through is counted before the integration
runs. The key reaches the integration as $context.identity.apiKey/apiKeyId.
"""

from __future__ import annotations

from typing import Any

from .calls import RestCall
from .refusals import Refusal
from .throttling import Buckets, throttled


def forbidden() -> Refusal:
    return Refusal("INVALID_API_KEY", "Forbidden", 403)


class ApiKeys:
    def __init__(self, state: Any) -> None:
        self.state = state  # the apigateway service's RestApiState: grant(), usage
        self.buckets = Buckets()

    async def check(self, call: RestCall, api_key_source: str, resource_path: str, verb: str) -> None:
        value = call.usage_key if api_key_source == "AUTHORIZER" else call.request.headers.get("x-api-key")
        if not value:
            raise forbidden()
        grant = self.state.grant(call.api_id, call.stage, value)
        if grant is None or not grant.enabled or grant.plan_id is None:
            raise forbidden()
        call.identity["apiKey"] = value
        call.identity["apiKeyId"] = grant.key_id
        throttle = grant.method_throttle.get(f"{resource_path}/{verb}") or grant.throttle
        if throttle and (throttle.get("burstLimit") is not None or throttle.get("rateLimit") is not None):
            burst = throttle.get("burstLimit")
            rate = throttle.get("rateLimit")
            key = (grant.plan_id, grant.key_id, resource_path if grant.method_throttle else "", verb)
            if not self.buckets.take(key, 5000 if burst is None else burst, 10000.0 if rate is None else rate):
                raise throttled()
        usage = self.state.usage
        if grant.quota and grant.quota.get("limit") is not None:
            used = usage.used_in_period(grant.account, grant.region, grant.plan_id, grant.key_id, grant.quota)
            if used >= int(grant.quota["limit"]):
                raise Refusal("QUOTA_EXCEEDED", "Limit Exceeded", 429)
        await usage.record(grant.account, grant.region, grant.plan_id, grant.key_id)
