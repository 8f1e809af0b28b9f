"""The @connections management API (botocore's "apigatewaymanagementapi"): PostToConnection,
GetConnection, DeleteConnection, called on the API's own endpoint,
`{endpoint}/{stage}/@connections/{connectionId}`.

A call is SigV4-signed for the service execute-api and its signer must be allowed
execute-api:ManageConnections on arn:aws:execute-api:{region}:{account}:{api}/{stage}/
{METHOD}/@connections/{connectionId} (the API's own account root always is). Requests and
answers are read and written with botocore's model of the service, as every AWS call. A
connection that is not open (never was, closed, from before a restart) answers 410
GoneException with an empty body, as AWS does; data over 128 KB 413 PayloadTooLargeException.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from .... import ids
from ....access.authorizer import Authorizer
from ....errors import ServiceError
from ....protocol import parsers, serializers
from ....protocol.messages import Request, Response
from ....protocol.router import Router
from ....protocol.sigv4 import Verifier
from .authorization import execute_api_arn
from .connections import Connections
from .telemetry import Telemetry

log = logging.getLogger("lamina.websocket_api")

SERVICE = "apigatewaymanagementapi"
# What it answers (the rest of the model, if any, gets an error): scripts/coverage.py reads it.
OPERATIONS = ("DeleteConnection", "GetConnection", "PostToConnection")
MAX_DATA_BYTES = 128 * 1024
MARKER = "/@connections/"


def gone(request_id: str) -> Response:
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-requestid", request_id),
        ("x-amzn-errortype", "GoneException"),
    ]
    return Response(410, headers, b"")


class Management:
    def __init__(
        self, connections: Connections, verifier: Verifier | None, authorizer: Authorizer | None, telemetry: Telemetry
    ) -> None:
        self.connections = connections
        self.verifier = verifier
        self.authorizer = authorizer
        self.telemetry = telemetry
        self._router: Router | None = None  # botocore's model, loaded on the first call

    @property
    def router(self) -> Router:
        if self._router is None:
            self._router = Router([SERVICE])
        return self._router

    async def handle(self, served: Any, stage: str, request: Request, path: str, raw_path: str) -> Response:
        """`path`/`raw_path`: the request's path from /@connections/ on."""
        request_id = ids.uuid4()
        spec = self.router.specs[SERVICE]
        inner = replace(request, path=path, raw_path=raw_path, _query=None)
        try:
            resolved = self.router.resolve(inner)
            principal = self._verify(request)
            params = parsers.parse(resolved, inner)
            operation = resolved.operation.name
            connection_id = params.get("ConnectionId", "")
            if principal is not None and self.authorizer is not None:
                arn = execute_api_arn(
                    served.region,
                    served.account,
                    served.api_id,
                    f"{stage}/{request.method}/@connections/{connection_id}",
                )
                denial = await self.authorizer.denial(
                    principal, "execute-api", "execute-api:ManageConnections", arn, served.account, {}
                )
                if denial is not None:
                    raise ServiceError("ForbiddenException", denial, 403)
            connection = self.connections.get(connection_id)
            if connection is None or connection.api_id != served.api_id or connection.stage != stage:
                return gone(request_id)
            result: dict[str, Any] = {}
            if operation == "PostToConnection":
                data = params.get("Data") or b""
                if len(data) > MAX_DATA_BYTES:
                    raise ServiceError("PayloadTooLargeException", "Message too long", 413)
                try:
                    connection.socket.send(data.decode("utf-8"))
                except UnicodeDecodeError:
                    connection.socket.send(data)
                connection.last_active_at = time.time()
                self.telemetry.count(served, stage, "MessageCount")
            elif operation == "GetConnection":
                identity = {"SourceIp": connection.source_ip or "127.0.0.1"}
                if connection.user_agent:
                    identity["UserAgent"] = connection.user_agent
                result = {
                    "ConnectedAt": connection.connected_at,
                    "Identity": identity,
                    "LastActiveAt": connection.last_active_at,
                }
            elif operation == "DeleteConnection":
                connection.close(1000, "")
            return serializers.serialize(spec, resolved.operation, result, request_id, resolved.protocol)
        except ServiceError as error:
            return serializers.serialize_error(spec, error, request_id, "rest-json")

    def _verify(self, request: Request):
        """Who signed the call (None: signatures not enforced and no key known)."""
        if self.verifier is None:
            return None
        signed = "authorization" in request.headers or "X-Amz-Signature=" in request.query_string
        if not signed and self.verifier.enforce:
            raise ServiceError("ForbiddenException", "Missing Authentication Token", 403)
        return self.verifier.verify(request).principal
