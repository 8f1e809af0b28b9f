"""Create/Get/Update/Delete/ListFunctionUrlConfig(s): a function's URLs, one for the
function ($LATEST, no qualifier) and one per alias, kept in the function's document under
"urls" (qualifier, "" for none -> config), so that they go with it.

A URL is `http://{url-id}.lambda-url.{region}.localhost:{port}/`: the url-id is 32 lowercase
alphanumerics, as AWS's; the port is the one the caller reached Lamina on (the URL is
composed when it is read, so a server moved to another port hands out working URLs).
UrlIndex finds a URL's function by its url-id, for the data plane (http/function_urls.py).
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ...errors import ServiceError, invalid_parameter
from ...store.base import Put
from ..context import RequestContext
from .arns import FunctionRef, function_arn, function_ref, parse_function
from .paging import page
from .state import LATEST, LambdaState, now_iso

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS", "*")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_NOT_FOUND = "The resource you requested does not exist."


def new_url_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


def url_of(url_id: str, region: str, endpoint_url: str) -> str:
    port = urlsplit(endpoint_url).port
    return f"http://{url_id}.lambda-url.{region}.localhost{f':{port}' if port else ''}/"


@dataclass(frozen=True)
class UrlTarget:
    """What the data plane needs of one URL: the function (and alias) it invokes and how."""

    url_id: str
    ref: FunctionRef  # qualifier: the alias, or None
    auth_type: str
    invoke_mode: str
    cors: dict

    @property
    def arn(self) -> str:
        """The function's ARN as policies name it: with the alias, when the URL is an alias's."""
        return self.ref.arn if not self.ref.qualifier else f"{self.ref.arn}:{self.ref.qualifier}"


class UrlIndex:
    """url-id -> (function key, qualifier): built from the store on first use, kept in step
    by the API; a hit is checked against the function's document (a deleted function, or
    alias, leaves an entry that no longer answers)."""

    def __init__(self, state: LambdaState) -> None:
        self.state = state
        self._by_id: dict[str, tuple[str, str]] | None = None

    def reset(self) -> None:
        self._by_id = None

    def add(self, url_id: str, function_key: str, qualifier: str) -> None:
        if self._by_id is not None:
            self._by_id[url_id] = (function_key, qualifier)

    def drop(self, url_id: str) -> None:
        if self._by_id is not None:
            self._by_id.pop(url_id, None)

    async def target(self, url_id: str) -> UrlTarget | None:
        if self._by_id is None:
            index: dict[str, tuple[str, str]] = {}
            for key, doc in await self.state.store.scan("function"):
                for qualifier, config in (doc.get("urls") or {}).items():
                    index[config["UrlId"]] = (key, qualifier)
            if self._by_id is None:
                self._by_id = index
        found = self._by_id.get(url_id)
        if found is None:
            return None
        key, qualifier = found
        account, region, name = key.split(":", 2)
        ref = FunctionRef(account, region, name, qualifier or None)
        function = await self.state.find_function(ref)
        config = ((function or {}).get("urls") or {}).get(qualifier)
        if config is None or config["UrlId"] != url_id:
            return None
        if qualifier and await self.state.find_alias(ref, qualifier) is None:
            return None
        return UrlTarget(
            url_id, ref, config["AuthType"], config.get("InvokeMode", "BUFFERED"), config.get("Cors") or {}
        )


def _check_qualifier(qualifier: str | None) -> None:
    """AWS's refusals: a URL belongs to the function or to an alias, never to a version."""
    if qualifier == LATEST:
        raise ServiceError(
            "ValidationException",
            "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
            400,
        )
    if qualifier and qualifier.isdigit():
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))",
            400,
        )


def _check_choice(value: Any, allowed: tuple[str, ...], member: str) -> None:
    if value is not None and value not in allowed:
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]",
            400,
        )


def _check_cors(cors: dict | None) -> None:
    if not cors:
        return
    for method in cors.get("AllowMethods") or ():
        if method.upper() not in CORS_METHODS:
            raise invalid_parameter(f"Invalid AllowMethods value: {method}")
    for origin in cors.get("AllowOrigins") or ():
        if origin != "*" and "://" not in origin:
            raise invalid_parameter(f"Invalid AllowOrigins value: {origin}")
    if cors.get("AllowCredentials") and "*" in (cors.get("AllowOrigins") or ()):
        # Browsers refuse credentials with a wildcard origin; AWS refuses the pair up front.
        raise invalid_parameter("AllowCredentials cannot be set to true when AllowOrigins contains a wildcard (*).")


def _public(config: dict, region: str, ctx: RequestContext) -> dict[str, Any]:
    shown = {k: v for k, v in config.items() if k != "UrlId"}
    shown["FunctionUrl"] = url_of(config["UrlId"], region, ctx.endpoint_url)
    return shown


class FunctionUrlsApi:
    state: LambdaState
    urls: UrlIndex

    async def _url_function(self, params: dict, ctx: RequestContext) -> tuple[FunctionRef, dict]:
        """The function (a copy of its document) whose URL the call names, and the ref; the
        alias must exist."""
        ref = function_ref(params, ctx, params.get("Qualifier"))
        _check_qualifier(ref.qualifier)
        # A function still being prepared rewrites its document when it settles, from the
        # copy it read: a URL written meanwhile would be lost, so wait for it to settle.
        await self.state.settled("function", ref.key)
        function = await self.state.find_function(ref)
        if function is None:
            raise ServiceError("ResourceNotFoundException", "Function does not exist", 404)
        if ref.qualifier and await self.state.find_alias(ref, ref.qualifier) is None:
            raise ServiceError("ResourceNotFoundException", "Function does not exist", 404)
        return ref, dict(function)

    async def create_function_url_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await self._url_function(params, ctx)
        _check_choice(params.get("AuthType"), AUTH_TYPES, "authType")
        _check_choice(params.get("InvokeMode"), INVOKE_MODES, "invokeMode")
        _check_cors(params.get("Cors"))
        urls = dict(function.get("urls") or {})
        arn = function_arn(ref.region, ref.account, ref.name, ref.qualifier)
        if (ref.qualifier or "") in urls:
            raise ServiceError(
                "ResourceConflictException",
                f"Failed to create function url config for [functionArn = {arn}]. "
                "Error message:  FunctionUrlConfig exists for this Lambda function",
                409,
            )
        now = now_iso()
        config: dict[str, Any] = {
            "UrlId": new_url_id(),
            "FunctionArn": arn,
            "AuthType": params["AuthType"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "InvokeMode": params.get("InvokeMode") or "BUFFERED",
        }
        if params.get("Cors"):
            config["Cors"] = params["Cors"]
        urls[ref.qualifier or ""] = config
        function["urls"] = urls
        await self.state.write([Put("function", ref.key, function)])
        self.urls.add(config["UrlId"], ref.key, ref.qualifier or "")
        shown = _public(config, ref.region, ctx)
        shown.pop("LastModifiedTime")  # CreateFunctionUrlConfig's answer has no LastModifiedTime
        return shown

    async def get_function_url_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await self._url_function(params, ctx)
        config = (function.get("urls") or {}).get(ref.qualifier or "")
        if config is None:
            raise ServiceError("ResourceNotFoundException", _NOT_FOUND, 404)
        return _public(config, ref.region, ctx)

    async def update_function_url_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await self._url_function(params, ctx)
        urls = dict(function.get("urls") or {})
        config = urls.get(ref.qualifier or "")
        if config is None:
            raise ServiceError("ResourceNotFoundException", _NOT_FOUND, 404)
        _check_choice(params.get("AuthType"), AUTH_TYPES, "authType")
        _check_choice(params.get("InvokeMode"), INVOKE_MODES, "invokeMode")
        _check_cors(params.get("Cors"))
        config = dict(config, LastModifiedTime=now_iso())
        for member in ("AuthType", "InvokeMode"):
            if params.get(member):
                config[member] = params[member]
        if "Cors" in params:
            config["Cors"] = params["Cors"]
        urls[ref.qualifier or ""] = config
        function["urls"] = urls
        await self.state.write([Put("function", ref.key, function)])
        return _public(config, ref.region, ctx)

    async def delete_function_url_config(self, params: dict, ctx: RequestContext) -> dict:
        ref, function = await self._url_function(params, ctx)
        urls = dict(function.get("urls") or {})
        config = urls.pop(ref.qualifier or "", None)
        if config is None:
            raise ServiceError("ResourceNotFoundException", _NOT_FOUND, 404)
        function["urls"] = urls
        await self.state.write([Put("function", ref.key, function)])
        self.urls.drop(config["UrlId"])
        return {}

    async def list_function_url_configs(self, params: dict, ctx: RequestContext) -> dict:
        ref = parse_function(params["FunctionName"], ctx.account_id, ctx.region)
        function = await self.state.find_function(ref)
        if function is None:
            raise ServiceError("ResourceNotFoundException", "Function does not exist", 404)
        configs = [_public(c, ref.region, ctx) for _, c in sorted((function.get("urls") or {}).items())]
        return page(configs, params, "FunctionUrlConfigs", cap=50)

    async def function_url_target(self, url_id: str) -> UrlTarget | None:
        """The data plane's lookup: the URL with this url-id, or None."""
        return await self.urls.target(url_id)


async def drop_alias_url(state: LambdaState, urls: UrlIndex, ref: FunctionRef, alias: str) -> None:
    """An alias deleted: its URL goes with it, as on AWS."""
    function = await state.find_function(ref)
    config = ((function or {}).get("urls") or {}).get(alias)
    if function is None or config is None:
        return
    kept = {k: v for k, v in function["urls"].items() if k != alias}
    await state.write([Put("function", ref.key, dict(function, urls=kept))])
    urls.drop(config["UrlId"])
