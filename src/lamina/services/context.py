"""What a service knows about the request beyond its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from ..identity.principals import Principal

# A result's extra response headers, [(name, value)], beside its modeled members (S3's CORS
# headers for a request with an Origin): taken out and added by the gateway.
EXTRA_HEADERS = "__headers__"


@dataclass(frozen=True)
class RequestContext:
    account_id: str
    region: str
    request_id: str
    endpoint_url: str  # how the caller reached us, for URLs we hand back
    access_key: str = ""
    principal: Principal | None = None  # who signed (None: an unknown key let through, enforcement off)
    source_ip: str = ""  # the caller's address (aws:SourceIp)
    origin: str = ""  # the request's Origin header (a browser's cross-origin call: S3's CORS)
