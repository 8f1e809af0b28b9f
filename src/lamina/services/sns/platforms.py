"""Mobile push: platform applications and their endpoints (devices), and what a push to one
looks like. Nothing is sent to Apple, Google or Amazon: a push is delivered into the
application's delivery status log group (status_logs.py), payload included.

    kind "sns_platform_app"       key <application ARN>  name, platform, attributes (with the
                                                          credentials, never answered back)
    kind "sns_platform_endpoint"  key <endpoint ARN>     application ARN, Token, Enabled,
                                                          CustomUserData

ARNs as AWS's: arn:aws:sns:REGION:ACCOUNT:app/PLATFORM/NAME and
arn:aws:sns:REGION:ACCOUNT:endpoint/PLATFORM/NAME/ID. An application, and its endpoints,
belong to their account and region.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ...errors import ServiceError
from ...store.base import Delete, Put, Store
from ..context import RequestContext
from .state import invalid, now_ms
from .topics import page

APP_KIND = "sns_platform_app"
ENDPOINT_KIND = "sns_platform_endpoint"
PLATFORMS = (
    "ADM",
    "APNS",
    "APNS_SANDBOX",
    "APNS_VOIP",
    "APNS_VOIP_SANDBOX",
    "BAIDU",
    "GCM",
    "MACOS",
    "MACOS_SANDBOX",
    "MPNS",
    "WNS",
)
_APPLE = ("APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "MACOS", "MACOS_SANDBOX")
SECRET = ("PlatformCredential", "PlatformPrincipal")  # kept, never returned, as on AWS
APP_SETTABLE = {
    *SECRET,
    "EventEndpointCreated",
    "EventEndpointDeleted",
    "EventEndpointUpdated",
    "EventDeliveryFailure",
    "SuccessFeedbackRoleArn",
    "FailureFeedbackRoleArn",
    "SuccessFeedbackSampleRate",
    "ApplePlatformTeamID",
    "ApplePlatformBundleID",
    "AuthenticationMethod",
}
ENDPOINT_ATTRIBUTES = ("CustomUserData", "Enabled", "Token")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_APP_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):app/([A-Z_]+)/([A-Za-z0-9_.-]{1,256})$")
_ENDPOINT_ARN = re.compile(
    r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):endpoint/([A-Z_]+)/([A-Za-z0-9_.-]{1,256})/([0-9a-f-]{36})$"
)


def app_not_found() -> ServiceError:
    return ServiceError("NotFound", "PlatformApplication does not exist", 404)


def endpoint_not_found() -> ServiceError:
    return ServiceError("NotFound", "Endpoint does not exist", 404)


def is_endpoint_arn(arn: str) -> bool:
    return bool(_ENDPOINT_ARN.match(arn or ""))


@dataclass
class PlatformApplication:
    arn: str
    name: str
    platform: str
    attributes: dict[str, str]  # as set, credentials included
    created_ms: int

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    def public_attributes(self) -> dict[str, str]:
        out = {"Enabled": "true"}
        out.update({k: v for k, v in self.attributes.items() if k not in SECRET})
        return out

    def doc(self) -> dict[str, Any]:
        return {"name": self.name, "platform": self.platform, "attributes": self.attributes, "created": self.created_ms}


@dataclass
class PlatformEndpoint:
    arn: str
    app_arn: str
    attributes: dict[str, str]  # Token, Enabled, CustomUserData (if given)
    created_ms: int

    @property
    def enabled(self) -> bool:
        return self.attributes.get("Enabled", "true") == "true"

    @property
    def token(self) -> str:
        return self.attributes.get("Token", "")

    def doc(self) -> dict[str, Any]:
        return {"app": self.app_arn, "attributes": self.attributes, "created": self.created_ms}


class PlatformState:
    """The applications and endpoints of every account and region (memory is the truth;
    every change is in the store before the caller hears of it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.apps: dict[str, PlatformApplication] = {}
        self.endpoints: dict[str, PlatformEndpoint] = {}
        self.by_app: dict[str, dict[str, PlatformEndpoint]] = {}  # app ARN -> endpoint ARN -> endpoint

    async def load(self) -> None:
        for arn, doc in await self.store.scan(APP_KIND):
            self.apps[arn] = PlatformApplication(
                arn, doc["name"], doc["platform"], doc.get("attributes") or {}, doc.get("created", 0)
            )
            self.by_app[arn] = {}
        for arn, doc in await self.store.scan(ENDPOINT_KIND):
            endpoint = PlatformEndpoint(arn, doc["app"], doc.get("attributes") or {}, doc.get("created", 0))
            self.endpoints[arn] = endpoint
            self.by_app.setdefault(endpoint.app_arn, {})[arn] = endpoint

    def reset(self) -> None:
        self.apps.clear()
        self.endpoints.clear()
        self.by_app.clear()

    def app(self, arn: str, ctx: RequestContext, what: str = "PlatformApplicationArn") -> PlatformApplication:
        match = _APP_ARN.match(arn or "")
        if match is None:
            raise invalid(f"{what} Reason: Wrong number of slashes in relative portion of the ARN.")
        app = self.apps.get(arn)
        if app is None or match.group(1) != ctx.region or match.group(2) != ctx.account_id:
            raise app_not_found()
        return app

    def endpoint(self, arn: str, ctx: RequestContext) -> PlatformEndpoint:
        match = _ENDPOINT_ARN.match(arn or "")
        if match is None:
            raise invalid("EndpointArn Reason: Wrong number of slashes in relative portion of the ARN.")
        endpoint = self.endpoints.get(arn)
        if endpoint is None or match.group(1) != ctx.region or match.group(2) != ctx.account_id:
            raise endpoint_not_found()
        return endpoint

    async def save_app(self, app: PlatformApplication) -> None:
        await self.store.write([Put(APP_KIND, app.arn, app.doc())])
        self.apps[app.arn] = app
        self.by_app.setdefault(app.arn, {})

    async def delete_app(self, app: PlatformApplication) -> None:
        gone = list(self.by_app.get(app.arn, {}).values())
        await self.store.write([Delete(APP_KIND, app.arn)] + [Delete(ENDPOINT_KIND, e.arn) for e in gone])
        self.apps.pop(app.arn, None)
        self.by_app.pop(app.arn, None)
        for endpoint in gone:
            self.endpoints.pop(endpoint.arn, None)

    async def save_endpoint(self, endpoint: PlatformEndpoint) -> None:
        await self.store.write([Put(ENDPOINT_KIND, endpoint.arn, endpoint.doc())])
        self.endpoints[endpoint.arn] = endpoint
        self.by_app.setdefault(endpoint.app_arn, {})[endpoint.arn] = endpoint

    async def delete_endpoint(self, endpoint: PlatformEndpoint) -> None:
        await self.store.write([Delete(ENDPOINT_KIND, endpoint.arn)])
        self.endpoints.pop(endpoint.arn, None)
        self.by_app.get(endpoint.app_arn, {}).pop(endpoint.arn, None)


def _check_app_attributes(given: dict[str, str], platform: str, creating: bool) -> dict[str, str]:
    for name in given:
        if name not in APP_SETTABLE:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
    has_principal, has_credential = "PlatformPrincipal" in given, "PlatformCredential" in given
    if creating and platform not in _APPLE and not has_credential:
        raise invalid("Attributes Reason: PlatformCredential attribute required")
    if has_principal and not has_credential:
        raise invalid("Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential")
    if creating and platform in _APPLE and has_credential and not has_principal and "ApplePlatformTeamID" not in given:
        raise invalid("Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal")
    for name in SECRET:
        if name in given and not given[name]:
            raise invalid(f"Attributes Reason: {name} cannot be empty")
    rate = given.get("SuccessFeedbackSampleRate")
    if rate is not None and (not rate.isdigit() or not 0 <= int(rate) <= 100):
        raise invalid("Attributes Reason: SuccessFeedbackSampleRate must be an integer from 0 to 100")
    return dict(given)


def _check_endpoint_attributes(given: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in given.items():
        if name not in ENDPOINT_ATTRIBUTES:
            raise invalid(f"Attributes Reason: Invalid attribute name: {name}")
        if name == "Enabled":
            if value.lower() not in ("true", "false"):
                raise invalid("Attributes Reason: Enabled must be true or false")
            value = value.lower()
        elif name == "Token" and not value:
            raise invalid("Attributes Reason: Token cannot be empty")
        elif name == "CustomUserData" and len(value.encode("utf-8")) > 2048:
            raise invalid(
                "Attributes Reason: Invalid value for attribute: CustomUserData: must be at most 2048 bytes "
                "long in UTF-8 encoding"
            )
        out[name] = value
    return out


def push_payload(platform: str, message: dict) -> str:
    """What a platform is handed: MessageStructure=json's entry for the platform (or its
    "default"), else the message in the platform's plain shape."""
    structure = message.get("structure")
    if structure is not None:
        if platform in structure:
            return structure[platform]
        text = structure.get("default", "")
    else:
        text = message["message"]
    if platform in _APPLE:
        return json.dumps({"aps": {"alert": text}})
    if platform in ("GCM", "ADM"):
        return json.dumps({"data": {"default": text}})
    return text


def provider_response(platform: str) -> str:
    """A push service's answer to an accepted push, in its shape."""
    if platform == "GCM":
        return json.dumps({"name": f"projects/lamina/messages/{uuid.uuid4().int % 10**19}"})
    if platform in _APPLE:
        return json.dumps({"apns-id": str(uuid.uuid4()).upper()})
    return "OK"


class PlatformsApi:
    platforms: PlatformState

    async def create_platform_application(self, params: dict, ctx: RequestContext) -> dict:
        name, platform = params["Name"], params["Platform"]
        if not _NAME.match(name or ""):
            raise invalid(
                "Name Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.' "
                "and be 1 to 256 characters long"
            )
        if platform not in PLATFORMS:
            raise invalid(f"Platform Reason: {platform} is not supported")
        attributes = _check_app_attributes(dict(params.get("Attributes") or {}), platform, creating=True)
        arn = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:app/{platform}/{name}"
        existing = self.platforms.apps.get(arn)
        app = PlatformApplication(arn, name, platform, attributes, existing.created_ms if existing else now_ms())
        if existing is not None:  # created again: its attributes are the new ones, its endpoints stay
            app.attributes = {**existing.attributes, **attributes}
        await self.platforms.save_app(app)
        return {"PlatformApplicationArn": arn}

    async def get_platform_application_attributes(self, params: dict, ctx: RequestContext) -> dict:
        app = self.platforms.app(params["PlatformApplicationArn"], ctx)
        return {"Attributes": app.public_attributes()}

    async def set_platform_application_attributes(self, params: dict, ctx: RequestContext) -> dict:
        app = self.platforms.app(params["PlatformApplicationArn"], ctx)
        given = _check_app_attributes(dict(params.get("Attributes") or {}), app.platform, creating=False)
        app.attributes = {**app.attributes, **given}
        await self.platforms.save_app(app)
        return {}

    async def list_platform_applications(self, params: dict, ctx: RequestContext) -> dict:
        prefix = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:app/"
        keys = sorted(arn for arn in self.platforms.apps if arn.startswith(prefix))
        chosen, next_token = page(keys, params.get("NextToken"))
        result: dict = {
            "PlatformApplications": [
                {"PlatformApplicationArn": arn, "Attributes": self.platforms.apps[arn].public_attributes()}
                for arn in chosen
            ]
        }
        if next_token:
            result["NextToken"] = next_token
        return result

    async def delete_platform_application(self, params: dict, ctx: RequestContext) -> dict:
        """Its endpoints go with it. Deleting one that is not there is not an error, as on AWS."""
        try:
            app = self.platforms.app(params["PlatformApplicationArn"], ctx)
        except ServiceError as error:
            if error.code == "NotFound":
                return {}
            raise
        await self.platforms.delete_app(app)
        return {}

    async def create_platform_endpoint(self, params: dict, ctx: RequestContext) -> dict:
        app = self.platforms.app(params["PlatformApplicationArn"], ctx)
        token = params.get("Token") or ""
        if not token:
            raise invalid("Token Reason: cannot be empty")
        given = _check_endpoint_attributes(dict(params.get("Attributes") or {}))
        if params.get("CustomUserData") is not None and "CustomUserData" not in given:
            given.update(_check_endpoint_attributes({"CustomUserData": params["CustomUserData"]}))
        attributes = {"Enabled": "true", **given, "Token": token}
        for existing in self.platforms.by_app.get(app.arn, {}).values():
            if existing.token == token:
                if existing.attributes == attributes:
                    return {"EndpointArn": existing.arn}
                raise invalid(
                    f"Token Reason: Endpoint {existing.arn} already exists with the same Token, but different "
                    "attributes."
                )
        arn = f"arn:aws:sns:{ctx.region}:{ctx.account_id}:endpoint/{app.platform}/{app.name}/{uuid.uuid4()}"
        await self.platforms.save_endpoint(PlatformEndpoint(arn, app.arn, attributes, now_ms()))
        return {"EndpointArn": arn}

    async def get_endpoint_attributes(self, params: dict, ctx: RequestContext) -> dict:
        endpoint = self.platforms.endpoint(params["EndpointArn"], ctx)
        return {"Attributes": dict(endpoint.attributes)}

    async def set_endpoint_attributes(self, params: dict, ctx: RequestContext) -> dict:
        endpoint = self.platforms.endpoint(params["EndpointArn"], ctx)
        given = _check_endpoint_attributes(dict(params.get("Attributes") or {}))
        endpoint.attributes = {**endpoint.attributes, **given}
        await self.platforms.save_endpoint(endpoint)
        return {}

    async def list_endpoints_by_platform_application(self, params: dict, ctx: RequestContext) -> dict:
        app = self.platforms.app(params["PlatformApplicationArn"], ctx)
        endpoints = self.platforms.by_app.get(app.arn, {})
        chosen, next_token = page(sorted(endpoints), params.get("NextToken"))
        result: dict = {
            "Endpoints": [{"EndpointArn": arn, "Attributes": dict(endpoints[arn].attributes)} for arn in chosen]
        }
        if next_token:
            result["NextToken"] = next_token
        return result

    async def delete_endpoint(self, params: dict, ctx: RequestContext) -> dict:
        """Deleting an endpoint that is not there is not an error, as on AWS."""
        try:
            endpoint = self.platforms.endpoint(params["EndpointArn"], ctx)
        except ServiceError as error:
            if error.code == "NotFound":
                return {}
            raise
        await self.platforms.delete_endpoint(endpoint)
        return {}
