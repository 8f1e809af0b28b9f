"""API destinations: CreateApiDestination, DescribeApiDestination, ListApiDestinations,
UpdateApiDestination, DeleteApiDestination.

An API destination is an HTTP endpoint (InvocationEndpoint, whose `*` are filled from a
target's HttpParameters.PathParameterValues), an HttpMethod, a connection that authorizes
the calls, and InvocationRateLimitPerSecond (default 300). A rule target that names one
(with a RoleArn, as AWS requires) is delivered to over HTTP by http_target.py. AWS accepts
only HTTPS endpoints; Lamina also takes http:// ones, for services running beside it.

    kind "events_api_destination"  key <account>:<region>:<name>
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import ids
from ...errors import ServiceError
from ...store.base import Delete, Put
from ..context import RequestContext
from .state import EventsState, listed, now_ms, validation

if TYPE_CHECKING:
    from .connections import Connection

API_DESTINATION_KIND = "events_api_destination"
DEFAULT_RATE = 300
MAX_API_DESTINATIONS = 3000
_ENDPOINT = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def api_destination_not_found(name: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.",
        400,
    )


@dataclass
class ApiDestination:
    account: str
    region: str
    name: str
    uuid: str
    connection_arn: str
    endpoint: str
    method: str
    rate: int = DEFAULT_RATE
    description: str | None = None
    state: str = "ACTIVE"
    created_ms: int = field(default_factory=now_ms)
    modified_ms: int = field(default_factory=now_ms)

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:api-destination/{self.name}/{self.uuid}"

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "uuid": self.uuid,
            "connection": self.connection_arn,
            "endpoint": self.endpoint,
            "method": self.method,
            "rate": self.rate,
            "description": self.description,
            "state": self.state,
            "created": self.created_ms,
            "modified": self.modified_ms,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ApiDestination:
        return cls(
            doc["account"],
            doc["region"],
            doc["name"],
            doc["uuid"],
            doc["connection"],
            doc["endpoint"],
            doc["method"],
            doc.get("rate") or DEFAULT_RATE,
            doc.get("description"),
            doc.get("state") or "ACTIVE",
            doc.get("created", 0),
            doc.get("modified", 0),
        )

    def times(self) -> dict:
        return {
            "ApiDestinationArn": self.arn,
            "ApiDestinationState": self.state,
            "CreationTime": self.created_ms / 1000,
            "LastModifiedTime": self.modified_ms / 1000,
        }

    def shown(self) -> dict:
        shown = dict(
            self.times(),
            Name=self.name,
            ConnectionArn=self.connection_arn,
            InvocationEndpoint=self.endpoint,
            HttpMethod=self.method,
            InvocationRateLimitPerSecond=self.rate,
        )
        if self.description is not None:
            shown["Description"] = self.description
        return shown


def _check_endpoint(endpoint: str) -> None:
    if not _ENDPOINT.match(endpoint):
        raise validation(
            f"Parameter InvocationEndpoint is not valid. Reason: {endpoint} is not a valid HTTPS endpoint."
        )


class ApiDestinationsApi:
    state: EventsState
    api_destinations: dict[tuple[str, str, str], ApiDestination]

    connection_by_arn: Callable[[str], Connection | None]  # ConnectionsApi's

    async def load_api_destinations(self) -> None:
        for _, doc in await self.state.store.scan(API_DESTINATION_KIND):
            destination = ApiDestination.from_doc(doc)
            self.api_destinations[(destination.account, destination.region, destination.name)] = destination

    def api_destination_by_arn(self, arn: str) -> ApiDestination | None:
        parts = arn.split(":", 5)
        if len(parts) < 6 or not parts[5].startswith("api-destination/"):
            return None
        name = parts[5].split("/")[1]
        destination = self.api_destinations.get((parts[4], parts[3], name))
        return destination if destination is not None and destination.arn == arn else None

    def _api_destination(self, name: str, ctx: RequestContext) -> ApiDestination:
        destination = self.api_destinations.get((ctx.account_id, ctx.region, name))
        if destination is None:
            raise api_destination_not_found(name)
        return destination

    def _existing_connection(self, arn: str) -> None:
        if self.connection_by_arn(arn) is None:
            name = arn.split("/")[1] if arn.count("/") >= 1 else arn
            raise ServiceError(
                "ResourceNotFoundException",
                f"Failed to describe the connection(s). Connection '{name}' does not exist.",
                400,
            )

    async def _save_api_destination(self, destination: ApiDestination) -> None:
        await self.state.store.write([Put(API_DESTINATION_KIND, destination.key, destination.doc())])
        self.api_destinations[(destination.account, destination.region, destination.name)] = destination

    async def create_api_destination(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Name"]
        if (ctx.account_id, ctx.region, name) in self.api_destinations:
            raise ServiceError("ResourceAlreadyExistsException", f"An api-destination '{name}' already exists.", 400)
        if sum(1 for key in self.api_destinations if key[:2] == (ctx.account_id, ctx.region)) >= MAX_API_DESTINATIONS:
            raise ServiceError(
                "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400
            )
        _check_endpoint(params["InvocationEndpoint"])
        self._existing_connection(params["ConnectionArn"])
        destination = ApiDestination(
            ctx.account_id,
            ctx.region,
            name,
            ids.uuid4(),
            params["ConnectionArn"],
            params["InvocationEndpoint"],
            params["HttpMethod"],
            params.get("InvocationRateLimitPerSecond") or DEFAULT_RATE,
            params.get("Description"),
        )
        await self._save_api_destination(destination)
        return destination.times()

    async def describe_api_destination(self, params: dict, ctx: RequestContext) -> dict:
        return self._api_destination(params["Name"], ctx).shown()

    async def list_api_destinations(self, params: dict, ctx: RequestContext) -> dict:
        connection = params.get("ConnectionArn")
        return listed(
            self.api_destinations,
            params,
            ctx,
            "ApiDestinations",
            lambda destination: destination.shown(),
            lambda destination: not connection or destination.connection_arn == connection,
        )

    async def update_api_destination(self, params: dict, ctx: RequestContext) -> dict:
        destination = self._api_destination(params["Name"], ctx)
        if params.get("InvocationEndpoint"):
            _check_endpoint(params["InvocationEndpoint"])
            destination.endpoint = params["InvocationEndpoint"]
        if params.get("ConnectionArn"):
            self._existing_connection(params["ConnectionArn"])
            destination.connection_arn = params["ConnectionArn"]
        if params.get("HttpMethod"):
            destination.method = params["HttpMethod"]
        if params.get("InvocationRateLimitPerSecond"):
            destination.rate = params["InvocationRateLimitPerSecond"]
        if "Description" in params:
            destination.description = params["Description"]
        destination.modified_ms = now_ms()
        await self._save_api_destination(destination)
        return destination.times()

    async def delete_api_destination(self, params: dict, ctx: RequestContext) -> dict:
        destination = self._api_destination(params["Name"], ctx)
        await self.state.store.write([Delete(API_DESTINATION_KIND, destination.key)])
        self.api_destinations.pop((destination.account, destination.region, destination.name), None)
        return {}
