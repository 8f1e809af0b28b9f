"""The one ASGI app on the one port: every request enters here.

AWS API calls go through the protocol layer: SigV4 check, router, parser, the service's
method, serializer. Lamina's own paths (/_lamina/...) are plain handlers. Whatever goes
wrong inside a service becomes an AWS error response; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from . import ids
from .errors import ServiceError
from .identity.principals import Principal, anonymous
from .protocol import bodies, parsers, s3_post, s3_preflight, serializers, unserved
from .protocol.messages import Request, Response
from .protocol.router import InvalidAction, Router, ServiceSpec
from .protocol.sigv4 import Verifier
from .services.context import EXTRA_HEADERS, RequestContext

# The refusals of a key the verifier does not know, per protocol.
_UNKNOWN_KEY = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"})

log = logging.getLogger("lamina.gateway")

MAX_BODY_BYTES = 70 * 1024 * 1024  # a 50 MB zip, base64-encoded, in a CreateFunction body
_CAMEL = re.compile(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])")

Handler = Callable[[Request], Awaitable[Response]]
Call = Callable[[str, str, dict, RequestContext], Awaitable[dict]]  # service, operation, params, ctx


def snake_case(operation: str) -> str:
    return _CAMEL.sub("_", operation).lower()


def wants_page(request: Request) -> bool:
    """A request for / that is not an AWS call: AWS requests reach / too (SQS and SNS query
    calls POST there, JSON-protocol calls carry X-Amz-Target, S3's ListBuckets is a signed
    GET /), so only an unsigned GET or HEAD with no X-Amz-* header and no Action or X-Amz-*
    query parameter is one. Checked only for the path /, cheapest test first."""
    if request.method not in ("GET", "HEAD"):
        return False
    if any(name == "authorization" or name.startswith("x-amz-") for name in request.headers):
        return False
    query = request.query_string.lower()
    return "action=" not in query and "x-amz-" not in query


class UserKeys(Protocol):
    """IAM's users' active access keys (the IAM service): what front processes verify with."""

    @property
    def generation(self) -> int: ...  # changes whenever IAM does

    def active_keys(self) -> dict[str, tuple[str, Principal]]: ...  # access key -> (secret, who)


class Gateway:
    def __init__(
        self,
        router: Router,
        services: dict[str, Any],
        verifier: Verifier,
        endpoint_url: str,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        call: Call | None = None,
    ) -> None:
        self.router = router
        self.services = services
        self.verifier = verifier
        self.endpoint_url = endpoint_url
        self.routes: dict[str, Handler] = {}  # path prefix -> handler, for Lamina's own paths
        self.page: Handler | None = None  # a browser's GET / (http/root.py)
        self._prefixes: tuple[str, ...] = ()  # the routes' prefixes, for one startswith()
        # Host name suffix -> handler: endpoints addressed by Host rather than by path (API
        # Gateway's {api}.execute-api.localhost, function URLs' {id}.lambda-url.{region}.localhost).
        self.hosts: dict[str, Handler] = {}
        self._host_suffixes: tuple[str, ...] = ()
        self._host_answers: dict[str, Handler | None] = {}  # Host header -> its handler (None: AWS's)
        # Host name suffix -> the WebSocket endpoint (http/websocket.Endpoint) of those hosts.
        self.websockets: dict[str, Any] = {}
        # A service's last word on each of its answers, (operation, params, ctx, result) ->
        # result (S3: CORS headers for a request with an Origin, x-amz-expiration). Set by the
        # composition root; run where the call runs (the core).
        self.finishers: dict[str, Callable[[str, dict, RequestContext, dict], dict]] = {}
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._methods: dict[tuple[str, str], Any] = {}
        self._catalog: unserved.Catalog | None = None  # every botocore service, built on first need
        # Where a parsed call goes: this process's services, or (in a front process, see
        # http/fronts.py) the core process that owns them.
        self.call: Call = call or self.call_here
        # Authorization (access/authorizer.py): raises the service's AccessDenied for a call
        # its principal may not make. Set by the composition root; None in tests and tools.
        # An account's root acting in its own account (every local key) gets None at once.
        self.authorize: Callable[[str, str, dict, RequestContext], Awaitable[None] | None] | None = None
        # In a front process: where a request signed with a key the front cannot resolve goes
        # (the core's gateway, through the link). None in the core.
        self.forward_unresolved: Handler | None = None
        # In the core: IAM users' keys, which fronts are given to verify requests themselves.
        self.user_keys: UserKeys | None = None
        # Lamina's reset (hold()): while it runs, AWS calls wait at this gate; the calls in
        # flight when it closed are tracked so that the reset can wait for them or cancel them.
        self._gate: asyncio.Event | None = None
        self._calls: set[asyncio.Task] = set()
        self._cut: set[asyncio.Task] = set()  # calls the reset cancelled: answered 503

    def mount(self, prefix: str, handler: Handler) -> None:
        self.routes[prefix] = handler
        self._prefixes = tuple(self.routes)

    def mount_host(self, suffix: str, handler: Handler, websocket: Any = None) -> None:
        """Requests whose Host (port aside) ends with `suffix` ("." first: a subdomain) go to
        `handler`, before any AWS routing: they are calls of an API users built, not of AWS.
        WebSocket upgrades to those hosts go to `websocket` (an http/websocket.Endpoint)."""
        self.hosts[suffix] = handler
        self._host_suffixes = tuple(self.hosts)
        self._host_answers.clear()
        if websocket is not None:
            self.websockets[suffix] = websocket

    def websocket_for(self, request: Request) -> Any:
        """The WebSocket endpoint of the request's host, or None."""
        name = _host_name(request)
        for suffix, endpoint in self.websockets.items():
            if name.endswith(suffix):
                return endpoint
        return None

    def mount_page(self, handler: Handler) -> None:
        """What an unsigned GET or HEAD of / gets (wants_page); every other request to / is
        an AWS call and goes on as one."""
        self.page = handler

    def own_paths(self) -> list[str]:
        """Lamina's own paths, as front processes learn them: the mounted prefixes, and
        "/" when there is a page."""
        return [*self.routes, *(["/"] if self.page is not None else [])]

    def own_hosts(self) -> list[str]:
        """The host suffixes mounted, as front processes learn them."""
        return list(self.hosts)

    # --- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request, too_large = await _read_request(scope, receive)
        response = too_large_response() if too_large else await self.handle(request)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.stream is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.stream is None:
            await send({"type": "http.response.body", "body": response.body})
            return
        try:  # an event stream: each message as it comes (the server chunks it)
            async for chunk in response.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.stream.aclose()

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup:
                        await self.on_startup()
                except Exception as error:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    if self.on_shutdown:
                        await self.on_shutdown()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    # --- dispatch -----------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        if self._host_suffixes:
            hosted = self._by_host(request)
            if hosted is not None:
                try:
                    return await hosted(request)
                except Exception:
                    log.exception("the endpoint of host %s failed", request.headers.get("host"))
                    return Response(500, [("content-type", "text/plain")], b"internal error")
        page = self.page
        if page is not None and request.path == "/" and wants_page(request):
            return await page(request)
        # One C call tells an AWS request (nearly all of them) from one of Lamina's own paths.
        if request.path.startswith(self._prefixes):
            for prefix, handler in self.routes.items():
                if not request.path.startswith(prefix):
                    continue
                try:
                    return await handler(request)
                except Exception:
                    log.exception("internal route %s failed", request.path)
                    return Response(500, [("content-type", "text/plain")], b"internal error")
        return await self.handle_aws(request)

    def streams_body(self, method: str, headers: dict[str, str], url: bytes) -> bool:
        """Whether a request's body goes to its handler as it arrives rather than whole
        (decided on its headers): S3's uploads, of up to 5 GB (protocol/bodies.py)."""
        if method not in ("PUT", "POST"):
            return False
        if method == "POST" and headers.get("content-type", "").lower().startswith("multipart/form-data"):
            # S3's browser uploads (protocol/s3_post.py): a form to a bucket, not to Lamina's
            # own paths or a mounted host's endpoint.
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if host[-1:].isdigit() else host
            hosted = bool(self._host_suffixes) and name.endswith(self._host_suffixes)
            return not hosted and not url.decode("latin-1").startswith(self._prefixes or ("\0",))
        return bodies.streams(headers, url)

    def _by_host(self, request: Request) -> Handler | None:
        # Clients send the same few Host headers over and over: the answer is remembered.
        host = request.headers.get("host", "")
        try:
            return self._host_answers[host]
        except KeyError:
            pass
        name = _host_name(request)
        found = None
        if name.endswith(self._host_suffixes):
            found = next((handler for suffix, handler in self.hosts.items() if name.endswith(suffix)), None)
        if len(self._host_answers) > 4096:
            self._host_answers.clear()
        self._host_answers[host] = found
        return found

    async def handle_aws(self, request: Request) -> Response:
        if request.method == "OPTIONS" and "s3" in self.router.specs:
            return await self._preflight(request)  # S3's CORS preflight: unsigned, no model
        request_id = ids.uuid4()
        if s3_post.is_form_post(request) and "s3" in self.router.specs:
            # S3's browser upload: no botocore operation, so read here (protocol/s3_post.py).
            endpoint = self._endpoint(request)
            return await s3_post.handle(request, self.verifier, self.router, self.call, request_id, endpoint)
        spec: ServiceSpec | None = None
        protocol: str | None = None
        verified = False
        try:
            caller = self.verifier.verify(request)
            verified = True
            resolved = self.router.resolve(request)
            spec, protocol = resolved.spec, resolved.protocol
            params = parsers.parse(resolved, request)
            principal = caller.principal
            if not caller.access_key and spec.name == "s3" and principal is not None:
                principal = anonymous(caller.account_id)  # unsigned: only a public bucket policy lets it in
            ctx = RequestContext(
                account_id=caller.account_id,
                region=caller.region or self.verifier.default_region,
                request_id=request_id,
                endpoint_url=self._endpoint(request),
                access_key=caller.access_key,
                principal=principal,
                source_ip=request.client,
                origin=request.headers.get("origin", ""),
            )
            result = await self.call(spec.name, resolved.operation.name, params, ctx)
            extra = result.pop(EXTRA_HEADERS, None) if type(result) is dict and EXTRA_HEADERS in result else None
            response = serializers.serialize(spec, resolved.operation, result, request_id, resolved.protocol)
            if extra:
                response.headers.extend(extra)
            return response
        except InvalidAction as error:
            return serializers.serialize_error(error.spec, error, request_id, error.protocol)
        except ServiceError as error:
            if not verified and self.forward_unresolved is not None and error.code in _UNKNOWN_KEY:
                # A front does not know IAM users' keys: the core, which does, verifies it.
                return await self.forward_unresolved(request)
            if spec is None:
                return await self._unrouted(request, error, request_id, refused=not verified)
            return serializers.serialize_error(spec, error, request_id, protocol)
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.path)
            return _internal_error(spec, request_id, protocol)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the request's own task is being cancelled: its connection is gone
            # Something the call waited on was cancelled, not the request: answer it.
            log.warning("%s %s: work it waited on was cancelled", request.method, request.path)
            return _internal_error(spec, request_id, protocol)

    async def _preflight(self, request: Request) -> Response:
        """An OPTIONS request: a CORS preflight, which S3 answers from the bucket's rules."""
        request_id = ids.uuid4()
        account = self.verifier.default_account
        ctx = RequestContext(
            account_id=account,
            region=self.verifier.default_region,
            request_id=request_id,
            endpoint_url=self._endpoint(request),
            principal=anonymous(account),
            source_ip=request.client,
            origin=request.headers.get("origin", ""),
        )
        try:
            result = await self.call("s3", s3_preflight.OPERATION, s3_preflight.params_of(request), ctx)
        except ServiceError as error:
            return serializers.serialize_error(self.router.specs["s3"], error, request_id)
        return s3_preflight.response_of(result, request_id)

    async def _unrouted(self, request: Request, error: ServiceError, request_id: str, refused: bool) -> Response:
        """An error before the request had a service: a refused signature, or no route.

        Answered in the protocol of the service the request is for, so that its client can
        read it: a refusal of a served service's request in that service's protocol; a
        request for a service Lamina does not serve (S3, DynamoDB...) with a 501 naming it
        (protocol/unserved.py); anything else as it was.
        """
        if refused:
            try:
                resolved = self.router.resolve(request)
                return serializers.serialize_error(resolved.spec, error, request_id, resolved.protocol)
            except ServiceError:
                pass
        if self._catalog is None:
            self._catalog = unserved.Catalog(self.router.specs)
        # The first lookup reads the metadata of every botocore model (seconds): off the loop.
        try:
            identified = await asyncio.to_thread(self._catalog.identify, request)
        except Exception:
            log.exception("could not tell which service %s %s is for", request.method, request.path)
            identified = None
        if identified is None:
            return serializers.serialize_error(None, error, request_id)
        if not refused:
            error = identified.error()
        return serializers.serialize_error(identified.spec, error, request_id, identified.protocol)

    async def call_here(self, service: str, operation: str, params: dict, ctx: RequestContext) -> dict:
        # Every AWS call runs here, in this process's or (from a front) the core's: the gate.
        while self._gate is not None:
            await self._gate.wait()
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            method = self.method(service, operation)
            if self.authorize is not None:
                deciding = self.authorize(service, operation, params, ctx)  # None: no decision needed
                if deciding is not None:
                    await deciding
            result = await method(params, ctx)
            finish = self.finishers.get(service)
            return result if finish is None else finish(operation, params, ctx, result)
        except asyncio.CancelledError:
            if task not in self._cut:
                raise
            self._cut.discard(task)
            if hasattr(task, "uncancel"):  # Python 3.11+; before it, a cancel leaves no count
                task.uncancel()
            raise ServiceError(
                "ServiceUnavailable", "Lamina was reset while this request ran; send it again.", 503, sender_fault=False
            ) from None
        finally:
            self._calls.discard(task)

    @contextlib.asynccontextmanager
    async def hold(self, grace_s: float = 2.0) -> AsyncIterator[None]:
        """Hold every AWS call while the body runs (Lamina's reset), so that none sees half of
        it: calls arriving wait and then run against what the body left; calls in flight get
        `grace_s` to finish and are then cancelled, answered 503 ServiceUnavailable (a long
        poll or a slow synchronous invoke must not hold the reset up). Own paths (/_lamina/...)
        are not held. One hold at a time: a second waits for the first to finish."""
        while self._gate is not None:
            await self._gate.wait()
        gate = self._gate = asyncio.Event()
        try:
            # A call's task is its connection's (or link's) worker, which outlives the call:
            # wait for the calls to leave _calls, not for the tasks to end.
            deadline = asyncio.get_running_loop().time() + grace_s
            while self._calls and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            late = set(self._calls)
            self._cut |= late
            for task in late:
                task.cancel()
            for _ in range(500):  # a call that swallows its cancellation is not waited for long
                if not self._calls & late:
                    break
                await asyncio.sleep(0.01)
            self._cut -= late
            yield
        finally:
            self._gate = None
            gate.set()

    def method(self, service: str, operation: str):
        key = (service, operation)
        method = self._methods.get(key)
        if method is None:
            target = self.services.get(service)
            method = getattr(target, snake_case(operation), None) if target is not None else None
            if method is None:
                raise self._not_implemented(service, operation)
            self._methods[key] = method
        return method

    def _not_implemented(self, service: str, operation: str) -> ServiceError:
        """A served service's operation Lamina has no method for: 501, in its protocol."""
        spec = self.router.specs.get(service)
        full_name = spec.model.metadata.get("serviceFullName", service) if spec is not None else service
        return ServiceError(
            "UnknownOperationException",
            f"Lamina does not implement {operation} of the {full_name} API ({service}) yet",
            501,
            sender_fault=False,
        )

    def _endpoint(self, request: Request) -> str:
        host = request.headers.get("host")
        return f"http://{host}" if host else self.endpoint_url


def _host_name(request: Request) -> str:
    """The Host header without its port."""
    host = request.headers.get("host", "")
    return host.rsplit(":", 1)[0] if host[-1:].isdigit() else host


def _internal_error(spec: ServiceSpec | None, request_id: str, protocol: str | None) -> Response:
    code = "ServiceException" if spec is not None and spec.name == "lambda" else "InternalFailure"
    error = ServiceError(code, "An internal error occurred; the server keeps running.", 500, sender_fault=False)
    return serializers.serialize_error(spec, error, request_id, protocol)


def too_large_response() -> Response:
    # An AWS error like any other refusal (code in body and header), so that SDKs report
    # RequestEntityTooLargeException rather than a bare "413".
    error = ServiceError("RequestEntityTooLargeException", f"Request must be smaller than {MAX_BODY_BYTES} bytes", 413)
    return serializers.serialize_error(None, error, ids.uuid4())


async def _read_request(scope: dict, receive: Callable) -> tuple[Request, bool]:
    chunks = []
    size = 0
    too_large = False
    while True:
        message = await receive()
        body = message.get("body", b"")
        if body and not too_large:
            size += len(body)
            if size > MAX_BODY_BYTES:
                too_large = True
                chunks = []
            else:
                chunks.append(body)
        if not message.get("more_body"):
            break
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path")
    request = Request(
        method=scope["method"],
        path=scope["path"],
        raw_path=raw_path.decode("latin-1") if raw_path else scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
        client=(scope.get("client") or ("", 0))[0],
    )
    return request, too_large
