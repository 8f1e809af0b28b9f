"""/_lamina/sns/...: the SubscribeURL and UnsubscribeURL that SNS puts in its messages,
followed unsigned, as on AWS, and answered in SNS's XML."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from .. import ids
from ..errors import ServiceError
from ..protocol import serializers
from ..protocol.messages import Request, Response
from ..protocol.router import Router
from ..services.context import RequestContext


class LinkFollower(Protocol):
    async def follow_link(self, path: str, query_string: str, ctx: RequestContext) -> tuple[str, dict]: ...


def sns_link_handler(
    sns: LinkFollower, router: Router, account_id: str, region: str, endpoint_url: str
) -> Callable[[Request], Awaitable[Response]]:
    async def sns_link(request: Request) -> Response:
        request_id = ids.uuid4()
        spec = router.specs["sns"]
        ctx = RequestContext(
            account_id,
            region,
            request_id,
            f"http://{request.headers['host']}" if "host" in request.headers else endpoint_url,
        )
        try:
            operation, result = await sns.follow_link(request.path, request.query_string, ctx)
        except ServiceError as error:
            return serializers.serialize_error(spec, error, request_id)
        return serializers.serialize(spec, spec.model.operation_model(operation), result, request_id)

    return sns_link
