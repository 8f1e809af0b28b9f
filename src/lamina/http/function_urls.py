"""Lambda function URLs' data plane: `http://{url-id}.lambda-url.{region}.localhost:{port}/`
(mounted by Host in app.py), an HTTP request in, the function's answer out, as AWS's.

The request becomes AWS's function URL event (API Gateway's payload format 2.0: version
"2.0", routeKey "$default", rawPath, rawQueryString, cookies, headers, queryStringParameters,
requestContext with http{...}, body and isBase64Encoded). The function's result becomes the
HTTP response as AWS reads it: a JSON object with a statusCode is a response (statusCode,
headers, cookies as set-cookie, body, isBase64Encoded); any other result is a 200
application/json whose body is the result itself. A RESPONSE_STREAM URL streams what the
function writes as it writes it; the `application/vnd.awslambda.http-integration-response`
content type (Node's awslambda.HttpResponseStream.from) carries the status, headers and
cookies in a JSON prelude ended by 8 NUL bytes.

Who may call: AuthType AWS_IAM wants a SigV4 signature (service "lambda") from a principal
allowed lambda:InvokeFunctionUrl on the function and, since October 2025, lambda:InvokeFunction
with lambda:InvokedViaFunctionUrl (identity policies, or the function's policy; both for
another account). AuthType NONE needs the function's policy to allow everyone ("*") both
actions: lambda:InvokeFunctionUrl (with lambda:FunctionUrlAuthType NONE) and
lambda:InvokeFunction (with lambda:InvokedViaFunctionUrl); CreateFunctionUrlConfig does not
add them (AWS's console does, the API does not). LAMINA_IAM=off skips both checks.

CORS (the URL's Cors) is the URL's own business: a preflight OPTIONS is answered without
invoking the function, and an allowed Origin's response gets the CORS headers.

Errors, as AWS answers them: an unknown URL 403 {"Message":null}; a refused caller 403
{"Message":"Forbidden"}; throttled 429; a request over 6 MB 413; a function error (or a
result that is no valid response) 502 "Internal Server Error".
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import botocore.session

from .. import ids
from ..access.authorizer import OFF, Authorizer
from ..errors import ServiceError
from ..gateway import Gateway
from ..policy import RESOURCE, MalformedPolicy, Policy, PolicySet, evaluate, parse_policy
from ..policy import RequestContext as PolicyRequest
from ..protocol.messages import Request, Response
from ..protocol.sigv4 import Verifier
from ..services.lambda_ import LambdaService
from ..services.lambda_.function_urls import UrlTarget
from ..services.lambda_.streaming import StreamedRun
from .iam_callers import authorizer_iam

log = logging.getLogger("lamina.function_urls")

HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8
MAX_PRELUDE_BYTES = 64 * 1024  # a prelude longer than this is not one
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")
_DROPPED_HEADERS = ("cookie", "connection")
CORS_PREFLIGHT_HEADERS = "access-control-request-method"

Handler = Callable[[Request], Awaitable[Response]]


def _json_error(status: int, message: str | None, error_type: str) -> Response:
    body = json.dumps({"Message": message}, separators=(",", ":")).encode()
    return Response(status, [("content-type", "application/json"), ("x-amzn-ErrorType", error_type)], body)


def _bad_gateway(request_id: str) -> Response:
    return Response(502, [("content-type", "text/plain"), ("x-amzn-RequestId", request_id)], b"Internal Server Error")


def host_parts(request: Request) -> tuple[str, str, str]:
    """(url-id, region, the domain name) of the request's Host."""
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if host[-1:].isdigit() else host
    labels = name.lower().split(".")
    url_id = labels[0] if labels else ""
    region = labels[2] if len(labels) > 2 else ""
    return url_id, region, name


# --- the event ---------------------------------------------------------------------------


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return any(kind in lowered for kind in _TEXT_TYPES)


def build_event(
    request: Request, url_id: str, domain: str, request_id: str, account: str, authorizer: dict | None, port: str
) -> dict[str, Any]:
    """AWS's function URL event (payload format 2.0) for one request."""
    now = time.time()
    headers = {k: v for k, v in request.headers.items() if k not in _DROPPED_HEADERS}
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-for", request.client)
    headers.setdefault("x-forwarded-port", port)
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{ids.hex32()[:24]}")
    raw_path = request.raw_path.split("?", 1)[0] or "/"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": request.query_string,
    }
    cookie = request.headers.get("cookie")
    if cookie:
        event["cookies"] = [part.strip() for part in cookie.split(";") if part.strip()]
    event["headers"] = headers
    if request.query_string:
        params: dict[str, str] = {}
        for name, value in parse_qsl(request.query_string, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    context: dict[str, Any] = {
        "accountId": account,
        "apiId": url_id,
        "domainName": domain,
        "domainPrefix": url_id,
        "http": {
            "method": request.method,
            "path": request.path or "/",
            "protocol": "HTTP/1.1",
            "sourceIp": request.client or "127.0.0.1",
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event["requestContext"] = context
    if request.body:
        text = _is_text(request.headers.get("content-type", ""))
        if text:
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text = False
        if not text:
            event["body"] = base64.b64encode(request.body).decode()
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


# --- the response ------------------------------------------------------------------------


def _headers_of(document: dict) -> list[tuple[str, str]]:
    headers = [(str(k), str(v)) for k, v in (document.get("headers") or {}).items()]
    headers.extend(("set-cookie", str(cookie)) for cookie in document.get("cookies") or ())
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return headers


def interpret(payload: bytes) -> Response | None:
    """The HTTP response a function's result stands for (AWS's rules), or None if it is
    not a valid one (a 502)."""
    try:
        document = json.loads(payload) if payload else None
    except ValueError:
        return Response(200, [("content-type", "application/json")], payload)
    if not isinstance(document, dict) or "statusCode" not in document:
        return Response(200, [("content-type", "application/json")], payload)
    try:
        status = int(document["statusCode"])
        body = document.get("body")
        if body is None:
            data = b""
        elif document.get("isBase64Encoded"):
            data = base64.b64decode(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = json.dumps(body).encode()
        return Response(status, _headers_of(document), data)
    except (TypeError, ValueError):
        return None


# --- CORS --------------------------------------------------------------------------------


def _allowed_origin(cors: dict, origin: str) -> str | None:
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        return "*" if not cors.get("AllowCredentials") else origin
    lowered = origin.lower()
    return origin if any(o.lower().rstrip("/") == lowered.rstrip("/") for o in origins) else None


def preflight(cors: dict, request: Request) -> Response:
    """The URL's own answer to a CORS preflight: the function is not invoked."""
    headers: list[tuple[str, str]] = [("content-type", "application/json")]
    origin = request.headers.get("origin", "")
    allowed = _allowed_origin(cors, origin)
    method = request.headers.get(CORS_PREFLIGHT_HEADERS, "").upper()
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if allowed is not None and ("*" in methods or method in methods):
        headers.append(("access-control-allow-origin", allowed))
        headers.append(("access-control-allow-methods", ",".join(methods)))
        if cors.get("AllowHeaders"):
            headers.append(("access-control-allow-headers", ",".join(h.lower() for h in cors["AllowHeaders"])))
        if cors.get("AllowCredentials"):
            headers.append(("access-control-allow-credentials", "true"))
        if cors.get("MaxAge"):
            headers.append(("access-control-max-age", str(cors["MaxAge"])))
        headers.append(("vary", "Origin"))
    return Response(200, headers, b"")


def with_cors(cors: dict, request: Request, response: Response) -> Response:
    """An allowed Origin's response gets the URL's CORS headers, in place of the function's."""
    origin = request.headers.get("origin")
    allowed = _allowed_origin(cors, origin) if cors and origin else None
    if allowed is None:
        return response
    headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    headers.append(("access-control-allow-origin", allowed))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    if cors.get("ExposeHeaders"):
        headers.append(("access-control-expose-headers", ",".join(h.lower() for h in cors["ExposeHeaders"])))
    headers.append(("vary", "Origin"))
    response.headers = headers
    return response


# --- streaming ---------------------------------------------------------------------------


async def _body(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


async def streamed_response(run: StreamedRun, request_id: str) -> Response:
    """A RESPONSE_STREAM URL's answer: the chunks as the function writes them."""
    chunks = run.chunks()
    if not run.stream.streamed:  # answered in one piece (Python): its result, as produced
        result = await run.result()
        await chunks.aclose()
        if result.function_error:
            return _bad_gateway(request_id)
        return Response(200, [("content-type", run.content_type), ("x-amzn-RequestId", request_id)], result.payload)
    headers = [("x-amzn-RequestId", request_id)]
    if run.content_type != HTTP_INTEGRATION:
        return Response(200, [("content-type", run.content_type), *headers], b"", _body(b"", chunks))
    # The prelude first: status, headers and cookies, up to the 8 NUL bytes.
    gathered = b""
    async for chunk in chunks:
        gathered += chunk
        if DELIMITER in gathered or len(gathered) > MAX_PRELUDE_BYTES:
            break
    prelude, found, rest = gathered.partition(DELIMITER)
    if not found:
        await chunks.aclose()
        result = await run.result()
        if result.function_error:
            return _bad_gateway(request_id)
        return Response(200, [("content-type", "application/octet-stream"), *headers], gathered)
    try:
        document = json.loads(prelude) if prelude.strip() else {}
        status = int(document.get("statusCode", 200))
        response_headers = _headers_of(document) if isinstance(document, dict) else []
    except (ValueError, TypeError, AttributeError):
        await chunks.aclose()
        return _bad_gateway(request_id)
    return Response(status, [*response_headers, *headers], b"", _body(rest, chunks))


# --- the handler -------------------------------------------------------------------------


class FunctionUrls:
    """The handler of every function URL host (app.py mounts `__call__` by host suffix)."""

    def __init__(self, lambda_: LambdaService, verifier: Verifier, authorizer: Authorizer) -> None:
        self.lambda_ = lambda_
        self.verifier = verifier
        self.authorizer = authorizer
        self._policies: dict[str, Policy | None] = {}

    async def __call__(self, request: Request) -> Response:
        url_id, region, domain = host_parts(request)
        target = await self.lambda_.function_url_target(url_id)
        if target is None or target.ref.region != region:
            return _json_error(403, None, "AccessDeniedException")
        if target.cors and request.method == "OPTIONS" and CORS_PREFLIGHT_HEADERS in request.headers:
            return preflight(target.cors, request)
        request_id = ids.uuid4()
        if target.auth_type == "AWS_IAM":
            refused, account, authorizer = await self._signed_caller(request, target)
        else:
            refused, account, authorizer = await self._anyone(target), "anonymous", None
        if refused is not None:
            return refused
        host = request.headers.get("host", "")
        port = host.rsplit(":", 1)[1] if host[-1:].isdigit() and ":" in host else "80"
        event = build_event(request, url_id, domain, request_id, account, authorizer, port)
        payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            if target.invoke_mode == "RESPONSE_STREAM":
                run = await self.lambda_.invoke_url_streamed(target, payload, request_id)
                return with_cors(target.cors, request, await streamed_response(run, request_id))
            result = await self.lambda_.invoke_url(target, payload, request_id)
        except ServiceError as error:
            return _json_error(error.status or 500, error.message, error.code)
        if result.function_error:
            return _bad_gateway(request_id)
        response = interpret(result.payload)
        if response is None:
            return _bad_gateway(request_id)
        response.headers.append(("x-amzn-RequestId", request_id))
        return with_cors(target.cors, request, response)

    # --- who may call ---------------------------------------------------------------------

    async def _signed_caller(self, request: Request, target: UrlTarget) -> tuple[Response | None, str, dict | None]:
        """AWS_IAM: (a refusal or None, the caller's account, the event's authorizer)."""
        signed = "authorization" in request.headers or "X-Amz-Signature=" in request.query_string
        if not signed:
            return _json_error(403, "Forbidden", "AccessDeniedException"), "", None
        try:
            caller = self.verifier.verify(request)
        except ServiceError as error:
            return _json_error(403, error.message, error.code), "", None
        principal = caller.principal
        if principal is None or (caller.service and caller.service != "lambda"):
            return _json_error(403, "Forbidden", "AccessDeniedException"), "", None
        if self.authorizer.mode != OFF:
            context = {
                "lambda:FunctionUrlAuthType": "AWS_IAM",
                "lambda:InvokedViaFunctionUrl": "true",
                "aws:SourceIp": request.client,
                "aws:SecureTransport": "false",
            }
            for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
                denial = await self.authorizer.denial(
                    principal, "lambda", action, target.arn, target.ref.account, context
                )
                if denial is not None:
                    log.info("function URL %s refused: %s", target.url_id, denial)
                    return _json_error(403, "Forbidden", "AccessDeniedException"), "", None
        return None, principal.account, {"iam": authorizer_iam(caller)}

    async def _anyone(self, target: UrlTarget) -> Response | None:
        """AuthType NONE: the function's policy must let everyone in, for both actions."""
        if self.authorizer.mode == OFF:
            return None
        policy = await self._policy(target.arn)
        context = {"lambda:FunctionUrlAuthType": "NONE", "lambda:InvokedViaFunctionUrl": "true"}
        for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
            request = PolicyRequest(
                principal_arn="*",
                action=action,
                resource=target.arn,
                principal_type="Anonymous",
                resource_account=target.ref.account,
                context_keys=context,
            )
            allowed = (
                policy is not None
                and evaluate(request, PolicySet(resource=policy, resource_policy_required=True)).allowed
            )
            if not allowed:
                message = f"the policy of {target.arn} does not allow everyone {action} through its URL"
                if self.authorizer.mode != "audit":
                    log.info("function URL %s refused: %s", target.url_id, message)
                    return _json_error(403, "Forbidden", "AccessDeniedException")
                log.warning("IAM audit: would deny: %s", message)
        return None

    async def _policy(self, arn: str) -> Policy | None:
        text = await self.lambda_.resource_policy(arn)
        if not text:
            return None
        if text not in self._policies:
            if len(self._policies) > 1024:
                self._policies.clear()
            try:
                self._policies[text] = parse_policy(text, kind=RESOURCE)
            except MalformedPolicy:
                self._policies[text] = None
        return self._policies[text]


def mount_function_urls(
    gateway: Gateway, lambda_: LambdaService, verifier: Verifier, authorizer: Authorizer, default_region: str
) -> FunctionUrls:
    """Mount the handler on `.lambda-url.{region}.localhost` for every region Lambda has
    (the gateway matches Host suffixes, so one per region) and the configured one."""
    handler = FunctionUrls(lambda_, verifier, authorizer)
    regions = set(botocore.session.get_session().get_available_regions("lambda")) | {default_region}
    for region in sorted(regions):
        gateway.mount_host(f".lambda-url.{region}.localhost", handler)
    return handler
