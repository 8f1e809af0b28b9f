"""CORS (User Guide, "Using cross-origin resource sharing (CORS)"): Put/Get/DeleteBucketCors,
the preflight S3 answers itself (an unsigned OPTIONS, brought here by the gateway as the call
"Preflight": protocol/s3_preflight.py), and the Access-Control-* headers S3 adds to an
actual request carrying an Origin that a rule allows (`cors_headers`, from the finisher).

A rule matches when one of its AllowedOrigins matches the Origin (at most one "*" wildcard
each), the method is one of its AllowedMethods, and, for a preflight, every header of
Access-Control-Request-Headers matches one of its AllowedHeaders; the first rule that
matches decides."""

from __future__ import annotations

from ...errors import ServiceError
from ..context import RequestContext
from .configs import CORS, BucketConfigs
from .errors import invalid_argument, invalid_request, malformed_xml, no_such_bucket, not_found_config
from .state import Bucket, S3State

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
VARY = ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
# The HTTP method of the operations a browser may call, for AllowedMethods (GET otherwise).
_METHOD = {"HeadObject": "HEAD", "HeadBucket": "HEAD", "DeleteObjects": "POST", "CreateMultipartUpload": "POST",
           "CompleteMultipartUpload": "POST", "RestoreObject": "POST", "SelectObjectContent": "POST"}  # fmt: skip


def http_method(operation: str) -> str:
    method = _METHOD.get(operation)
    if method is not None:
        return method
    if operation.startswith(("Put", "Copy", "UploadPart", "Create")):
        return "PUT"
    if operation.startswith(("Delete", "Abort")):
        return "DELETE"
    return "GET"


def _matches(pattern: str, value: str) -> bool:
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def checked_rules(config: dict) -> list[dict]:
    rules = config.get("CORSRules") or []
    if not rules or len(rules) > MAX_RULES:
        raise malformed_xml()
    for rule in rules:
        origins, methods = rule.get("AllowedOrigins") or [], rule.get("AllowedMethods") or []
        if not origins or not methods:
            raise malformed_xml()
        for method in methods:
            if method not in METHODS:
                raise invalid_request(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
        for origin in origins:
            if origin.count("*") > 1:
                raise invalid_request(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.get("AllowedHeaders") or []:
            if header.count("*") > 1:
                raise invalid_request(f'AllowedHeader "{header}" can not have more than one wildcard.')
        if len(rule.get("ID") or "") > 255:
            raise invalid_argument("The ID of a CORS rule can not be longer than 255 characters")
        if rule.get("MaxAgeSeconds") is not None and rule["MaxAgeSeconds"] < 0:
            raise malformed_xml()
    return rules


def matching(rules: list[dict], origin: str, method: str, headers: list[str] | None) -> tuple[dict, str] | None:
    """The first rule allowing `origin` to `method` (and `headers`, for a preflight), with the
    AllowedOrigin that matched."""
    for rule in rules:
        if method not in rule.get("AllowedMethods", ()):
            continue
        allowed = next((o for o in rule.get("AllowedOrigins", ()) if _matches(o, origin)), None)
        if allowed is None:
            continue
        if headers:
            patterns = [h.lower() for h in rule.get("AllowedHeaders") or []]
            if not all(any(_matches(p, h) for p in patterns) for h in headers):
                continue
        return rule, allowed
    return None


def answer_headers(rule: dict, allowed: str, origin: str, headers: list[str] | None) -> list[tuple[str, str]]:
    out = [("Access-Control-Allow-Origin", "*" if allowed == "*" else origin)]
    out.append(("Access-Control-Allow-Methods", ", ".join(rule["AllowedMethods"])))
    if headers:
        out.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if rule.get("ExposeHeaders"):
        out.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if rule.get("MaxAgeSeconds") is not None:
        out.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    if allowed != "*":
        out.append(("Access-Control-Allow-Credentials", "true"))
    out.append(VARY)
    return out


def _forbidden(message: str, method: str, key: str | None) -> ServiceError:
    return ServiceError("AccessForbidden", message, 403, Method=method, ResourceType="OBJECT" if key else "BUCKET")


class CorsApi:
    state: S3State
    configs: BucketConfigs

    async def put_bucket_cors(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        rules = checked_rules(params.get("CORSConfiguration") or {})
        await self.configs.put(bucket, CORS, rules)
        return {}

    async def get_bucket_cors(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        rules = self.configs.get(bucket, CORS)
        if not rules:
            raise not_found_config("NoSuchCORSConfiguration", "The CORS configuration does not exist", bucket.name)
        return {"CORSRules": rules}

    async def delete_bucket_cors(self, params: dict, ctx: RequestContext) -> dict:
        bucket = self.state.find(params["Bucket"], ctx)
        await self.configs.delete(bucket, CORS)
        return {}

    async def preflight(self, params: dict, ctx: RequestContext) -> dict:
        """An OPTIONS request: {"Headers": [...]} when a rule allows it, else S3's 403."""
        origin, method = params.get("Origin"), params.get("Method")
        if not origin:
            raise ServiceError("BadRequest", "Insufficient information. Origin request header needed.", 400)
        if method not in METHODS:
            raise ServiceError("BadRequest", f"Invalid Access-Control-Request-Method: {method or 'null'}", 400)
        bucket = self.state.bucket(params.get("Bucket") or "")
        if bucket is None:
            raise no_such_bucket(params.get("Bucket") or "")
        rules = self.configs.get(bucket, CORS)
        if not rules:
            raise _forbidden(NOT_ENABLED, method, params.get("Key"))
        requested = [h.strip().lower() for h in (params.get("Headers") or "").split(",") if h.strip()]
        found = matching(rules, origin, method, requested)
        if found is None:
            raise _forbidden(NOT_ALLOWED, method, params.get("Key"))
        return {"Headers": answer_headers(found[0], found[1], origin, requested)}

    def cors_headers(self, bucket: Bucket, operation: str, origin: str) -> list[tuple[str, str]] | None:
        """The CORS headers of an actual request from `origin`, if a rule allows it."""
        rules = self.configs.get(bucket, CORS)
        if not rules:
            return None
        found = matching(rules, origin, http_method(operation), None)
        return answer_headers(found[0], found[1], origin, None) if found is not None else None
