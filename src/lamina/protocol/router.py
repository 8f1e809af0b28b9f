"""Which AWS service and operation is this request?

The answer comes from botocore's models alone:
- json protocol: the X-Amz-Target header names "<targetPrefix>.<Operation>";
- query protocol: the Action parameter (form body or query string) within the service
  named by the SigV4 credential scope; for SQS, a JSON service whose query API older SDKs
  still call, against the query form of its model (protocol/sqs_query.py);
- smithy-rpc-v2-cbor: the path /service/<Service>/operation/<Operation>;
- rest-json / rest-xml: the request URI templates of the operations, matched against the
  method and path (most specific first), within the service named by the credential scope
  when the request is signed, across all rest services otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel

from ..errors import ServiceError
from . import sqs_query
from .messages import Request

_LABEL = re.compile(r"\{([^}]+)\}")
# S3's virtual-hosted addressing: the bucket in the host name ({bucket}.s3.localhost, with or
# without a region, or AWS's and LocalStack's names for it), not in the path.
_S3_VIRTUAL_HOST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*?)\.s3(?:[.-](?!website)[a-z0-9-]+)?"
    r"\.(?:localhost(?:\.localstack\.cloud)?|amazonaws\.com)(?::\d+)?$"
)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
# The query actions AWS serves without a signature (the token or assertion is the
# credential): an unsigned request naming one is STS's.
_UNSIGNED_STS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


@cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    labels: list[str]
    required_query: list[tuple[str, str | None]]
    # Headers the operation requires: S3's CopyObject is PutObject's PUT /{Bucket}/{Key+}
    # with x-amz-copy-source.
    required_headers: list[str]
    operation: OperationModel
    specificity: tuple[int, int]


@dataclass
class ServiceSpec:
    """One AWS service as botocore models it, with its routes compiled."""

    name: str
    model: ServiceModel
    protocol: str
    signing_name: str
    target_prefix: str | None
    routes: list[_Route] = field(default_factory=list)

    @classmethod
    def load(cls, name: str) -> ServiceSpec:
        model = _botocore_session().get_service_model(name)
        meta = model.metadata
        protocols = meta.get("protocols") or [meta["protocol"]]
        # Prefer the protocol the installed botocore actually sends.
        protocol = meta["protocol"]
        if "smithy-rpc-v2-cbor" in protocols and protocol != "smithy-rpc-v2-cbor":
            protocol = protocols[0]
        spec = cls(
            name=name,
            model=model,
            protocol=protocol,
            signing_name=meta.get("signingName") or meta.get("endpointPrefix") or name,
            target_prefix=meta.get("targetPrefix"),
        )
        if protocol.startswith("rest"):
            spec.routes = _compile_routes(model)
        return spec

    @classmethod
    def query_dialect(cls, name: str) -> ServiceSpec | None:
        """The query-protocol form of a JSON service that still takes query requests (SQS)."""
        if name != sqs_query.SERVICE:
            return None
        raw = _botocore_session().get_component("data_loader").load_service_model(name, "service-2")
        model = ServiceModel(sqs_query.query_model(raw), service_name=name)
        meta = model.metadata
        return cls(name, model, "query", meta.get("signingName") or meta.get("endpointPrefix") or name, None)

    def operation(self, name: str) -> OperationModel:
        try:
            return self.model.operation_model(name)
        except Exception:
            raise unknown_operation(name) from None


def _compile_routes(model: ServiceModel) -> list[_Route]:
    routes = []
    for op_name in model.operation_names:
        op = model.operation_model(op_name)
        uri = op.http["requestUri"]
        path, _, query = uri.partition("?")
        labels: list[str] = []
        regex = ""
        pos = 0
        literal_chars = 0
        for match in _LABEL.finditer(path):
            literal = path[pos : match.start()]
            regex += re.escape(literal)
            literal_chars += len(literal)
            name = match.group(1)
            if name.endswith("+"):
                name = name[:-1]
                regex += "(.+)"
            else:
                regex += "([^/]+)"
            labels.append(name)
            pos = match.end()
        tail = path[pos:]
        literal_chars += len(tail)
        regex += re.escape(tail)
        if regex.endswith("/") and len(regex) > 1:
            regex = regex[:-1]
        required_query = []
        for part in filter(None, query.split("&")):
            key, eq, value = part.partition("=")
            required_query.append((key, value if eq else None))
        routes.append(
            _Route(
                method=op.http["method"],
                pattern=re.compile("^" + regex + "/?$"),
                labels=labels,
                required_query=required_query,
                required_headers=[],
                operation=op,
                specificity=(literal_chars + 100 * len(required_query), -len(labels)),
            )
        )
    _tell_apart(routes)
    # Where a deprecated operation shares its wire with its successor (S3's PutBucketNotification
    # and PutBucketNotificationConfiguration, the lifecycle pair), the successor serves both.
    routes.sort(key=lambda r: (r.specificity, not r.operation.deprecated), reverse=True)
    return routes


def _tell_apart(routes: list[_Route]) -> None:
    """Operations sharing a method and a URI (S3's PUT /{Bucket}/{Key+} is PutObject,
    CopyObject, UploadPart and UploadPartCopy) are told apart by the query parameters and
    headers each requires: partNumber and uploadId, x-amz-copy-source. Only there: elsewhere
    a request missing a required member must reach its operation, to be refused by it."""
    groups: dict[tuple[str, str, tuple], list[_Route]] = {}
    for route in routes:
        groups.setdefault((route.method, route.pattern.pattern, tuple(route.required_query)), []).append(route)
    for group in groups.values():
        if len(group) < 2:
            continue
        for route in group:
            before = len(route.required_query)
            shape = route.operation.input_shape
            for name in shape.required_members if shape is not None else ():
                member = shape.members[name]
                location = member.serialization.get("location")
                wire = member.serialization.get("name", name)
                if location == "header":
                    route.required_headers.append(wire.lower())
                elif location == "querystring":
                    route.required_query.append((wire, None))
            literal, labels = route.specificity
            extra = len(route.required_headers) + len(route.required_query) - before
            route.specificity = (literal + 100 * extra, labels)


def unknown_operation(what: str) -> ServiceError:
    return ServiceError("UnknownOperationException", f"Unknown operation {what}", 404)


class InvalidAction(ServiceError):
    """A query-protocol request (Action=...) for a served service, naming no operation of it:
    AWS answers 400 InvalidAction in that service's query XML."""

    def __init__(self, spec: ServiceSpec, action: str, protocol: str | None = None) -> None:
        super().__init__("InvalidAction", f"The action {action} is not valid for this endpoint.", 400)
        self.spec = spec
        self.protocol = protocol


def _query_operation(spec: ServiceSpec, action: str, protocol: str | None = None) -> OperationModel:
    try:
        return spec.model.operation_model(action)
    except Exception:
        raise InvalidAction(spec, action, protocol) from None


@dataclass
class Resolved:
    spec: ServiceSpec
    operation: OperationModel
    labels: dict[str, str]
    # The wire protocol of this request. Usually the service's, but a service may speak
    # several (CloudWatch: smithy-rpc-v2-cbor and json), and botocore picks one by release.
    protocol: str = ""

    def __post_init__(self) -> None:
        self.protocol = self.protocol or self.spec.protocol


class Router:
    def __init__(self, service_names: list[str]) -> None:
        self.specs = {name: ServiceSpec.load(name) for name in service_names}
        self._by_target = {s.target_prefix: s for s in self.specs.values() if s.target_prefix}
        self._by_signing: dict[str, list[ServiceSpec]] = {}
        for spec in self.specs.values():
            self._by_signing.setdefault(spec.signing_name, []).append(spec)
        self._by_service_id = {s.model.metadata.get("serviceId", "").replace(" ", ""): s for s in self.specs.values()}
        self._rest = [s for s in self.specs.values() if s.protocol.startswith("rest")]
        # JSON services that also take query-protocol form posts (SQS, for older SDKs).
        self._query_dialects = {
            name: dialect for name in self.specs if (dialect := ServiceSpec.query_dialect(name)) is not None
        }
        # Clients call the same few paths over and over (Invoke on one function): remember them.
        self._rest_cache: dict[tuple, Resolved] = {}
        # The headers that tell operations on one path apart: part of what is remembered.
        self._deciding_headers = tuple(
            sorted({h for spec in self._rest for route in spec.routes for h in route.required_headers})
        )

    def resolve(self, request: Request) -> Resolved:
        target = request.headers.get("x-amz-target")
        if target:
            prefix, _, op_name = target.rpartition(".")
            spec = self._by_target.get(prefix)
            if spec is None:
                raise unknown_operation(target)
            # The Java SDK talks this protocol to Kinesis with CBOR bodies (protocol/cbor.py).
            cbor = request.headers.get("content-type", "").startswith("application/x-amz-cbor")
            return Resolved(spec, spec.operation(op_name), {}, "json-cbor" if cbor else "json")

        if request.path.startswith("/service/") and "/operation/" in request.path:
            _, _, rest = request.path.partition("/service/")
            service_id, _, op_name = rest.partition("/operation/")
            spec = self._by_service_id.get(service_id.rsplit(".", 1)[-1]) or self._by_target.get(service_id)
            if spec is None:
                raise unknown_operation(request.path)
            return Resolved(spec, spec.operation(op_name), {}, "smithy-rpc-v2-cbor")

        signed_as = self.signing_service(request)
        if signed_as is None and _query_action(request) in _UNSIGNED_STS:
            signed_as = "sts"
        candidates = self._by_signing.get(signed_as, []) if signed_as else []

        for spec in candidates:
            if spec.protocol in ("query", "ec2"):
                action = _query_action(request)
                if action:
                    return Resolved(spec, _query_operation(spec, action), {})
            elif spec.name in self._query_dialects:
                action = _query_action(request)
                if action:
                    dialect = self._query_dialects[spec.name]
                    labels = sqs_query.queue_path(request.path)
                    return Resolved(dialect, _query_operation(dialect, action, "query"), labels, "query")

        path = request.raw_path or "/"
        bucket = virtual_bucket(request.headers.get("host", "")) if signed_as in (None, "s3") else None
        if bucket is not None:
            path = f"/{bucket}{path}"
            candidates = self._by_signing.get("s3", [])
        cache_key: tuple = (signed_as, request.method, path, request.query_string)
        if self._deciding_headers:
            cache_key += tuple(name in request.headers for name in self._deciding_headers)
        cached = self._rest_cache.get(cache_key)
        if cached is not None:
            return cached
        if signed_as and not candidates:
            # Signed for a service Lamina does not serve (S3's GET /schedules is a bucket,
            # not Scheduler's ListSchedules): no other service's route may claim it.
            raise unknown_operation(f"{request.method} {request.path}")
        rest_specs = [s for s in candidates if s.protocol.startswith("rest")] or self._rest
        for spec in rest_specs:
            resolved = _match_rest(spec, request, path)
            if resolved:
                if len(self._rest_cache) > 4096:
                    self._rest_cache.clear()
                self._rest_cache[cache_key] = resolved
                return resolved
        raise unknown_operation(f"{request.method} {request.path}")

    @staticmethod
    def signing_service(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        match = _CREDENTIAL.search(auth)
        if match:
            return match.group(4)
        for key, value in request.query:
            if key == "X-Amz-Credential":
                parts = value.split("/")
                return parts[3] if len(parts) > 3 else None
        return None


def _query_action(request: Request) -> str | None:
    for key, value in request.query:
        if key == "Action":
            return value
    if request.body and "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        from urllib.parse import parse_qsl

        for key, value in parse_qsl(request.body.decode("utf-8", "replace")):
            if key == "Action":
                return value
    return None


def virtual_bucket(host: str) -> str | None:
    """The bucket a virtual-hosted S3 request names in its Host, or None."""
    if ".s3" not in host:
        return None
    match = _S3_VIRTUAL_HOST.match(host.lower())
    return match.group("bucket") if match else None


def _match_rest(spec: ServiceSpec, request: Request, path: str) -> Resolved | None:
    query_keys = None
    for route in spec.routes:
        if route.method != request.method:
            continue
        match = route.pattern.match(path)
        if not match:
            continue
        if route.required_query:
            if query_keys is None:
                query_keys = dict(request.query)
            if not all(k in query_keys and (v is None or query_keys[k] == v) for k, v in route.required_query):
                continue
        if route.required_headers and not all(name in request.headers for name in route.required_headers):
            continue
        labels = {name: unquote(value) for name, value in zip(route.labels, match.groups(), strict=True)}
        return Resolved(spec, route.operation, labels)
    return None
