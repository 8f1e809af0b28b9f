"""The WebSocket plane: the execute-api hosts' WebSocket endpoint, and their HTTP requests
for WebSocket APIs (the @connections management API).

A connection (ws://{api}.execute-api.localhost:{port}/{stage}):

1. the handshake finds the API and the stage from the path (no such stage, or one never
   deployed: 403 {"message":"Forbidden"}, as AWS refuses it);
2. the $connect route, if there is one, authorizes (authorization.py) and runs its
   integration with the CONNECT event: a 2xx lets the handshake through (with the
   Sec-WebSocket-Protocol the integration answered, if it did), anything else refuses it
   with that status; no $connect route accepts every connection;
3. each message takes the route the RouteSelectionExpression selects (else $default; no
   route at all: AWS's {"message": "Forbidden", ...} frame), whose integration runs with the
   MESSAGE event; a route with a route response ($default) sends the integration's answer
   back, one without sends nothing; a failed integration sends {"message": "Internal server
   error", ...};
4. the close, by the client or the server (idle, duration, DeleteConnection), runs
   $disconnect with the DISCONNECT event; its result is ignored.

Messages are text, 128 KB at most (a bigger one closes the connection with 1009, a binary
one with 1003, as AWS). Function integrations are invoked as apigateway.amazonaws.com for
arn:aws:execute-api:{region}:{account}:{api}/{stage}/{routeKey} (functions.py).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ....protocol.messages import Request, Response
from ...websocket import Socket
from .. import Address, Lookup, address, message
from ..functions import Functions
from . import events, integrations
from .authorization import ConnectAuthorization, execute_api_arn
from .connections import Connection, Connections, new_id
from .integrations import Outcome
from .management import MARKER, Management
from .selection import Sources, evaluate
from .telemetry import Telemetry

log = logging.getLogger("lamina.websocket_api")

MAX_MESSAGE_BYTES = 128 * 1024
FORBIDDEN = message(403, "Forbidden")


class WebSocketPlane:
    def __init__(
        self,
        lookup: Lookup,
        invoker: Functions,
        authorization: ConnectAuthorization,
        connections: Connections,
        management: Management,
        telemetry: Telemetry,
        domain_of: Any = None,
    ) -> None:
        self.lookup = lookup  # apigatewayv2's state: serving(api_id)
        self.invoker = invoker
        self.authorization = authorization
        self.connections = connections
        self.management = management
        self.telemetry = telemetry
        # (api id, the Address) -> the events' domainName: one a function can reach the
        # management API at (see domain.py).
        self.domain_of = domain_of or (lambda api_id, where: where.host)

    # --- HTTP: the management API -------------------------------------------------------

    async def handle(self, served: Any, where: Address, request: Request) -> Response:
        stage, marker, _ = where.path[1:].partition(MARKER[1:])
        stage = stage.rstrip("/")
        if not marker or served.stages.get(stage) is None:
            return FORBIDDEN
        raw_index = where.raw_path.find("/@connections/")
        if raw_index < 0:
            raw_index = where.raw_path.find("/%40connections/")
        raw = where.raw_path[raw_index:] if raw_index >= 0 else MARKER
        return await self.management.handle(served, stage, request, where.path[len(stage) + 1 :], raw)

    # --- WebSocket: the connection endpoint -----------------------------------------------

    async def open(self, request: Request, socket: Socket) -> Response | None:
        where = address(request)
        served = self.lookup.serving(where.api_id) if where is not None else None
        if where is None or served is None or served.protocol_type != "WEBSOCKET":
            return message(404, "Not Found")
        stage = served.stages.get(where.path.strip("/"))
        if stage is None or stage.deployment_id is None or served.disable_execute_api_endpoint:
            return FORBIDDEN
        connection = Connection(
            new_id(),
            served.api_id,
            stage.name,
            served.account,
            served.region,
            self.domain_of(served.api_id, where),
            socket,
            request.client,
            request.headers.get("user-agent", ""),
        )
        request_id = new_id()
        route = stage.route_for("$connect")
        answer: Response | None = None
        status = 200
        if route is not None:
            self.telemetry.count(served, stage.name, "ConnectCount")
            verdict = await self.authorization.check(served, stage, route, connection, request, request_id)
            if verdict.refusal is not None:
                self.telemetry.count(served, stage.name, "ClientError")
                await self._log(served, stage, connection, "$connect", "CONNECT", request_id, verdict.refusal.status)
                return verdict.refusal
            connection.authorizer, connection.identity = verdict.authorizer, verdict.identity
            if route.integration_id is not None:
                event = events.connect_event(connection, request, request_id)
                query, _ = events.query_of(request)
                sources = Sources(headers=request.headers, query=query, context=event["requestContext"])
                outcome = await self._integrate(served, stage, route, event, sources, request_id)
                status = outcome.status
                if outcome.failure is not None or not 200 <= outcome.status < 300:
                    await self._log(served, stage, connection, "$connect", "CONNECT", request_id, status)
                    return Response(status, [("content-type", "application/json")], b"")
                protocol = next((v for k, v in outcome.headers.items() if k.lower() == "sec-websocket-protocol"), None)
                if protocol:
                    answer = Response(101, [("sec-websocket-protocol", protocol)])
        self.connections.add(connection)
        await self._log(served, stage, connection, "$connect", "CONNECT", request_id, status)
        return answer

    async def message(self, socket: Socket, data: str | bytes) -> None:
        connection = self.connections.of(socket)
        if connection is None:
            return
        connection.last_active_at = time.time()
        if isinstance(data, bytes):
            connection.close(1003, "Binary frames are not supported")
            return
        if len(data.encode()) > MAX_MESSAGE_BYTES:
            connection.close(1009, "Message too big")
            return
        served = self.lookup.serving(connection.api_id)
        stage = served.stages.get(connection.stage) if served is not None else None
        if stage is None:  # the API or the stage was deleted under the connection
            connection.close(*GONE)
            return
        self.telemetry.count(served, stage.name, "MessageCount")
        request_id = new_id()
        sources = Sources(body=data, stage_variables=stage.stage_variables)
        key = evaluate(served.route_selection_expression, sources)
        route = (stage.route_for(key) if key else None) or stage.route_for("$default")
        if route is None:
            self.telemetry.count(served, stage.name, "ClientError")
            self._frame(connection, "Forbidden", request_id)
            await self._log(served, stage, connection, key or "$default", "MESSAGE", request_id, 403)
            return
        event = events.message_event(connection, route.key.text, data, request_id)
        sources.context = event["requestContext"]
        outcome = await self._integrate(served, stage, route, event, sources, request_id)
        await self._log(served, stage, connection, route.key.text, "MESSAGE", request_id, outcome.status)
        if outcome.failure is not None:
            self._frame(connection, "Internal server error", request_id)
            return
        if route.responses and outcome.body is not None and socket.open:
            socket.send(outcome.body)
            self.telemetry.count(served, stage.name, "MessageCount")

    async def closed(self, socket: Socket, code: int, reason: str) -> None:
        connection = self.connections.remove(socket)
        if connection is None:
            return
        if connection.closed_by_server is not None:
            code, reason = connection.closed_by_server
        elif code == 1005 and not reason:
            reason = "Client-side close frame status not set"
        served = self.lookup.serving(connection.api_id)
        stage = served.stages.get(connection.stage) if served is not None else None
        if stage is None:
            return
        request_id = new_id()
        route = stage.route_for("$disconnect")
        status = 200
        if route is not None and route.integration_id is not None:
            event = events.disconnect_event(connection, code, reason, request_id)
            sources = Sources(context=event["requestContext"], stage_variables=stage.stage_variables)
            outcome = await self._integrate(served, stage, route, event, sources, request_id)
            status = outcome.status
        await self._log(served, stage, connection, "$disconnect", "DISCONNECT", request_id, status)

    # --- the parts ----------------------------------------------------------------------

    async def _integrate(
        self, served: Any, stage: Any, route: Any, event: dict, sources: Sources, request_id: str
    ) -> Outcome:
        integration = stage.integrations.get(route.integration_id or "")
        if integration is None:
            return Outcome(500, failure=integrations.EXECUTION)
        sources.stage_variables = stage.stage_variables
        call = integrations.Call(
            event,
            sources,
            execute_api_arn(served.region, served.account, served.api_id, f"{stage.name}/{route.key.text}"),
            request_id,
        )
        started = time.monotonic()
        outcome = await integrations.run(
            self.invoker, integration, stage.integration_responses.get(route.integration_id, {}), call
        )
        if outcome.failure == integrations.EXECUTION:
            self.telemetry.count(served, stage.name, "ExecutionError")
        else:
            self.telemetry.count(
                served, stage.name, "IntegrationLatency", (time.monotonic() - started) * 1000, "Milliseconds"
            )
            if outcome.failure is not None or outcome.status >= 400:
                self.telemetry.count(served, stage.name, "IntegrationError")
        return outcome

    def _frame(self, connection: Connection, text: str, request_id: str) -> None:
        """API Gateway's own answer to a message, in its spelling (spaces after the colons)."""
        ids = f'"connectionId":"{connection.connection_id}", "requestId":"{request_id}"'
        connection.socket.send(f'{{"message": {json.dumps(text)}, {ids}}}')

    async def _log(
        self, served: Any, stage: Any, connection: Connection, route_key: str, kind: str, request_id: str, status: int
    ) -> None:
        if not stage.access_log_settings:
            return
        context = events.context(connection, route_key, kind, request_id)
        context.update({"status": status, "eventType": kind, "connectionId": connection.connection_id})
        await self.telemetry.access_log(served, stage, context)


GONE = (1001, "Going away")
