"""Connections: CreateConnection, DescribeConnection, ListConnections, UpdateConnection,
DeleteConnection, DeauthorizeConnection.

A connection holds how EventBridge authorizes its calls to an API destination: BASIC (a
username and password), API_KEY (a header name and value) or OAUTH_CLIENT_CREDENTIALS (a
client id and secret, exchanged at the authorization endpoint for a token: http_target.py),
and InvocationHttpParameters added to every call. AWS keeps the secrets in a Secrets Manager
secret (SecretArn); Lamina keeps them in the connection's document, and, as AWS, never
shows them: DescribeConnection leaves out the password, the API key's value, the client
secret and the values of parameters marked IsValueSecret.

States: a BASIC or API_KEY connection is AUTHORIZED when created; an OAuth one is
AUTHORIZING until its first token is fetched (AUTHORIZED), or DEAUTHORIZED with the reason
when that fails. DeauthorizeConnection forgets the secrets (DEAUTHORIZING, then
DEAUTHORIZED); UpdateConnection with new ones authorizes it again.

    kind "events_connection"  key <account>:<region>:<name>
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import ids
from ...errors import ServiceError
from ...store.base import Delete, Put
from ..context import RequestContext
from .state import EventsState, listed, now_ms, validation

if TYPE_CHECKING:
    from .http_target import HttpTargets

log = logging.getLogger("lamina.events")

CONNECTION_KIND = "events_connection"
MAX_CONNECTIONS = 1000
_SECRET_FIELDS = {
    "BasicAuthParameters": ("Password",),
    "ApiKeyAuthParameters": ("ApiKeyValue",),
}
_PARAMETER_LISTS = ("HeaderParameters", "QueryStringParameters", "BodyParameters")
_AUTH_MEMBER = {
    "BASIC": "BasicAuthParameters",
    "API_KEY": "ApiKeyAuthParameters",
    "OAUTH_CLIENT_CREDENTIALS": "OAuthParameters",
}


def connection_not_found(name: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException", f"Failed to describe the connection(s). Connection '{name}' does not exist.", 400
    )


@dataclass
class Connection:
    account: str
    region: str
    name: str
    uuid: str
    authorization_type: str
    auth: dict  # AuthParameters as given, secrets included
    description: str | None = None
    state: str = "AUTHORIZED"
    reason: str | None = None
    created_ms: int = field(default_factory=now_ms)
    modified_ms: int = field(default_factory=now_ms)
    authorized_ms: int | None = None
    secret_suffix: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:connection/{self.name}/{self.uuid}"

    @property
    def secret_arn(self) -> str:
        return (
            f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:"
            f"events!connection/{self.name}/{self.uuid}-{self.secret_suffix}"
        )

    @property
    def key(self) -> str:
        return f"{self.account}:{self.region}:{self.name}"

    def doc(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "uuid": self.uuid,
            "type": self.authorization_type,
            "auth": self.auth,
            "description": self.description,
            "state": self.state,
            "reason": self.reason,
            "created": self.created_ms,
            "modified": self.modified_ms,
            "authorized": self.authorized_ms,
            "secret": self.secret_suffix,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Connection:
        return cls(
            doc["account"],
            doc["region"],
            doc["name"],
            doc["uuid"],
            doc["type"],
            doc.get("auth") or {},
            doc.get("description"),
            doc.get("state") or "AUTHORIZED",
            doc.get("reason"),
            doc.get("created", 0),
            doc.get("modified", 0),
            doc.get("authorized"),
            doc.get("secret") or "000000",
        )

    def times(self) -> dict:
        shown: dict[str, Any] = {
            "ConnectionArn": self.arn,
            "ConnectionState": self.state,
            "CreationTime": self.created_ms / 1000,
            "LastModifiedTime": self.modified_ms / 1000,
        }
        if self.authorized_ms is not None:
            shown["LastAuthorizedTime"] = self.authorized_ms / 1000
        return shown

    def summary(self) -> dict:
        shown = dict(self.times(), Name=self.name, AuthorizationType=self.authorization_type)
        if self.reason:
            shown["StateReason"] = self.reason
        return shown

    def described(self) -> dict:
        shown = dict(self.summary(), SecretArn=self.secret_arn, AuthParameters=without_secrets(self.auth))
        if self.description is not None:
            shown["Description"] = self.description
        return shown


def _public_parameters(parameters: dict) -> dict:
    shown: dict[str, Any] = {}
    for name in _PARAMETER_LISTS:
        if name in parameters:
            shown[name] = [
                {k: v for k, v in item.items() if not (k == "Value" and item.get("IsValueSecret"))}
                for item in parameters[name]
            ]
    return shown


def without_secrets(auth: dict) -> dict:
    """AuthParameters as DescribeConnection shows them."""
    shown: dict[str, Any] = {}
    for member, hidden in _SECRET_FIELDS.items():
        if member in auth:
            shown[member] = {k: v for k, v in auth[member].items() if k not in hidden}
    if "OAuthParameters" in auth:
        oauth = {k: v for k, v in auth["OAuthParameters"].items() if k != "OAuthHttpParameters"}
        client = oauth.get("ClientParameters") or {}
        oauth["ClientParameters"] = {k: v for k, v in client.items() if k != "ClientSecret"}
        if "OAuthHttpParameters" in auth["OAuthParameters"]:
            oauth["OAuthHttpParameters"] = _public_parameters(auth["OAuthParameters"]["OAuthHttpParameters"])
        shown["OAuthParameters"] = oauth
    if "InvocationHttpParameters" in auth:
        shown["InvocationHttpParameters"] = _public_parameters(auth["InvocationHttpParameters"])
    return shown


def _forget_secrets(auth: dict) -> dict:
    kept = copy.deepcopy(auth)
    for member, hidden in _SECRET_FIELDS.items():
        for name in hidden:
            (kept.get(member) or {}).pop(name, None)
    client = (kept.get("OAuthParameters") or {}).get("ClientParameters")
    if isinstance(client, dict):
        client.pop("ClientSecret", None)
    return kept


def _merge(current: dict, given: dict) -> dict:
    """UpdateConnection's AuthParameters over the connection's: members given replace theirs."""
    merged = copy.deepcopy(current)
    for name, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict) and name != "InvocationHttpParameters":
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = copy.deepcopy(value)
    return merged


def _check_auth(authorization_type: str, auth: dict) -> None:
    member = _AUTH_MEMBER[authorization_type]
    if member not in auth:
        raise validation(
            f"Parameter AuthParameters is not valid. Reason: {member} is required for AuthorizationType "
            f"{authorization_type}."
        )
    others = [name for name in _AUTH_MEMBER.values() if name != member and name in auth]
    if others:
        raise validation(
            f"Parameter AuthParameters is not valid. Reason: {others[0]} is not allowed for AuthorizationType "
            f"{authorization_type}."
        )


class ConnectionsApi:
    state: EventsState
    connections: dict[tuple[str, str, str], Connection]
    http: HttpTargets  # delivers to API destinations; fetches and caches OAuth tokens
    _authorizing: set[asyncio.Task]

    async def load_connections(self) -> None:
        for _, doc in await self.state.store.scan(CONNECTION_KIND):
            connection = Connection.from_doc(doc)
            self.connections[(connection.account, connection.region, connection.name)] = connection
            if connection.state == "AUTHORIZING":
                self._authorize_later(connection)

    def connection_by_arn(self, arn: str) -> Connection | None:
        parts = arn.split(":", 5)
        if len(parts) < 6 or not parts[5].startswith("connection/"):
            return None
        name = parts[5].split("/")[1]
        connection = self.connections.get((parts[4], parts[3], name))
        return connection if connection is not None and connection.arn == arn else None

    def _connection(self, name: str, ctx: RequestContext) -> Connection:
        connection = self.connections.get((ctx.account_id, ctx.region, name))
        if connection is None:
            raise connection_not_found(name)
        return connection

    async def _save_connection(self, connection: Connection) -> None:
        await self.state.store.write([Put(CONNECTION_KIND, connection.key, connection.doc())])

    def _authorize_later(self, connection: Connection) -> None:
        task = asyncio.get_running_loop().create_task(self._authorize(connection))
        self._authorizing.add(task)
        task.add_done_callback(self._authorizing.discard)

    async def _authorize(self, connection: Connection) -> None:
        modified = connection.modified_ms
        try:
            await self.http.authorize(connection)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the reason is the connection's StateReason
            state, reason = "DEAUTHORIZED", f"Failed to authorize the connection: {error}"[:512]
        else:
            state, reason = "AUTHORIZED", None
        current = self.connections.get((connection.account, connection.region, connection.name))
        if current is not connection or connection.modified_ms != modified or connection.state != "AUTHORIZING":
            return  # changed or deleted meanwhile
        connection.state, connection.reason = state, reason
        if state == "AUTHORIZED":
            connection.authorized_ms = now_ms()
        await self._save_connection(connection)

    def _authorized_state(self, connection: Connection) -> None:
        if connection.authorization_type == "OAUTH_CLIENT_CREDENTIALS":
            connection.state, connection.reason = "AUTHORIZING", None
            self._authorize_later(connection)
        else:
            connection.state, connection.reason, connection.authorized_ms = "AUTHORIZED", None, now_ms()

    async def create_connection(self, params: dict, ctx: RequestContext) -> dict:
        name = params["Name"]
        if (ctx.account_id, ctx.region, name) in self.connections:
            raise ServiceError("ResourceAlreadyExistsException", f"Connection {name} already exists.", 400)
        if sum(1 for key in self.connections if key[:2] == (ctx.account_id, ctx.region)) >= MAX_CONNECTIONS:
            raise ServiceError(
                "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400
            )
        authorization_type, auth = params["AuthorizationType"], params["AuthParameters"]
        _check_auth(authorization_type, auth)
        connection = Connection(
            ctx.account_id, ctx.region, name, ids.uuid4(), authorization_type, auth, params.get("Description")
        )
        self.connections[(connection.account, connection.region, connection.name)] = connection
        self._authorized_state(connection)
        # The answer is the state the call left (AUTHORIZING for OAuth): the token fetch it
        # started may finish while the connection is being saved.
        answer = connection.times()
        await self._save_connection(connection)
        return answer

    async def describe_connection(self, params: dict, ctx: RequestContext) -> dict:
        return self._connection(params["Name"], ctx).described()

    async def list_connections(self, params: dict, ctx: RequestContext) -> dict:
        state = params.get("ConnectionState")
        return listed(
            self.connections,
            params,
            ctx,
            "Connections",
            lambda connection: connection.summary(),
            lambda connection: not state or connection.state == state,
        )

    async def update_connection(self, params: dict, ctx: RequestContext) -> dict:
        connection = self._connection(params["Name"], ctx)
        authorization_type = params.get("AuthorizationType") or connection.authorization_type
        auth = connection.auth
        if params.get("AuthorizationType") and authorization_type != connection.authorization_type:
            auth = {k: v for k, v in auth.items() if k == "InvocationHttpParameters"}
        if params.get("AuthParameters"):
            auth = _merge(auth, params["AuthParameters"])
        _check_auth(authorization_type, auth)
        if "Description" in params:
            connection.description = params["Description"]
        reauthorize = bool(params.get("AuthParameters") or params.get("AuthorizationType"))
        connection.authorization_type, connection.auth = authorization_type, auth
        connection.modified_ms = now_ms()
        self.http.forget_token(connection.arn)
        if reauthorize or connection.state in ("DEAUTHORIZED", "AUTHORIZING"):
            self._authorized_state(connection)
        answer = connection.times()  # as create_connection's
        await self._save_connection(connection)
        return answer

    async def delete_connection(self, params: dict, ctx: RequestContext) -> dict:
        connection = self._connection(params["Name"], ctx)
        await self.state.store.write([Delete(CONNECTION_KIND, connection.key)])
        self.connections.pop((connection.account, connection.region, connection.name), None)
        self.http.forget_token(connection.arn)
        return dict(connection.times(), ConnectionState="DELETING")

    async def deauthorize_connection(self, params: dict, ctx: RequestContext) -> dict:
        connection = self._connection(params["Name"], ctx)
        connection.auth = _forget_secrets(connection.auth)
        connection.state, connection.reason = "DEAUTHORIZED", None
        connection.modified_ms = now_ms()
        self.http.forget_token(connection.arn)
        await self._save_connection(connection)
        return dict(connection.times(), ConnectionState="DEAUTHORIZING")
