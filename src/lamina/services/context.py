"""What a service knows about the request beyond its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from ..identity.principals import Principal


@dataclass(frozen=True)
class RequestContext:
    account_id: str
    region: str
    request_id: str
    endpoint_url: str  # how the caller reached us, for URLs we hand back
    access_key: str = ""
    principal: Principal | None = None  # who signed (None: an unknown key let through, enforcement off)
    source_ip: str = ""  # the caller's address (aws:SourceIp)
