"""/_lamina/sns/...: the links SNS puts in its messages. The SubscribeURL and UnsubscribeURL
are followed unsigned, as on AWS, and answered in SNS's XML; the SigningCertURL
(.../SimpleNotificationService-<hash>.pem) is the certificate of the key that signs
messages (services/sns/signing.py), in PEM, as AWS serves its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from .. import ids
from ..errors import ServiceError
from ..protocol import serializers
from ..protocol.messages import Request, Response
from ..protocol.router import Router
from ..services.context import RequestContext
from ..services.sns.signing import Signer


class LinkFollower(Protocol):
    signer: Signer  # its certificate is served here

    async def follow_link(self, path: str, query_string: str, ctx: RequestContext) -> tuple[str, dict]: ...


def sns_link_handler(
    sns: LinkFollower, router: Router, account_id: str, region: str, endpoint_url: str
) -> Callable[[Request], Awaitable[Response]]:
    async def sns_link(request: Request) -> Response:
        if request.path.endswith(".pem"):
            return certificate(request, sns.signer)
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


def certificate(request: Request, signer: Signer) -> Response:
    """The signing certificate, under the name the messages give it (and only that one)."""
    if request.method not in ("GET", "HEAD"):
        return Response(405, [("content-type", "text/plain"), ("allow", "GET, HEAD")], b"method not allowed")
    if request.path.rsplit("/", 1)[-1] != signer.certificate_name:
        return Response(404, [("content-type", "text/plain")], b"no such certificate")
    body = b"" if request.method == "HEAD" else signer.certificate_pem
    return Response(200, [("content-type", "application/x-x509-ca-cert")], body)
