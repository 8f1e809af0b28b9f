"""Delivering to API destinations over HTTP, as EventBridge does.

One call per event, through the outbox (retries, the DLQ: delivery.py):

* the URL is the destination's InvocationEndpoint with each `*` replaced, in order, by the
  target's HttpParameters.PathParameterValues; the query is the connection's
  InvocationHttpParameters.QueryStringParameters and then the target's
  QueryStringParameters;
* the headers are Content-Type `application/json; charset=utf-8`, User-Agent
  `Amazon/EventBridge/ApiDestinations`, the connection's and then the target's header
  parameters, and the connection's authorization: BASIC `Authorization: Basic ...`,
  API_KEY `<ApiKeyName>: <ApiKeyValue>`, OAUTH_CLIENT_CREDENTIALS `Authorization: Bearer
  <token>`, the token fetched from AuthorizationEndpoint with the client id and secret
  (Basic auth) and the OAuthHttpParameters (body parameters form-encoded), and kept until
  its expires_in runs out (or an endpoint answers 401);
* the body is what the target sends (the event, or its Input/InputPath/InputTransformer),
  with the connection's body parameters added when it is a JSON object; GET and HEAD send
  none.

A 2xx answer delivers the event. EventBridge retries 401, 407, 409, 429 and 5xx answers and
connection failures (by the target's RetryPolicy), and no other 4xx. Calls to one
destination are spaced to its InvocationRateLimitPerSecond (events over the rate wait their
turn, as on AWS). A call times out after 5 seconds, AWS's limit. The HTTP calls run on a
thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.client import responses
from typing import Any

from .api_destinations import ApiDestination
from .connections import Connection

log = logging.getLogger("lamina.events")

TIMEOUT_S = 5.0
USER_AGENT = "Amazon/EventBridge/ApiDestinations"
RETRIED = frozenset({401, 407, 409, 429})
_NO_BODY = ("GET", "HEAD")
_TOKEN_MARGIN_S = 10.0


class ApiDestinationError(Exception):
    """A failed call to an API destination: `status` (None: no answer) and whether
    EventBridge would try again (`retry`)."""

    def __init__(self, message: str, status: int | None = None, retry: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry = retry


def _status_error(status: int, where: str) -> ApiDestinationError:
    reason = responses.get(status, "")
    return ApiDestinationError(
        f"Received {status}{f' ({reason})' if reason else ''} from {where}",
        status,
        retry=status >= 500 or status in RETRIED,
    )


def _parameters(items: list[dict] | None) -> list[tuple[str, str]]:
    return [(item["Key"], item.get("Value", "")) for item in items or []]


def fill_path(endpoint: str, values: list[str]) -> str:
    """The endpoint with each `*` replaced by the next path parameter value."""
    parts = endpoint.split("*")
    if len(parts) == 1:
        return endpoint
    filled = [parts[0]]
    for index, part in enumerate(parts[1:]):
        value = values[index] if index < len(values) else ""
        filled.append(urllib.parse.quote(value, safe="") + part)
    return "".join(filled)


def with_query(url: str, query: list[tuple[str, str]]) -> str:
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode(query)


class HttpTargets:
    def __init__(
        self,
        destination_of: Callable[[str], ApiDestination | None],
        connection_of: Callable[[str], Connection | None],
        threads: int = 16,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.destination_of = destination_of
        self.connection_of = connection_of
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="events-http")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._tokens: dict[str, tuple[str, float]] = {}  # connection ARN -> (token, expiry)
        self._next_slot: dict[str, float] = {}  # destination ARN -> loop time of its next call

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def reset(self) -> None:
        self._tokens.clear()
        self._next_slot.clear()

    def forget_token(self, connection_arn: str) -> None:
        self._tokens.pop(connection_arn, None)

    # --- delivering ---------------------------------------------------------------------------

    async def send(self, arn: str, body: bytes, attributes: dict, *, http: dict | None = None, **_: Any) -> None:
        destination = self.destination_of(arn)
        if destination is None:
            raise ApiDestinationError(f"API destination {arn} does not exist.", 404, retry=False)
        connection = self.connection_of(destination.connection_arn)
        if connection is None:
            raise ApiDestinationError(f"Connection {destination.connection_arn} does not exist.", 404, retry=False)
        if connection.state != "AUTHORIZED":
            raise ApiDestinationError(
                f"Connection {connection.name} is not authorized (ConnectionState {connection.state}).",
                401,
                retry=connection.state == "AUTHORIZING",
            )
        http = http or {}
        invocation = connection.auth.get("InvocationHttpParameters") or {}
        url = fill_path(destination.endpoint, list(http.get("PathParameterValues") or []))
        query = _parameters(invocation.get("QueryStringParameters"))
        query += [(name, value) for name, value in (http.get("QueryStringParameters") or {}).items()]
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        headers.update(_parameters(invocation.get("HeaderParameters")))
        headers.update(http.get("HeaderParameters") or {})
        headers.update(await self._authorization(connection))
        data: bytes | None = None
        if destination.method not in _NO_BODY:
            data = _with_body_parameters(body, _parameters(invocation.get("BodyParameters")))
        await self._wait_turn(destination)
        status = await self._call(destination.method, with_query(url, query), headers, data)
        if 200 <= status < 300:
            return
        if status == 401:
            self.forget_token(connection.arn)
        raise _status_error(status, f"API destination {destination.name}")

    async def _wait_turn(self, destination: ApiDestination) -> None:
        """Spaces the calls to one destination to its rate (a slot each 1/rate seconds)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_slot.get(destination.arn, now))
        self._next_slot[destination.arn] = slot + 1.0 / max(1, destination.rate)
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _call(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> int:
        loop = asyncio.get_running_loop()
        status, _ = await loop.run_in_executor(self._pool, self._request, method, url, headers, data)
        return status

    def _request(self, method: str, url: str, headers: dict[str, str], data: bytes | None) -> tuple[int, bytes]:
        if not url.startswith(("http://", "https://")):
            raise ApiDestinationError(f"{url} is not an HTTP endpoint.", 400, retry=False)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            try:
                content = error.read()
            except OSError:
                content = b""
            return error.code, content
        except (OSError, ValueError) as error:
            raise ApiDestinationError(f"Could not reach {url.split('?', 1)[0]}: {error}") from None

    # --- authorization --------------------------------------------------------------------------

    async def _authorization(self, connection: Connection) -> dict[str, str]:
        auth = connection.auth
        if connection.authorization_type == "BASIC":
            basic = auth.get("BasicAuthParameters") or {}
            pair = f"{basic.get('Username', '')}:{basic.get('Password', '')}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if connection.authorization_type == "API_KEY":
            key = auth.get("ApiKeyAuthParameters") or {}
            return {key.get("ApiKeyName", "x-api-key"): key.get("ApiKeyValue", "")}
        return {"Authorization": "Bearer " + await self.token(connection)}

    async def authorize(self, connection: Connection) -> None:
        """Fetches an OAuth connection's token (raises why it cannot): CreateConnection's
        AUTHORIZING -> AUTHORIZED."""
        self.forget_token(connection.arn)
        await self.token(connection)

    async def token(self, connection: Connection) -> str:
        cached = self._tokens.get(connection.arn)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        oauth = connection.auth.get("OAuthParameters") or {}
        client = oauth.get("ClientParameters") or {}
        if not client.get("ClientSecret"):
            raise ApiDestinationError(f"Connection {connection.name} has no client secret.", 401, retry=False)
        extra = oauth.get("OAuthHttpParameters") or {}
        pair = f"{client.get('ClientID', '')}:{client['ClientSecret']}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode(), "User-Agent": USER_AGENT}
        headers.update(_parameters(extra.get("HeaderParameters")))
        method = oauth.get("HttpMethod") or "POST"
        url = with_query(oauth.get("AuthorizationEndpoint", ""), _parameters(extra.get("QueryStringParameters")))
        data: bytes | None = None
        form = _parameters(extra.get("BodyParameters"))
        if method != "GET":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(form).encode()
        loop = asyncio.get_running_loop()
        status, content = await loop.run_in_executor(self._pool, self._request, method, url, headers, data)
        if not 200 <= status < 300:
            raise _status_error(status, "the authorization endpoint")
        try:
            answer = json.loads(content)
            token = answer["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ApiDestinationError(
                "The authorization endpoint's answer has no access_token.", 502, retry=True
            ) from None
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._tokens[connection.arn] = (str(token), time.time() + max(0.0, lifetime - _TOKEN_MARGIN_S))
        return str(token)


def _with_body_parameters(body: bytes, parameters: list[tuple[str, str]]) -> bytes:
    if not parameters:
        return body
    try:
        document = json.loads(body) if body else {}
    except ValueError:
        return body
    if not isinstance(document, dict):
        return body
    for name, value in parameters:
        document.setdefault(name, value)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
