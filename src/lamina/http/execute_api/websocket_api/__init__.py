"""WebSocket APIs' data plane (API Gateway v2, ProtocolType WEBSOCKET) and the @connections
management API. The modules:

    plane.py          WebSocketPlane: the hosts' WebSocket endpoint (open, message, closed)
                      and their HTTP handle (@connections)
    connections.py    the connections (in memory), their ids, idle and duration limits
    events.py         the CONNECT, MESSAGE, DISCONNECT and authorizer events
    selection.py      selection expressions ($request.body.action ...)
    integrations.py   AWS_PROXY, AWS, MOCK, HTTP_PROXY, HTTP integrations; their responses
    templates.py      mapping templates (Velocity, with the REST APIs' engine)
    authorization.py  $connect: AWS_IAM, Lambda REQUEST authorizers, API keys
    management.py     PostToConnection, GetConnection, DeleteConnection
    telemetry.py      AWS/ApiGateway metrics, access logs
    domain.py         the events' domainName: where a function reaches @connections
"""

from __future__ import annotations

from ....access.authorizer import Authorizer
from ....observability.logsink import LogSink
from ....observability.recorder import MetricsRecorder
from ....protocol.sigv4 import Verifier
from .. import Lookup
from ..functions import Functions
from .authorization import ApiKeys, ConnectAuthorization
from .connections import Connections
from .domain import path_form
from .management import Management
from .plane import WebSocketPlane
from .telemetry import Telemetry


def build_plane(
    lookup: Lookup,
    invoker: Functions,
    verifier: Verifier | None,
    authorizer: Authorizer | None,
    *,
    endpoint_url: str,
    idle_timeout_s: float = 600,
    max_duration_s: float = 7200,
    api_keys: ApiKeys | None = None,
    metrics: MetricsRecorder | None = None,
    sink: LogSink | None = None,
) -> WebSocketPlane:
    """The plane with its parts: `lookup` is apigatewayv2's state (serving(api_id)),
    `endpoint_url` where functions call AWS (the events' domainName is built on it)."""
    connections = Connections(idle_timeout_s, max_duration_s)
    telemetry = Telemetry(metrics, sink)
    authorization = ConnectAuthorization(invoker, verifier, authorizer, api_keys)
    management = Management(connections, verifier, authorizer, telemetry)
    return WebSocketPlane(lookup, invoker, authorization, connections, management, telemetry, path_form(endpoint_url))


__all__ = ["WebSocketPlane", "build_plane"]
