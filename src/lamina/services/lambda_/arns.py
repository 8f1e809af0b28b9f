"""Function names, ARNs and qualifiers, as Lambda accepts and writes them.

A function may be named as "my-fn", "my-fn:alias", "123456789012:function:my-fn",
or "arn:aws:lambda:us-east-1:123456789012:function:my-fn:1"; all resolve to the same
(account, region, name, qualifier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ...errors import ServiceError, invalid_parameter
from ..context import RequestContext

_NAME = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)


@dataclass(frozen=True)
class FunctionRef:
    account: str
    region: str
    name: str
    qualifier: str | None

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.account, self.name)


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@lru_cache(maxsize=4096)  # refs are immutable; the invoke and async paths parse the same names over and over
def parse_function(value: str, account: str, region: str, qualifier: str | None = None) -> FunctionRef:
    match = _NAME.match(value or "")
    if not match:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
            "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            400,
        )
    if len(match.group("name")) > 64:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
            400,
        )
    embedded = match.group("qualifier")
    if embedded and qualifier and embedded != qualifier:
        raise invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.")
    if match.group("account") and match.group("account") != account:
        # Another account's function is simply not there for this caller.
        account = match.group("account")
    return FunctionRef(
        account=account,
        region=match.group("region") or region,
        name=match.group("name"),
        qualifier=embedded or qualifier,
    )


def function_ref(params: dict, ctx: RequestContext, qualifier: str | None = None) -> FunctionRef:
    """The function a request's FunctionName names, in the caller's account and region (a
    function lives in its region: another region's endpoint does not reach it)."""
    ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region, qualifier)
    if ref.region != ctx.region:
        raise ServiceError(
            "ResourceNotFoundException",
            f"Functions from '{ref.region}' are not reachable in this region ('{ctx.region}')",
            404,
        )
    return ref


def parse_resource_arn(value: str) -> FunctionRef:
    """TagResource & co. take a full ARN only."""
    match = _NAME.match(value or "")
    if not match or not value.startswith("arn:") or not match.group("account"):
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at 'resource' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "
            "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:"
            "(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+)",
            400,
        )
    return FunctionRef(match.group("account"), match.group("region"), match.group("name"), match.group("qualifier"))
