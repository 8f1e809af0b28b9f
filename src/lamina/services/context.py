"""What a service knows about the request beyond its parameters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    account_id: str
    region: str
    request_id: str
    endpoint_url: str  # how the caller reached us, for URLs we hand back
    access_key: str = ""
