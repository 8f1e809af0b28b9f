"""The data plane of HTTP APIs (API Gateway v2, ProtocolType HTTP): a call of an API users
built, answered as API Gateway answers it.

    http_api/
      __init__.py     HttpApiPlane: the path of one call (below)
      plans.py        a stage's routes prepared once (integration, authorizer, throttling)
      calls.py        one call and its $context variables; request ids, CLF times
      events.py       the Lambda events: payload 2.0 and 1.0, and authorizer events
      replies.py      API Gateway's own answers; a function's result as an HTTP response
      http_proxy.py   HTTP_PROXY integrations (sent by ../http_backend.py)
      (../functions.py: invoking a function as apigateway.amazonaws.com, permission, timeout)
      aws_services.py AWS service integrations (SQS, EventBridge, Kinesis, Step Functions)
      mapping.py      parameter mapping (RequestParameters, ResponseParameters)
      authorizers.py  Lambda REQUEST and AWS_IAM authorization; jwt_auth.py JWT
      cors.py, throttling.py, access_logs.py, metrics.py

The path of a call:

1. The stage: a named stage when the path's first segment names one (the rest is what the
   routes see), else `$default`; none (or one never deployed): 404 {"message":"Not Found"}.
   An API with DisableExecuteApiEndpoint answers 404 on this endpoint.
2. A body over 10 MB: 413 {"message":"Request Entity Too Large"}. A CORS preflight (the API
   has a CorsConfiguration): answered here, 204.
3. The route (served.py's select: AWS's precedence), none: 404 {"message":"Not Found"}.
4. Throttling (the account's bucket, the route's): 429 {"message":"Too Many Requests"}.
5. Authorization (authorizers.py): 401/403/500 as AWS.
6. The integration: Lambda (AWS_PROXY), HTTP_PROXY, or an AWS service action.
7. ResponseParameters for the integration's status, CORS headers, the apigw-requestid
   header; then the metrics and the access log line.
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
from ....services.apigatewayv2.integrations import function_arn
from ....services.apigatewayv2.served import ServedApi, ServedStage
from ....store.base import Store
from ..addresses import Address
from ..functions import Call as CallService
from ..functions import Check, Functions
from . import events, replies
from .access_logs import AccessLogs
from .authorizers import Authorizers
from .aws_services import AwsServices
from .calls import Call
from .cors import Cors
from .http_proxy import forward
from .mapping import resolver
from .metrics import ApiMetrics
from .plans import HTTP, LAMBDA, NONE, SERVICE, RoutePlan, StagePlan
from .throttling import Accounts

log = logging.getLogger("lamina.execute_api")

MAX_BODY_BYTES = 10 * 1024 * 1024
# json.dumps(event, separators=(",", ":")) without a new encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))
DEFAULT_STAGE = "$default"


class HttpApiPlane:
    def __init__(
        self,
        *,
        v2: Any,  # apigatewayv2's state: authorizer_cache_epoch(api_id, stage)
        call: CallService,  # Gateway.call_here
        check: Check | None,  # DeliveryGate.check
        access: Authorizer,
        verifier: Verifier,
        roles: Any,  # IAM's role(account, arn)
        specs: dict[str, Any],  # the router's botocore models, by service name
        sink: LogSink,
        store: Store,
        recorder: MetricsRecorder,
        endpoint_url: str,
    ) -> None:
        self.functions = Functions.for_plane(call, check, access, endpoint_url)
        self.authorizers = Authorizers(self.functions, verifier, access, v2.authorizer_cache_epoch)
        self.services = AwsServices(call, specs, roles, access.service_may_assume, endpoint_url)
        self.access_logs = AccessLogs(sink, store)
        self.metrics = ApiMetrics(recorder)
        self.accounts = Accounts()
        self._plans: dict[tuple[str, str], StagePlan] = {}
        self._cors: dict[str, tuple[Any, Cors]] = {}

    # --- the path of a call -----------------------------------------------------------------

    async def handle(self, served: ServedApi, where: Address, request: Request) -> Response:
        started = time.perf_counter()
        if served.disable_execute_api_endpoint:
            return replies.not_found()
        path = where.path
        first, _, rest = path[1:].partition("/")
        stage = served.stages.get(first) if first and first != DEFAULT_STAGE else None
        if stage is not None:
            api_path = "/" + rest
        else:
            stage, api_path = served.stages.get(DEFAULT_STAGE), path
        if stage is None or stage.deployment_id is None:
            return replies.not_found()
        plan = self._plan(served, stage)
        call = Call(
            request,
            served.api_id,
            served.account,
            served.region,
            where.host,
            stage.name,
            path,
            api_path,
            started,
            time.time(),
        )
        call.stage_variables = plan.variables
        try:
            response, route = await self._respond(served, plan, call, where)
        except Exception:
            log.exception("HTTP API %s: %s %s failed", served.api_id, request.method, path)
            response, route = replies.internal_error(), None
            call.error_message = "Internal Server Error"
        response.headers.append(("apigw-requestid", call.request_id))
        call.status = response.status
        call.response_length = len(response.body)
        self.metrics.record(
            (
                served.account,
                served.region,
                served.api_id,
                stage.name,
                route.route_key if route and route.detailed else None,
            ),
            response.status,
            (time.perf_counter() - started) * 1000,
            call.integration_latency,
            len(request.body) + len(response.body),
        )
        if plan.access is not None:
            await self.access_logs.write(plan.access, call)
        return response

    def _plan(self, served: ServedApi, stage: ServedStage) -> StagePlan:
        key = (served.api_id, stage.name)
        plan = self._plans.get(key)
        if plan is None or plan.served is not stage:
            plan = self._plans[key] = StagePlan(served, stage)
        return plan

    def _cors_of(self, served: ServedApi) -> Cors | None:
        if not served.cors:
            return None
        kept = self._cors.get(served.api_id)
        if kept is None or kept[0] is not served.cors:
            kept = self._cors[served.api_id] = (served.cors, Cors(served.cors))
        return kept[1]

    async def _respond(
        self, served: ServedApi, plan: StagePlan, call: Call, where: Address
    ) -> tuple[Response, RoutePlan | None]:
        request = call.request
        cors = self._cors_of(served)
        if len(request.body) > MAX_BODY_BYTES:
            call.error_message = "Request Entity Too Large"
            return replies.message(413, "Request Entity Too Large"), None
        if cors is not None and Cors.is_preflight(request):
            return cors.preflight(request), None
        selected = plan.select(request.method, call.api_path)
        if selected is None:
            call.error_message = "Not Found"
            return replies.not_found(), None
        route, call.path_parameters = selected
        call.route_key = route.route_key
        now = time.monotonic()
        if not self.accounts.bucket(served.account, served.region).take(now) or (
            route.bucket is not None and not route.bucket.take(now)
        ):
            call.error_message = "Too Many Requests"
            return self._decorated(cors, request, replies.message(429, "Too Many Requests")), route
        refusal = await self.authorizers.authorize(call, route.route, route.authorizer)
        if refusal is not None:
            if call.error_message is None:
                call.error_message = json.loads(refusal.body)["message"]
            return self._decorated(cors, request, refusal), route
        response = await self._integrate(route, call, where)
        if route.response_mappings:
            response = _mapped(route, call, response)
        return self._decorated(cors, request, response), route

    @staticmethod
    def _decorated(cors: Cors | None, request: Request, response: Response) -> Response:
        if cors is not None:
            cors.decorate(request, response)
        return response

    # --- integrations -----------------------------------------------------------------------

    async def _integrate(self, route: RoutePlan, call: Call, where: Address) -> Response:
        if route.kind == LAMBDA:
            return await self._lambda(route, call, where)
        if route.kind == HTTP:
            forwarded = await forward(
                call, route.uri, route.method, route.default, route.request_mapping, route.timeout_s
            )
            call.integration_latency = (time.perf_counter() - call.started) * 1000
            if forwarded.response is None:
                call.integration_error = forwarded.error
                call.error_message = "Service Unavailable" if forwarded.timed_out else "Internal Server Error"
                return replies.unavailable() if forwarded.timed_out else replies.internal_error()
            call.integration_status = call.backend_status = forwarded.response.status
            return forwarded.response
        if route.kind == SERVICE:
            began = time.perf_counter()
            response, error = await self.services.run(call, route.integration, route.request_mapping)
            call.integration_latency = (time.perf_counter() - began) * 1000
            call.integration_status = response.status
            call.integration_error = error
            return response
        assert route.kind == NONE
        call.error_message = "Not Found"
        return replies.not_found()  # a route without a target: nothing to call

    async def _lambda(self, route: RoutePlan, call: Call, where: Address) -> Response:
        function = route.function or function_arn(route.uri.render(resolver(call)))
        if function is None:
            call.integration_error = "the integration names no function"
            return replies.internal_error()
        if route.version == "2.0":
            raw = where.raw_path
            event = events.v2(call, raw.split("?", 1)[0] if "?" in raw else raw)
        else:
            event = events.v1(call, None if route.default else route.route_path, route.route_key)
        invoked = await self.functions.invoke(
            function,
            _COMPACT.encode(event).encode(),
            call.arn(route.source_arn_tail(call.stage, call.method)),
            route.role,
            route.timeout_s,
        )
        call.integration_latency = invoked.latency_ms
        call.aws_request_id = invoked.request_id or None
        call.integration_status = invoked.status or None
        if invoked.timed_out:
            call.integration_error = invoked.error
            call.error_message = "Service Unavailable"
            return replies.unavailable()
        if invoked.error is not None:
            call.integration_error = invoked.error
            call.error_message = "Internal Server Error"
            return replies.unavailable() if invoked.status == 429 else replies.internal_error()
        if invoked.function_error:
            call.integration_error = _function_error(invoked.payload)
            call.error_message = "Internal Server Error"
            return replies.internal_error()
        try:
            response = replies.from_function(invoked.payload, route.version)
        except replies.Malformed:
            call.integration_error = "The Lambda function returned a malformed response"
            call.error_message = "Internal Server Error"
            return replies.internal_error()
        call.backend_status = response.status
        return response


def _function_error(payload: bytes) -> str:
    try:
        document = json.loads(payload)
        return str(document.get("errorMessage") or document.get("errorType") or "Unhandled")
    except (ValueError, AttributeError):
        return "Unhandled"


def _mapped(route: RoutePlan, call: Call, response: Response) -> Response:
    """ResponseParameters for the integration's status code."""
    mapping = route.response_mappings.get(str(response.status))
    if not mapping:
        return response
    operations = mapping.rendered(resolver(call, response))
    headers = [(k.lower(), v) for k, v in response.headers]
    status = response.status
    for action, where, name, value in operations:
        if where == "statuscode":
            if value.strip().isdigit():
                status = int(value)
            continue
        if where != "header":
            continue
        if action in ("remove", "overwrite"):
            headers = [(k, v) for k, v in headers if k != name]
        if action == "overwrite":
            headers.append((name, value))
        elif action == "append":
            present = [i for i, (k, _) in enumerate(headers) if k == name]
            if present:
                index = present[-1]
                headers[index] = (name, f"{headers[index][1]},{value}")
            else:
                headers.append((name, value))
    return Response(status, headers, response.body)


__all__ = ["HttpApiPlane"]
