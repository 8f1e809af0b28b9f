"""AWS service integrations (type AWS, a URI `arn:aws:apigateway:{region}:{service}:action/
{Action}` or `...:{service}:path/{path}`): the integration request (template, mapped
headers and query string) becomes the HTTP request API Gateway would send the service's
endpoint, `{service}.{region}.amazonaws.com`, and Lamina serves it as that service would:
routed and parsed with botocore's model (protocol/), called through the gateway by name as
the integration's credentials role, answered in the service's own protocol (SQS's query API
answers XML). The role must trust apigateway.amazonaws.com, and its policies must allow the
action (the gateway's authorization decides, as for any caller); without one API Gateway
cannot sign the call: 500 "Internal server error".

The service's answer (its status, headers and body) then goes through the integration
responses, selected by its status code. A service Lamina does not serve (DynamoDB, S3, Step
Functions) answers as a failing AWS service does, 500 InternalFailure, which the integration
responses map like any other answer.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from .... import ids
from ....errors import ServiceError
from ....identity.principals import role_session
from ....protocol import parsers, serializers
from ....protocol.messages import Request, Response
from ....services.context import RequestContext
from ..functions import SERVICE_PRINCIPAL
from ..functions import Call as CallService
from .calls import RestCall
from .integration_responses import respond
from .lambdas import role_of, with_stage_variables
from .mapping import integration_request
from .refusals import configuration


def _unserved(service: str, request_id: str) -> Response:
    body = {"__type": "InternalFailure", "message": f"Lamina does not serve {service}"}
    return Response(
        500,
        [("content-type", "application/x-amz-json-1.0"), ("x-amzn-requestid", request_id)],
        json.dumps(body).encode(),
    )


class AwsServices:
    def __init__(self, call: CallService, router: Any, roles: Any, may_assume: Any, endpoint_url: str) -> None:
        self.call = call
        self.router = router  # protocol/router.py's Router
        self.roles = roles  # (account, role ARN) -> the IAM role, or None
        self.may_assume = may_assume  # (service principal, role) -> bool
        self.endpoint_url = endpoint_url

    async def run(
        self,
        call: RestCall,
        verb: str,
        integration: dict[str, Any],
        responses: dict[str, dict[str, Any]],
        body: bytes,
        binary_types: tuple[str, ...],
    ) -> Response:
        uri = with_stage_variables(integration.get("uri", ""), call.stage_variables)
        pieces = uri.split(":", 5)
        region, service, target = pieces[3] or call.region, pieces[4].split(".")[-1], pieces[5]
        kind, _, rest = target.partition("/")
        mapped = integration_request(call, integration, body, binary_types)
        role_arn = role_of(integration) or ""
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else call.account
        role = self.roles(account, role_arn) if role_arn else None
        if role is None or not self.may_assume(SERVICE_PRINCIPAL, role):
            call.integration_error = f"API Gateway cannot assume the role {role_arn or '(none)'}"
            raise configuration()
        query = list(mapped.query)
        if kind == "action":
            path = "/"
            query.insert(0, ("Action", rest))
        else:
            path = "/" + rest.lstrip("/")
        headers = {k.lower(): v for k, v in mapped.headers.items()}
        headers["host"] = f"{service}.{region}.amazonaws.com"
        # Routed as a request signed for the service would be (the router reads the scope).
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=APIGATEWAY/20000101/{region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        )
        http_method = integration.get("httpMethod") or "POST"
        request = Request(http_method, path, path, urlencode(query), headers, mapped.body, call.source_ip)
        request_id = ids.uuid4()
        call.aws_request_id = request_id
        answer = await self._answer(call, request, service, region, account, role, request_id)
        call.integration_status = answer.status
        return respond(call, responses, str(answer.status), answer, binary_types)

    async def _answer(
        self, call: RestCall, request: Request, service: str, region: str, account: str, role: Any, request_id: str
    ) -> Response:
        began = time.perf_counter()
        try:
            resolved = self.router.resolve(request)
        except ServiceError:
            call.integration_latency = (time.perf_counter() - began) * 1000
            return _unserved(service, request_id)
        spec, operation, protocol = resolved.spec, resolved.operation, resolved.protocol
        ctx = RequestContext(
            account_id=account,
            region=region,
            request_id=request_id,
            endpoint_url=self.endpoint_url,
            principal=role_session(account, role, "apigateway"),
            source_ip=call.source_ip,
        )
        try:
            params = parsers.parse(resolved, request)
            result = await self.call(spec.name, operation.name, params, ctx)
            answer = serializers.serialize(spec, operation, result, request_id, protocol)
        except ServiceError as error:
            call.integration_error = error.message
            answer = serializers.serialize_error(spec, error, request_id, protocol)
        call.integration_latency = (time.perf_counter() - began) * 1000
        return answer
