"""The data plane of REST APIs (API Gateway v1): a call of an API users built, answered as
API Gateway answers it.

    rest_api/
      __init__.py            RestApiPlane: the path of one call (below)
      calls.py               one call and its $context variables; request ids
      responses.py           gateway responses: every refusal and failure, as the stage has them
      refusals.py            a Refusal: which gateway response, which message
      events.py              the Lambda proxy event, TOKEN and REQUEST authorizer events
      proxy.py               a Lambda proxy response read as AWS reads it
      velocity.py            mapping templates (airspeed-ext): $input, $util, $context...
      sources.py             the values mapping expressions name (method.request.header.x...)
      mapping.py             the integration request: template, passthrough, parameters
      integration_responses.py  selectionPattern, response templates and parameters
      lambdas.py             AWS_PROXY and AWS Lambda integrations (invoked by ../functions.py)
      http_backends.py       HTTP and HTTP_PROXY integrations (sent by ../http_backend.py)
      services.py            AWS service integrations (action/... and path/... URIs)
      authorizers.py         TOKEN, REQUEST, COGNITO_USER_POOLS, AWS_IAM
      policies.py            the API's resource policy
      keys.py                API keys, usage plans' throttles and quotas
      throttling.py          the account's and the stage's method buckets
      validation.py          request validators (parameters, JSON schema draft 4 bodies)
      media.py               binary media types, contentHandling
      telemetry.py           AWS/ApiGateway metrics; access log destinations

The path of a call (`/{stage}/{path}`: REST APIs have no $default stage):

1. The stage (none, or never deployed, or the execute-api endpoint disabled): 403
   {"message":"Forbidden"}.
2. A body over 10 MB: 413 REQUEST_TOO_LARGE. The resource and method (`stage.match`, ANY
   as the fallback), none: 403 MISSING_AUTHENTICATION_TOKEN "Missing Authentication Token".
3. The resource policy (policies.py) and the method's authorization (authorizers.py).
4. Throttling: the account's, the stage's method settings (429 THROTTLED).
5. The API key and its usage plan (keys.py): 403 INVALID_API_KEY, 429 THROTTLED or
   QUOTA_EXCEEDED; the request counted.
6. Request validation (400 BAD_REQUEST_PARAMETERS / BAD_REQUEST_BODY).
7. The integration: AWS_PROXY, AWS (Lambda or a service action), HTTP, HTTP_PROXY, MOCK.
8. The x-amzn-RequestId and x-amz-apigw-id headers; the metrics and the access log line.

Every refusal is a Refusal turned into the stage's gateway response of its type
(responses.py), so PutGatewayResponse changes what clients see.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ....access.authorizer import Authorizer
from ....observability.logsink import LogSink
from ....observability.recorder import MetricsRecorder
from ....protocol.messages import Request, Response
from ....protocol.sigv4 import Verifier
from ....store.base import Store
from ..addresses import Address
from ..functions import Call as CallService
from ..functions import Check, Functions, function_arn
from ..http_api.access_logs import AccessLogs
from . import policies
from .authorizers import Authorizers
from .calls import RestCall
from .http_backends import http, http_proxy
from .integration_responses import respond
from .keys import ApiKeys
from .lambdas import Lambdas, with_stage_variables
from .mapping import integration_request
from .refusals import Refusal, internal
from .responses import forbidden_stage, gateway_response
from .services import AwsServices
from .telemetry import Destinations, RestMetrics
from .throttling import Throttles
from .validation import Validators

log = logging.getLogger("lamina.execute_api")

MAX_BODY_BYTES = 10 * 1024 * 1024


class RestApiPlane:
    def __init__(
        self,
        *,
        state: Any,  # the apigateway service's RestApiState: grant, usage, authorizer_cache_epoch
        call: CallService,  # Gateway.call_here
        check: Check | None,  # DeliveryGate.check
        access: Authorizer,
        verifier: Verifier,
        roles: Any,  # IAM's role(account, arn)
        router: Any,  # the gateway's Router (AWS service integrations)
        sink: LogSink,
        store: Store,
        recorder: MetricsRecorder,
        endpoint_url: str,
    ) -> None:
        self.functions = Functions.for_plane(call, check, access, endpoint_url)
        self.lambdas = Lambdas(self.functions)
        self.authorizers = Authorizers(self.functions, verifier, access, state.authorizer_cache_epoch)
        self.services = AwsServices(call, router, roles, access.service_may_assume, endpoint_url)
        self.keys = ApiKeys(state)
        self.throttles = Throttles()
        self.policies = policies.ResourcePolicies()
        self.validators = Validators()
        self.metrics = RestMetrics(recorder)
        self.access_logs = AccessLogs(sink, store)
        self.destinations = Destinations()

    async def handle(self, served: Any, where: Address, request: Request) -> Response:
        started = time.perf_counter()
        first, _, rest = where.path[1:].partition("/")
        stage = served.stages.get(first) if first else None
        if served.disable_execute_api_endpoint or stage is None or stage.deployment_id is None:
            return forbidden_stage()
        call = RestCall(
            request,
            where,
            served.api_id,
            served.name,
            served.account,
            served.region,
            stage.name,
            "/" + rest,
            started,
            time.time(),
        )
        call.stage_variables = stage.variables
        detail = None
        try:
            response = await self._respond(stage, call)
            if call.resource_path is not None:
                settings = stage.method_settings(call.resource_path, call.method)
                if settings.get("metricsEnabled"):
                    detail = (call.method, call.resource_path)
        except Refusal as refusal:
            response = gateway_response(stage, call, refusal.response_type, refusal.message, refusal.status)
        except Exception:
            log.exception("REST API %s: %s %s failed", served.api_id, request.method, where.path)
            response = gateway_response(stage, call, "DEFAULT_5XX", "Internal server error", 500)
        response.headers.append(("x-amzn-requestid", call.request_id))
        response.headers.append(("x-amz-apigw-id", call.extended_request_id))
        call.status = response.status
        call.response_length = len(response.body)
        self.metrics.record(
            (served.account, served.region, served.name, stage.name, detail),
            response.status,
            (time.perf_counter() - started) * 1000,
            call.integration_latency,
        )
        destination = self.destinations.of(served.api_id, stage.name, stage.access_log_settings)
        if destination is not None:
            await self.access_logs.write(destination, call)  # type: ignore[arg-type]  # RestCall has what it reads
        return response

    async def _respond(self, stage: Any, call: RestCall) -> Response:
        request = call.request
        if len(request.body) > MAX_BODY_BYTES:
            raise Refusal("REQUEST_TOO_LARGE", "Request Too Long", 413)
        found = stage.match(request.method, call.api_path)
        if found is None or found.method is None:
            raise Refusal("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token", 403)
        method = found.method
        call.resource_id, call.resource_path = found.resource.resource_id, found.resource.path
        call.path_parameters = dict(found.path_parameters)
        call.operation_name = method.operation_name
        iam = method.authorization_type == "AWS_IAM"
        if stage.policy and not iam:
            self._policy(stage, call, None, None)
        authorized = await self.authorizers.authorize(call, method, stage.authorizers)
        if iam:
            principal, denial = authorized
            self._policy(stage, call, principal, denial)
        self.throttles.check(call.account, call.region, call.api_id, stage, call.resource_path, request.method)
        if method.api_key_required:
            await self.keys.check(call, stage.api_key_source, call.resource_path, request.method)
        body = request.body
        self.validators.check(call, stage, method, body)
        return await self._integrate(stage, call, method, body)

    def _policy(self, stage: Any, call: RestCall, principal: Any, denial: str | None) -> None:
        """The resource policy's word (and, for an IAM caller, its own policies')."""
        arn = call.method_arn()
        decision = policies.NEITHER
        if stage.policy:
            decision = self.policies.decide(call.api_id, stage.policy, arn, call.source_ip, principal)
        who = principal.arn if principal is not None else "anonymous"
        if decision == policies.DENY:
            raise Refusal("ACCESS_DENIED", policies.denial(who, arn, explicit=True), 403)
        if decision == policies.ALLOW:
            return
        if principal is None or denial is not None:
            raise Refusal("ACCESS_DENIED", policies.denial(who, arn, explicit=False), 403)

    async def _integrate(self, stage: Any, call: RestCall, method: Any, body: bytes) -> Response:
        integration = method.integration
        if not integration:
            call.integration_error = "the method has no integration"
            raise internal()
        kind = integration.get("type")
        binary = stage.binary_media_types
        responses = method.integration_responses
        verb = method.http_method
        if kind == "AWS_PROXY":
            return await self.lambdas.proxy(call, verb, integration, body, binary)
        if kind == "AWS":
            uri = with_stage_variables(integration.get("uri", ""), call.stage_variables)
            if function_arn(uri) is not None:
                return await self.lambdas.custom(call, verb, integration, responses, body, binary)
            return await self.services.run(call, verb, integration, responses, body, binary)
        if kind == "HTTP_PROXY":
            return await http_proxy(call, integration, body)
        if kind == "HTTP":
            return await http(call, integration, responses, body, binary)
        return _mock(call, integration, responses, body, binary)


def _mock(
    call: RestCall, integration: dict[str, Any], responses: dict[str, dict[str, Any]], body: bytes, binary: tuple
) -> Response:
    """MOCK: the request template's {"statusCode": N} selects the integration response (200
    without one); the response templates make the body."""
    mapped = integration_request(call, integration, body, binary)
    status = 200
    try:
        document = json.loads(mapped.body or b"{}")
        if isinstance(document, dict) and document.get("statusCode") is not None:
            status = int(document["statusCode"])
    except (ValueError, TypeError):
        pass
    call.integration_status = status
    return respond(call, responses, str(status), Response(status, [], b""), binary)


__all__ = ["RestApiPlane"]
